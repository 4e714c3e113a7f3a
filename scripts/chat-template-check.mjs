#!/usr/bin/env node
// Which registry models' chat formatting changes with the Jinja renderer (issue 22): for each
// model, the same conversation formatted by llama.cpp's built-in formats and by the GGUF's own
// Jinja template (@huggingface/jinja), and what `renderer: 'auto'` uses. Prints a markdown table.
//   npm run build:ts && node scripts/chat-template-check.mjs [--models a,b]
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { models: { type: 'string' } } });
const { loadModel } = await import('../dist/index.js');
const { resolveModel } = await import('../dist/models/fetch.js');
const { MODELS } = await import('../dist/models/registry.js');
const names = values.models ? values.models.split(',') : MODELS.map((m) => m.name);
const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }, { role: 'assistant', content: 'Hi.' }, { role: 'user', content: 'How are you?' }];
const attempt = (f) => { try { return { text: f() }; } catch (e) { return { error: `${e.code ?? ''} ${e.message}`.trim() }; } };
console.log('| model | template in the GGUF | llama.cpp formats it | Jinja render equals llama.cpp\'s | `auto` uses |');
console.log('|---|---|---|---|---|');
for (const name of names) {
  const model = await loadModel(await resolveModel(name));
  try {
    const own = model.info.chatTemplate;
    const native = attempt(() => model.applyChatTemplate(messages, { renderer: 'llama.cpp' }));
    const jinja = own ? attempt(() => model.applyChatTemplate(messages, { renderer: 'jinja' })) : { error: 'no Jinja template' };
    const same = native.text !== undefined && jinja.text !== undefined ? (native.text === jinja.text ? 'yes' : `no: ${JSON.stringify(native.text)} vs ${JSON.stringify(jinja.text)}`) : jinja.error ?? native.error;
    const used = native.text !== undefined ? 'llama.cpp (no change)' : jinja.text !== undefined ? 'Jinja (changed: llama.cpp refused it)' : 'neither';
    console.log(`| ${name} | ${own ? `yes (${own.length} chars)` : `no (family default '${model.chatTemplate}')`} | ${native.text !== undefined ? 'yes' : `no: ${native.error}`} | ${same} | ${used} |`);
  } finally {
    model.dispose();
  }
}
