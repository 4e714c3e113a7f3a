/**
 * Control arms of the steering experiment, and the statistics that compare against them.
 *
 * A scenario "succeeding" when some strength moves a judge says little by itself: any push on
 * the residual stream changes the text, and a judge may read any change as a move. The
 * controls make the claim falsifiable; each is norm-matched to the emotion arm at every block,
 * and the manipulation check measures how hard each really pushes:
 * - **random**: one random direction per scenario and draw (seeded by both,
 *   {@link scenarioSeed}), the same at every block, scaled to the emotion steering's norm at
 *   each block ({@link sameDirectionLike}). Emotion vectors of neighbouring blocks are alike
 *   ({@link crossBlockCosine} measures it), and vectors that agree across blocks add up in the
 *   residual stream almost linearly; a direction drawn anew per block adds up like a random
 *   walk (about sqrt(blocks) times one block's push). Another construction,
 *   {@link rotatedLike}, turns the emotion steering as a whole by a random rotation and so
 *   keeps every cross-block cosine exactly (`randomConstruction: 'rotation'`);
 * - **random-per-block** (off by default): the construction before study v2, a direction
 *   drawn anew at every block ({@link randomDirectionLike}), kept for comparison with older
 *   results and to show, in the manipulation check, how much less it pushes;
 * - **shuffled-label**: the same difference-of-means construction with the samples' category
 *   labels permuted ({@link shuffledLabelSet}; one permutation per scenario and draw),
 *   norm-scaled like the emotion vector: controls for "any difference of means of these
 *   activations does this";
 * - **other-emotion**: another emotion's vector with the paper's scaling, judged for the
 *   scenario's own target (a vector that is specific to its emotion should not move a judge
 *   of a different emotion as often).
 * {@link armDraws} builds every arm's steering for every scenario, so the experiment and a
 * manipulation check (does a control push as hard? measured, not assumed) use the very same
 * steerings. The contrast "steered minus control" of success rates is estimated per strength
 * with a bootstrap that resamples whole scenarios (runs of one scenario are not independent),
 * both arms taken over the sampling modes the control ran under.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { bootstrapCI, seededRandom } from '../evaluate/statistics.js';
import { EmotionVectorSet, type SampleInfo } from '../vectors/emotion-vector-set.js';
import { steeringVectors } from '../vectors/steering-vectors.js';
import { cosine } from '../util/vec.js';

/** Which steering a run used: the target's own vector or one of the controls. */
export type SteeringArm = 'emotion' | 'random' | 'random-per-block' | 'shuffled-label' | 'other-emotion';

/** The control arms, in the order results list them. */
export const CONTROL_ARMS: readonly Exclude<SteeringArm, 'emotion'>[] = ['random', 'random-per-block', 'shuffled-label', 'other-emotion'];

/**
 * How the random arm's steering is made, each with the emotion arm's norm at every block:
 * 'same-direction' (default): one direction per scenario and draw at every block
 * ({@link sameDirectionLike}); 'rotation': the emotion steering turned by a random rotation per
 * scenario and draw, every cross-block cosine kept ({@link rotatedLike}). The construction
 * before study v2 (a direction drawn anew per block) is the arm 'random-per-block'.
 */
export type RandomConstruction = 'same-direction' | 'rotation';

/** The random constructions, default first. */
export const RANDOM_CONSTRUCTIONS: readonly RandomConstruction[] = ['same-direction', 'rotation'];

