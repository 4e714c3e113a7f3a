/**
 * A tiny random Mamba (recurrent) GGUF for tests of what emosteer refuses on recurrent
 * memories. Shapes follow llama.cpp's mamba loader (src/models/mamba.cpp): per block
 * attn_norm, ssm_in [embd, 2*inner], ssm_conv1d [conv, inner] + bias, ssm_x [inner,
 * dtRank + 2*state], ssm_dt [dtRank, inner] + bias, ssm_a [state, inner], ssm_d [inner],
 * ssm_out [inner, embd]. Same vocabulary as the synthetic llama models.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgufWriter } from '../../lib/gguf/writer.js';
import { GgmlType } from '../../lib/gguf/types.js';
import { buildSyntheticVocab, writeSyntheticTokenizer } from '../../lib/synth/synthetic-model.js';
import { seededRandom } from '../../lib/evaluate/statistics.js';

export async function mambaModel({ layers = 3, embd = 32, seed = 1 } = {}): Promise<string> {
  const dir = join(tmpdir(), 'emosteer-test-models');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `mamba-${layers}-${embd}-${seed}.gguf`);
  const inner = 2 * embd;
  const state = 4;
  const conv = 4;
  const dtRank = Math.max(1, Math.ceil(embd / 16));
  const vocab = buildSyntheticVocab(false);
  const rand = seededRandom(seed);
  const noise = (n: number, std: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * std);
  const w = new GgufWriter();
  w.setString('general.architecture', 'mamba');
  w.setString('general.name', 'emosteer-synthetic-mamba');
  w.setU32('general.file_type', 0);
  w.setU32('mamba.vocab_size', vocab.tokens.length);
  w.setU32('mamba.context_length', 1024);
  w.setU32('mamba.embedding_length', embd);
  w.setU32('mamba.block_count', layers);
  w.setU32('mamba.feed_forward_length', 0);
  w.setU32('mamba.attention.head_count', 0);
  w.setF32('mamba.attention.layer_norm_rms_epsilon', 1e-5);
  w.setU32('mamba.ssm.conv_kernel', conv);
  w.setU32('mamba.ssm.inner_size', inner);
  w.setU32('mamba.ssm.state_size', state);
  w.setU32('mamba.ssm.time_step_rank', dtRank);
  writeSyntheticTokenizer(w, vocab);
  const t = (name: string, dims: number[], data: Float32Array) => w.addTensor(name, dims, GgmlType.F32, data);
  t('token_embd.weight', [embd, vocab.tokens.length], noise(embd * vocab.tokens.length, 1));
  t('output_norm.weight', [embd], new Float32Array(embd).fill(1));
  t('output.weight', [embd, vocab.tokens.length], noise(embd * vocab.tokens.length, 1 / Math.sqrt(embd)));
  for (let i = 0; i < layers; i++) {
    const p = `blk.${i}.`;
    t(`${p}attn_norm.weight`, [embd], new Float32Array(embd).fill(1));
    t(`${p}ssm_in.weight`, [embd, 2 * inner], noise(embd * 2 * inner, 1 / Math.sqrt(embd)));
    t(`${p}ssm_conv1d.weight`, [conv, inner], noise(conv * inner, 0.5));
    t(`${p}ssm_conv1d.bias`, [inner], noise(inner, 0.1));
    t(`${p}ssm_x.weight`, [inner, dtRank + 2 * state], noise(inner * (dtRank + 2 * state), 1 / Math.sqrt(inner)));
    t(`${p}ssm_dt.weight`, [dtRank, inner], noise(dtRank * inner, 0.5));
    t(`${p}ssm_dt.bias`, [inner], noise(inner, 0.1));
    // A = -exp(A_log) in the reference: negative, so the state decays
    t(`${p}ssm_a`, [state, inner], Float32Array.from({ length: state * inner }, (_, k) => -1 - (k % state)));
    t(`${p}ssm_d`, [inner], new Float32Array(inner).fill(1));
    t(`${p}ssm_out.weight`, [inner, embd], noise(inner * embd, 1 / Math.sqrt(inner)));
  }
  await w.write(out);
  return out;
}
