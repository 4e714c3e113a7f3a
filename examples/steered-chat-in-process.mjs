// The same steered chat in-process, no server: a chat session keeps its KV cache between turns.
//   node examples/steered-chat-in-process.mjs <model.gguf> <vector set dir> [emotion] [strength]
import { EmotionVectorSet, loadModel } from 'emosteer';

const [modelPath, setDir, emotion = 'happy', strength = '0.08'] = process.argv.slice(2);
const model = await loadModel(modelPath);
const ctx = await model.createContext({ contextSize: 2048 });
const set = await EmotionVectorSet.load(setDir, { activations: false });
const chat = ctx.chat({ system: 'You are a friendly assistant.' });
for await (const t of chat.stream('How was your day?', { maxTokens: 60, temperature: 0.7, seed: 1, steering: { set, emotion, strength: Number(strength) } })) process.stdout.write(t.text);
process.stdout.write(`\n${JSON.stringify(chat.stats)}\n`);
await ctx.dispose(); model.dispose();
