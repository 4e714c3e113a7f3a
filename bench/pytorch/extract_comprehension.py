#!/usr/bin/env python3
"""Comprehension extraction in PyTorch, as emosteer does it, for bench/pytorch.mjs.

Reads the passages (in emosteer's sample order) from the passages.json that
bench/parts/extraction.mjs writes, loads the *same GGUF* through transformers' GGUF support
(weights dequantized to float32; tokenizer from the GGUF too), runs every passage on the CPU
and reads the residual stream at the last token of every block:

  - block i's output is read with a forward hook on decoder layer i. That equals HF's
    hidden_states[i + 1] for every block but the last (HF applies the final norm to its last
    hidden state; llama.cpp's l_out of the last block, which emosteer reads, is before it).
  - same tokenization as emosteer (BOS added, no chat template); token counts are checked
    against emosteer's and mismatches reported.
  - passages are batched like emosteer (--batch, default 8), right-padded with an attention
    mask, and the row of each passage's last real token is read.
  - vector(emotion, layer) = mean(emotion) - mean over all category means (baseline 'all').

Writes to --out: vectors.npy (emotions x layers x nEmbd, float32), activations.npy
(samples x layers x nEmbd), result.json (timings, versions, token check); prints result.json's
content as the last line of stdout.

  python extract_comprehension.py --gguf /path/model.gguf --passages passages.json --out dir [--threads N] [--batch 8] [--reps 1]
"""
import argparse
import json
import os
import resource
import sys
import time


def main() -> int:
    t_start = time.perf_counter()
    ap = argparse.ArgumentParser()
    ap.add_argument('--gguf', required=True)
    ap.add_argument('--passages', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--reps', type=int, default=1, help='extract this many times (model loaded once); seconds = median')
    args = ap.parse_args()

    import numpy as np
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    with open(args.passages, encoding='utf8') as f:
        spec = json.load(f)
    samples = spec['samples']
    emotions = spec['emotions']
    categories = spec['categories']
    layers = spec['layers']

    gguf_dir, gguf_name = os.path.split(os.path.abspath(args.gguf))
    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32)
    model.eval()
    load_seconds = time.perf_counter() - t0
    import_seconds = t0 - t_start

    # The decoder blocks: model.model.layers for the *ForCausalLM classes.
    decoder = model.get_decoder() if hasattr(model, 'get_decoder') else model.model
    blocks = decoder.layers
    if len(blocks) <= max(layers):
        raise SystemExit(f'the model has {len(blocks)} blocks; emosteer read blocks up to {max(layers)}')

    captured = {}

    def hook(index):
        def fn(_module, _inputs, output):
            captured[index] = output[0] if isinstance(output, (tuple, list)) else output
        return fn

    handles = [blocks[i].register_forward_hook(hook(i)) for i in layers]
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = 'right'

    n_embd = model.config.hidden_size

    def extract():
        acts = np.zeros((len(samples), len(layers), n_embd), dtype=np.float32)
        mismatches = []
        tokens_total = 0
        t1 = time.perf_counter()
        with torch.inference_mode():
            for k in range(0, len(samples), args.batch):
                chunk = samples[k:k + args.batch]
                enc = tokenizer([s['prompt'] for s in chunk], return_tensors='pt', padding=True, add_special_tokens=True)
                lengths = enc['attention_mask'].sum(dim=1)
                for j, s in enumerate(chunk):
                    n = int(lengths[j])
                    tokens_total += n
                    if n != s['nTokens']:
                        mismatches.append({'sample': k + j, 'category': s['category'], 'torch': n, 'emosteer': s['nTokens']})
                captured.clear()
                model(input_ids=enc['input_ids'], attention_mask=enc['attention_mask'], use_cache=False, logits_to_keep=1)
                rows = torch.arange(len(chunk))
                last = lengths - 1
                for li, layer in enumerate(layers):
                    acts[k:k + len(chunk), li, :] = captured[layer][rows, last, :].float().numpy()
        return acts, mismatches, tokens_total, time.perf_counter() - t1

    times = []
    for _ in range(max(1, args.reps)):
        acts, mismatches, tokens_total, seconds = extract()
        times.append(seconds)
    extract_seconds = float(np.median(times))
    for h in handles:
        h.remove()

    # Category means, baseline = mean over all category means, vector = emotion mean - baseline.
    cats = [s['category'] for s in samples]
    means = np.stack([acts[[i for i, c in enumerate(cats) if c == cat]].mean(axis=0) for cat in categories])
    baseline = means.mean(axis=0)
    vectors = np.stack([means[categories.index(e)] - baseline for e in emotions]).astype(np.float32)

    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, 'vectors.npy'), vectors)
    np.save(os.path.join(args.out, 'activations.npy'), acts)
    result = {
        'implementation': 'pytorch',
        'versions': {'python': sys.version.split()[0], 'torch': torch.__version__, 'transformers': transformers.__version__, 'numpy': np.__version__},
        'modelClass': type(model).__name__,
        'threads': torch.get_num_threads(),
        'batch': args.batch,
        'samples': len(samples),
        'layers': layers,
        'nEmbd': n_embd,
        'tokens': tokens_total,
        'tokenMismatches': len(mismatches),
        'tokenMismatchExamples': mismatches[:5],
        'importSeconds': import_seconds,
        'loadSeconds': load_seconds,
        'seconds': extract_seconds,
        'secondsAll': times,
        'tokensPerSecond': tokens_total / extract_seconds if extract_seconds > 0 else 0,
        'wallSeconds': time.perf_counter() - t_start,
        'peakRssMiB': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    with open(os.path.join(args.out, 'result.json'), 'w', encoding='utf8') as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
