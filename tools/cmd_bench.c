/* movl bench [--device SEL]... | --all  [--arch A[,B...]] [--batch N[,M...]]
 *            [--size S] [--iters K] [--classes C] [--weights W] [--ff] [--json]
 * movl bench --compare A.json B.json ... [--png PATH]
 * The vendor comparison: per device its header and measured peaks (our own
 * FMA and triad micro-kernels), then per encoder and batch size images/s of
 * the forward pass and of a training step, and a per-op roofline table;
 * --ff adds a full fine-tuning step (Adam on every BN-folded conv weight and
 * bias, bench_ff.c): images/s, ms/step, memory and where the step goes.
 * A benchmark prints figures; it asserts nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "commands.h"
#include "encoder/encoder.h"
#include "ops/selftest.h"

static const char *const default_archs[] = {"resnet18", "efficientnet_lite0"};
static const int default_batches[] = {1, 8, 32};

/* Splits a comma list in place (s is a copy owned by the caller) into out[]. */
static int split_commas(char *s, const char **out, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max)
            return -1;
        out[n++] = tok;
    }
    return n;
}

static int parse_int(const char *s, int lo, int hi, int *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi)
        return -1;
    *v = (int)x;
    return 0;
}

/* One line on stderr; returns MOVL_ERR_INPUT. */
static int bad(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "movl bench: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return MOVL_ERR_INPUT;
}

/* Copies of the comma lists live in `keep` (freed by the caller). */
typedef struct parse_keep {
    char *strings[64];
    int n;
} parse_keep;

static char *kept(parse_keep *k, const char *s)
{
    if (k->n == (int)(sizeof k->strings / sizeof k->strings[0]))
        return NULL;
    size_t len = strlen(s) + 1;
    char *c = malloc(len);
    if (c)
        memcpy(c, s, len);
    return c ? (k->strings[k->n++] = c) : NULL;
}

static int parse_archs(parse_keep *k, const char *v, bench_opts *o)
{
    char *s = kept(k, v);
    const char *list[BENCH_MAX_LIST];
    int n = s ? split_commas(s, list, BENCH_MAX_LIST) : -1;
    for (int i = 0; i < n; i++)
        if (!movl_encoder_default_size(list[i]))
            n = -1;
    if (n < 1)
        return bad("--arch must be one of resnet18, resnet34, resnet50, efficientnet_lite0..4, or a comma list of "
                   "them (got '%s')",
                   v);
    for (int i = 0; i < n; i++) /* the last --arch counts */
        o->archs[i] = list[i];
    o->narchs = n;
    return MOVL_OK;
}

static int parse_batches(parse_keep *k, const char *v, bench_opts *o)
{
    char *s = kept(k, v);
    const char *list[BENCH_MAX_LIST];
    int n = s ? split_commas(s, list, BENCH_MAX_LIST) : -1;
    for (int i = 0; i < n; i++)
        if (parse_int(list[i], 1, 1024, &o->batches[i]))
            n = -1;
    if (n < 1)
        return bad("--batch expects batch sizes 1..1024, one or a comma list of up to 16 (got '%s')", v);
    o->nbatches = n;
    return MOVL_OK;
}

static int parse_devices(parse_keep *k, const char *v, bench_opts *o, int max)
{
    char *s = kept(k, v);
    const char *list[BENCH_MAX_LIST];
    int n = s ? split_commas(s, list, BENCH_MAX_LIST) : -1;
    if (n < 1 || o->ndevices + n > max)
        return bad("--device expects selectors (P:D, an index, cpu, gpu or a name part), comma separated (got '%s')",
                   v);
    for (int i = 0; i < n; i++)
        o->devices[o->ndevices++] = list[i];
    return MOVL_OK;
}

