// Saves two different big EmotionVectorSets (A and B) into one folder, alternately, forever,
// printing "saved <A|B> <n>" after each save; the faults test kills it with SIGKILL.
import { EmotionVectorSet } from '../../dist/index.js';

const [dir, emotionsArg, layersArg, embdArg] = process.argv.slice(2);
const nEmotions = Number(emotionsArg), layers = Number(layersArg), embd = Number(embdArg);
const emotionNames = Array.from({ length: nEmotions }, (_, i) => `e${i}`);
function make(value) {
  const vectors = new Map();
  emotionNames.forEach((e, ei) => {
    const per = new Map();
    for (let l = 0; l < layers; l++) per.set(l, new Float32Array(embd).fill(value + ei + l / 1000));
    vectors.set(e, per);
  });
  return EmotionVectorSet.fromVectors({ method: 'comprehension', model: { description: `set-${value}`, nLayer: layers, nEmbd: embd }, params: { value } }, vectors);
}
const sets = { A: make(1), B: make(2) };
for (let n = 0; ; n++) {
  const name = n % 2 === 0 ? 'A' : 'B';
  await sets[name].save(dir);
  process.stdout.write(`saved ${name} ${n}\n`);
}