/** Options of the control arms. */
export interface ControlOptions {
  /** Random directions per scenario (draws 0..n-1, each seeded by scenario and draw), at every strength and control sampling mode (default 2; 0 = none). */
  randomSeeds?: number;
  /** How a random draw is made (default 'same-direction'; see {@link RandomConstruction}). */
  randomConstruction?: RandomConstruction;
  /** Draws per scenario of the 'random-per-block' arm, a direction drawn anew at every block (default 0 = none). */
  randomPerBlockSeeds?: number;
  /**
   * Shuffled-label vectors per scenario (draws 0..n-1, one label permutation each, seeded by
   * scenario and draw; {@link shuffledLabelSet}; default 2 when the set holds its per-sample
   * activations, else 0; asking for more than 0 without them is an error).
   */
  shuffledSeeds?: number;
  /** Steer with another emotion's vector too (default true). */
  otherEmotion?: boolean;
  /** Sampling modes (by name) the controls run under (default: the first mode only, greedy by default). */
  sampling?: readonly string[];
  /**
   * Sampled unsteered baselines per scenario for the judges' noise floor (0, or at least 2;
   * default 2 when a sampling mode has a temperature above 0, else 0): the noise mode's
   * baseline (its seed) and `noiseSamples - 1` more with other seeds, each judged against the
   * first like a steered run; a judge's noise floor on a scenario is |score(1) - score(2)|.
   */
  noiseSamples?: number;
  /** The sampling mode the noise samples are drawn under (default: the first with a temperature above 0). */
  noiseSampling?: string;
  /**
   * The manipulation check of every arm ({@link "emosteer/steer"!manipulationCheck | manipulationCheck}):
   * `true` (default) on its default neutral texts, `{ texts }` on others, `false` for none.
   */
  manipulationCheck?: boolean | {
    /** Neutral texts to measure on. */
    texts?: readonly string[];
  };
}

/**
 * Steering data with the same per-block norms as `like` (nLayer x nEmbd, row i = block i) but a
 * random direction per block: a standard normal draw from a generator seeded with `seed` (the same for a seed on every machine),
 * normalised, scaled to that block's norm. Rows that are zero stay zero.
 */
export function randomDirectionLike(like: Float32Array, nEmbd: number, seed: number): Float32Array {
  const gauss = gaussian(0x5eed0000 + seed);
  const out = new Float32Array(like.length);
  const rows = like.length / nEmbd;
  for (let r = 0; r < rows; r++) {
    let target = 0;
    for (let j = 0; j < nEmbd; j++) target += like[r * nEmbd + j]! ** 2;
    // Draw every row, used or not, so a row's direction does not depend on which rows are steered.
    const g = new Float64Array(nEmbd);
    let n2 = 0;
    for (let j = 0; j < nEmbd; j++) { g[j] = gauss(); n2 += g[j]! ** 2; }
    if (target === 0) continue;
    const k = Math.sqrt(target / n2);
    for (let j = 0; j < nEmbd; j++) out[r * nEmbd + j] = g[j]! * k;
  }
  return out;
}

