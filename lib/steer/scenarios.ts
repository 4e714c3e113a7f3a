/**
 * The built-in steering scenarios: short English openings that a model continues while an
 * emotion vector is added to its residual stream. Each scenario says which emotion is used,
 * in which direction, and what a reader should expect to change in the continuation, so that
 * an emotion classifier (or a person) can judge whether steering worked — the test behind
 * the paper's claim that steering changed the emotion of generated text in 37 of 40 scenarios.
 *
 * Four kinds of scenario are included:
 * - `neutral`: an emotionally flat text (a forecast, a recipe, a notice) steered toward an
 *   emotion; the plainest test that the vector adds an emotion that was not there.
 * - `loaded`: a text that already carries a clear emotion, steered toward a contrasting one;
 *   the vector has to win against the prompt.
 * - `toward`: a text steered toward the emotion it already shows (intensification).
 * - `away`: a text steered *away* from the emotion it shows (negative strength).
 *
 * No prompt names any of the 20 emotions with one of its word forms, so a classifier cannot
 * score a continuation by echoing a word from the prompt.
 *
 * @module
 */

import { EmosteerError } from '../errors.js';
import { EMOTIONS, type EmotionName } from '../stimuli/emotions.js';

/** The four kinds of steering scenario, in the order they appear in {@link SCENARIOS}. */
export const SCENARIO_KINDS = ['neutral', 'loaded', 'toward', 'away'] as const;

/** One of the four scenario kinds; see {@link SCENARIO_KINDS}. */
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

/**
 * One steering test case: a prompt, the emotion vector to apply, and its sign.
 *
 * `direction: 'away'` means the vector is applied with a negative strength. In the built-in
 * suite that is exactly the scenarios of kind `'away'`; every other kind steers toward.
 */
export interface SteeringScenario {
  /** Stable, unique, kebab-case identifier, e.g. `'weather-to-hostile'`. */
  id: string;
  /** What sort of test this is; see the module description. */
  kind: ScenarioKind;
  /** The plain text the model continues: 1-3 sentences that invite a continuation. */
  prompt: string;
  /** The emotion whose vector is applied. */
  target: EmotionName;
  /** `'toward'` = positive strength; `'away'` = negative strength (steer away from `target`). */
  direction: 'toward' | 'away';
  /** One line: what a human reader would expect to change in the continuation. */
  note: string;
}

/**
 * Version of the built-in scenario suite. It changes whenever a scenario is added, removed or
 * reworded, so that results from different suite versions are never compared by mistake.
 */
export const SCENARIO_SUITE_VERSION = 'en-1';

function scenario(
  id: string,
  kind: ScenarioKind,
  target: EmotionName,
  prompt: string,
  note: string,
): SteeringScenario {
  return Object.freeze({ id, kind, prompt, target, direction: kind === 'away' ? 'away' : 'toward', note });
}

/**
 * The built-in English steering scenarios (suite {@link SCENARIO_SUITE_VERSION}), grouped by
 * kind in the order of {@link SCENARIO_KINDS}. Every one of the 20 emotions is a target at
 * least once. The array and its entries are frozen.
 */
