#!/usr/bin/env bash
# Model training throughput: stepslm (reference and fused kernels, 1 and 2 threads) next to PyTorch's
# torch_reference.py of the same architecture, run in the same invocation. Usage: bench/model.sh [bench model flags]
# Needs ../shared/anchors (torch_reference.py, setup_torch_cpu.sh) next to the repository, or pass --anchors DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
anchors="${STEPSLM_ANCHORS:-$root/../shared/anchors}"
if [ ! -f /tmp/anchors/torch/env.sh ] && [ -f "$anchors/setup_torch_cpu.sh" ]; then
  echo "bench/model.sh: unpacking Debian's python3-torch for the PyTorch peer (once) ..." >&2
  bash "$anchors/setup_torch_cpu.sh" >&2
fi
# Both sides run with the same OpenMP wait policy: libgomp's default (brief spinning) on a quiet machine, PASSIVE
# when the launcher finds it busy, or whatever OMP_WAIT_POLICY says; the bench prints the one in force.
exec "$root/stepslm" bench model --anchors "$anchors" "$@"