/** A standard normal generator seeded for a control (Box-Muller over {@link seededRandom}). */
function gaussian(seed: number): () => number {
  const rand = seededRandom(seed);
  return () => {
    // 1 - u keeps the logarithm finite.
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/**
 * A seed for a scenario's draw of a control: FNV-1a of the scenario id, mixed with the draw,
 * so that scenarios get independent draws (a draw shared by every scenario would make the
 * control's scenarios dependent) and a scenario gets the same draw on every machine and run.
 */
export function scenarioSeed(scenario: string, draw: number): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(scenario)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return (Math.imul(h ^ Math.imul(draw + 1, 0x9e3779b1), 0x85ebca6b) >>> 0);
}

/**
 * Steering data with the same per-block norms as `like` (nLayer x nEmbd, row i = block i) and
 * one random direction for every block: a standard normal draw from a generator seeded with
 * `seed`, normalised, times each row's norm. Rows that are zero stay zero.
 *
 * @throws EmosteerError INVALID_ARGUMENT when `like` is not a whole number of rows of `nEmbd`
 */
export function sameDirectionLike(like: Float32Array, nEmbd: number, seed: number): Float32Array {
  if (!Number.isInteger(nEmbd) || nEmbd < 1 || like.length % nEmbd !== 0) {
    throw new EmosteerError('INVALID_ARGUMENT', `steering of ${like.length} floats is not a whole number of rows of ${nEmbd}`);
  }
  const gauss = gaussian(0x5a3ed14e + seed);
  const u = new Float64Array(nEmbd);
  let n2 = 0;
  for (let j = 0; j < nEmbd; j++) { u[j] = gauss(); n2 += u[j]! ** 2; }
  const un = Math.sqrt(n2);
  const out = new Float32Array(like.length);
  for (let r = 0; r < like.length / nEmbd; r++) {
    let t = 0;
    for (let j = 0; j < nEmbd; j++) t += like[r * nEmbd + j]! ** 2;
    if (t === 0) continue;
    const k = Math.sqrt(t) / un;
    for (let j = 0; j < nEmbd; j++) out[r * nEmbd + j] = u[j]! * k;
  }
  return out;
}

/**
 * The steering `like` (nLayer x nEmbd, row i = block i) turned as a whole by a random rotation:
 * row i becomes R v_i for one random orthogonal map R, so every row keeps its norm and every
 * pair of rows keeps its dot product (the cross-block structure of the emotion steering: its
 * vectors at neighbouring blocks point alike, and so do the rotated ones), while the direction
 * is random. R needs to be drawn only on the span of the rows: an orthonormal basis Q of the
 * span (Gram-Schmidt over the rows in order), the rows' coordinates C in it (v_i = Q c_i), and
 * a random orthonormal frame P of the same size (Gram-Schmidt of standard normal columns from
 * a generator seeded with `seed`): row i becomes P c_i. The frame's columns are drawn in
 * order, so two steerings of the same rank get the same frame for a seed. Rows that are zero
 * stay zero.
 *
 * @throws EmosteerError INVALID_ARGUMENT when `like` is not a whole number of rows of `nEmbd`
 */
export function rotatedLike(like: Float32Array, nEmbd: number, seed: number): Float32Array {
  if (!Number.isInteger(nEmbd) || nEmbd < 1 || like.length % nEmbd !== 0) {
    throw new EmosteerError('INVALID_ARGUMENT', `steering of ${like.length} floats is not a whole number of rows of ${nEmbd}`);
  }
  const rows = like.length / nEmbd;
  const basis: Float64Array[] = [];
  const coords: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const v = Float64Array.from(like.subarray(r * nEmbd, (r + 1) * nEmbd));
    let n0 = 0;
    for (let j = 0; j < nEmbd; j++) n0 += v[j]! ** 2;
    const c: number[] = [];
    // Modified Gram-Schmidt, twice for stability: rows of a steering are nearly parallel.
    for (let pass = 0; pass < 2; pass++) {
      basis.forEach((q, k) => {
        let d = 0;
        for (let j = 0; j < nEmbd; j++) d += q[j]! * v[j]!;
        for (let j = 0; j < nEmbd; j++) v[j]! -= d * q[j]!;
        c[k] = (c[k] ?? 0) + d;
      });
    }
    let n2 = 0;
    for (let j = 0; j < nEmbd; j++) n2 += v[j]! ** 2;
    // A new basis vector only for a row with a part of its own above rounding.
    if (n0 > 0 && n2 > 1e-12 * n0 && basis.length < nEmbd) {
      const n = Math.sqrt(n2);
      for (let j = 0; j < nEmbd; j++) v[j]! /= n;
      c[basis.length] = n;
      basis.push(v);
    }
    coords.push(c);
  }
  const gauss = gaussian(0x0707a7e0 + seed);
  const frame: Float64Array[] = [];
  while (frame.length < basis.length) {
    const g = new Float64Array(nEmbd);
    for (let j = 0; j < nEmbd; j++) g[j] = gauss();
    for (let pass = 0; pass < 2; pass++) {
      for (const q of frame) {
        let d = 0;
        for (let j = 0; j < nEmbd; j++) d += q[j]! * g[j]!;
        for (let j = 0; j < nEmbd; j++) g[j]! -= d * q[j]!;
      }
    }
    let n2 = 0;
    for (let j = 0; j < nEmbd; j++) n2 += g[j]! ** 2;
    const n = Math.sqrt(n2);
    for (let j = 0; j < nEmbd; j++) g[j]! /= n;
    frame.push(g);
  }
  const out = new Float32Array(like.length);
  coords.forEach((c, r) => {
    const row = new Float64Array(nEmbd);
    c.forEach((ck, k) => {
      if (!ck) return;
      const p = frame[k]!;
      for (let j = 0; j < nEmbd; j++) row[j]! += ck * p[j]!;
    });
    out.set(row, r * nEmbd);
  });
  return out;
}

