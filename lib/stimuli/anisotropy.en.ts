/**
 * Neutral factual sentences for the anisotropy baseline: the mean pairwise cosine of their
 * last-token activations tells how similar *unrelated* inputs already look to a model, the
 * floor against which emotion separation has to be read.
 *
 * @module
 */

/** Short, emotionally neutral factual sentences on varied topics (English). */
export const NEUTRAL_FACTS: readonly string[] = [
  'Water boils at 100 degrees Celsius at sea level.',
  'Paris is the capital of France.',
  'A week has seven days.',
  'The Pacific is the largest ocean on Earth.',
  'One kilometre is equal to one thousand metres.',
  'The human heart has four chambers.',
  'Seven times eight equals fifty-six.',
  'Mount Everest is the highest mountain above sea level.',
  'Iron is a chemical element with the symbol Fe.',
  'The Earth takes about 365 days to orbit the Sun.',
  'Spiders have eight legs.',
  'A triangle has three sides.',
  'The Nile flows north into the Mediterranean Sea.',
  'Light travels faster than sound.',
  'There are sixty minutes in an hour.',
  'Plants take in carbon dioxide during photosynthesis.',
  'Tokyo is the capital of Japan.',
  'A litre of water has a mass of about one kilogram.',
  'The square root of eighty-one is nine.',
  'The Moon goes around the Earth roughly once a month.',
  'Oxygen makes up about a fifth of the air.',
  'Copper is a good conductor of electricity.',
  'Australia is both a country and a continent.',
  'One hundred centimetres make one metre.',
  'Bees collect nectar from flowers.',
  'Water freezes at zero degrees Celsius.',
  'A leap year has 366 days.',
  'Sound needs a medium such as air or water to travel.',
  'Twelve divided by four equals three.',
  'The Amazon River flows through South America.',
  'Whales are mammals that breathe air.',
  'A hexagon has six sides.',
];
