/**
 * A discrete-emotion lexicon judge, written for emosteer: cue words for each of the 20
 * emotions and for neutral text, counted in generated text.
 *
 * It is deliberately simple and transparent: a steered text about a character who "slammed
 * the door, shouting" is judged angry because it contains anger cues, and a report can show
 * which cues fired. Unlike the comprehension stimuli (which must *not* name their emotion),
 * a judge of generated text may and should count emotion words.
 *
 * Matching: text is split into words (letters, marks and inner apostrophes), lower-cased, with
 * a possessive 's dropped; a cue matches a word equal to one of its {@link inflections}
 * (case-insensitive, whole words only). A cue ending in `*`
 * matches every word that starts with the part before the `*`, and a cue with spaces matches
 * that run of consecutive words (each word in any of its inflections). Negation is not handled ("not happy" counts
 * as a happy cue), which is one reason to read this judge beside the valence and LLM judges.
 *
 * @module
 */
import { EmosteerError } from '../../errors.js';
import { CATEGORIES, NEUTRAL } from '../../stimuli/emotions.js';
import type { Judge, JudgeClassification } from './judge.js';

/**
 * The built-in cue lists: 20 emotions plus 'neutral', 25-60 cues each. Everyday, procedural
 * vocabulary stands for 'neutral' (chores, schedules, measurements), matching the paper's
 * neutral stories about sorting mail or folding laundry.
 */
