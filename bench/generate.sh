#!/usr/bin/env bash
# Generation benchmark (issue 10): stepslm generating from random-weight models of width 384, 6 blocks, 6 heads,
# context 256 with the vocabulary of a byte-level BPE trained on the Austen novels (~21k ids), next to llama.cpp
# (node-llama-cpp 3.21.1) on the GGUF of the same LLaMA-architecture network, built here in the same invocation:
# ../shared/anchors/make_llama_gguf.py writes it (C=384 L=6 H=KV=6 FF=1024 T=256, needs python3 with numpy) and
# bench/llamacpp_gen.mjs times it (../shared/anchors/llamacpp_gen.mjs plus the process CPU time of the timed
# generation). Usage: bench/generate.sh [bench generate flags, e.g. --threads 1]
#
# Settings: DATA (../shared/data/austen), ANCHORS (../shared/anchors), VOCAB (21336), WORK (/tmp/stepslm-llamacpp:
# the tokenizer, the GGUF and node_modules are made once and kept there).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${DATA:-$root/../shared/data/austen}"
anchors="${ANCHORS:-$root/../shared/anchors}"
vocab="${VOCAB:-21336}"
work="${WORK:-/tmp/stepslm-llamacpp}"
mkdir -p "$work"
tok="$work/austen-$vocab.json"
if [ ! -f "$tok" ]; then
  echo "bench/generate.sh: training a $vocab-id BPE on $data (once) ..." >&2
  # min frequency 1: the Austen novels have too few pairs seen twice to reach ~21k ids
  "$root/stepslm" tokenizer train --input "$data" --vocab-size "$vocab" --min-frequency 1 --out "$tok" >&2
fi
gguf="$work/llama-384x6-$vocab.gguf"
if [ ! -f "$gguf" ]; then
  echo "bench/generate.sh: writing the llama.cpp peer's GGUF (once) ..." >&2
  python3 "$anchors/make_llama_gguf.py" "$gguf.tmp" "$tok" 384 6 6 6 1024 256 >&2
  mv "$gguf.tmp" "$gguf"
fi
if [ ! -d "$work/node_modules/node-llama-cpp" ]; then
  echo "bench/generate.sh: installing node-llama-cpp@3.21.1 into $work (once) ..." >&2
  (cd "$work" && npm i -E --no-audit --no-fund node-llama-cpp@3.21.1 >&2)
fi
cp -f "$root/bench/llamacpp_gen.mjs" "$work/llamacpp_gen.mjs"
exec "$root/stepslm" bench generate --tokenizer "$tok" --peer-gguf "$gguf" --peer-dir "$work" "$@"
