// The model's own Jinja chat template where llama.cpp's built-in list lacks it
// (lib/runtime/jinja-template.ts, Model.applyChatTemplate's `renderer`): a template llama.cpp
// does not recognise is refused by 'llama.cpp' and rendered by 'auto'; a ChatML template that
// llama.cpp recognises renders the same text both ways; broken templates say why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../lib/index.js';
import { syntheticModel } from '../helpers/models.js';

const CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
// A format no built-in of llama.cpp matches.
const CUSTOM = "{% for m in messages %}{% if m.role == 'system' %}[[SYS]] {{ m.content | trim }}\n{% else %}<<{{ m.role | upper }}>> {{ m.content }}\n{% endif %}{% endfor %}{% if add_generation_prompt %}<<ASSISTANT>>{% endif %}";
const MESSAGES = [{ role: 'system', content: ' Be brief. ' }, { role: 'user', content: 'Hello' }, { role: 'assistant', content: 'Hi.' }, { role: 'user', content: 'How are you?' }];

describe('chat templates rendered from Jinja', () => {
  let model: Model;
  beforeAll(async () => { model = await loadModel(await syntheticModel({ layers: 2, embd: 32, seed: 3 })); });
  afterAll(() => model?.dispose());

  it("a template llama.cpp does not know: refused by 'llama.cpp', rendered by 'auto' and 'jinja'", () => {
    expect(() => model.applyChatTemplate(MESSAGES, { template: CUSTOM, renderer: 'llama.cpp' })).toThrow(expect.objectContaining({ code: 'CHAT_TEMPLATE_UNSUPPORTED' }));
    const want = '[[SYS]] Be brief.\n<<USER>> Hello\n<<ASSISTANT>> Hi.\n<<USER>> How are you?\n<<ASSISTANT>>';
    expect(model.applyChatTemplate(MESSAGES, { template: CUSTOM })).toBe(want);
    expect(model.applyChatTemplate(MESSAGES, { template: CUSTOM, renderer: 'jinja' })).toBe(want);
    expect(model.applyChatTemplate(MESSAGES, { template: CUSTOM, addAssistant: false })).toBe(want.slice(0, -'<<ASSISTANT>>'.length));
  });

  it('a template llama.cpp recognises renders the same text through both renderers', () => {
    const native = model.applyChatTemplate(MESSAGES, { template: CHATML, renderer: 'llama.cpp' });
    expect(native).toContain('<|im_start|>assistant\n');
    expect(model.applyChatTemplate(MESSAGES, { template: CHATML, renderer: 'jinja' })).toBe(native);
    expect(model.applyChatTemplate(MESSAGES, { template: CHATML })).toBe(native);
  });

  it('broken templates and wrong renderers are clear errors', () => {
    expect(() => model.applyChatTemplate(MESSAGES, { template: '{% for m in messages %}{{ m.content }}', renderer: 'jinja' })).toThrow(expect.objectContaining({ code: 'CHAT_TEMPLATE_UNSUPPORTED' }));
    expect(() => model.applyChatTemplate(MESSAGES, { template: "{{ raise_exception('only user turns') }}", renderer: 'jinja' })).toThrow(expect.objectContaining({ code: 'CHAT_TEMPLATE_UNSUPPORTED', message: expect.stringContaining('only user turns') }));
    expect(() => model.applyChatTemplate(MESSAGES, { template: 'chatml', renderer: 'jinja' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => model.applyChatTemplate(MESSAGES, { template: CHATML, renderer: 'x' as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
