/**
 * Stimuli for emotion extraction: the emotion list, the prompts of generation-based
 * extraction, the passages of comprehension-based extraction and the neutral facts of the
 * anisotropy baseline. {@link defaultStimuli} gives emosteer's English set; {@link loadStimuli}
 * reads a user's own set (any language) from JSON or JSONL; {@link validateStimuli} lists
 * problems worth a warning.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { EmosteerError } from '../errors.js';
import { sha256Hex } from '../util/file-identity.js';
import { EMOTIONS, NEUTRAL, findEmotionWords, isEmotionName } from './emotions.js';
import { EMOTION_PLACEHOLDER, GENERATION_TEMPLATES, NEUTRAL_PROMPTS } from './generation-prompts.js';
import { COMPREHENSION_PASSAGES } from './passages.en.js';

export {
  EMOTIONS,
  NEUTRAL,
  CATEGORIES,
  EMOTION_WORD_FORMS,
  findEmotionWords,
  isEmotionName,
  type EmotionName,
  type CategoryName,
} from './emotions.js';
export { EMOTION_PLACEHOLDER, GENERATION_TEMPLATES, NEUTRAL_PROMPTS, generationPrompt, neutralPrompt } from './generation-prompts.js';
export { COMPREHENSION_PASSAGES } from './passages.en.js';
export { NEUTRAL_FACTS } from './anisotropy.en.js';

/** Version tag of the built-in stimuli; recorded in every extracted vector set. */
export const STIMULI_VERSION = 'en-2';

/**
 * A complete set of stimuli.
 *
 * - `emotions`: the emotion names, without `'neutral'`.
 * - `generationTemplates`: story prompts containing `{emotion}`, used in rotation (may be
 *   empty when the set only serves comprehension-based extraction).
 * - `neutralPrompts`: prompts for the neutral baseline stories (empty exactly when
 *   `generationTemplates` is).
 * - `passages`: for every emotion and for `'neutral'`, passages that show it without naming
 *   it (may be empty, `{}`, when the set only serves generation-based extraction).
 */
export interface StimulusSet {
  /** `'en-2'` for the built-in set (en-2: ten distinct story templates; en-1 had five); `'custom:<sha256 prefix>'` or the file's own for loaded sets. */
  version: string;
  /** BCP 47 language tag of the texts (`'und'` when a loaded set does not say). */
  language: string;
  /** Emotion names, without `'neutral'`. */
  emotions: string[];
  /** Story templates, each containing `{emotion}`. */
  generationTemplates: string[];
  /** Prompts for neutral stories. */
  neutralPrompts: string[];
  /** Passages by category: every emotion plus `'neutral'`. */
  passages: Record<string, string[]>;
}

/**
 * emosteer's built-in English stimuli: the 20 emotions of the paper, 5 story templates,
 * 14 neutral prompts and at least 12 passages per category. Returns a fresh copy each call,
 * so callers may modify it.
 */
export function defaultStimuli(): StimulusSet {
  const passages: Record<string, string[]> = {};
  for (const c of [...EMOTIONS, NEUTRAL]) passages[c] = [...COMPREHENSION_PASSAGES[c]];
  return {
    version: STIMULI_VERSION,
    language: 'en',
    emotions: [...EMOTIONS],
    generationTemplates: [...GENERATION_TEMPLATES],
    neutralPrompts: [...NEUTRAL_PROMPTS],
    passages,
  };
}

// ---------------------------------------------------------------------------------------------
// Loading

/** The fields a stimuli file may give; anything missing is completed by `assemble`. */
interface PartialStimuli {
  version?: string;
  language?: string;
  emotions?: string[];
  generationTemplates?: string[];
  neutralPrompts?: string[];
  passages?: Record<string, string[]>;
}

const JSON_KEYS = new Set(['version', 'language', 'emotions', 'generationTemplates', 'neutralPrompts', 'passages']);
const JSONL_KEYS = new Set(['emotion', 'passage', 'prompt']);
const JSONL_META_KEYS = new Set(['version', 'language']);

function invalid(source: string, message: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', `stimuli file ${source}: ${message}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.trim() === '' ? 'an empty string' : 'a string';
  return `a ${typeof v}`;
}