/**
 * The set `set` would have been with its samples' category labels permuted: the same
 * activations, the same construction (category means, mean minus baseline, unit vectors, the
 * same residual norms: {@link EmotionVectorSet.fromSamples}), one permutation of all labels
 * (emotions and neutral alike, so every category keeps its size) drawn from a generator seeded
 * with `seed`, the same for every block. Its vectors steer, norm-scaled, exactly as hard per
 * block as the set's own; what they lack is the labels.
 *
 * @throws EmosteerError INVALID_ARGUMENT when the set holds no per-sample activations (an
 *   imported set, or one loaded with `activations: false`)
 */
export function shuffledLabelSet(set: EmotionVectorSet, seed: number): EmotionVectorSet {
  if (!set.hasActivations || set.meta.samples.length === 0) {
    throw new EmosteerError('INVALID_ARGUMENT', 'a shuffled-label control needs the per-sample activations of the set (load it without { activations: false }; imported sets have none): pass shuffledSeeds: 0');
  }
  const samples = set.meta.samples;
  const labels = samples.map((s) => s.category);
  const rand = seededRandom(0x5a0ff1e0 + seed);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [labels[i], labels[j]] = [labels[j]!, labels[i]!];
  }
  const permuted: SampleInfo[] = samples.map((s, i) => ({ ...s, category: labels[i]! }));
  const L = set.layers.length;
  const E = set.nEmbd;
  const activations = samples.map((_, i) => {
    const a = new Float32Array(L * E);
    set.layers.forEach((layer, li) => a.set(set.sampleActivation(i, layer), li * E));
    return a;
  });
  const { residualNorms: _norms, ...meta } = set.meta;
  return EmotionVectorSet.fromSamples({ ...meta, samples: permuted, params: { ...meta.params, shuffledLabels: { seed } } }, activations);
}

/**
 * The "other emotion" of a scenario's control arm: a deterministic choice among the set's
 * emotions other than the target, spread over the list so controls do not all use one
 * emotion (the emotion `offset` places after the target, skipping the target).
 */
export function otherEmotionFor(target: string, emotions: readonly string[], offset: number): string | undefined {
  const others = emotions.filter((e) => e !== target);
  if (others.length === 0) return undefined;
  const i = emotions.indexOf(target);
  return others[((i < 0 ? 0 : i) + offset) % others.length];
}

/** Options of {@link armDraws}: which arms, how many draws, which blocks. */
export interface ArmDrawOptions {
  /** Random draws per scenario (draws 0..n-1; default 2). */
  randomSeeds?: number;
  /** How a random draw is made (default 'same-direction'; see {@link RandomConstruction}). */
  randomConstruction?: RandomConstruction;
  /** Draws per scenario of the 'random-per-block' arm (default 0). */
  randomPerBlockSeeds?: number;
  /** Shuffled-label draws per scenario (draws 0..n-1; default 0). */
  shuffledSeeds?: number;
  /** Another emotion's vector per scenario (default true). */
  otherEmotion?: boolean;
  /** Inclusive steered block range (default: every steerable block of the set, as {@link steeringVectors}). */
  layers?: [number, number];
}

/** One arm's steering for one scenario and draw, at any strength. */
export interface ArmDraw {
  /** The arm. */
  arm: SteeringArm;
  /** The scenario the draw belongs to. */
  scenario: string;
  /** Draw of a random or shuffled-label control (0 for the emotion and other-emotion arms). */
  draw: number;
  /** The emotion whose vector steers (the target's for the emotion arm, another for other-emotion; absent for the others). */
  steerEmotion?: string;
  /**
   * What the steering is made from, apart from the strength: draws with equal keys steer
   * alike at equal strengths (the emotion arm of two scenarios with the same target and
   * direction, for instance; every random and shuffled-label draw is its scenario's own).
   */
  key: string;
  /** The steering at a (positive) strength, signed by the scenario's direction: nLayer x nEmbd floats and the block range. */
  steering: (strength: number) => {
    /** nLayer x nEmbd floats, row i = block i. */
    vectors: Float32Array;
    /** Inclusive block range steered. */
    layers: [number, number];
  };
}

