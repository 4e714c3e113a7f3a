/**
 * The `steering` field of a request, components and conditional rules, as runtime steering.
 *
 * - A **component** (`{ emotion | vector, strength, layers?, positions?, set? }`) steers every
 *   token of its `positions`; item i becomes runtime component i, so a runtime error about
 *   `components[i]` is reported with `param: 'steering[i]'`.
 * - A **rule** (`{ when: { emotion, above | below, release?, block?, set? }, then, for?, hold? }`)
 *   adds `then` (one component or a list) to the generated tokens while the emotion meter reads
 *   the emotion past the threshold, with the semantics of {@link conditionalSteering}: `for:
 *   'reply'` (default) decides before every generated token from the reading of the token before
 *   it, switches on at the first reading past the threshold, stays on at least `hold` tokens
 *   (default 8) and switches off at the first reading back past `release` (default: the
 *   threshold); `for: 'prompt'` decides once from the prompt's last token. The prompt itself is
 *   never steered by a rule.
 *
 * Every rule of a request reads one meter (a request has one probe): the set `when.set` (default:
 * the `meter` field's set, else the first loaded set) at block `when.block` (default: that
 * meter's block). With `meter` on, the rules must read the meter's set and block.
 *
 * @module
 */
import type { Model } from '../runtime/model.js';
import type { ComponentSteering, SetEmotionComponent, Steering, SteeringOption, SteeringPositions, SteeringStep, VectorComponent } from '../runtime/steering.js';
import { conditionalSteering } from '../steer/conditional-steering.js';
import { EmotionMeter } from '../steer/emotion-meter.js';
import { EmosteerError } from '../errors.js';
import { compileSteering } from '../runtime/steering.js';
import { resolveStrength } from '../vectors/strength-calibration.js';
import { HttpError, toHttpError } from './errors.js';
import type { LoadedVectorSets, NamedSet } from './loaded-vector-sets.js';
import type { SteeringComponentItem, SteeringItem, SteeringRuleItem } from './schemas.js';

/** What a request's `steering` field becomes. */
export interface RequestSteering {
  /** The steering option of the generation: fixed components, or a schedule when there are rules. */
  steering: SteeringOption;
  /** The steering of the prompt's tokens alone (what scores an echoed prompt): the components that apply to the prompt. */
  promptSteering: ComponentSteering | undefined;
  /** The meter the rules read (the request's probe), when there are rules. */
  probe: EmotionMeter | undefined;
}

const isRule = (it: SteeringItem): it is SteeringRuleItem => 'when' in it;

function component(it: Omit<SteeringComponentItem, 'positions'>, sets: LoadedVectorSets, param: string): VectorComponent | SetEmotionComponent {
  const layers = it.layers ? { layers: [it.layers[0], it.layers[1]] as [number, number] } : {};
  if (it.emotion !== undefined) {
    const set = sets.find(it.set, param).set;
    // 'auto' is resolved now, so that an uncalibrated set is a 400 naming this item.
    let strength: number;
    try {
      strength = resolveStrength(set, it.emotion, it.strength);
    } catch (err) {
      if (err instanceof EmosteerError && set.emotions.includes(it.emotion)) throw new HttpError(400, 'invalid_request_error', err.code.toLowerCase(), err.message, param);
      throw new HttpError(400, 'invalid_request_error', 'unknown_emotion', `no vector for '${it.emotion}' in this set (it has: ${set.emotions.join(', ')})`, param);
    }
    return { set, emotion: it.emotion, strength, ...layers };
  }
  if (typeof it.strength !== 'number') throw new HttpError(400, 'invalid_request_error', 'invalid_request', "strength 'auto' needs an emotion of a calibrated set: a raw vector has no calibrated strength", param);
  return { vector: it.vector!, strength: it.strength, ...layers };
}

/**
 * Checks a steering for the model now (a schedule's steerings would otherwise fail only when
 * first used, mid-reply); an error about component k is reported as `params[k]`.
 */
function validate(model: Model, steering: ComponentSteering, params: readonly string[]): void {
  try {
    compileSteering(model, steering);
  } catch (err) {
    const { status, body } = toHttpError(err);
    const k = err instanceof EmosteerError ? /^components\[(\d+)\]$/.exec(err.field ?? '')?.[1] : undefined;
    throw new HttpError(status, body.error.type, body.error.code ?? 'invalid_request', body.error.message, k !== undefined ? params[Number(k)]! : params[0]!);
  }
}

/**
 * The runtime steering of a request's `steering` field (undefined when absent or empty).
 * @param meter the request's `meter` (its set), when asked for
 * @throws HttpError 400 naming the item for mixed positions, an unknown set or emotion, a rule that reads another block than the meter
 */
