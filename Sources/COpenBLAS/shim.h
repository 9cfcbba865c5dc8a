#ifndef T2R_COPENBLAS_SHIM_H
#define T2R_COPENBLAS_SHIM_H
// OpenBLAS's cblas.h also declares openblas_set_num_threads / openblas_get_num_threads /
// openblas_get_config / openblas_get_corename, which TensorCore/Threads.swift uses.
#include <cblas.h>
#endif
