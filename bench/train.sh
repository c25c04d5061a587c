#!/usr/bin/env bash
# Training benchmark (issue 5): nanoGPT's CPU recipe on character-level tiny shakespeare (4 layers, 4 heads,
# width 128, context 64, batch 12, 2000 iterations, lr 1e-3 -> 1e-4 cosine, warmup 100, dropout 0; first 90 % of
# the characters train, last 10 % validate), trained by stepslm and by PyTorch's torch_reference.py in the same
# invocation, at 1 and 2 CPU threads. Prints each run's final validation loss and training tokens/s, then a summary.
# PyTorch runs with libgomp's default wait policy at every thread count and, above 1 thread, also with
# OMP_WAIT_POLICY=PASSIVE (its OpenBLAS threads plus spinning OpenMP threads oversubscribe 2 cores); its best run is
# the peer. (Debian's PyTorch runs OpenBLAS's own threads, one per core, even at --threads 1.) stepslm runs through
# ./stepslm, which chooses the wait policy itself (docs/performance.md).
#
#   bench/train.sh                      # full benchmark (about 10 minutes on 2 cores)
#   ITERS=200 THREADS="1" bench/train.sh   # quick check
#
# Settings: DATA (default ../shared/data/tinyshakespeare.txt), ANCHORS (../shared/anchors), ITERS (2000),
# THREADS ("1 2"), KERNELS (fused), OUT (a temporary folder), STEPSLM_ARGS (extra flags for the stepslm runs, e.g.
# "--positions rotary"). The PyTorch peer is Debian's python3-torch, unpacked
# once into /tmp/anchors/torch by ANCHORS/setup_torch_cpu.sh; without it only stepslm runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${DATA:-$root/../shared/data/tinyshakespeare.txt}"
anchors="${ANCHORS:-$root/../shared/anchors}"
iters="${ITERS:-2000}"
threads="${THREADS:-1 2}"
kernels="${KERNELS:-fused}"
out="${OUT:-$(mktemp -d /tmp/stepslm-bench-train.XXXXXX)}"
mkdir -p "$out"
if [ ! -f "$data" ]; then
  echo "bench/train.sh: $data not found: set DATA to tinyshakespeare.txt (the char-rnn / nanoGPT file)" >&2
  exit 1
fi
torch=0
if [ -f "$anchors/torch_reference.py" ]; then
  if [ ! -f /tmp/anchors/torch/env.sh ] && [ -f "$anchors/setup_torch_cpu.sh" ]; then
    echo "bench/train.sh: unpacking Debian's python3-torch for the PyTorch peer (once) ..." >&2
    bash "$anchors/setup_torch_cpu.sh" >&2 || true
  fi
  [ -f /tmp/anchors/torch/env.sh ] && torch=1
fi
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') x $(nproc) CPUs; load average: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
"$root/stepslm" --version >/dev/null # builds the jar once, outside the timed runs

summary=()
for t in $threads; do
  if [ "$torch" = 1 ]; then
    policies="default"
    [ "$t" -gt 1 ] && policies="default PASSIVE"
    for policy in $policies; do
      echo "== PyTorch torch_reference.py, $t thread(s), OpenMP wait policy $policy"
      line=$( (source /tmp/anchors/torch/env.sh && if [ "$policy" = default ]; then unset OMP_WAIT_POLICY; \
          else export OMP_WAIT_POLICY="$policy"; fi && /usr/bin/python3 "$anchors/torch_reference.py" --data "$data" \
          --threads "$t" --iters "$iters") | tee -a /dev/stderr | grep '"summary"')
      loss=$(echo "$line" | sed 's/.*"val_loss": \([0-9.]*\).*/\1/')
      tps=$(echo "$line" | sed 's/.*"train_tok_s": \([0-9]*\).*/\1/')
      summary+=("pytorch  threads=$t  wait=$policy  val_loss=$loss  train_tok/s=$tps")
    done
  fi
  echo "== stepslm train, $t thread(s), $kernels kernels"
  # --eval-batches 200 covers the whole validation split (about 145 batches of 12 x 64), a less noisy loss than
  # torch_reference.py's 20 random batches
  "$root/stepslm" train --char --data "$data" --model char-tiny --preset shakespeare-char --max-steps "$iters" \
      --eval-batches 200 --log-interval 100 --threads "$t" --kernels "$kernels" --out "$out/stepslm-t$t" ${STEPSLM_ARGS:-} \
      | grep -v '^[ {}]' | tee "$out/stepslm-t$t.log"
  loss=$(grep "^step $iters: val loss" "$out/stepslm-t$t.log" | sed 's/.*val loss \([0-9.]*\).*/\1/')
  tps=$(grep '^done:' "$out/stepslm-t$t.log" | sed 's/.*; \([0-9]*\) training tokens\/s.*/\1/')
  summary+=("stepslm  threads=$t  wait=${OMP_WAIT_POLICY:-launcher}  val_loss=$loss  train_tok/s=$tps")
done
echo "== summary (iterations $iters; run folders in $out)"
printf '%s\n' "${summary[@]}"