/**
 * Every arm's draws for every scenario, each norm-matched to the emotion steering at every
 * block and signed by the scenario's direction: the emotion arm (the target's own vector,
 * scaled as the paper does), the random draws ({@link sameDirectionLike}, or
 * {@link rotatedLike}, of the scenario's emotion steering, seeded by {@link scenarioSeed}), the
 * random-per-block draws ({@link randomDirectionLike}, seeded likewise), the shuffled-label
 * draws ({@link shuffledLabelSet} with a permutation seeded by scenario and draw, its target
 * vector steered as the emotion vector is; built when first needed and kept at unit strength)
 * and another emotion's vector ({@link otherEmotionFor}, spread by the scenario's index). The
 * steering experiment runs these, and its manipulation check measures the very same steerings.
 *
 * @throws EmosteerError UNKNOWN_EMOTION for a scenario whose target the set lacks, INVALID_ARGUMENT
 *   for bad counts, or shuffled draws of a set without per-sample activations
 */
export function armDraws(set: EmotionVectorSet, scenarios: readonly { id: string; target: string; direction: 'toward' | 'away' }[], options: ArmDrawOptions = {}): ArmDraw[] {
  const count = (name: string, x: number) => {
    if (!Number.isInteger(x) || x < 0) throw new EmosteerError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${String(x)}`);
    return x;
  };
  const randomSeeds = count('randomSeeds', options.randomSeeds ?? 2);
  const perBlockSeeds = count('randomPerBlockSeeds', options.randomPerBlockSeeds ?? 0);
  const shuffledSeeds = count('shuffledSeeds', options.shuffledSeeds ?? 0);
  const construction = options.randomConstruction ?? 'same-direction';
  if (!RANDOM_CONSTRUCTIONS.includes(construction)) throw new EmosteerError('INVALID_ARGUMENT', `randomConstruction must be one of ${RANDOM_CONSTRUCTIONS.join(', ')}, got ${String(construction)}`);
  if (shuffledSeeds > 0 && !(set.hasActivations && set.meta.samples.length > 0)) shuffledLabelSet(set, 0); // throws the explanation
  const range = options.layers ? { layers: options.layers } : {};
  // A shuffled-label draw's steering at strength 1 (signed), built once: the strength only scales it.
  const shuffledUnit = new Map<string, { vectors: Float32Array; layers: [number, number] }>();
  const out: ArmDraw[] = [];
  scenarios.forEach((sc, si) => {
    if (!set.emotions.includes(sc.target)) throw new EmosteerError('UNKNOWN_EMOTION', `scenario ${sc.id} targets '${sc.target}', which the set has no vector for`);
    const sign = sc.direction === 'away' ? -1 : 1;
    const emotion = (e: string) => (strength: number) => steeringVectors(set, { emotion: e, strength: sign * strength }, range);
    out.push({ arm: 'emotion', scenario: sc.id, draw: 0, steerEmotion: sc.target, key: `e:${sc.target}:${sign}`, steering: emotion(sc.target) });
    const make = construction === 'rotation' ? rotatedLike : sameDirectionLike;
    for (let draw = 0; draw < randomSeeds; draw++) {
      // Norms (and, rotated, cross-block cosines) of this scenario's emotion steering; a draw of its own.
      const seed = scenarioSeed(sc.id, draw);
      out.push({ arm: 'random', scenario: sc.id, draw, key: `${construction}:${sc.id}:${draw}`, steering: (strength) => {
        const like = emotion(sc.target)(strength);
        return { vectors: make(like.vectors, set.nEmbd, seed), layers: like.layers };
      } });
    }
    for (let draw = 0; draw < perBlockSeeds; draw++) {
      const seed = scenarioSeed(`random-per-block:${sc.id}`, draw);
      out.push({ arm: 'random-per-block', scenario: sc.id, draw, key: `per-block:${sc.id}:${draw}`, steering: (strength) => {
        const like = emotion(sc.target)(strength);
        return { vectors: randomDirectionLike(like.vectors, set.nEmbd, seed), layers: like.layers };
      } });
    }
    for (let draw = 0; draw < shuffledSeeds; draw++) {
      const key = `shuffled:${sc.id}:${draw}`;
      out.push({ arm: 'shuffled-label', scenario: sc.id, draw, key, steering: (strength) => {
        let unit = shuffledUnit.get(key);
        if (!unit) shuffledUnit.set(key, (unit = steeringVectors(shuffledLabelSet(set, scenarioSeed(`shuffled-label:${sc.id}`, draw)), { emotion: sc.target, strength: sign }, range)));
        return { vectors: unit.vectors.map((x) => x * strength), layers: unit.layers };
      } });
    }
    const other = options.otherEmotion === false ? undefined : otherEmotionFor(sc.target, set.emotions, 1 + si);
    if (other) out.push({ arm: 'other-emotion', scenario: sc.id, draw: 0, steerEmotion: other, key: `e:${other}:${sign}`, steering: emotion(other) });
  });
  return out;
}

/** How alike an emotion's vectors are at successive blocks ({@link crossBlockCosine}). */
export interface CrossBlockCosine {
  /** The blocks compared: the set's blocks within the steered range, ascending. */
  blocks: number[];
  /** Mean over emotions and adjacent pairs (a block of `blocks` and the next one) of the cosine of the emotion's vectors at the two blocks. */
  adjacent: number;
  /** The same over every pair of blocks, adjacent or not. */
  allPairs: number;
  /** Per emotion, its mean adjacent-pair cosine. */
  perEmotion: Record<string, number>;
  /** Per adjacent pair, the mean over emotions. */
  perPair: {
    /** Lower block. */
    from: number;
    /** The next block of `blocks`. */
    to: number;
    /** Mean cosine over emotions. */
    cosine: number;
  }[];
}

/**
 * The cross-block cosine of a set's emotion vectors: for each emotion, the cosine between its
 * vector at a block and at the next block of the set (and over all pairs of blocks), averaged.
 * Near 1, an emotion's pushes at successive blocks point alike and add up almost linearly in
 * the residual stream; directions drawn independently per block ({@link randomDirectionLike})
 * add up like a random walk instead and push less, which is why the random arm steers with one
 * direction at every block ({@link sameDirectionLike}). NaN where fewer than two blocks.
 *
 * @param options.layers the steered block range (default: the set's blocks from 1 up, as {@link steeringVectors})
 */
export function crossBlockCosine(set: EmotionVectorSet, options: { layers?: [number, number] } = {}): CrossBlockCosine {
  const [start, end] = options.layers ?? [1, Number.POSITIVE_INFINITY];
  const blocks = set.layers.filter((l) => l >= Math.max(1, start) && l <= end);
  const perEmotion: Record<string, number> = {};
  const pairSums = new Array<number>(Math.max(0, blocks.length - 1)).fill(0);
  let adjacent = 0;
  let all = 0;
  let allN = 0;
  for (const e of set.emotions) {
    const v = blocks.map((l) => set.vector(e, l));
    let sum = 0;
    for (let i = 0; i + 1 < v.length; i++) {
      const c = cosine(v[i]!, v[i + 1]!);
      sum += c;
      pairSums[i]! += c;
    }
    perEmotion[e] = v.length > 1 ? sum / (v.length - 1) : Number.NaN;
    adjacent += sum;
    for (let i = 0; i < v.length; i++) for (let j = i + 1; j < v.length; j++) { all += cosine(v[i]!, v[j]!); allN++; }
  }
  const pairs = set.emotions.length * (blocks.length - 1);
  return {
    blocks,
    adjacent: pairs > 0 ? adjacent / pairs : Number.NaN,
    allPairs: allN > 0 ? all / allN : Number.NaN,
    perEmotion,
    perPair: pairSums.map((sum, i) => ({ from: blocks[i]!, to: blocks[i + 1]!, cosine: sum / set.emotions.length })),
  };
}

/** Steered minus control success, with a scenario bootstrap. */
export interface ControlContrast {
  /** Name of the judge whose verdicts are compared. */
  judge: string;
  /** The control arm compared with the emotion arm. */
  control: Exclude<SteeringArm, 'emotion'>;
  /** A strength, or 'any' for the paper's unit (success at any strength, first sampling mode). */
  strength: number | 'any';
  /** Scenarios that have both arms at this strength. */
  scenarios: number;
  /** Mean success of the emotion arm over those scenarios. */
  steeredRate: number;
  /** Mean success of the control arm (averaged over its seeds). */
  controlRate: number;
  /** steered - control, with a 95% percentile interval from resampling whole scenarios. */
  difference: {
    /** steeredRate - controlRate. */
    value: number;
    /** 95% percentile bootstrap interval of the difference. */
    ci95: [number, number];
  };
}

/** One success indicator of a run, as the contrast needs it. */
export interface ArmOutcome {
  /** Scenario id. */
  scenario: string;
  /** Which vector steered the run. */
  arm: SteeringArm;
  /** Steering strength of the run. */
  strength: number;
  /** Sampling mode (by name) of the run. */
  sampling: string;
  /** Seed of a random control (0 for the other arms). */
  seed: number;
  /** Whether the run counts as a success for the judge: moved the intended way by more than the margin, and not explosive. */
  success: boolean;
}

/**
 * Per-scenario success of an arm at a strength ('any' = the share of seeds, per scenario, for
 * which some strength succeeded under `firstMode`), averaged over sampling modes and seeds.
 */
function scenarioRates(outcomes: readonly ArmOutcome[], arm: SteeringArm, strength: number | 'any', firstMode: string): Map<string, number> {
  const rates = new Map<string, number>();
  const mine = outcomes.filter((o) => o.arm === arm && (strength === 'any' ? o.sampling === firstMode : o.strength === strength));
  const byScenario = new Map<string, ArmOutcome[]>();
  for (const o of mine) byScenario.set(o.scenario, [...(byScenario.get(o.scenario) ?? []), o]);
  for (const [sc, list] of byScenario) {
    if (strength === 'any') {
      const seeds = [...new Set(list.map((o) => o.seed))];
      rates.set(sc, seeds.filter((s) => list.some((o) => o.seed === s && o.success)).length / seeds.length);
    } else {
      rates.set(sc, list.filter((o) => o.success).length / list.length);
    }
  }
  return rates;
}

/**
 * Steered minus control per judge, control arm and strength (and 'any'), each with a bootstrap
 * interval over scenarios (1000 resamples, seeded).
 *
 * @param outcomes per judge, every run's success indicator (emotion and control arms)
 */
export function controlContrasts(outcomes: Record<string, readonly ArmOutcome[]>, strengths: readonly number[], firstMode: string, options: { resamples?: number; seed?: number } = {}): ControlContrast[] {
  const out: ControlContrast[] = [];
  for (const [judge, list] of Object.entries(outcomes)) {
    for (const control of CONTROL_ARMS) {
      if (!list.some((o) => o.arm === control)) continue;
      // Both arms over the sampling modes the control ran under (greedy only by default), so
      // that the steered rate is not averaged over modes the control never saw.
      const modes = new Set(list.filter((o) => o.arm === control).map((o) => o.sampling));
      const same = list.filter((o) => modes.has(o.sampling));
      for (const strength of [...strengths, 'any' as const]) {
        const a = scenarioRates(same, 'emotion', strength, firstMode);
        const b = scenarioRates(same, control, strength, firstMode);
        const both = [...a.keys()].filter((k) => b.has(k));
        if (both.length === 0) continue;
        const x = both.map((k) => a.get(k)!);
        const y = both.map((k) => b.get(k)!);
        const meanAt = (v: number[], idx: Int32Array) => { let s = 0; for (const i of idx) s += v[i]!; return s / idx.length; };
        const boot = bootstrapCI(both.length, (idx) => meanAt(x, idx) - meanAt(y, idx), { resamples: options.resamples ?? 1000, seed: options.seed ?? 0 });
        const all = Int32Array.from(both.keys());
        out.push({ judge, control, strength, scenarios: both.length, steeredRate: meanAt(x, all), controlRate: meanAt(y, all), difference: { value: boot.value, ci95: boot.ci95 } });
      }
    }
  }
  return out;
}
