#!/usr/bin/env bash
# Tokenizer benchmark: stepslm BPE training time next to HuggingFace tokenizers' Rust trainer (npm tokenizers
# 0.23.2, installed once into bench/tokenizer/node_modules, git-ignored), and encoding MB/s next to djl's
# HuggingFaceTokenizer, on the six Austen novels concatenated. Usage: bench/tokenizer.sh [bench tokenizer flags]
# Settings: CORPUS (default ../shared/data/austen next to the repository), passed as --input.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
corpus="${CORPUS:-$root/../shared/data/austen}"
if ! command -v node >/dev/null 2>&1; then
  echo "bench/tokenizer.sh: node was not found; the HF training peer is skipped (Debian: apt-get install nodejs npm)." >&2
  exec "$root/stepslm" bench tokenizer --input "$corpus" --no-hf-train "$@"
fi
if [ ! -d bench/tokenizer/node_modules/tokenizers ]; then
  echo "bench/tokenizer.sh: installing npm tokenizers@0.23.2 into bench/tokenizer/node_modules (once) ..." >&2
  (cd bench/tokenizer && npm install --no-audit --no-fund --no-save tokenizers@0.23.2 >&2)
fi
exec "$root/stepslm" bench tokenizer --input "$corpus" "$@"