function nonEmptyString(v: unknown, where: string, source: string): string {
  if (typeof v !== 'string' || v.trim() === '') {
    throw invalid(source, `${where} must be a non-empty string, got ${describe(v)}`);
  }
  return v;
}

/** Validates an emotion name (not the baseline). */
function emotionName(v: unknown, where: string, source: string): string {
  const name = nonEmptyString(v, where, source);
  if (name !== name.trim()) throw invalid(source, `${where} ("${name}") has leading or trailing whitespace`);
  if (name === NEUTRAL) throw invalid(source, `${where} is "${NEUTRAL}", which is the baseline category, not an emotion`);
  return name;
}

function stringList(v: unknown, where: string, source: string): string[] {
  if (!Array.isArray(v)) throw invalid(source, `${where} must be an array of strings, got ${describe(v)}`);
  if (v.length === 0) throw invalid(source, `${where} is empty (leave the key out instead)`);
  return v.map((x, i) => nonEmptyString(x, `${where}[${i}]`, source));
}

function parseJson(text: string, source: string): PartialStimuli {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw invalid(source, `not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(doc)) throw invalid(source, `the top level must be an object, got ${describe(doc)}`);
  for (const key of Object.keys(doc)) {
    if (!JSON_KEYS.has(key)) {
      throw invalid(source, `unknown key "${key}" (allowed: ${[...JSON_KEYS].join(', ')})`);
    }
  }
  const out: PartialStimuli = {};
  if (doc.version !== undefined) out.version = nonEmptyString(doc.version, 'version', source);
  if (doc.language !== undefined) out.language = nonEmptyString(doc.language, 'language', source);
  if (doc.emotions !== undefined) {
    if (!Array.isArray(doc.emotions)) throw invalid(source, `emotions must be an array of strings, got ${describe(doc.emotions)}`);
    if (doc.emotions.length === 0) throw invalid(source, 'emotions is empty');
    const seen = new Set<string>();
    out.emotions = doc.emotions.map((e, i) => {
      const name = emotionName(e, `emotions[${i}]`, source);
      if (seen.has(name)) throw invalid(source, `emotions[${i}] ("${name}") is listed twice`);
      seen.add(name);
      return name;
    });
  }
  if (doc.generationTemplates !== undefined) out.generationTemplates = stringList(doc.generationTemplates, 'generationTemplates', source);
  if (doc.neutralPrompts !== undefined) out.neutralPrompts = stringList(doc.neutralPrompts, 'neutralPrompts', source);
  if (doc.passages !== undefined) {
    if (!isPlainObject(doc.passages)) throw invalid(source, `passages must be an object of string arrays, got ${describe(doc.passages)}`);
    const passages: Record<string, string[]> = {};
    for (const [key, list] of Object.entries(doc.passages)) passages[key] = stringList(list, `passages["${key}"]`, source);
    out.passages = passages;
  }
  return out;
}

function parseJsonl(text: string, source: string): PartialStimuli {
  const emotions: string[] = [];
  const templates: string[] = [];
  const neutralPrompts: string[] = [];
  const passages: Record<string, string[]> = {};
  let anyPassage = false;
  const out: PartialStimuli = {};
  const addEmotion = (name: string) => {
    if (!emotions.includes(name)) emotions.push(name);
  };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const n = i + 1;
    if (line.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw invalid(source, `line ${n} is not valid JSON (${(e as Error).message})`);
    }
    if (!isPlainObject(obj)) throw invalid(source, `line ${n} must be a JSON object, got ${describe(obj)}`);
    const keys = Object.keys(obj);
    if (!('emotion' in obj)) {
      // A metadata line: {"language": "de"} and/or {"version": "..."}.
      if (keys.length > 0 && keys.every((k) => JSONL_META_KEYS.has(k))) {
        for (const k of keys as ('version' | 'language')[]) {
          if (out[k] !== undefined) throw invalid(source, `line ${n}: "${k}" is given a second time`);
          out[k] = nonEmptyString(obj[k], `line ${n}: "${k}"`, source);
        }
        continue;
      }
      throw invalid(source, `line ${n} has no "emotion" key (each line is {"emotion": ..., "passage": ...} or {"emotion": ..., "prompt": ...})`);
    }
    for (const k of keys) {
      if (!JSONL_KEYS.has(k)) throw invalid(source, `line ${n}: unknown key "${k}" (allowed: emotion, passage, prompt)`);
    }
    const rawEmotion = nonEmptyString(obj.emotion, `line ${n}: "emotion"`, source);
    const hasPassage = 'passage' in obj;
    const hasPrompt = 'prompt' in obj;
    if (hasPassage === hasPrompt) {
      throw invalid(source, `line ${n} must have exactly one of "passage" and "prompt", it has ${hasPassage ? 'both' : 'neither'}`);
    }
    const isNeutral = rawEmotion === NEUTRAL;
    const emotion = isNeutral ? NEUTRAL : emotionName(rawEmotion, `line ${n}: "emotion"`, source);
    if (hasPassage) {
      const passage = nonEmptyString(obj.passage, `line ${n}: "passage"`, source);
      if (!isNeutral) addEmotion(emotion);
      (passages[emotion] ??= []).push(passage);
      anyPassage = true;
    } else {
      const prompt = nonEmptyString(obj.prompt, `line ${n}: "prompt"`, source);
      if (isNeutral) {
        if (prompt.includes(EMOTION_PLACEHOLDER)) {
          throw invalid(source, `line ${n}: the neutral prompt contains ${EMOTION_PLACEHOLDER}, but neutral prompts take no emotion`);
        }
        neutralPrompts.push(prompt);
      } else {
        if (!prompt.includes(EMOTION_PLACEHOLDER)) {
          throw invalid(source, `line ${n}: the prompt for "${emotion}" does not contain ${EMOTION_PLACEHOLDER} (prompts are templates shared by all emotions; use "neutral" for baseline prompts)`);
        }
        addEmotion(emotion);
        if (!templates.includes(prompt)) templates.push(prompt);
      }
    }
  }
  if (emotions.length === 0) throw invalid(source, 'no line names an emotion other than "neutral"');
  out.emotions = emotions;
  if (templates.length > 0) out.generationTemplates = templates;
  if (neutralPrompts.length > 0) out.neutralPrompts = neutralPrompts;
  if (anyPassage) out.passages = passages;
  return out;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((x) => set.has(x));
}

/** Completes a parsed file with defaults (only for the default emotion list) and checks it. */
function assemble(p: PartialStimuli, digest: string, source: string): StimulusSet {
  const emotions = p.emotions ?? [...EMOTIONS];
  const isDefault = sameMembers(emotions, EMOTIONS);

  if (p.generationTemplates) {
    p.generationTemplates.forEach((t, i) => {
      if (!t.includes(EMOTION_PLACEHOLDER)) throw invalid(source, `generationTemplates[${i}] does not contain ${EMOTION_PLACEHOLDER}`);
    });
  }
  if (p.neutralPrompts) {
    p.neutralPrompts.forEach((t, i) => {
      if (t.includes(EMOTION_PLACEHOLDER)) throw invalid(source, `neutralPrompts[${i}] contains ${EMOTION_PLACEHOLDER}, but neutral prompts take no emotion`);
    });
  }
  if (p.passages) {
    const wanted = new Set([...emotions, NEUTRAL]);
    for (const key of Object.keys(p.passages)) {
      if (!wanted.has(key)) throw invalid(source, `passages has a key "${key}" that is neither one of the emotions nor "${NEUTRAL}"`);
    }
    for (const key of wanted) {
      if (!p.passages[key]?.length) {
        throw invalid(source, `passages has no entry for "${key}" (when passages are given, every emotion and "${NEUTRAL}" needs at least one)`);
      }
    }
  }

  let generationTemplates: string[];
  let neutralPrompts: string[];
  let passages: Record<string, string[]>;
  if (isDefault) {
    generationTemplates = p.generationTemplates ?? [...GENERATION_TEMPLATES];
    neutralPrompts = p.neutralPrompts ?? [...NEUTRAL_PROMPTS];
    if (p.passages) {
      passages = p.passages;
    } else {
      passages = {};
      for (const c of [...emotions, NEUTRAL]) passages[c] = [...COMPREHENSION_PASSAGES[c as keyof typeof COMPREHENSION_PASSAGES]];
    }
  } else {
    // Custom emotions: the built-in English texts cannot stand in for missing fields.
    if (!!p.generationTemplates !== !!p.neutralPrompts) {
      throw invalid(
        source,
        p.generationTemplates
          ? 'generationTemplates are given but neutralPrompts are not (with a custom emotion list, generation-based extraction needs both)'
          : 'neutralPrompts are given but generationTemplates are not (with a custom emotion list, generation-based extraction needs both)',
      );
    }
    if (!p.generationTemplates && !p.passages) {
      throw invalid(source, 'the emotion list is not the default one, so the file must give passages, or generationTemplates with neutralPrompts, or both');
    }
    generationTemplates = p.generationTemplates ?? [];
    neutralPrompts = p.neutralPrompts ?? [];
    passages = p.passages ?? {};
  }

  const gaveText = !!(p.generationTemplates || p.neutralPrompts || p.passages);
  return {
    version: p.version ?? `custom:${digest.slice(0, 12)}`,
    language: p.language ?? (gaveText ? 'und' : 'en'),
    emotions: [...emotions],
    generationTemplates: [...generationTemplates],
    neutralPrompts: [...neutralPrompts],
    passages: Object.fromEntries(Object.entries(passages).map(([k, v]) => [k, [...v]])),
  };
}

/**
 * Loads a user's stimuli from a file, in any language.
 *
 * **JSON** (`.json`): an object with any subset of the fields of {@link StimulusSet}:
 * ```json
 * { "language": "de", "emotions": ["froh", "traurig"],
 *   "passages": { "froh": ["..."], "traurig": ["..."], "neutral": ["..."] } }
 * ```
 * When `emotions` is missing or holds exactly the 20 built-in emotions, missing fields take
 * the built-in values. Otherwise nothing is filled in: the file must give `passages` (a key
 * for every emotion plus `'neutral'`), or `generationTemplates` with `neutralPrompts`, or all
 * three. Templates must contain `{emotion}`.
 *
 * **JSONL** (`.jsonl`, `.ndjson`): one object per line, either
 * `{"emotion": "froh", "passage": "..."}` or `{"emotion": "froh", "prompt": "... {emotion} ..."}`.
 * Prompt lines with emotion `"neutral"` become `neutralPrompts`; other prompt lines are
 * templates and must contain `{emotion}` (identical templates are kept once). The emotion
 * list is the order of first appearance. An optional line `{"language": "de"}` (and/or
 * `{"version": "..."}`) sets those fields. The same completion rules as for JSON apply.
 *
 * Other extensions are read as JSON when the whole file is one JSON object without an
 * `emotion` key, and as JSONL otherwise.
 *
 * `version` is the file's own, or `'custom:'` + the first 12 hex digits of the SHA-256 of
 * its bytes. `language` is the file's own, or `'en'` when it gives no texts, or `'und'`.
 *
 * @throws EmosteerError FILE_NOT_FOUND when the file cannot be read; INVALID_ARGUMENT, naming
 *   the line or key at fault, for anything malformed
 */
export async function loadStimuli(path: string): Promise<StimulusSet> {
  if (typeof path !== 'string' || path === '') throw new EmosteerError('INVALID_ARGUMENT', 'stimuli path must be a non-empty string');
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EPERM') {
      throw new EmosteerError('FILE_NOT_FOUND', `stimuli file ${path} cannot be read (${code})`, { cause: e });
    }
    throw e;
  }
  const digest = sha256Hex(bytes);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw invalid(path, 'the file is empty');

  const ext = extname(path).toLowerCase();
  let partial: PartialStimuli;
  if (ext === '.json') {
    partial = parseJson(text, path);
  } else if (ext === '.jsonl' || ext === '.ndjson') {
    partial = parseJsonl(text, path);
  } else {
    let whole: unknown;
    try {
      whole = JSON.parse(text);
    } catch {
      whole = undefined;
    }
    partial = isPlainObject(whole) && !('emotion' in whole) ? parseJson(text, path) : parseJsonl(text, path);
  }
  return assemble(partial, digest, path);
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Whole-word, case-insensitive occurrences of `word` in `text`. */
function findLiteral(text: string, word: string): string[] {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'giu');
  return [...text.matchAll(re)].map((m) => m[0]);
}

/** Words in `text` that name `emotion`: its English forms (for English text) and its own name. */
function namingWords(text: string, emotion: string, english: boolean): string[] {
  const found = english && isEmotionName(emotion) ? findEmotionWords(text, emotion) : [];
  for (const w of findLiteral(text, emotion)) {
    if (!found.some((f) => f.toLowerCase() === w.toLowerCase())) found.push(w);
  }
  return found;
}

/**
 * Checks a stimulus set and returns human-readable warnings (an empty array when all is
 * well; the built-in set gives none). Reported: structural gaps (missing passage categories,
 * templates without `{emotion}`, templates without neutral prompts), categories with fewer
 * than 3 passages, duplicate passages, and passages that name an emotion: their own (which
 * turns a comprehension vector into a word detector), another one, or any in a neutral
 * passage. Emotion names are always looked for literally; for English sets (language `en*`
 * or `und`) the inflections and derivations of the 20 built-in emotions are looked for too.
 */
export function validateStimuli(set: StimulusSet): string[] {
  const warnings: string[] = [];
  if (!set || typeof set !== 'object') return ['the stimulus set is not an object'];
  const emotions = Array.isArray(set.emotions) ? set.emotions : [];
  const templates = Array.isArray(set.generationTemplates) ? set.generationTemplates : [];
  const neutralPrompts = Array.isArray(set.neutralPrompts) ? set.neutralPrompts : [];
  const passages = set.passages && typeof set.passages === 'object' ? set.passages : {};

  if (typeof set.version !== 'string' || set.version === '') warnings.push('version is empty');
  if (typeof set.language !== 'string' || set.language === '') warnings.push('language is empty');
  if (emotions.length === 0) warnings.push('the set has no emotions');
  const seen = new Set<string>();
  for (const e of emotions) {
    if (e === NEUTRAL) warnings.push(`emotions includes "${NEUTRAL}", which is the baseline category`);
    if (seen.has(e)) warnings.push(`emotion "${e}" is listed twice`);
    seen.add(e);
  }

  templates.forEach((t, i) => {
    if (!t.includes(EMOTION_PLACEHOLDER)) warnings.push(`generationTemplates[${i}] does not contain ${EMOTION_PLACEHOLDER}`);
  });
  neutralPrompts.forEach((t, i) => {
    if (t.includes(EMOTION_PLACEHOLDER)) warnings.push(`neutralPrompts[${i}] contains ${EMOTION_PLACEHOLDER}`);
  });
  if (templates.length > 0 && neutralPrompts.length === 0) warnings.push('there are generation templates but no neutral prompts for the baseline');
  if (templates.length === 0 && neutralPrompts.length > 0) warnings.push('there are neutral prompts but no generation templates');
  if (templates.length === 0 && Object.keys(passages).length === 0) warnings.push('the set has neither generation templates nor passages');

  if (Object.keys(passages).length > 0) {
    const categories = [...emotions, NEUTRAL];
    for (const c of categories) {
      const n = passages[c]?.length ?? 0;
      if (n === 0) warnings.push(`passages has none for "${c}"`);
      else if (n < 3) warnings.push(`passages has only ${n} for "${c}"; at least 3 are recommended, more for held-out evaluation`);
    }
    for (const key of Object.keys(passages)) {
      if (!categories.includes(key)) warnings.push(`passages has a key "${key}" that is not a category of the set`);
    }
    const english = typeof set.language === 'string' && (/^en\b/i.test(set.language) || set.language === 'und');
    const where = new Map<string, string>();
    for (const [key, list] of Object.entries(passages)) {
      if (!Array.isArray(list)) {
        warnings.push(`passages["${key}"] is not an array`);
        continue;
      }
      list.forEach((text, i) => {
        const at = `passages["${key}"][${i}]`;
        if (typeof text !== 'string' || text.trim() === '') {
          warnings.push(`${at} is empty`);
          return;
        }
        const norm = text.trim().replace(/\s+/g, ' ').toLowerCase();
        const first = where.get(norm);
        if (first) warnings.push(`${at} repeats ${first}`);
        else where.set(norm, at);
        for (const e of emotions) {
          const words = namingWords(text, e, english);
          if (words.length === 0) continue;
          const list = words.map((w) => `"${w}"`).join(', ');
          if (e === key) warnings.push(`${at} names its own emotion (${list})`);
          else if (key === NEUTRAL) warnings.push(`${at} is neutral but names "${e}" (${list})`);
          else warnings.push(`${at} names another emotion, "${e}" (${list})`);
        }
      });
    }
  }
  return warnings;
}