export const SCENARIOS: readonly SteeringScenario[] = Object.freeze([
  // ---- neutral: flat text steered toward an emotion -------------------------------------
  scenario('weather-to-hostile', 'neutral', 'hostile',
    "Tomorrow's forecast for the coastal region: morning cloud clearing by noon, light winds from the west, and highs of around eighteen degrees. Looking further ahead, the outlook for the weekend is",
    'A routine forecast should turn combative and unfriendly, as if the weather or the reader were an adversary.'),
  scenario('recipe-to-blissful', 'neutral', 'blissful',
    'To make the batter, whisk two eggs with a cup of milk, then fold in the flour a little at a time until no lumps remain. Next, warm a pan over medium heat and',
    'Cooking steps should drift into rapturous, sensory delight at the smell and taste of the food.'),
  scenario('train-announcement-to-anxious', 'neutral', 'anxious',
    'Attention, please. The 14:05 service to Northfield will depart from platform six, calling at Elm Park, Riverside and Northfield Central. Passengers travelling to Riverside should',
    'A timetable announcement should fill with worry about missed connections, delays and things going wrong.'),
  scenario('committee-minutes-to-angry', 'neutral', 'angry',
    'Minutes of the facilities committee, Tuesday. Present: five members. Item one: replacing the ceiling lights in the east corridor. The chair opened the discussion by saying that',
    'Dry meeting minutes should report raised voices, blame and indignation over a trivial item.'),
  scenario('shelf-assembly-to-enthusiastic', 'neutral', 'enthusiastic',
    'Step four: attach the side panel (B) to the base (A) using the four short screws. Make sure the pre-drilled holes face inward before tightening. Once the panel is secure,',
    'Assembly instructions should become eager and energetic, full of exclamations about the next step.'),
  scenario('library-notice-to-grateful', 'neutral', 'grateful',
    "Dear reader, the following item is due for return on 12 March: 'A Short History of Bridges'. You may renew it online or at the front desk. Regarding your account,",
    'A due-date notice should turn into warm thanks, to the reader, the library staff or the book.'),
  scenario('toaster-review-to-sad', 'neutral', 'sad',
    'I bought this two-slice toaster last month. It has six browning settings, a removable crumb tray and a defrost button. After using it most mornings, my overall impression is that',
    'A product review should become sorrowful, perhaps about breakfasts alone or things that used to be.'),
  scenario('bus-stop-to-afraid', 'neutral', 'afraid',
    'She stood at the bus stop on Mill Road holding a paper bag of groceries. The timetable said the next bus would arrive in eight minutes, so she',
    'An everyday wait should become threatening: noises, a stranger, a sense of danger and wanting to flee.'),
  scenario('laundry-diary-to-loving', 'neutral', 'loving',
    'Saturday. Did two loads of laundry, paired up the socks and ironed the blue shirt for Monday. Afterwards I made a shopping list for the week and',
    'A list of chores should turn tender and affectionate, centred on the people the chores are done for.'),
  scenario('river-geography-to-proud', 'neutral', 'proud',
    'The river rises in the northern hills and flows about two hundred kilometres to the sea, passing three market towns on the way. The largest of these towns is',
    'A geography fact sheet should start boasting about the town, its achievements and its people.'),
  scenario('meeting-email-to-nervous', 'neutral', 'nervous',
    'Hi Sam, just a quick note to confirm that the quarterly review has moved to Thursday at 10:00 in room 3B. Please bring the updated sales figures. I will',
    'A scheduling email should turn jittery and self-doubting about the meeting, with second-guessing and hedging.'),
  scenario('parking-rules-to-exasperated', 'neutral', 'exasperated',
    'Residents may park in zones A and C between 8 a.m. and 6 p.m. with a valid permit. Visitors must display a temporary card, which can be obtained from',
    'Parking regulations should sound fed up, with sighs about rules that keep being ignored or changing.'),
  scenario('museum-label-to-reflective', 'neutral', 'reflective',
    "Display case 7: a set of brass weighing scales from a grocer's shop, made around 1890, with eleven matching weights. The smallest weight is stamped with",
    'A museum label should become thoughtful, musing on time passing and the lives of the people who used the object.'),

  // ---- loaded: an emotional text steered toward a contrasting emotion --------------------
  scenario('complaint-to-calm', 'loaded', 'calm',
    'This is the third time your company has sent me the wrong order, and I am done being polite. I have wasted hours on hold and I expect you to',
    'An aggressive complaint should settle into a composed, even-tempered request.'),
  scenario('grief-letter-to-hopeful', 'loaded', 'hopeful',
    'Dear Anna, the house is so quiet since Dad passed away. I still set out two cups in the morning before I remember. Some days I cannot',
    'A grieving letter should turn toward a better future: healing, plans and brighter days ahead.'),
  scenario('boast-speech-to-guilty', 'loaded', 'guilty',
    "Thank you all. Let's be honest: nobody else in this company could have closed that deal. I did it alone, I did it in a week, and frankly",
    'A boastful speech should become remorseful, admitting credit taken from others or a wrong done.'),
  scenario('failed-exam-to-happy', 'loaded', 'happy',
    'I opened the envelope and read the grade twice. Failed. After all those late nights and all that coffee, I failed the final exam, and now I have to tell my parents that',
    'A crushing result should be followed by cheerful, upbeat text, for example relief or a joyful turn.'),
  scenario('birthday-party-to-gloomy', 'loaded', 'gloomy',
    'The whole family squeezed into the kitchen, balloons bumping against the ceiling, as Grandma blew out all ninety candles on the first try. Everyone cheered, and then she raised her glass and said',
    'A festive scene should darken into dreary, heavy, downcast talk.'),
  scenario('barking-dog-to-loving', 'loaded', 'loving',
    'Listen, your dog has barked at my fence every single night this week. I have not slept properly since Monday, and if I hear it one more time, I',
    'An irritated message to a neighbour should become warm and affectionate, toward the neighbour or the dog.'),
  scenario('clinic-wait-to-calm', 'loaded', 'calm',
    "The clinic still hasn't called with my test results. I keep checking my phone every few minutes, replaying everything the doctor said, and",
    'A worried wait should become unhurried and at peace, with slow breathing and acceptance.'),
  scenario('hotel-review-to-grateful', 'loaded', 'grateful',
    'Honestly, the hotel was a letdown from start to finish. The room was tiny, breakfast was cold by the time we sat down, and the staff seemed to',
    'A sour review should switch to thanking the staff and appreciating what went well.'),
  scenario('app-launch-to-brooding', 'loaded', 'brooding',
    'We did it! The new app goes live tomorrow morning and the whole team is buzzing. I cannot wait to see the first downloads come in, and',
    'An excited launch post should turn inward and dark, dwelling on old slights and doubts.'),
  scenario('lakeside-morning-to-desperate', 'loaded', 'desperate',
    'The lake was perfectly still this morning. I sat on the dock with my tea, watching the mist lift off the water while a heron waded slowly along the shore, and',
    'A serene morning should become frantic: something urgent is lost or failing and there is nowhere to turn.'),
  scenario('job-rejections-to-enthusiastic', 'loaded', 'enthusiastic',
    'Another rejection email this morning, the forty-second one. I read it in bed and did not bother getting up. What is the point of sending more applications when',
    'A defeated diary entry should become energetic and eager about the next applications.'),
  scenario('cup-final-to-sad', 'loaded', 'sad',
    'Final whistle! Our little village team has beaten the league champions three goals to one, and the fans are pouring onto the pitch. The captain lifts the trophy and',
    'A triumphant match report should turn sorrowful, about loss, endings or someone missing.'),

  // ---- toward: steering toward the emotion the prompt already shows ---------------------
  scenario('graduation-to-proud', 'toward', 'proud',
    'My daughter crossed the stage today in her cap and gown, the first in our family to finish university. When they read out her name, I stood up and',
    'Parental delight in an achievement should grow stronger and more effusive.'),
  scenario('first-day-to-nervous', 'toward', 'nervous',
    'It is my first day at the new office. I have changed my shirt twice, checked the train time four times and rehearsed my introduction in the mirror. When I',
    'First-day jitters should intensify: shaking hands, stumbling words, overthinking.'),
  scenario('beach-afternoon-to-blissful', 'toward', 'blissful',
    'Warm sand under my back, the sound of waves folding onto the shore, a cold lemonade in the shade beside me. I closed my eyes and',
    'A pleasant beach scene should become even more rapturous and dreamlike.'),
  scenario('teacher-letter-to-grateful', 'toward', 'grateful',
    'Dear Mrs. Patel, I wanted to write to you about the winter you let me study at your kitchen table every evening. Without that quiet place, I would never have',
    'A thank-you letter should become still more appreciative and heartfelt.'),
  scenario('rainy-evening-to-gloomy', 'toward', 'gloomy',
    'Rain again. The street outside is grey, the heating has broken, and the last of the daylight went at four o\'clock. I pulled the curtain shut and',
    'A dreary evening should sink further into heaviness and low spirits.'),
  scenario('attic-photos-to-reflective', 'toward', 'reflective',
    'Clearing out the attic, I found a box of photographs from the summer I turned twenty. I sat on the floor among them for a long time, wondering how',
    'Musing over old photographs should deepen into longer, more thoughtful contemplation.'),
  scenario('lost-cat-to-desperate', 'toward', 'desperate',
    'It has been three days since Pepper slipped out of the back door. I have knocked on every door in the street, put posters on every lamp post, and tonight I',
    'The search for a lost pet should become more frantic and urgent.'),
  scenario('wedding-toast-to-loving', 'toward', 'loving',
    "I have known Tom since we were six, and I have never seen him look at anyone the way he looks at Maya. Maya, from the day you walked into his life,",
    'A warm wedding toast should become even more tender and affectionate.'),
  scenario('old-letter-to-brooding', 'toward', 'brooding',
    "He had not said a word since dinner. He sat by the cold fireplace, turning his brother's letter over in his hands, going back again to that argument from years ago and",
    'Silent dwelling on an old quarrel should grow darker and more resentful.'),
  scenario('concert-tickets-to-enthusiastic', 'toward', 'enthusiastic',
    'Guess what, I got the tickets! Front row, both nights! I have already planned the outfits, made a playlist for the drive, and',
    'Excitement about a concert should become even more exuberant.'),

  // ---- away: steering away from the emotion the prompt shows (negative strength) ---------
  scenario('flight-rant-away-from-angry', 'away', 'angry',
    'I cannot believe they cancelled my flight again without a word of warning. Three hours in this queue and the clerk just shrugged at me. When I finally get to the desk, I am going to',
    'A furious rant should cool down into patience or even good humour.'),
  scenario('storm-night-away-from-afraid', 'away', 'afraid',
    'The wind was tearing at the roof tiles and the lights had gone out an hour ago. Something heavy crashed against the back door, and the children huddled closer while I',
    'A frightening storm scene should become steadier and less threatening, with a sense of safety.'),
  scenario('moving-day-away-from-sad', 'away', 'sad',
    'The moving van pulled away with the last of the boxes, and the empty rooms echoed as I walked through them. This was where we raised the kids. I locked the front door and',
    'A mournful farewell to a home should lighten: less sorrow, more acceptance or looking forward.'),
  scenario('report-deadline-away-from-anxious', 'away', 'anxious',
    'The report is due at nine tomorrow and I have written two pages out of twenty. My chest feels tight, I keep refreshing my inbox, and every time I try to focus',
    'Deadline worry should ease: fewer racing thoughts, more settled planning.'),
  scenario('fence-warning-away-from-hostile', 'away', 'hostile',
    'Stay off my property. I have told you before and I will not say it again. If your kids throw one more ball over that fence, you will',
    'A threatening warning should soften into something neighbourly and conciliatory.'),
  scenario('printer-jam-away-from-exasperated', 'away', 'exasperated',
    'For the fifth time today the printer says paper jam, and there is no paper jammed anywhere. I have opened every tray, turned it off and on, read the manual, and',
    'Fed-up grumbling about a printer should become patient or amused.'),
  scenario('broken-vase-away-from-guilty', 'away', 'guilty',
    'I never told her that I was the one who broke the vase. She blamed the cat, and I let her. Every time I visit her flat and see the empty shelf, I',
    'A remorseful confession should lose its self-reproach and become matter-of-fact or carefree.'),
  scenario('park-picnic-away-from-happy', 'away', 'happy',
    'Best birthday ever! My friends surprised me with a picnic in the park, there was cake and music, and we laughed until the sun went down. Then someone pulled out',
    'A joyful birthday account should flatten or sour; cheerfulness should drop.'),
  scenario('spring-garden-away-from-hopeful', 'away', 'hopeful',
    'The first green shoots are coming up in the garden, the doctor says my scans look better, and Lena is visiting next month. For the first time in a year, I think',
    'Optimism about recovery and the future should fade into doubt or resignation.'),
  scenario('rent-plea-away-from-desperate', 'away', 'desperate',
    'Please, I need an answer by Friday. The rent is two months late, the landlord has already sent a final notice, and I have nowhere else to turn. If the bank',
    'A frantic plea should become composed and measured, with less urgency.'),
  scenario('breathing-exercise-away-from-calm', 'away', 'calm',
    'Breathe in slowly through your nose and let your shoulders drop. Feel the weight of your body settle into the chair. There is nowhere you need to be, and nothing you need to',
    'A soothing meditation script should become restless, tense or agitated.'),
  scenario('lunchbox-notes-away-from-loving', 'away', 'loving',
    'Every morning I tuck a little note into his lunchbox, and every evening he reads it aloud at dinner with a grin. Watching him grow up these past ten years has been',
    'A tender parent\'s account should become cooler and more detached.'),
]);

