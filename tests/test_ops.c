/* The op tests: every device op against its double-precision C reference
 * (runtime/ops/ref/), over the case table of optest/cases.def.
 *
 *   test_ops [MODES] [OP...]     MODES: eval, grad, perf, comma-separated (default eval,grad);
 *                                OP: names of OP rows (default all); --list prints them
 *
 * eval  device output vs the reference, into NaN-filled outputs (an unwritten
 *       element fails) followed by canaries (a write past the end fails); NaN/Inf fail.
 * grad  each input gradient against central differences, in double, of the
 *       forward reference (ReLU kinks and max-pool ties skipped).
 * perf  ms and GFLOP/s per case; asserts nothing (not a ctest).
 * MOVL_TEST_SMALL=1 runs only the SMALL rows (for oclgrind); the seed is
 * printed and MOVL_TEST_SEED replays it.
 *
 * Adding a case: append a row to its table in optest/cases.def (CONV, ELT,
 * POOL, GAP, LINEAR, ROWS, BGEMM, TOK, PATCH), with SMALL if oclgrind should run it too. Adding an op:
 * an OP row in cases.def (name, the case table it runs over, its reference,
 * NMSE bound, finite-difference bound or 0, FLOPs of a row c) and run_NAME in
 * the family's optest/<family>.c (a new member named NAME in op_reference of
 * optest/harness.h). tests/CMakeLists.txt reads the OP rows and registers
 * test_ops_NAME (label unit) and test_ops_NAME_oclgrind from them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optest/harness.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/ops_ref.h"
#include "ops/ref/transformer_ref.h"

static const conv_row conv_rows[] = {
#define CONV(n, cin, h, w, cout, k, stride, pad, groups, act, bias, flags) \
    {n, cin, h, w, cout, k, stride, pad, groups, MOVL_ACT_##act, bias, flags},
#include "optest/cases.def"
};
static const elt_row elt_rows[] = {
#define ELT(act, count, flags) {MOVL_ACT_##act, count, flags},
#include "optest/cases.def"
};
static const pool_row pool_rows[] = {
#define POOL(n, c, h, w, k, stride, pad, flags) {n, c, h, w, k, stride, pad, flags},
#include "optest/cases.def"
};
static const gap_row gap_rows[] = {
#define GAP(n, c, hw, flags) {n, c, hw, flags},
#include "optest/cases.def"
};
static const linear_row linear_rows[] = {
#define LINEAR(backend, batch, in, out, flags) {MOVL_GEMM_##backend, batch, in, out, flags},
#include "optest/cases.def"
};
static const rows_row rows_rows[] = {
#define ROWS(rows, dim, flags) {rows, dim, flags},
#include "optest/cases.def"
};
static const bgemm_row bgemm_rows[] = {
#define BGEMM(batch1, batch2, m, n, k, trans_a, trans_b, flags) {batch1, batch2, m, n, k, trans_a, trans_b, flags},
#include "optest/cases.def"
};
static const tok_row tok_rows[] = {
#define TOK(n, dim, patches, flags) {n, dim, patches, flags},
#include "optest/cases.def"
};
static const patch_row patch_rows[] = {
#define PATCH(n, c, size, k, flags) {n, c, size, k, flags},
#include "optest/cases.def"
};

/* The rows of each case table, as base, count and row size. */
static const struct {
    const void *rows;
    size_t n, size;
} tables[] = {
    [SHAPE_conv] = {conv_rows, sizeof conv_rows / sizeof conv_rows[0], sizeof conv_rows[0]},
    [SHAPE_elt] = {elt_rows, sizeof elt_rows / sizeof elt_rows[0], sizeof elt_rows[0]},
    [SHAPE_pool] = {pool_rows, sizeof pool_rows / sizeof pool_rows[0], sizeof pool_rows[0]},
    [SHAPE_gap] = {gap_rows, sizeof gap_rows / sizeof gap_rows[0], sizeof gap_rows[0]},
    [SHAPE_linear] = {linear_rows, sizeof linear_rows / sizeof linear_rows[0], sizeof linear_rows[0]},
    [SHAPE_rows] = {rows_rows, sizeof rows_rows / sizeof rows_rows[0], sizeof rows_rows[0]},
    [SHAPE_bgemm] = {bgemm_rows, sizeof bgemm_rows / sizeof bgemm_rows[0], sizeof bgemm_rows[0]},
    [SHAPE_tok] = {tok_rows, sizeof tok_rows / sizeof tok_rows[0], sizeof tok_rows[0]},
    [SHAPE_patch] = {patch_rows, sizeof patch_rows / sizeof patch_rows[0], sizeof patch_rows[0]},
};

