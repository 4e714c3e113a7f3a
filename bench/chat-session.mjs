#!/usr/bin/env node
// `node bench/chat-session.mjs [--model <gguf|name>] [--turns 5] [--max-tokens 48] [--threads N] [--json]`:
// what a chat session's KV-cache reuse saves on a multi-turn chat. The same conversation (a
// system message and --turns user messages, greedy replies) runs twice on one model:
//   session   ctx.chat(): each turn decodes only what is not cached yet
//   fresh     ctx.generateText({ messages }) per turn: the whole conversation every turn
// and prints prompt tokens decoded, prompt tokens in total and wall time per turn for both.
// Default model: SmolLM2-135M-Instruct (registry; `npm run model:smollm2` fetches it).
// Needs the built package (`npm run build:ts`: it imports dist/) and the native addon. A
// standalone measurement: not part of bench/run.mjs, and no doc quotes its numbers.
import { parseArgs } from 'node:util';
import { loadModel, resolveModel } from '../dist/index.js';

const { values } = parseArgs({ options: {
  model: { type: 'string', default: 'smollm2-135m-instruct' },
  turns: { type: 'string', default: '5' },
  'max-tokens': { type: 'string', default: '48' },
  threads: { type: 'string' },
  json: { type: 'boolean', default: false },
} });
const QUESTIONS = [
  'What is a lighthouse for?', 'Who used to live in them?', 'Why are most of them automated now?',
  'Describe one famous lighthouse.', 'Would you like to visit it?', 'What would you bring?', 'Thank you.',
];
const turns = Number(values.turns);
const maxTokens = Number(values['max-tokens']);
const model = await loadModel(await resolveModel(values.model));
const threads = values.threads ? { threads: Number(values.threads) } : {};
const sessionCtx = await model.createContext({ contextSize: 4096, ...threads });
const freshCtx = await model.createContext({ contextSize: 4096, ...threads });
const system = 'You are a helpful assistant. Answer in two sentences.';

const rows = [];
const chat = sessionCtx.chat({ system });
const history = [{ role: 'system', content: system }];
for (let i = 0; i < turns; i++) {
  const q = QUESTIONS[i % QUESTIONS.length];
  const before = chat.stats;
  let t0 = performance.now();
  const r = await chat.send(q, { maxTokens, temperature: 0 });
  const session = { ms: performance.now() - t0, decoded: chat.stats.decodedPromptTokens - before.decodedPromptTokens, prompt: r.promptTokens };
  history.push({ role: 'user', content: q });
  t0 = performance.now();
  const f = await freshCtx.generateText({ messages: history }, { maxTokens, temperature: 0 });
  const fresh = { ms: performance.now() - t0, decoded: f.promptTokens, prompt: f.promptTokens };
  history.push({ role: 'assistant', content: r.text }); // the same conversation for both
  rows.push({ turn: i + 1, session, fresh, sameText: r.text === f.text });
}
await sessionCtx.dispose();
await freshCtx.dispose();
model.dispose();
if (values.json) console.log(JSON.stringify({ model: model.info.description, maxTokens, rows }, null, 2));
else {
  console.log(`chat session vs fresh decoding, ${model.info.description}, ${turns} turns, replies of up to ${maxTokens} tokens (greedy)`);
  console.log('| turn | prompt tokens | decoded (session) | ms (session) | decoded (fresh) | ms (fresh) | same reply |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) console.log(`| ${r.turn} | ${r.session.prompt} | ${r.session.decoded} | ${r.session.ms.toFixed(0)} | ${r.fresh.decoded} | ${r.fresh.ms.toFixed(0)} | ${r.sameText} |`);
  const sum = (k, f) => rows.reduce((a, r) => a + r[k][f], 0);
  console.log(`total: session decoded ${sum('session', 'decoded')} prompt tokens in ${sum('session', 'ms').toFixed(0)} ms; fresh ${sum('fresh', 'decoded')} in ${sum('fresh', 'ms').toFixed(0)} ms`);
}