export const EMOTION_LEXICON: Readonly<Record<string, readonly string[]>> = Object.freeze({
  happy: [
    'happy', 'joy', 'joyful', 'joyous', 'glad', 'cheerful', 'cheer', 'delight', 'delighted', 'smile',
    'grin', 'laugh', 'laughter', 'giggle', 'beam', 'merry', 'jolly', 'upbeat', 'pleased', 'sunny',
    'wonderful', 'fun', 'celebrate', 'celebration', 'dance', 'whistle', 'hum', 'chuckle', 'playful',
    'lighthearted', 'yay', 'hooray', 'lovely', 'good mood', 'gleeful', 'glee', 'jubilant', 'bubbly',
  ],
  sad: [
    'sad', 'sadder', 'saddest', 'sorrow', 'sorrowful', 'unhappy', 'tear', 'tearful', 'teary', 'cry', 'weep', 'wept', 'sob',
    'grief', 'grieve', 'mourn', 'heartbroken', 'heartache', 'lonely', 'loneliness', 'melancholy',
    'downcast', 'dejected', 'despondent', 'forlorn', 'ache', 'hollow', 'hurt', 'funeral', 'farewell',
    'goodbye', 'alone', 'sniffle', 'loss', 'miss', 'miserable', 'misery', 'broken', 'numb', 'crumple',
    'lump in throat', 'blue', 'wistfully',
  ],
  calm: [
    'calm', 'calmer', 'peace', 'peaceful', 'serene', 'serenity', 'tranquil', 'tranquility', 'quiet', 'stillness',
    'relax', 'relaxed', 'ease', 'gentle', 'soft', 'breathe', 'breath', 'steady', 'unhurried', 'composed',
    'placid', 'soothe', 'soothing', 'restful', 'settle', 'content', 'mellow', 'hush', 'untroubled',
    'balance', 'slow', 'sip', 'lull', 'at ease', 'unbothered', 'leisurely',
  ],
  desperate: [
    'desperate', 'desperation', 'frantic', 'plead', 'beg', 'pray', 'hopeless', 'helpless', 'last chance',
    'scramble', 'claw', 'grasp', 'clutch', 'cling', 'fumble', 'grope', 'struggle', 'trapped', 'cornered',
    'dire', 'urgent', 'no way out', 'running out', 'out of time', 'gasp', 'rummage', 'implore', 'starving',
    'ruin', 'whatever it takes', 'frenzy', 'last hope', 'please', 'anything at all', 'begged', 'scrabble',
    'drowning', 'lifeline',
  ],
  afraid: [
    'afraid', 'fear', 'fearful', 'scared', 'scare', 'terrified', 'terror', 'fright', 'frightened', 'horror',
    'horrified', 'dread', 'panic', 'tremble', 'shiver', 'shake', 'shook', 'shaken', 'scream', 'flee', 'fled', 'hide',
    'hid', 'danger', 'dangerous', 'creep', 'creak', 'freeze', 'froze', 'frozen', 'flinch', 'cower',
    'whimper', 'petrified', 'alarm', 'spooked', 'nightmare', 'monster', 'cold sweat', 'heart pounding',
    'threat',
  ],
  angry: [
    'angry', 'anger', 'rage', 'furi*', 'fury', 'irate', 'livid', 'seethe', 'fume', 'outrage', 'outraged',
    'shout', 'yell', 'slam', 'punch', 'clench', 'fist', 'stomp', 'growl', 'bellow', 'curse', 'swear',
    'swore', 'temper', 'infuriate', 'enraged', 'resent', 'explode', 'smash', 'kick', 'grit', 'mad', 'blood boil', 'gritted teeth',
    'stormed off', 'stormed out', 'roar', 'hurl', 'wrath', 'indignant', 'incensed', 'snap',
  ],
  proud: [
    'proud', 'pride', 'accomplish', 'accomplishment', 'achieve', 'achievement', 'succeed', 'success',
    'triumph', 'triumphant', 'victory', 'win', 'won', 'award', 'medal', 'trophy', 'honor', 'honour',
    'dignity', 'confident', 'confidence', 'stand tall', 'accolade', 'praise', 'applaud', 'applause',
    'admire', 'recognition', 'milestone', 'earned', 'deserve', 'worthy', 'boast', 'brag', 'standing ovation',
    'graduate', 'diploma', 'promoted', 'chin up', 'puffed',
  ],
  guilty: [
    'guilty', 'guilt', 'ashamed', 'shame', 'remorse', 'regret', 'sorry', 'apologize', 'apologise', 'apology',
    'fault', 'blame', 'confess', 'confession', 'forgive', 'forgiveness', 'wrong', 'mistake', 'conscience',
    'wince', 'avert', 'lied', 'cheat', 'betray', 'sin', 'atone', 'repent', 'should have', "shouldn't have",
    'burden', 'culprit', 'stain', 'redeem', 'penance', 'sheepish', 'contrite', 'my fault', 'make amends',
  ],
  nervous: [
    'nervous', 'nerve', 'jittery', 'jitters', 'fidget', 'fidgety', 'sweat', 'sweaty', 'palm', 'stammer',
    'stutter', 'butterflies', 'uneasy', 'tense', 'tension', 'restless', 'pace', 'bite nail', 'swallow',
    'gulp', 'twitch', 'shaky', 'hesitate', 'hesitant', 'awkward', 'blush', 'flustered', 'rehearse',
    'interview', 'exam', 'audition', 'first day', 'on edge', 'wring', 'clammy', 'dry mouth', 'heartbeat',
    'stage fright', 'jumpy',
  ],
  hopeful: [
    'hopeful', 'hope', 'optimistic', 'optimism', 'wish', 'dream', 'maybe', 'someday', 'tomorrow', 'future',
    'promise', 'promising', 'chance', 'possibility', 'believe', 'faith', 'look forward', 'bright',
    'dawn', 'sunrise', 'new beginning', 'start over', 'spring', 'bloom', 'aspire', 'aspiration',
    'anticipate', 'encourage', 'prospect', 'await', 'one day', 'could be', 'brighter days', 'silver lining',
    'uplift',
  ],
  brooding: [
    'brood', 'brooding', 'dwell', 'ruminate', 'mull', 'stew', 'sulk', 'scowl', 'frown', 'dark thoughts',
    'grudge', 'resentment', 'silent', 'silence', 'stare', 'glower', 'moody', 'sullen', 'withdraw',
    'withdrawn', 'replay', 'obsess', 'fester', 'bitter', 'bitterness', 'hunch', 'furrow', 'brow', 'grim',
    'smolder', 'smoulder', 'unresolved', 'haunt', 'gnaw', 'simmer', 'mutter', 'over and over', 'clouded',
    'lurk',
  ],
  gloomy: [
    'gloomy', 'gloom', 'grey', 'gray', 'overcast', 'cloud', 'cloudy', 'drizzle', 'rain', 'dreary', 'dismal',
    'bleak', 'dull', 'drab', 'murky', 'dim', 'dark', 'darkness', 'fog', 'mist', 'damp', 'cold', 'dead',
    'decay', 'wither', 'darker', 'empty', 'heavy', 'slump', 'somber', 'sombre', 'pessimism', 'pessimistic',
    'pointless', 'depressing', 'depress', 'dismay', 'lifeless', 'colorless', 'colourless',
  ],
  reflective: [
    'reflect', 'reflective', 'reflection', 'ponder', 'contemplate', 'contemplation', 'wonder', 'remember',
    'memory', 'memories', 'recall', 'muse', 'meditate', 'realize', 'realise', 'lesson', 'insight',
    'perspective', 'journey', 'meaning', 'purpose', 'introspection', 'look back', 'looking back', 'wistful',
    'nostalgia', 'nostalgic', 'perhaps', 'hindsight', 'gaze', 'thoughtful', 'in retrospect', 'the years',
    'years ago', 'life taught',
  ],
  enthusiastic: [
    'enthusiastic', 'enthusiasm', 'excited', 'excite', 'excitement', 'exciting', 'thrill', 'thrilled',
    'eager', "can't wait", 'energetic', 'energy', 'passion', 'passionate', 'zeal', 'zest', 'keen', 'pumped',
    'buzz', 'bounce', 'jump', 'leap', 'exclaim', 'wow', 'amazing', 'awesome', 'fantastic', 'incredible',
    'dive in', 'brimming', 'animated', 'vibrant', 'spark', 'fired up', 'gush', 'rave', 'adventure',
    "let's go",
  ],
  hostile: [
    'hostile', 'hostility', 'enemy', 'threaten', 'menace', 'menacing', 'sneer', 'snarl', 'glare', 'hiss',
    'spit', 'contempt', 'scorn', 'hate', 'hatred', 'loathe', 'despise', 'attack', 'aggression',
    'aggressive', 'cruel', 'mock', 'taunt', 'insult', 'bully', 'intimidate', 'confront', 'defiant',
    'antagonize', 'bare teeth', 'venom', 'venomous', 'spite', 'vicious', 'weapon', 'fight', 'fought', 'get out',
    'how dare', 'icy', 'cold stare',
  ],
  loving: [
    'love', 'loving', 'beloved', 'adore', 'affection', 'affectionate', 'tender', 'tenderness', 'warm',
    'warmth', 'hug', 'embrace', 'kiss', 'cuddle', 'caress', 'cherish', 'darling', 'sweetheart', 'dear',
    'care', 'caring', 'devotion', 'devoted', 'fond', 'heart', 'heartfelt', 'companion', 'romance',
    'romantic', 'intimate', 'nuzzle', 'snuggle', 'sweet', 'smitten', 'hand in hand', 'soulmate',
    'adoring',
  ],
  exasperated: [
    'exasperated', 'exasperation', 'exasperating', 'frustrated', 'frustration', 'frustrating', 'fed up',
    'annoyed', 'annoy', 'irritated', 'irritation', 'sigh', 'groan', 'eyeroll', 'not again', 'had enough',
    'enough is enough', 'for crying out loud',
    'seriously', 'ugh', 'argh', 'tired of', 'sick of', 'for the last time', 'hundredth', 'rub her temple',
    'rub his temple',
    'impatient', 'impatience', 'patience', 'grumble', 'huff', 'tedious', 'nonsense', 'ridiculous',
    'unbelievable', 'roll her eye', 'roll his eye', 'roll their eye', 'roll my eye', "why can't",
    'throw up hand', 'threw up hand',
  ],
  blissful: [
    'bliss', 'blissful', 'ecstasy', 'ecstatic', 'euphoria', 'euphoric', 'rapture', 'heavenly', 'heaven',
    'paradise', 'perfect', 'perfection', 'sublime', 'radiant', 'glow', 'dreamy', 'float', 'melt', 'golden',
    'sunshine', 'sunlight', 'pure joy', 'on cloud nine', 'divine', 'glorious', 'enchant', 'enchanting', 'weightless',
    'overjoyed', 'transcend', 'marvelous', 'marvellous', 'contentment', 'savor', 'savour', 'luxuriate',
    'warm sun', 'drift', 'elated', 'elation',
  ],
  anxious: [
    'anxious', 'anxiety', 'worry', 'fret', 'unease', 'apprehensive', 'apprehension', 'what if', 'overthink',
    'spiral', 'tight chest', 'tightness', 'insomnia', 'sleepless', 'toss and turn', 'doubt', 'uncertain',
    'uncertainty', 'concern', 'concerned', 'nagging', 'trouble', 'troubled', 'stress', 'stressed',
    'overwhelm', 'overwhelmed', 'knot', 'stomach', 'pulse', 'edgy', 'agitated', 'disquiet', 'racing',
    'check again', 'restlessness', 'dread', 'jittery', 'on edge',
  ],
  grateful: [
    'grateful', 'gratitude', 'thank', 'thankful', 'thanks', 'appreciate', 'appreciation', 'blessed',
    'blessing', 'fortunate', 'lucky', 'gift', 'kindness', 'generous', 'generosity', 'owe', 'indebted',
    'humbled', 'deeply touched', 'gracious', 'grace', 'treasure', 'count blessing', 'means so much',
    'meant so much', 'without you', 'thank you', 'acknowledge', 'repay', 'gratefully', 'thankfully',
    'kind of you', 'helped me',
  ],
  neutral: [
    'routine', 'usual', 'ordinary', 'normal', 'regular', 'schedule', 'meeting', 'report', 'document',
    'noted', 'sort', 'fold', 'laundry', 'groceries', 'errand', 'chore', 'mail', 'envelope', 'invoice',
    'receipt', 'list', 'chart', 'data', 'measure', 'degree', 'percent', 'minute', 'weekday', 'calendar',
    'appointment', 'email', 'form', 'file', 'item', 'inventory', 'standard', 'typical', 'procedure',
    'instruction', 'manual', 'bus stop', 'shelf', 'label', 'counter', 'drawer', 'table', 'kitchen',
  ],
});