/* The SMALL / FD / CHUNKED flags of a row. */
static int row_flags(shape_kind k, const void *row)
{
    switch (k) {
    case SHAPE_conv: return ((const conv_row *)row)->flags;
    case SHAPE_elt: return ((const elt_row *)row)->flags;
    case SHAPE_pool: return ((const pool_row *)row)->flags;
    case SHAPE_gap: return ((const gap_row *)row)->flags;
    case SHAPE_linear: return ((const linear_row *)row)->flags;
    case SHAPE_rows: return ((const rows_row *)row)->flags;
    case SHAPE_bgemm: return ((const bgemm_row *)row)->flags;
    case SHAPE_tok: return ((const tok_row *)row)->flags;
    case SHAPE_patch: return ((const patch_row *)row)->flags;
    }
    return 0;
}

#define OP(name, shape, reference, nmse, fd_error, flops)                                                              \
    static double flops_##name(const void *row)                                                                        \
    {                                                                                                                  \
        const shape##_row *c = row;                                                                                    \
        return (double)(flops);                                                                                        \
    }
#include "optest/cases.def"

static const op_def ops[] = {
#define OP(name, shape, reference, nmse, fd_error, flops)                                                              \
    {#name, SHAPE_##shape, {.name = reference}, #reference, nmse, fd_error, flops_##name, run_##name},
#include "optest/cases.def"
};
#define NOPS (sizeof ops / sizeof ops[0])

static size_t find_op(const char *name)
{
    size_t i = 0;
    while (i < NOPS && strcmp(ops[i].name, name))
        i++;
    return i;
}

static void run_op(movl_device *dev, const op_def *op, int eval, int grad, int perf, int small)
{
    op_run r = {dev, op, eval, grad, perf, NULL, "", 0};
    double t0 = movl_now();
    int failed_before = test_failed, cases = 0;
    if (eval || grad) {
        snprintf(r.label, sizeof r.label, "%s", op->name);
        op->run(&r, NULL);
    }
    const unsigned char *rows = tables[op->shape].rows;
    for (size_t i = 0; i < tables[op->shape].n; i++) {
        r.row = rows + i * tables[op->shape].size;
        if (small && !(row_flags(op->shape, r.row) & SMALL))
            continue;
        op->run(&r, r.row);
        cases++;
    }
    if (eval || grad)
        printf("%-24s %3d cases  worst NMSE %.3g  %s  %.2f s\n", op->name, cases, r.worst_nmse,
               test_failed > failed_before ? "FAILED" : "ok", movl_now() - t0);
}

int main(int argc, char **argv)
{
    int eval = 1, grad = 1, perf = 0, first_op = 1;
    if (argc > 1 && !strcmp(argv[1], "--list")) {
        for (size_t i = 0; i < NOPS; i++)
            printf("%s\n", ops[i].name);
        return 0;
    }
    if (argc > 1 && find_op(argv[1]) == NOPS) { /* not an op: the modes */
        char modes[64];
        snprintf(modes, sizeof modes, "%s", argv[1]);
        eval = grad = 0;
        for (char *m = strtok(modes, ","); m; m = strtok(NULL, ",")) {
            if (!strcmp(m, "eval"))
                eval = 1;
            else if (!strcmp(m, "grad"))
                grad = 1;
            else if (!strcmp(m, "perf"))
                perf = 1;
            else {
                fprintf(stderr, "test_ops: '%s' is neither an op (test_ops --list) nor a mode (eval, grad, perf)\n", m);
                return 2;
            }
        }
        first_op = 2;
    }
    int chosen[NOPS] = {0}, any = 0;
    for (int a = first_op; a < argc; a++) {
        size_t i = find_op(argv[a]);
        if (i == NOPS) {
            fprintf(stderr, "test_ops: unknown op '%s' (test_ops --list names them)\n", argv[a]);
            return 2;
        }
        chosen[i] = any = 1;
    }
    int small = getenv("MOVL_TEST_SMALL") && atoi(getenv("MOVL_TEST_SMALL"));

    movl_device dev;
    test_open_device(&dev);
    test_rng_init(test_seed());
    for (size_t i = 0; i < NOPS; i++) /* in table order: linear_forward's checks of $MOVL_GEMM come first */
        if (!any || chosen[i])
            run_op(&dev, &ops[i], eval, grad, perf, small);
    movl_device_close(&dev);
    if (perf && !eval && !grad)
        return 0;
    return test_finish();
}
