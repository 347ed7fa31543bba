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

/* ---- --ff: full fine-tuning step ---- */

void bench_print_ff(const bench_run *r, int with_header)
{
    const bench_ff *f = &r->ff;
    if (with_header) {
        printf("\n  full fine-tuning step (forward, probe + CE, backward with every conv's weight gradients, Adam "
               "lr 1e-4 wd 5e-4,\n  repack; %d timed repeats): memory = weights + gradients + Adam state "
               "(backbone and probe) and the rest\n  (activations kept for backward, gradient buffers, packed conv "
               "weights and scratch, input, probe outputs)\n",
               f->repeats);
        printf("  %5s %9s %11s %11s %9s %13s %9s %10s\n", "batch", "FF img/s", "ms/step min", "median", "params M",
               "w+g+Adam MiB", "rest MiB", "memory MiB");
    }
    double mib = 1048576.0;
    printf("  %5d %9.2f %11.1f %11.1f %9.2f %13.0f %9.0f %10.0f\n", r->batch, r->batch / f->median_s, 1e3 * f->min_s,
           1e3 * f->median_s, f->backbone_params * 1e-6, f->param_state_bytes / mib, f->other_bytes / mib,
           (f->param_state_bytes + f->other_bytes) / mib);
    fflush(stdout);
}

/* Forward, backward to the inputs and weight gradients of op i, or of every op of `kind` (NULL: all). */
static void ff_sums(const bench_run *r, const char *kind, double *fwd, double *bin, double *wg, double *gflop)
{
    *fwd = *bin = *wg = *gflop = 0;
    for (int i = 0; i < r->nops; i++)
        if (!kind || !strcmp(r->ops[i].kind, kind)) {
            *fwd += r->ops[i].ff_fwd_s;
            *bin += bench_ff_bwd_input_s(r, i);
            *wg += bench_ff_wgrad_s(r, i);
            *gflop += r->ops[i].gflop;
        }
}

static void print_part(const char *name, double s, double total)
{
    printf("  %-44s %9.1f %6.1f\n", name, 1e3 * s, total > 0 ? 100 * s / total : 0);
}

void bench_print_ff_parts(const bench_run *r)
{
    const bench_ff *f = &r->ff;
    double total = 0, fwd, bin, wg, gflop;
    for (int p = 0; p < FF_NPARTS; p++)
        total += f->part_s[p];
    ff_sums(r, NULL, &fwd, &bin, &wg, &gflop);
    printf("\n  where a full fine-tuning step goes at batch %d (OpenCL profiling markers, mean per step; %.0f%% of "
           "the mean step):\n",
           r->batch, f->mean_s > 0 ? 100 * total / f->mean_s : 0);
    printf("  %-44s %9s %6s\n", "part", "ms", "share%");
    print_part("forward", f->part_s[FF_FORWARD], total);
    print_part("probe, CE, probe gradients", f->part_s[FF_PROBE], total);
    print_part("backward", f->part_s[FF_BACKWARD], total);
    /* The split of the backward is per layer: the frozen step's backward is the backward to the inputs. */
    print_part("  of it, per layer: to the inputs", bin, total);
    print_part("  of it, per layer: weight gradients", wg, total);
    print_part("Adam over the backbone (one launch)", f->part_s[FF_ADAM], total);
    print_part("repack the conv weights", f->part_s[FF_REPACK], total);
    print_part("probe update (Adam)", f->part_s[FF_PROBE_UPDATE], total);
    printf("  per op kind, ms: %-14s %9s %9s %9s %13s\n", "kind", "forward", "bwd-input", "wgrad", "wgrad GFLOP/s");
    bench_op *kinds = calloc((size_t)r->nops + 1, sizeof *kinds);
    int nk = kinds ? bench_op_kinds(r, kinds) : 0;
    for (int k = 0; k < nk; k++) {
        ff_sums(r, kinds[k].kind, &fwd, &bin, &wg, &gflop);
        printf("                   %-14s %9.1f %9.1f %9.1f %13.1f\n", kinds[k].kind, 1e3 * fwd, 1e3 * bin, 1e3 * wg,
               wg > 0 ? gflop / wg : 0);
    }
    free(kinds);
    /* The slowest weight gradients (a weight gradient costs the forward's FLOPs): insertion sort, descending. */
    int *order = malloc(sizeof *order * (size_t)(r->nops + 1));
    for (int i = 0; order && i < r->nops; i++) {
        int j = i;
        for (; j > 0 && bench_ff_wgrad_s(r, order[j - 1]) < bench_ff_wgrad_s(r, i); j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    printf("  slowest weight gradients: %-28s %-14s %9s %9s\n", "layer", "kind", "ms", "GFLOP/s");
    for (int j = 0; order && j < r->nops && j < 8; j++) {
        const bench_op *op = &r->ops[order[j]];
        double w = bench_ff_wgrad_s(r, order[j]);
        printf("                            %-28s %-14s %9.1f %9.1f\n", op->name, op->kind, 1e3 * w,
               w > 0 ? op->gflop / w : 0);
    }
    free(order);
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

/* --ff: the step's figures, its parts, and per op forward, backward to the inputs and weight gradient. */
static cJSON *ff_json(const bench_run *r)
{
    static const char *const parts[FF_NPARTS] = {"forward", "probe", "backward", "adam", "repack", "probe_update"};
    const bench_ff *f = &r->ff;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "repeats", f->repeats);
    cJSON_AddNumberToObject(o, "img_s", r->batch / f->median_s);
    cJSON_AddNumberToObject(o, "step_ms_min", 1e3 * f->min_s);
    cJSON_AddNumberToObject(o, "step_ms_median", 1e3 * f->median_s);
    cJSON_AddNumberToObject(o, "step_ms_mean", 1e3 * f->mean_s);
    cJSON_AddNumberToObject(o, "backbone_params", f->backbone_params);
    cJSON_AddNumberToObject(o, "param_state_bytes", f->param_state_bytes);
    cJSON_AddNumberToObject(o, "other_bytes", f->other_bytes);
    cJSON_AddNumberToObject(o, "device_bytes", f->param_state_bytes + f->other_bytes);
    cJSON *ps = cJSON_AddObjectToObject(o, "parts_ms");
    for (int p = 0; p < FF_NPARTS; p++)
        cJSON_AddNumberToObject(ps, parts[p], 1e3 * f->part_s[p]);
    cJSON *ops = cJSON_AddArrayToObject(o, "ops");
    for (int i = 0; i < r->nops; i++) {
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "name", r->ops[i].name);
        cJSON_AddStringToObject(op, "kind", r->ops[i].kind);
        cJSON_AddNumberToObject(op, "forward_ms", 1e3 * r->ops[i].ff_fwd_s);
        cJSON_AddNumberToObject(op, "backward_input_ms", 1e3 * bench_ff_bwd_input_s(r, i));
        cJSON_AddNumberToObject(op, "weight_grad_ms", 1e3 * bench_ff_wgrad_s(r, i));
        cJSON_AddItemToArray(ops, op);
    }
    return o;
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
    if (r->has_ff)
        cJSON_AddItemToObject(o, "full_finetune", ff_json(r));
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