static int parse(int argc, char **argv, bench_opts *o, int *compare_mode, parse_keep *k)
{
    memset(o, 0, sizeof *o);
    o->iters = 5;
    o->classes = 2;
    *compare_mode = 0;
    /* Selectors and files come from argv: arrays sized by argc are large enough. */
    int max_devices = argc * BENCH_MAX_LIST;
    o->devices = calloc((size_t)max_devices, sizeof *o->devices);
    o->compare = calloc((size_t)argc, sizeof *o->compare);
    if (!o->devices || !o->compare)
        return bad("out of host memory");
    int rc = MOVL_OK, files_follow = 0;
    for (int i = 1; i < argc && rc == MOVL_OK; i++) {
        const char *a = argv[i];
        int takes = i + 1 < argc;
        if (files_follow && a[0] != '-') {
            o->compare[o->ncompare++] = a;
            continue;
        }
        files_follow = 0;
        if (!strcmp(a, "--compare"))
            *compare_mode = files_follow = 1;
        else if (!strcmp(a, "--arch") && takes)
            rc = parse_archs(k, argv[++i], o);
        else if (!strcmp(a, "--batch") && takes)
            rc = parse_batches(k, argv[++i], o);
        else if (!strcmp(a, "--device") && takes)
            rc = parse_devices(k, argv[++i], o, max_devices);
        else if (!strcmp(a, "--size") && takes)
            rc = parse_int(argv[++i], 32, 1024, &o->size) ? bad("--size expects 32..1024 (got '%s')", argv[i]) : 0;
        else if (!strcmp(a, "--iters") && takes)
            rc = parse_int(argv[++i], 1, 100000, &o->iters) ? bad("--iters expects 1..100000 (got '%s')", argv[i]) : 0;
        else if (!strcmp(a, "--classes") && takes)
            rc = parse_int(argv[++i], 2, 100000, &o->classes) ? bad("--classes expects 2..100000 (got '%s')", argv[i])
                                                              : 0;
        else if (!strcmp(a, "--weights") && takes)
            o->weights = argv[++i];
        else if (!strcmp(a, "--png") && takes)
            o->png = argv[++i];
        else if (!strcmp(a, "--all"))
            o->all = 1;
        else if (!strcmp(a, "--json"))
            o->json = 1;
        else if (!strcmp(a, "--ff"))
            o->ff = 1;
        else if (!cli_common_flag(a) && (rc = bad("unknown option or missing value '%s'", a)))
            cli_usage("bench", stderr);
    }
    if (rc != MOVL_OK)
        return rc;
    if (*compare_mode) {
        if (o->ncompare == 0)
            return bad("--compare expects one or more JSON files written by 'movl bench --json'");
        if (o->narchs || o->nbatches || o->ndevices || o->all || o->size || o->weights || o->json || o->ff)
            return bad("--compare takes JSON files and --png only (the runs were made when the files were)");
        return MOVL_OK;
    }
    if (o->png)
        return bad("--png names the chart of --compare; give --compare A.json B.json ... too");
    if (o->all && o->ndevices)
        return bad("--all and --device exclude each other (--all runs every device of every platform)");
    if (o->weights && o->narchs > 1)
        return bad("--weights holds one encoder's weights: give exactly one --arch with it");
    if (!o->narchs)
        for (size_t i = 0; i < sizeof default_archs / sizeof default_archs[0]; i++)
            o->archs[o->narchs++] = default_archs[i];
    if (!o->nbatches)
        for (size_t i = 0; i < sizeof default_batches / sizeof default_batches[0]; i++)
            o->batches[o->nbatches++] = default_batches[i];
    return MOVL_OK;
}

/* Indices into list of the devices to run, each once, in the order asked. */
static int choose_devices(const movl_device_info *list, int n, const bench_opts *o, int *chosen, int *nchosen,
                          char *err)
{
    *nchosen = 0;
    if (o->all) {
        for (int i = 0; i < n; i++)
            chosen[(*nchosen)++] = i;
        return n ? MOVL_OK : (movl_device_select(list, n, NULL, err), MOVL_ERR_INPUT);
    }
    int count = o->ndevices ? o->ndevices : 1;
    for (int s = 0; s < count; s++) {
        int i = movl_device_select(list, n, o->ndevices ? o->devices[s] : NULL, err);
        if (i < 0)
            return MOVL_ERR_INPUT;
        int seen = 0;
        for (int j = 0; j < *nchosen; j++)
            seen |= chosen[j] == i;
        if (!seen)
            chosen[(*nchosen)++] = i;
    }
    return MOVL_OK;
}

/* Opens one device, self-tests it, measures its peaks and runs every encoder
 * and batch size on it; prints as it goes unless the output is JSON. */
