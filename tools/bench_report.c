/* What `movl bench` prints: the device header with its measured peaks, a row
 * per batch size, the per-op roofline table, and the --json document (the
 * fields are listed in docs/PERFORMANCE.md). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "device_json.h"

void bench_op_stats_of(const bench_op *op, double total_s, const movl_roofline *peak, bench_op_stats *out)
{
    double s = op->fwd_s + op->bwd_s;
    memset(out, 0, sizeof *out);
    out->ms = 1e3 * s;
    out->share = total_s > 0 ? s / total_s : 0;
    /* Backward to the input costs about the forward and moves about as many bytes. */
    out->gflop_s = s > 0 ? 2 * op->gflop / s : 0;
    out->flop_per_byte = op->bytes > 0 ? op->gflop * 1e9 / op->bytes : 0;
    double roof = out->flop_per_byte * peak->gb_s;
    if (roof > peak->gflop_s)
        roof = peak->gflop_s;
    out->roofline_pct = roof > 0 ? 100 * out->gflop_s / roof : 0;
}

static double ops_seconds(const bench_run *r)
{
    double t = 0;
    for (int i = 0; i < r->nops; i++)
        t += r->ops[i].fwd_s + r->ops[i].bwd_s;
    return t;
}

int bench_op_kinds(const bench_run *r, bench_op *kinds)
{
    int n = 0;
    for (int i = 0; i < r->nops; i++) {
        const bench_op *op = &r->ops[i];
        int k = 0;
        while (k < n && strcmp(kinds[k].kind, op->kind))
            k++;
        if (k == n) {
            memset(&kinds[n], 0, sizeof kinds[n]);
            kinds[n].kind = op->kind;
            snprintf(kinds[n].name, sizeof kinds[n].name, "%s", op->kind);
            n++;
        }
        kinds[k].gflop += op->gflop;
        kinds[k].bytes += op->bytes;
        kinds[k].fwd_s += op->fwd_s;
        kinds[k].bwd_s += op->bwd_s;
    }
    return n;
}

/* ---- text ---- */

void bench_print_device(const bench_device *d)
{
    const movl_device_info *i = &d->info;
    const movl_roofline *p = &d->peak;
    printf("device %d:%d  %s\n", i->platform_index, i->device_index, i->name);
    printf("  %s, vendor %s, %s, driver %s\n", cli_device_type(i), i->vendor, i->platform_name, i->driver_version);
    printf("  %u compute units @ %u MHz, %.1f GiB\n", i->compute_units, i->clock_mhz, i->global_mem / 1073741824.0);
    if (d->self_test[0])
        printf("  self-test: %s\n", d->self_test);
    printf("  peak fp32 %.1f GFLOP/s (FMA chains), memory %.1f GB/s (triad); ridge %.1f flop/byte\n", p->gflop_s,
           p->gb_s, p->gb_s > 0 ? p->gflop_s / p->gb_s : 0);
    fflush(stdout);
}

void bench_print_arch_header(const bench_run *r)
{
    printf("\n%s, %dx%d, %.2f GFLOP/image forward, %d timed iterations\n", r->arch, r->size, r->size,
           r->gflop_per_image, r->iters);
    printf("  %5s %14s %9s %14s %9s %10s %7s\n", "batch", "forward img/s", "GFLOP/s", "training img/s", "GFLOP/s",
           "memory MiB", "load s");
}

void bench_print_run(const bench_run *r)
{
    double gf = r->gflop_per_image * r->batch;
    printf("  %5d %14.2f %9.1f %14.2f %9.1f %10.0f %7.1f\n", r->batch, r->batch / r->fwd_s, gf / r->fwd_s,
           r->batch / r->train_s, 2 * gf / r->train_s, r->device_bytes / 1048576.0, r->load_s);
    fflush(stdout);
}

static void print_op_row(const bench_op *op, const char *kind, double total, const movl_roofline *peak)
{
    bench_op_stats s;
    bench_op_stats_of(op, total, peak, &s);
    printf("  %-28s %-14s %6.1f %9.2f %9.2f %8.1f %7.1f\n", op->name, kind, 100 * s.share, s.ms, s.gflop_s,
           s.flop_per_byte, s.roofline_pct);
}

void bench_print_ops(const bench_run *r, const movl_roofline *peak)
{
    double total = ops_seconds(r);
    printf("\n  per op, training step at batch %d (forward + backward, OpenCL profiling events; %.0f%% of the "
           "step):\n",
           r->batch, r->train_s > 0 ? 100 * total / r->train_s : 0);
    printf("  %-28s %-14s %6s %9s %9s %8s %7s\n", "op", "kind", "share%", "ms", "GFLOP/s", "flop/B", "%roof");
    for (int i = 0; i < r->nops; i++)
        print_op_row(&r->ops[i], r->ops[i].kind, total, peak);
    bench_op *kinds = calloc((size_t)r->nops + 1, sizeof *kinds);
    if (!kinds)
        return;
    int nk = bench_op_kinds(r, kinds);
    printf("  per op kind:\n");
    for (int k = 0; k < nk; k++)
        print_op_row(&kinds[k], "", total, peak);
    free(kinds);
    fflush(stdout);
}

