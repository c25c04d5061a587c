/*
 * Preloaded by ./stepslm on AMD CPUs with AVX-512 (STEPSLM_MKL_AVX512=off disables it).
 *
 * libtorch's bundled oneMKL chooses its fastest sgemm kernels only when this function says the CPU is an Intel
 * one; on AMD it falls back to its generic AVX2 path although the CPU has AVX-512. MKL still selects kernels by the
 * CPU's feature flags after this check, so answering "yes" only lets it use the instructions the CPU reports.
 * Measured on a 2-vCPU AMD EPYC (AVX-512): char-tiny training steps 15-25% faster (docs/benchmarks.md).
 */
int mkl_serv_intel_cpu_true(void) {
    return 1;
}