static int bench_device_run(const movl_device_info *info, const bench_opts *o, bench_device *d, char *err)
{
    char sel[32];
    movl_device dev;
    snprintf(sel, sizeof sel, "%d:%d", info->platform_index, info->device_index);
    memset(d, 0, sizeof *d);
    d->info = *info;
    /* Profiling events cost little; the per-op table needs them. */
    int rc = movl_device_open(sel, 1, &dev, err);
    if (rc != MOVL_OK)
        return rc;
    if (movl_self_test_enabled)
        rc = movl_device_self_test(&dev, d->self_test, sizeof d->self_test, err);
    if (rc == MOVL_OK)
        rc = movl_roofline_measure(&dev, 0.1, 5, &d->peak, err);
    if (rc == MOVL_OK && !o->json)
        bench_print_device(d);
    d->runs = rc == MOVL_OK ? calloc((size_t)o->narchs * o->nbatches, sizeof *d->runs) : NULL;
    if (rc == MOVL_OK && !d->runs) {
        movl_set_error(err, "out of host memory");
        rc = MOVL_ERR_RUN;
    }
    int largest = 0;
    for (int b = 1; b < o->nbatches; b++)
        if (o->batches[b] > o->batches[largest])
            largest = b;
    for (int a = 0; a < o->narchs && rc == MOVL_OK; a++) {
        bench_run *runs = &d->runs[d->nruns];
        for (int b = 0; b < o->nbatches && rc == MOVL_OK; b++) {
            if ((rc = bench_run_encoder(&dev, o, o->archs[a], o->batches[b], &runs[b], err)) != MOVL_OK)
                bench_run_free(&runs[b]);
            else
                d->nruns++;
            if (rc == MOVL_OK && !o->json && b == 0)
                bench_print_arch_header(&runs[b]);
            if (rc == MOVL_OK && !o->json)
                bench_print_run(&runs[b]);
        }
        /* One op table per encoder, at its largest batch, keeps the text short (JSON has every batch's). */
        if (rc == MOVL_OK && !o->json)
            bench_print_ops(&runs[largest], &d->peak);
        for (int b = 0; b < o->nbatches && rc == MOVL_OK && !o->json && o->ff; b++)
            bench_print_ff(&runs[b], b == 0);
        if (rc == MOVL_OK && !o->json && o->ff)
            bench_print_ff_parts(&runs[largest]);
    }
    movl_device_close(&dev);
    return rc;
}

static void free_devices(bench_device *devs, int n)
{
    for (int i = 0; devs && i < n; i++) {
        for (int r = 0; r < devs[i].nruns; r++)
            bench_run_free(&devs[i].runs[r]);
        free(devs[i].runs);
    }
    free(devs);
}

static int run_benchmarks(const bench_opts *o)
{
    char err[MOVL_ERRLEN] = "";
    movl_device_info *list = NULL;
    int n = 0, nchosen = 0, ndone = 0;
    int rc = movl_device_list(&list, &n, err);
    int *chosen = rc == MOVL_OK ? calloc((size_t)n + 1, sizeof *chosen) : NULL;
    bench_device *devs = rc == MOVL_OK ? calloc((size_t)n + 1, sizeof *devs) : NULL;
    if (rc == MOVL_OK && (!chosen || !devs)) {
        movl_set_error(err, "out of host memory");
        rc = MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK && (rc = choose_devices(list, n, o, chosen, &nchosen, err)) != MOVL_OK && n == 0) {
        fprintf(stderr, "movl bench: %s\n%s\n", err, movl_install_hint());
        err[0] = 0;
    }
    for (int i = 0; i < nchosen && rc == MOVL_OK; i++) {
        if (i > 0 && !o->json)
            printf("\n");
        rc = bench_device_run(&list[chosen[i]], o, &devs[i], err);
        ndone = i + 1; /* a failed device may hold partial runs: freed below */
    }
    if (rc == MOVL_OK && o->json)
        rc = bench_print_json(devs, nchosen, o, err);
    if (rc != MOVL_OK && err[0])
        fprintf(stderr, "movl bench: %s\n", err);
    free_devices(devs, ndone);
    free(chosen);
    free(list);
    return rc;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o;
    parse_keep keep = {{0}, 0};
    int compare_mode = 0;
    int rc = parse(argc, argv, &o, &compare_mode, &keep);
    if (rc == MOVL_OK)
        rc = compare_mode ? bench_compare(&o) : run_benchmarks(&o);
    for (int i = 0; i < keep.n; i++)
        free(keep.strings[i]);
    free(o.devices);
    free(o.compare);
    return rc;
}