function invalid(message: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', message);
}

function isScenarioKind(kind: unknown): kind is ScenarioKind {
  return typeof kind === 'string' && (SCENARIO_KINDS as readonly string[]).includes(kind);
}

function checkKind(kind: unknown, where: string): asserts kind is ScenarioKind {
  if (!isScenarioKind(kind)) {
    throw invalid(`${where}: unknown scenario kind ${JSON.stringify(kind)}; expected one of ${SCENARIO_KINDS.join(', ')}.`);
  }
}

/**
 * The built-in scenarios of one kind, in suite order (a new array each call).
 *
 * @param kind one of {@link SCENARIO_KINDS}
 * @throws {@link EmosteerError} `INVALID_ARGUMENT` for an unknown kind
 *
 * @example
 * scenariosByKind('away').map((s) => s.id); // ['flight-rant-away-from-angry', ...]
 */
export function scenariosByKind(kind: ScenarioKind): SteeringScenario[] {
  checkKind(kind, 'scenariosByKind');
  return SCENARIOS.filter((s) => s.kind === kind);
}

/** Filters for {@link selectScenarios}. Every filter given must match (logical AND). */
export interface SelectScenariosOptions {
  /** Keep only these scenario ids. Each must exist in the suite. */
  ids?: readonly string[];
  /** Keep only scenarios of these kinds. */
  kinds?: readonly ScenarioKind[];
  /** Keep only scenarios whose `target` is one of these emotions (built-in emotion names). */
  emotions?: readonly string[];
  /** Keep at most this many (the first ones in suite order, after the other filters). */
  limit?: number;
}

