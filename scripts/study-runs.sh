#!/usr/bin/env bash
# The runs behind docs/results.md, ordered so that a 2-core machine gets the most claims first:
#   1. SmolLM2-135M-Instruct through the whole protocol (steering included), then its LLM judge
#      (Qwen2.5-Coder-0.5B-Instruct, at the middle strength, emotion and random arms);
#   2. comprehension extraction and evaluation of Qwen2.5-Coder-0.5B-Instruct and Gemma 3 270M
#      (depth, U-shape, anisotropy on three models within minutes);
#   3. generation extraction of Qwen (claim 1 on a second instruction-tuned model; the
#      evaluation then reruns with both methods);
#   4. the quantization ladder of SmolLM2 (comprehension vectors, no steering);
#   5. the whole study: what is left (Gemma's generation, the steering of Qwen and Gemma, their
#      LLM judges), then the report;
#   and after each step, the cross-model report of what exists (study --report-only).
# Every step resumes: rerun the script after an interruption. Needs dist/ (npm run build:ts).
# Usage: scripts/study-runs.sh [out-dir (default runs/study)] [ladder-dir (default runs/ladder)]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/study}
LADDER=${2:-runs/ladder}
MODELS=smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct,gemma-3-270m
E="node dist/cli/main.js"
SMOL=$($E models fetch smollm2-135m-instruct | tail -1)
QWEN=$($E models fetch qwen2.5-coder-0.5b-instruct | tail -1)
report() { $E study --models "$MODELS" --out "$OUT" --report-only || true; }

$E study --models smollm2-135m-instruct --out "$OUT" --llm-judge none
if ! grep -q '"llmJudge"' "$OUT/smollm2-135m-instruct/steering.json"; then
  $E steer "$OUT/smollm2-135m-instruct" --model "$SMOL" --rescore --llm-judge "$QWEN" --llm-judge-strengths 0.02 --llm-judge-arms emotion,random
fi
report
$E study --models qwen2.5-coder-0.5b-instruct --out "$OUT" --no-steer --methods comprehension
$E study --models gemma-3-270m --out "$OUT" --no-steer --methods comprehension
report
$E study --models qwen2.5-coder-0.5b-instruct --out "$OUT" --no-steer
report
$E study --models smollm2-135m-instruct --quantizations q8_0,q4_0,q3_k_m,q2_k --methods comprehension --no-steer --out "$LADDER"
$E study --models "$MODELS" --out "$OUT"
