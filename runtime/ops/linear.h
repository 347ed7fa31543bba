/* Linear-layer internals other modules may ask about (the ops themselves are
 * declared in ops.h). */
#ifndef MOVL_LINEAR_H
#define MOVL_LINEAR_H

#include "ops/ops.h"

/* The GEMM the next linear op on dev will use: MOVL_GEMM_CLBLAST or
 * MOVL_GEMM_OWN, after the movl_set_gemm_backend choice, $MOVL_GEMM (when the
 * choice is AUTO), the device type, and any earlier CLBlast failure on dev. */
movl_gemm_backend movl_gemm_backend_for(movl_device *dev);
/* Records a CLBlast error on dev (what: the call, for -v): its GEMMs use the own kernels from now on. */
void movl_gemm_clblast_failed(movl_device *dev, int status, const char *what);

#endif