/** The seven classes of the paper's external classifier (Ekman's six plus neutral). */
export const SEVEN_CLASSES = ['anger', 'disgust', 'fear', 'joy', 'neutral', 'sadness', 'surprise'] as const;

/** One of {@link SEVEN_CLASSES}. */
export type SevenClass = (typeof SEVEN_CLASSES)[number];

/**
 * How the 20 emotions and neutral fold into the 7 classes. Choices:
 * - anger: angry, hostile, exasperated (hostility and exasperation are directed displeasure).
 * - fear: afraid, nervous, anxious, desperate (desperation is fear of an outcome plus urgency;
 *   a 7-class classifier reads its cues — pleading, scrambling — as fear).
 * - joy: happy, proud, hopeful, enthusiastic, loving, blissful, grateful, and calm (calm is a
 *   low-arousal pleasant state; 7-class classifiers have no other pleasant class for it).
 * - sadness: sad, gloomy, brooding, guilty (brooding and guilt are inward, low, negative states).
 * - neutral: reflective and neutral (reflection has no clear valence).
 * - disgust and surprise: no emotion of the paper maps to them; they stay empty, so a 7-class
 *   classifier answering either for a steered text counts as a miss for every target.
 */
export const SEVEN_CLASS_OF: Readonly<Record<string, SevenClass>> = Object.freeze({
  angry: 'anger',
  hostile: 'anger',
  exasperated: 'anger',
  afraid: 'fear',
  nervous: 'fear',
  anxious: 'fear',
  desperate: 'fear',
  happy: 'joy',
  proud: 'joy',
  hopeful: 'joy',
  enthusiastic: 'joy',
  loving: 'joy',
  blissful: 'joy',
  grateful: 'joy',
  calm: 'joy',
  sad: 'sadness',
  gloomy: 'sadness',
  brooding: 'sadness',
  guilty: 'sadness',
  reflective: 'neutral',
  neutral: 'neutral',
});