export function steeringFromItems(items: readonly SteeringItem[] | undefined, sets: LoadedVectorSets, meter?: NamedSet): RequestSteering | undefined {
  if (!items || items.length === 0) return undefined;
  const fixedItems = items.map((it, i) => [it, i] as const).filter((x): x is readonly [SteeringComponentItem, number] => !isRule(x[0]));
  const positions: SteeringPositions = fixedItems[0]?.[0].positions ?? 'all';
  for (const [it, i] of fixedItems) {
    if ((it.positions ?? 'all') !== positions) throw new HttpError(400, 'invalid_request_error', 'invalid_request', 'all steering components of a request must have the same positions', `steering[${i}]`);
  }
  // Runtime component k is request item i: errors name the item.
  const fixed: ComponentSteering | undefined = fixedItems.length
    ? { components: fixedItems.map(([it, i]) => component(it, sets, `steering[${i}]`)), positions }
    : undefined;
  const rules = items.map((it, i) => [it, i] as const).filter((x): x is readonly [SteeringRuleItem, number] => isRule(x[0]));
  if (rules.length === 0) return { steering: fixed, promptSteering: positions === 'generated' ? undefined : fixed, probe: undefined };
  if (fixed) validate(sets.model, fixed, fixedItems.map(([, i]) => `steering[${i}]`));

  // One probe for every rule.
  let probe: EmotionMeter | undefined;
  let probeSet: NamedSet | undefined;
  const compiled = rules.map(([rule, i]) => {
    const param = `steering[${i}]`;
    const named = sets.find(rule.when.set ?? meter?.name, `${param}.when.set`);
    if (!named.set.emotions.includes(rule.when.emotion)) {
      throw new HttpError(400, 'invalid_request_error', 'unknown_emotion', `the meter of set '${named.name}' does not read '${rule.when.emotion}' (it reads: ${named.set.emotions.join(', ')})`, `${param}.when.emotion`);
    }
    const block = rule.when.block ?? (meter ?? named).meter.layer;
    if (meter && (named !== meter || block !== meter.meter.layer)) {
      throw new HttpError(400, 'invalid_request_error', 'invalid_request', `with meter on, a rule reads the meter (set '${meter.name}', block ${meter.meter.layer}); this one reads set '${named.name}' at block ${block}`, `${param}.when`);
    }
    if (probe === undefined) {
      if (!named.set.layers.includes(block)) throw new HttpError(400, 'invalid_request_error', 'invalid_request', `block ${block} is not read by set '${named.name}' (blocks ${named.set.layers[0]}..${named.set.layers.at(-1)})`, `${param}.when.block`);
      probe = block === named.meter.layer ? named.meter : new EmotionMeter(named.set, block);
      probeSet = named;
    } else if (named !== probeSet || block !== probe.layer) {
      throw new HttpError(400, 'invalid_request_error', 'invalid_request', `every rule of a request reads one meter: set '${probeSet!.name}' at block ${probe.layer}, not set '${named.name}' at block ${block}`, `${param}.when`);
    }
    const thenItems = Array.isArray(rule.then) ? rule.then : [rule.then];
    const thenParams = thenItems.map((_, k) => (Array.isArray(rule.then) ? `${param}.then[${k}]` : `${param}.then`));
    const then: ComponentSteering = { components: thenItems.map((t, k) => component(t, sets, thenParams[k]!)), positions: 'generated' };
    validate(sets.model, then, thenParams);
    const when = { emotion: rule.when.emotion, ...(rule.when.above !== undefined ? { above: rule.when.above } : {}), ...(rule.when.below !== undefined ? { below: rule.when.below } : {}), ...(rule.when.release !== undefined ? { release: rule.when.release } : {}) };
    try {
      return { then, schedule: conditionalSteering({ when, then, ...(rule.for ? { for: rule.for } : {}), ...(rule.hold !== undefined ? { hold: rule.hold } : {}) }) };
    } catch (err) {
      throw new HttpError(400, 'invalid_request_error', 'invalid_request', (err as Error).message, param);
    }
  });

  // The schedule: the fixed components where they apply, plus every rule that is on; one
  // steering object per combination, so the runtime compiles each combination once.
  const cache = new Map<string, Steering | null>();
  const schedule = (step: SteeringStep): Steering | null => {
    const prompt = step.reading === undefined;
    const on = compiled.map((c) => c.schedule(step) !== null);
    const key = `${prompt ? 'p' : 'g'}${on.map((b) => (b ? 1 : 0)).join('')}`;
    let s = cache.get(key);
    if (s === undefined) {
      const base = fixed && (positions === 'all' || (positions === 'prompt') === prompt) ? fixed.components : [];
      const list = [...base, ...compiled.filter((_, k) => on[k]).flatMap((c) => c.then.components)];
      s = list.length ? { components: list, positions: 'all' } : null;
      cache.set(key, s);
    }
    return s;
  };
  return { steering: schedule, promptSteering: fixed && positions !== 'generated' ? fixed : undefined, probe };
}
