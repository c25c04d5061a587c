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
# libgomp's default spin-waiting makes multi-threaded libtorch 5-20x slower when the cores are shared (measured
# under load 8 on 2 cores, for stepslm and for PyTorch alike); sleeping idle threads costs little when idle.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
exec "$root/stepslm" bench model --anchors "$anchors" "$@"