/* ---- JSON ---- */

static void add_stats(cJSON *o, const bench_op *op, double total, const movl_roofline *peak)
{
    bench_op_stats s;
    bench_op_stats_of(op, total, peak, &s);
    cJSON_AddNumberToObject(o, "gflop", op->gflop);
    cJSON_AddNumberToObject(o, "bytes", op->bytes);
    cJSON_AddNumberToObject(o, "forward_ms", 1e3 * op->fwd_s);
    cJSON_AddNumberToObject(o, "backward_ms", 1e3 * op->bwd_s);
    cJSON_AddNumberToObject(o, "share", s.share);
    cJSON_AddNumberToObject(o, "gflop_s", s.gflop_s);
    cJSON_AddNumberToObject(o, "flop_per_byte", s.flop_per_byte);
    cJSON_AddNumberToObject(o, "roofline_pct", s.roofline_pct);
}

static cJSON *run_json(const bench_device *d, const bench_run *r)
{
    cJSON *o = cJSON_CreateObject();
    double gf = r->gflop_per_image * r->batch, total = ops_seconds(r);
    cJSON_AddStringToObject(o, "arch", r->arch);
    cJSON_AddNumberToObject(o, "batch", r->batch);
    cJSON_AddNumberToObject(o, "size", r->size);
    cJSON_AddNumberToObject(o, "iters", r->iters);
    cJSON_AddNumberToObject(o, "load_s", r->load_s);
    cJSON_AddNumberToObject(o, "forward_img_s", r->batch / r->fwd_s);
    cJSON_AddNumberToObject(o, "train_step_img_s", r->batch / r->train_s);
    cJSON_AddNumberToObject(o, "forward_gflop_s", gf / r->fwd_s);
    cJSON_AddNumberToObject(o, "train_step_gflop_s", 2 * gf / r->train_s);
    cJSON_AddNumberToObject(o, "gflop_per_image", r->gflop_per_image);
    cJSON_AddNumberToObject(o, "device_bytes", r->device_bytes);
    cJSON_AddNumberToObject(o, "ops_fraction_of_step", r->train_s > 0 ? total / r->train_s : 0);
    cJSON *ops = cJSON_AddArrayToObject(o, "ops");
    for (int i = 0; i < r->nops; i++) {
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "name", r->ops[i].name);
        cJSON_AddStringToObject(op, "kind", r->ops[i].kind);
        add_stats(op, &r->ops[i], total, &d->peak);
        cJSON_AddItemToArray(ops, op);
    }
    bench_op *kinds = calloc((size_t)r->nops + 1, sizeof *kinds);
    cJSON *ks = cJSON_AddArrayToObject(o, "op_kinds");
    int nk = kinds ? bench_op_kinds(r, kinds) : 0;
    for (int k = 0; k < nk; k++) {
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "kind", kinds[k].kind);
        add_stats(op, &kinds[k], total, &d->peak);
        cJSON_AddItemToArray(ks, op);
    }
    free(kinds);
    return o;
}

static cJSON *device_json(const bench_device *d)
{
    const movl_device_info *i = &d->info;
    const movl_roofline *p = &d->peak;
    cJSON *o = cli_device_json(i);
    if (d->self_test[0])
        cJSON_AddStringToObject(o, "self_test", d->self_test);
    else
        cJSON_AddNullToObject(o, "self_test");
    cJSON *pk = cJSON_AddObjectToObject(o, "peak");
    cJSON_AddNumberToObject(pk, "gflop_s", p->gflop_s);
    cJSON_AddNumberToObject(pk, "gb_s", p->gb_s);
    cJSON_AddNumberToObject(pk, "fma_vector_width", p->vector_width);
    cJSON_AddNumberToObject(pk, "fma_work_items", p->fma_items);
    cJSON_AddNumberToObject(pk, "fma_rounds", p->fma_iters);
    cJSON_AddNumberToObject(pk, "fma_s", p->fma_s);
    cJSON_AddNumberToObject(pk, "triad_bytes", p->triad_bytes);
    cJSON_AddNumberToObject(pk, "triad_s", p->triad_s);
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (int r = 0; r < d->nruns; r++)
        cJSON_AddItemToArray(runs, run_json(d, &d->runs[r]));
    return o;
}

int bench_print_json(const bench_device *devs, int ndevs, const bench_opts *o, char *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "movl_version", MOVL_VERSION);
    cJSON_AddNumberToObject(root, "iters", o->iters);
    cJSON_AddNumberToObject(root, "classes", o->classes);
    cJSON_AddStringToObject(root, "weights", o->weights ? o->weights : "random");
    cJSON *arr = cJSON_AddArrayToObject(root, "devices");
    for (int i = 0; i < ndevs; i++)
        cJSON_AddItemToArray(arr, device_json(&devs[i]));
    char *s = cJSON_Print(root);
    int ok = s && printf("%s\n", s) > 0 && fflush(stdout) == 0;
    free(s);
    cJSON_Delete(root);
    if (!ok)
        movl_set_error(err, "cannot write the JSON document to stdout");
    return ok ? MOVL_OK : MOVL_ERR_RUN;
}