/**
 * The 7-class label of one of the 20 emotions or 'neutral' (see {@link SEVEN_CLASS_OF}).
 * @throws EmosteerError INVALID_ARGUMENT for an unknown emotion
 */
export function toSevenClass(emotion: string): SevenClass {
  if (typeof emotion !== 'string' || !Object.hasOwn(SEVEN_CLASS_OF, emotion)) {
    throw new EmosteerError('INVALID_ARGUMENT', `unknown emotion '${String(emotion)}'; known: ${CATEGORIES.join(', ')}`);
  }
  return SEVEN_CLASS_OF[emotion]!;
}

const VOWELS = 'aeiou';
const isCons = (ch: string | undefined): boolean => ch !== undefined && /[a-z]/.test(ch) && !VOWELS.includes(ch);

/**
 * The inflected forms a lexicon cue matches — our "simple stemming", done in the direction
 * that cannot conflate unrelated words: instead of cutting suffixes off every word of the text
 * (where "care" and "car" would meet), each cue is expanded into its regular English forms and
 * words are matched exactly. From a base `b` it generates: b; plural/3rd person (-s, -es,
 * y -> -ies); past (-d, -ed, y -> -ied); -ing (e dropped, ie -> -ying); adverb (-ly, y -> -ily,
 * le -> -ly, ic -> -ically); -ness (y -> -iness); comparative and superlative (-er/-est,
 * y -> -ier/-iest, e -> -r/-st); with a doubled final consonant for short consonant-vowel-consonant
 * endings (sob -> sobbing, sad -> sadder). Over-generated non-words are harmless. Irregular forms
 * (wept, fought) are listed as cues of their own.
 */
