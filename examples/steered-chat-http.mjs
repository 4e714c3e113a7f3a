// A steered, streamed chat over HTTP with the unmodified openai client. Start the server first:
//   npx emosteer serve --model "$(npm run -s model:gemma | tail -1)" --vectors <a saved set>
// then: node examples/steered-chat-http.mjs [emotion] [strength]
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.EMOSTEER_URL ?? 'http://127.0.0.1:8080/v1', apiKey: process.env.EMOSTEER_API_KEY ?? 'none' });
const [emotion = 'happy', strength = '0.08'] = process.argv.slice(2);
const stream = await client.chat.completions.create({
  model: 'emosteer', stream: true, max_tokens: 60, temperature: 0.7, seed: 1,
  messages: [{ role: 'user', content: 'How was your day?' }],
  steering: [{ emotion, strength: Number(strength) }], // emosteer's extension field (extra_body in Python)
});
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? '');
process.stdout.write('\n');
