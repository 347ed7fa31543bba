/* Driver self-test: a few small ops (conv forward, conv backward to the
 * input, GEMM through the linear op, softmax cross-entropy) run on a device
 * and compared with the C references, before long work starts. Broken
 * drivers exist; a wrong result here stops the command with a message naming
 * the device and driver instead of training on garbage for hours. */
#ifndef MOVL_SELFTEST_H
#define MOVL_SELFTEST_H

#include "core/exit_codes.h" /* MOVL_ERR_DEVICE: the exit code of a command whose device failed */
#include "device/device.h"

/* Runs the checks on dev. MOVL_OK, or MOVL_ERR_DEVICE with one line in err
 * ("device 'NAME' (PLATFORM, driver VER) failed the self-test: conv forward
 * max error 0.5 (expected < 1e-4)..."), or MOVL_ERR_RUN when an OpenCL call
 * itself failed. If summary is not NULL it receives a short line with the
 * checks run and their largest relative errors.
 * Test-only fault injection: env MOVL_SELFTEST_FAULT=conv|conv_grad|gemm|softmax
 * runs a deliberately wrong kernel after that op, which must be caught. */
int movl_device_self_test(movl_device *dev, char *summary, size_t summary_len, char *err);

#endif