export function inflections(cue: string): string[] {
  const b = cue.toLowerCase();
  const out = new Set<string>([b]);
  const last = b.at(-1);
  const consY = b.endsWith('y') && isCons(b.at(-2));
  const cvc = b.length >= 3 && isCons(last) && !'wxy'.includes(last!) && VOWELS.includes(b.at(-2)!) && isCons(b.at(-3));
  const stems = [b];
  if (cvc) stems.push(b + last);
  // plural / third person
  if (consY) out.add(b.slice(0, -1) + 'ies');
  else if (/(s|x|z|ch|sh)$/.test(b)) out.add(b + 'es');
  else out.add(b + 's');
  // past, -ing, comparative
  if (consY) {
    const y = b.slice(0, -1);
    for (const f of ['ied', 'ier', 'iest', 'ily', 'iness']) out.add(y + f);
    out.add(b + 'ing');
  } else if (b.endsWith('ie')) {
    out.add(b + 'd');
    out.add(b.slice(0, -2) + 'ying');
  } else if (b.endsWith('e') && !b.endsWith('ee')) {
    out.add(b + 'd');
    out.add(b.slice(0, -1) + 'ing');
  } else {
    for (const s of stems) for (const f of ['ed', 'ing']) out.add(s + f);
  }
  // adverb and -ness
  if (!consY) {
    if (b.endsWith('le')) out.add(b.slice(0, -1) + 'y');
    else if (b.endsWith('ic')) out.add(b + 'ally');
    else out.add(b + 'ly');
    out.add(b + 'ness');
  }
  return [...out];
}

