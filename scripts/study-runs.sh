#!/usr/bin/env bash
# The confirmatory study of docs/PREREG.md, in the order that gets the most claims per CPU-hour
# on a 2-core machine (issue 20), with its state in the repo:
#   1. SmolLM2-135M-Instruct, the pilot: only what the rules added after it (the LLM judge step);
#   2. Qwen2.5-Coder-0.5B-Instruct: both methods, steering with every control, the logit lens's
#      null and the per-arm flag rates (claim 7);
#   3. Gemma 3 270M (base): claim 1's contrast and claim 4's most anisotropic model;
#   4. Qwen2.5-Coder-1.5B-Instruct: the paper's size range, 128-token stories (the rules' only
#      reduction);
#   5. the quantization ladder of SmolLM2 and Gemma (comprehension vectors, held-out accuracy),
#      then cross-precision steering on it (scripts/ladder-cross.mjs).
# Each model is scripts/study-run.mjs with --commit: every step resumes (rerun after a stop, on
# this machine or a fresh clone) and is committed as it finishes. Needs dist/ (npm run build:ts).
# Usage: scripts/study-runs.sh [threads (default 2)] [out-dir (default results/study)] [ladder-dir (default results/ladder)]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
OUT=${2:-results/study}
LADDER=${3:-results/ladder}
for m in smollm2-135m-instruct qwen2.5-coder-0.5b-instruct gemma-3-270m qwen2.5-coder-1.5b-instruct; do
  node scripts/study-run.mjs "$m" --out "$OUT" --threads "$THREADS" --commit
done
# The ladder, one model at a time with a commit after each: the second command lists both models
# (study.json holds every row) and skips SmolLM2's finished variants, so a stop loses at most
# the variant in flight. Then cross-precision steering (one rung's vectors steering another,
# scripts/ladder-cross.mjs: resumable, committed per experiment).
LADDER_MODELS=""
for m in smollm2-135m-instruct gemma-3-270m; do
  LADDER_MODELS="${LADDER_MODELS:+$LADDER_MODELS,}$m"
  EMOSTEER_THREADS="$THREADS" node dist/cli/main.js study --models "$LADDER_MODELS" --quantizations q8_0,q4_0,q3_k_m,q2_k --methods comprehension --no-steer --llm-judge none --out "$LADDER"
  git add -- "$LADDER" && git commit -q -m "Study: the quantization ladder of $m" -- "$LADDER" || true
done
for m in smollm2-135m-instruct gemma-3-270m; do
  node scripts/ladder-cross.mjs "$m" --ladder "$LADDER" --threads "$THREADS" --commit
done