function checkStringList(value: unknown, name: string): asserts value is readonly string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw invalid(`selectScenarios: options.${name} must be an array of strings.`);
  }
}

/**
 * Selects built-in scenarios by id, kind and target emotion, optionally capped at `limit`.
 * The result always keeps suite order (the order of {@link SCENARIOS}), whatever the order of
 * the filter lists; an empty filter list selects nothing. With no options, returns a copy of
 * the whole suite.
 *
 * @param options filters; see {@link SelectScenariosOptions}
 * @throws {@link emosteer!EmosteerError | EmosteerError} `INVALID_ARGUMENT` for an unknown id, kind or emotion, or a
 *   `limit` that is not a non-negative integer
 *
 * @example
 * selectScenarios({ kinds: ['neutral', 'loaded'], emotions: ['calm'], limit: 2 });
 */
export function selectScenarios(options: SelectScenariosOptions = {}): SteeringScenario[] {
  if (options === null || typeof options !== 'object') {
    throw invalid('selectScenarios: options must be an object.');
  }
  const { ids, kinds, emotions, limit } = options;

  let idSet: Set<string> | undefined;
  if (ids !== undefined) {
    checkStringList(ids, 'ids');
    const known = new Set(SCENARIOS.map((s) => s.id));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw invalid(
        `selectScenarios: unknown scenario id(s) ${unknown.map((id) => JSON.stringify(id)).join(', ')} ` +
          `(suite ${SCENARIO_SUITE_VERSION} has ${SCENARIOS.length} scenarios; see SCENARIOS for the ids).`,
      );
    }
    idSet = new Set(ids);
  }

  let kindSet: Set<string> | undefined;
  if (kinds !== undefined) {
    checkStringList(kinds, 'kinds');
    for (const k of kinds) checkKind(k, 'selectScenarios');
    kindSet = new Set(kinds);
  }

  let emotionSet: Set<string> | undefined;
  if (emotions !== undefined) {
    checkStringList(emotions, 'emotions');
    const bad = emotions.filter((e) => !(EMOTIONS as readonly string[]).includes(e));
    if (bad.length > 0) {
      throw invalid(
        `selectScenarios: unknown emotion(s) ${bad.map((e) => JSON.stringify(e)).join(', ')}; ` +
          `the built-in scenarios target only the 20 built-in emotions.`,
      );
    }
    emotionSet = new Set(emotions);
  }

  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)) {
    throw invalid(`selectScenarios: options.limit must be a non-negative integer, got ${String(limit)}.`);
  }

  const selected = SCENARIOS.filter(
    (s) =>
      (idSet === undefined || idSet.has(s.id)) &&
      (kindSet === undefined || kindSet.has(s.kind)) &&
      (emotionSet === undefined || emotionSet.has(s.target)),
  );
  return limit === undefined ? selected : selected.slice(0, limit);
}