/** Splits text into lower-case words for lexicon matching (letters/marks, inner apostrophes kept, possessive 's dropped). */
function lexWords(text: string): string[] {
  const out: string[] = [];
  for (const m of text.replace(/\u2019/g, "'").matchAll(/[\p{L}\p{M}]+(?:'[\p{L}\p{M}]+)*/gu)) {
    out.push(m[0].toLowerCase().replace(/'s$/, ''));
  }
  return out;
}

interface CompiledCues {
  singles: Set<string>;
  prefixes: string[];
  phrases: { key: string; words: Set<string>[] }[];
}

function compile(cues: readonly string[], emotion: string): CompiledCues {
  const singles = new Set<string>();
  const prefixes: string[] = [];
  const phrases: { key: string; words: Set<string>[] }[] = [];
  for (const raw of cues) {
    if (typeof raw !== 'string' || raw.trim().length === 0) {
      throw new EmosteerError('INVALID_ARGUMENT', `lexicon cue of '${emotion}' must be a non-empty string`);
    }
    const cue = raw.trim().toLowerCase();
    if (cue.endsWith('*')) {
      const p = cue.slice(0, -1);
      if (p.length < 2 || /\s/.test(p)) throw new EmosteerError('INVALID_ARGUMENT', `prefix cue '${raw}' of '${emotion}' needs at least 2 letters and no spaces`);
      prefixes.push(p);
      continue;
    }
    const words = lexWords(cue);
    if (words.length === 0) throw new EmosteerError('INVALID_ARGUMENT', `lexicon cue '${raw}' of '${emotion}' has no letters`);
    if (words.length === 1) for (const f of inflections(words[0]!)) singles.add(f);
    else phrases.push({ key: words.join(' '), words: words.map((w) => new Set(inflections(w))) });
  }
  return { singles, prefixes, phrases };
}

/** Per-text match table: for each category, the word positions and phrase matches. */
interface Matches {
  words: number;
  /** category -> set of word positions matched by a single-word or prefix cue */
  positions: Map<string, Set<number>>;
  /** category -> set of "phraseKey@position" phrase matches */
  phrases: Map<string, Set<string>>;
}

/** Options of {@link LexiconJudge}. */
export interface LexiconJudgeOptions {
  /** Cue lists to use instead of {@link EMOTION_LEXICON} (category -> cues). */
  lexicon?: Readonly<Record<string, readonly string[]>>;
  /**
   * Weight of a 'neutral' cue hit relative to an emotion cue hit (default 0.5). Everyday words
   * appear in emotional stories too (a sad character still folds laundry), while emotion cues
   * rarely appear in neutral text, so a neutral hit is weaker evidence.
   */
  neutralWeight?: number;
  /** 7-class mapping to use instead of {@link SEVEN_CLASS_OF} (needed for custom categories). */
  sevenClassOf?: Readonly<Record<string, SevenClass>>;
}

/**
 * Lexicon emotion judge. `score(text, emotion)` = cue hits for that emotion per 100 words
 * (neutral hits weighted by `neutralWeight`); `classify` returns the top category, or
 * 'neutral' when no cue of any category occurs.
 *
 * @example
 * const judge = new LexiconJudge();
 * (await judge.classify('He slammed the door, shouting with rage')).label; // 'angry'
 * judge.classify7('He slammed the door, shouting with rage').label;         // 'anger'
 */
export class LexiconJudge implements Judge {
  /** Judge name in reports. */
  readonly name = 'lexicon';
  /** The categories this judge scores, in order (ties in classify go to the earlier one). */
  readonly categories: readonly string[];
  readonly #cues: Map<string, CompiledCues>;
  readonly #neutralWeight: number;
  readonly #sevenOf: Readonly<Record<string, SevenClass>>;

  /** @param options custom lexicon, neutral weight and 7-class mapping */
  constructor(options: LexiconJudgeOptions = {}) {
    const lexicon = options.lexicon ?? EMOTION_LEXICON;
    const neutralWeight = options.neutralWeight ?? 0.5;
    if (typeof neutralWeight !== 'number' || !Number.isFinite(neutralWeight) || neutralWeight < 0) {
      throw new EmosteerError('INVALID_ARGUMENT', `neutralWeight must be a finite number >= 0 (got ${String(neutralWeight)})`);
    }
    this.#neutralWeight = neutralWeight;
    this.#cues = new Map();
    const cats = Object.keys(lexicon);
    if (cats.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'the lexicon has no categories');
    for (const c of cats) {
      const cues = lexicon[c];
      if (!Array.isArray(cues) || cues.length === 0) throw new EmosteerError('INVALID_ARGUMENT', `lexicon category '${c}' needs a non-empty array of cues`);
      this.#cues.set(c, compile(cues, c));
    }
    // Built-in order first (paper order, then neutral), then any extra categories.
    const builtin = (CATEGORIES as readonly string[]).filter((c) => this.#cues.has(c));
    this.categories = Object.freeze([...builtin, ...cats.filter((c) => !builtin.includes(c))]);
    this.#sevenOf = options.sevenClassOf ?? SEVEN_CLASS_OF;
  }

  #weight(category: string): number {
    return category === NEUTRAL ? this.#neutralWeight : 1;
  }

  #match(text: string): Matches {
    if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'the lexicon judge needs a string');
    const words = lexWords(text);
    const positions = new Map<string, Set<number>>();
    const phrases = new Map<string, Set<string>>();
    for (const [cat, cues] of this.#cues) {
      const pos = new Set<number>();
      const ph = new Set<string>();
      for (let i = 0; i < words.length; i++) {
        if (cues.singles.has(words[i]!) || cues.prefixes.some((p) => words[i]!.startsWith(p))) pos.add(i);
        for (const phrase of cues.phrases) {
          const n = phrase.words.length;
          if (i + n <= words.length && phrase.words.every((set, k) => set.has(words[i + k]!))) ph.add(`${phrase.key}@${i}`);
        }
      }
      positions.set(cat, pos);
      phrases.set(cat, ph);
    }
    return { words: words.length, positions, phrases };
  }

  /** Cue hits of each category in `text` (raw counts, unweighted), and the word count. */
  hits(text: string): {
    /** Words in the text. */
    words: number;
    /** Cue hits per category. */
    hits: Record<string, number>;
  } {
    const m = this.#match(text);
    const hits: Record<string, number> = {};
    for (const c of this.categories) hits[c] = m.positions.get(c)!.size + m.phrases.get(c)!.size;
    return { words: m.words, hits };
  }

  #scores(text: string): Record<string, number> {
    const { words, hits } = this.hits(text);
    const scores: Record<string, number> = {};
    for (const c of this.categories) scores[c] = words === 0 ? 0 : (100 * hits[c]! * this.#weight(c)) / words;
    return scores;
  }

  /**
   * Hits of `emotion`'s cues per 100 words of `text` (0 for text without words; 'neutral'
   * hits are multiplied by `neutralWeight`).
   * @throws EmosteerError INVALID_ARGUMENT for a category the lexicon does not have
   */
  async score(text: string, emotion: string): Promise<number> {
    if (!this.#cues.has(emotion)) {
      throw new EmosteerError('INVALID_ARGUMENT', `the lexicon has no category '${emotion}'; known: ${this.categories.join(', ')}`);
    }
    return this.#scores(text)[emotion]!;
  }

  /** Synchronous {@link classify}: top category by score, 'neutral' when nothing matched. */
  classifySync(text: string): JudgeClassification {
    const scores = this.#scores(text);
    let label: string = NEUTRAL;
    let best = 0;
    for (const c of this.categories) {
      if (scores[c]! > best) { best = scores[c]!; label = c; }
    }
    return { label, scores };
  }

  /** The top category (one of the 20 emotions or 'neutral') and every category's score. */
  async classify(text: string): Promise<JudgeClassification> {
    return this.classifySync(text);
  }

  /**
   * 7-class view: each class's cue set is the union of its member categories' cues (a word
   * counts once per class however many members it matches; a position matched only by
   * 'neutral' cues counts `neutralWeight`), scored per 100 words. The label is the top class,
   * 'neutral' when nothing matched; disgust and surprise have no members and stay 0.
   */
  classify7(text: string): JudgeClassification<SevenClass> {
    const m = this.#match(text);
    const scores = Object.fromEntries(SEVEN_CLASSES.map((k) => [k, 0])) as Record<SevenClass, number>;
    if (m.words > 0) {
      for (const k of SEVEN_CLASSES) {
        const members = this.categories.filter((c) => this.#sevenOf[c] === k);
        const posWeight = new Map<number, number>();
        const phraseWeight = new Map<string, number>();
        for (const c of members) {
          const w = this.#weight(c);
          for (const p of m.positions.get(c)!) posWeight.set(p, Math.max(posWeight.get(p) ?? 0, w));
          for (const p of m.phrases.get(c)!) phraseWeight.set(p, Math.max(phraseWeight.get(p) ?? 0, w));
        }
        let total = 0;
        for (const w of posWeight.values()) total += w;
        for (const w of phraseWeight.values()) total += w;
        scores[k] = (100 * total) / m.words;
      }
    }
    let label: SevenClass = 'neutral';
    let best = 0;
    for (const k of SEVEN_CLASSES) if (scores[k] > best) { best = scores[k]; label = k; }
    return { label, scores };
  }
}
