/**
 * A model's own Jinja chat template, rendered in JavaScript (`@huggingface/jinja`, the renderer
 * Hugging Face's transformers.js uses) for the templates llama.cpp's built-in list does not
 * recognise: llama.cpp formats chats by matching a GGUF's template against a fixed list of
 * known formats and refuses any other (CHAT_TEMPLATE_UNSUPPORTED). {@link Model.applyChatTemplate}
 * falls back to this renderer then (`renderer: 'auto'`), or uses it always (`renderer: 'jinja'`).
 *
 * @module
 */
import { Template } from '@huggingface/jinja';
import { EmosteerError } from '../errors.js';

/** What a chat template sees besides the messages. */
export interface JinjaTemplateContext {
  /** Whether to open the assistant's turn at the end (`add_generation_prompt`). */
  addGenerationPrompt: boolean;
  /** The model's BOS token text ('' when it has none). */
  bosToken: string;
  /** The model's EOS token text ('' when it has none). */
  eosToken: string;
}

/** True when a template text is Jinja (not a llama.cpp built-in name such as 'chatml'). */
export function isJinjaTemplate(template: string): boolean {
  return template.includes('{%') || template.includes('{{');
}

/**
 * Renders a Jinja chat template with the variables Hugging Face's `apply_chat_template` passes
 * (`messages`, `add_generation_prompt`, `bos_token`, `eos_token`; the renderer defines
 * `raise_exception`).
 * @throws EmosteerError CHAT_TEMPLATE_UNSUPPORTED when the template does not parse or raises while rendering (its message says why)
 */
export function renderJinjaTemplate(template: string, messages: readonly { role: string; content: string }[], context: JinjaTemplateContext): string {
  let compiled: Template;
  try {
    compiled = new Template(template);
  } catch (err) {
    throw new EmosteerError('CHAT_TEMPLATE_UNSUPPORTED', `the chat template is not Jinja that can be parsed: ${(err as Error).message}`, { cause: err });
  }
  try {
    return compiled.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: context.addGenerationPrompt,
      bos_token: context.bosToken,
      eos_token: context.eosToken,
    });
  } catch (err) {
    throw new EmosteerError('CHAT_TEMPLATE_UNSUPPORTED', `the chat template could not render these messages: ${(err as Error).message}`, { cause: err });
  }
}
