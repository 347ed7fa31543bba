/* The training loop: the method as a list of stages, epochs of seeded
 * batches, the learning-rate schedule, validation and model selection after
 * every epoch, checkpoints for resume, and the run directory's files. */
#include "train/trainer.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "core/file_io.h"
#include "plot/plot.h"
#include "ops/selftest.h"
#include "train/trainer_internal.h"

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void movl_train_catch_stops(void)
{
    static int installed;
    if (installed)
        return;
    installed = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* Reads from pipes, terminals or network file systems resume after the
     * handler instead of failing with EINTR. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The method as stages (docs/METHOD.md, "The methods"). */
static int plan_stages(const movl_experiment *e, stage *s)
{
    int n = 0, E = e->train.epochs, L = e->train.lp_epochs;
    switch (e->train.method) {
    case MOVL_METHOD_LP:
        s[n++] = (stage){STAGE_PROBE_CACHED, L, 0, 1, 0, "lp"};
        break;
    case MOVL_METHOD_VP:
        s[n++] = (stage){STAGE_PROMPT_MAP, E, 1, e->head.type == MOVL_HEAD_FULLY, 1, "vp"};
        break;
    case MOVL_METHOD_VP_LP:
    case MOVL_METHOD_MOVL:
        if (e->head.init == MOVL_HEAD_INIT_LP)
            s[n++] = (stage){STAGE_PROBE_CACHED, L, 0, 1, 0, "lp_init"};
        s[n++] = (stage){STAGE_PROMPT_PROBE, E, 1, 1, 1, movl_method_name(e->train.method)};
        break;
    case MOVL_METHOD_LP_THEN_VP:
        s[n++] = (stage){STAGE_PROBE_CACHED, L, 0, 1, 0, "lp"};
        s[n++] = (stage){STAGE_PROMPT_PROBE, E, 1, 0, 1, "vp"};
        break;
    case MOVL_METHOD_VP_THEN_LP:
        s[n++] = (stage){STAGE_PROMPT_MAP, E, 1, e->head.type == MOVL_HEAD_FULLY, 1, "vp"};
        s[n++] = (stage){STAGE_PROBE_CACHED, L, 0, 1, 1, "lp"};
        break;
    case MOVL_METHOD_FF:
        if (e->head.init == MOVL_HEAD_INIT_LP)
            s[n++] = (stage){STAGE_PROBE_CACHED, L, 0, 1, 0, "lp_init"};
        s[n++] = (stage){STAGE_FULL, E, 0, 1, 0, "ff"};
        break;
    case MOVL_METHOD_ZEROSHOT: /* no stage: the head as set up is the model */
        break;
    }
    return n;
}

static double lr_at(const movl_experiment *e, const movl_group_config *g, long step, long steps_per_epoch, int epochs)
{
    long total = steps_per_epoch * epochs;
    switch (e->train.schedule) {
    case MOVL_SCHED_COSINE:
        return movl_lr_cosine(g->lr, step, e->train.warmup_steps, total);
    case MOVL_SCHED_MULTISTEP: {
        long ms[16];
        for (int i = 0; i < e->train.milestones.n; i++)
            ms[i] = (long)e->train.milestones.v[i] * steps_per_epoch;
        return movl_lr_multistep(g->lr, step, e->train.warmup_steps, ms, e->train.milestones.n, e->train.gamma);
    }
    default:
        return movl_lr_multistep(g->lr, step, e->train.warmup_steps, NULL, 0, 1.0);
    }
}

static void path_in(const trainer *t, const char *file, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", t->run_dir, file);
}

static int write_text(const char *path, const char *text, char *err)
{
    return movl_write_file(path, text, strlen(text), err);
}

static int write_metrics_csv(trainer *t, char *err)
{
    char path[1400];
    path_in(t, "metrics.csv", path, sizeof path);
    const char *head = "stage,epoch,train_loss,val_acc,val_auc,lr_prompt,lr_head,seconds\n";
    size_t n = strlen(head) + (t->progress.history ? strlen(t->progress.history) : 0) + 1;
    char *text = malloc(n);
    if (!text)
        return MOVL_ERR_RUN;
    snprintf(text, n, "%s%s", head, t->progress.history ? t->progress.history : "");
    int rc = write_text(path, text, err);
    free(text);
    return rc;
}

static void append_history(trainer *t, const char *row)
{
    size_t old = t->progress.history ? strlen(t->progress.history) : 0;
    char *h = realloc(t->progress.history, old + strlen(row) + 1);
    if (!h)
        return;
    memcpy(h + old, row, strlen(row) + 1);
    t->progress.history = h;
}

static double select_score(const trainer *t, const movl_metrics *m)
{
    if (t->exp->eval.select_metric == MOVL_METRIC_AUC && m->auc_defined)
        return m->auc;
    return m->acc;
}

/* Validation after an epoch (epoch -1: before training) and model selection. */
static int end_of_epoch(trainer *t, const stage *s, int epoch, double lr_p, double lr_h, char *err)
{
    tr_phase_enter(t, TR_PHASE_VAL);
    movl_metrics m = {0};
    int rc = tr_evaluate(t, MOVL_SPLIT_VAL, s->kind == STAGE_PROBE_CACHED, &m, err);
    if (rc)
        return rc;
    double loss = t->progress.loss_count ? t->progress.loss_sum / t->progress.loss_count : NAN;
    double score = select_score(t, &m);
    int better = score > t->best.score;
    if (better) {
        t->best.score = score;
        t->best.stage = t->progress.stage;
        t->best.epoch = epoch;
        if ((rc = tr_snapshot_take(t, &t->best.params, err)))
            return rc;
    }
    char row[300], loss_text[32] = "";
    if (isfinite(loss)) /* empty for the starting point, which had no training step */
        snprintf(loss_text, sizeof loss_text, "%.6g", loss);
    snprintf(row, sizeof row, "%s,%d,%s,%.6f,%.6f,%.6g,%.6g,%.2f\n", s->name, epoch + 1, loss_text, m.acc,
             m.auc_defined ? m.auc : NAN, s->train_prompt ? lr_p : 0.0, s->train_head ? lr_h : 0.0,
             t->timing.train_seconds + (movl_now() - t->timing.interval_start));
    append_history(t, row);
    char loss_shown[32] = "-"; /* the starting point (epoch 0) had no training step */
    if (isfinite(loss))
        snprintf(loss_shown, sizeof loss_shown, "%.4f", loss);
    printf("%s epoch %d/%d: train loss %s, val acc %.4f, val auc %.4f%s\n", s->name, epoch + 1, s->epochs, loss_shown,
           m.acc, m.auc_defined ? m.auc : NAN, better ? " (best so far)" : "");
    fflush(stdout);
    movl_metrics_free(&m);
    t->progress.loss_sum = 0;
    t->progress.loss_count = 0;
    return write_metrics_csv(t, err);
}

static void progress(const trainer *t, const stage *s, int epoch, int step, int steps, double t0, int done_imgs)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(STDOUT_FILENO);
    double el = movl_now() - t0, ips = el > 0 ? done_imgs / el : 0;
    double eta = ips > 0 ? (double)(steps - step) * t->dims.batch / ips : 0;
    double loss = t->progress.loss_count ? t->progress.loss_sum / t->progress.loss_count : 0;
    if (tty) {
        printf("\r%s epoch %d/%d step %d/%d loss %.4f %.1f img/s ETA %.0fs   ", s->name, epoch + 1, s->epochs, step,
               steps, loss, ips, eta);
        if (step == steps)
            printf("\r%*s\r", 79, "");
        fflush(stdout);
    } else if (step == steps || step % (steps / 4 > 0 ? steps / 4 : 1) == 0) {
        printf("%s epoch %d/%d step %d/%d loss %.4f %.1f img/s ETA %.0fs\n", s->name, epoch + 1, s->epochs, step, steps,
               loss, ips, eta);
        fflush(stdout);
    }
}

/* Features a stage needs before its first step. */
static int prepare_stage(trainer *t, const stage *s, int resumed, char *err)
{
    const movl_experiment *e = t->exp;
    int rc;
    tr_phase_enter(t, TR_PHASE_CACHE);
    t->model.head_is_map = s->kind == STAGE_PROMPT_MAP;
    if (s->kind == STAGE_PROBE_CACHED) {
        for (int sp = MOVL_SPLIT_TRAIN; sp <= MOVL_SPLIT_VAL; sp++)
            if ((rc = tr_cache_features(t, sp, s->use_prompt, err)))
                return rc;
        t->host.features_prompted = s->use_prompt;
    } else if (s->kind == STAGE_PROMPT_PROBE && e->train.method == MOVL_METHOD_MOVL &&
               e->loss.discrepancy != MOVL_DISC_NONE && e->loss.discrepancy != MOVL_DISC_PIXEL &&
               (!t->host.features[MOVL_SPLIT_TRAIN] || t->host.features_prompted)) {
        if ((rc = tr_cache_features(t, MOVL_SPLIT_TRAIN, 0, err)))
            return rc;
        t->host.features_prompted = 0;
    }
    if (s->kind == STAGE_PROMPT_MAP && !t->model.map_fully && !resumed && (rc = tr_fit_label_map(t, err)))
        return rc;
    if (s->kind == STAGE_PROMPT_MAP && t->model.has_map &&
        movl_upload(&t->dev, t->model.label_map_dev, t->model.label_map, sizeof(int) * (size_t)t->dims.classes, err))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

static int run_stage(trainer *t, const stage *s, int resumed, char *err)
{
    const movl_experiment *e = t->exp;
    int rc = prepare_stage(t, s, resumed, err);
    if (rc)
        return rc;
    int n = t->host.dataset.split[MOVL_SPLIT_TRAIN].n;
    int steps = (n + t->dims.batch - 1) / t->dims.batch;
    int *perm = malloc(sizeof(int) * (size_t)n);
    if (!perm)
        return MOVL_ERR_RUN;
    /* A stage that follows an LP stage starts from that solution: it is the first candidate. */
    if (!resumed && (s->kind == STAGE_PROMPT_PROBE || s->kind == STAGE_FULL) && t->progress.stage > 0 &&
        (rc = end_of_epoch(t, s, -1, 0, 0, err))) {
        free(perm);
        return rc;
    }
    for (; t->progress.epoch < s->epochs; t->progress.epoch++) {
        double epoch_split[TR_NPHASES];
        tr_timing_now(t, epoch_split);
        tr_phase_enter(t, TR_PHASE_DATA);
        uint64_t epoch_id = (uint64_t)t->progress.stage * 1000003u + (uint64_t)t->progress.epoch;
        movl_shuffle(n, (uint64_t)e->experiment.seed, epoch_id, perm);
        if (s->kind == STAGE_PROMPT_MAP && e->head.type == MOVL_HEAD_ILM && t->progress.epoch > 0 &&
            t->progress.step_in_epoch == 0) {
            tr_phase_enter(t, TR_PHASE_CACHE);
            if ((rc = tr_fit_label_map(t, err)))
                break;
        }
        double t0 = movl_now(), lr_p = 0, lr_h = 0, lr_b = 0;
        int done = 0;
        for (; t->progress.step_in_epoch < steps; t->progress.step_in_epoch++) {
            int b0 = t->progress.step_in_epoch * t->dims.batch, nb = n - b0 < t->dims.batch ? n - b0 : t->dims.batch;
            lr_p = lr_at(e, &e->train.prompt, t->progress.stage_step, steps, s->epochs);
            lr_h = lr_at(e, &e->train.head, t->progress.stage_step, steps, s->epochs);
            lr_b = lr_at(e, &e->train.backbone, t->progress.stage_step, steps, s->epochs);
            rc = s->kind == STAGE_PROBE_CACHED
                     ? tr_step_probe_cached(t, s, t->host.features[MOVL_SPLIT_TRAIN], perm + b0, nb, lr_h, err)
                 : s->kind == STAGE_FULL ? tr_step_full(t, perm + b0, nb, lr_b, lr_h, err)
                                         : tr_step_prompt(t, s, perm + b0, nb, lr_p, lr_h, err);
            if (rc)
                break;
            t->progress.stage_step++;
            t->progress.global_step++;
            done += nb;
            if (t->hooks.trace)
                fprintf(t->hooks.trace, "{\"stage\": \"%s\", \"epoch\": %d, \"step\": %ld, \"loss\": %.9g}\n", s->name,
                        t->progress.epoch, t->progress.stage_step, t->progress.last_loss);
            if (t->hooks.stop_after > 0 && t->progress.global_step >= t->hooks.stop_after)
                stop_requested = 1; /* test hook: behave as if SIGINT arrived now */
            if (!isfinite(t->progress.loss_sum)) {
                movl_set_error(err, "%s: the training loss is not finite at step %ld (lower the learning rate)",
                               s->name, t->progress.global_step);
                rc = MOVL_ERR_RUN;
                break;
            }
            if (s->kind != STAGE_PROBE_CACHED) /* cached-feature steps take microseconds */
                progress(t, s, t->progress.epoch, t->progress.step_in_epoch + 1, steps, t0, done);
            int last = t->progress.step_in_epoch + 1 == steps;
            if (!last && (stop_requested || (e->output.checkpoint_every > 0 &&
                                             t->progress.global_step % e->output.checkpoint_every == 0))) {
                t->progress.step_in_epoch++; /* the checkpoint resumes at the next step */
                t->timing.train_seconds += movl_now() - t->timing.interval_start;
                t->timing.interval_start = movl_now();
                tr_phase_enter(t, TR_PHASE_CHECKPOINT);
                rc = tr_save_resume(t, err);
                tr_phase_enter(t, TR_PHASE_STEPS);
                t->progress.step_in_epoch--;
                if (rc)
                    break;
                if (stop_requested) {
                    rc = MOVL_INTERRUPTED;
                    break;
                }
            }
        }
        if (rc)
            break;
        if ((rc = end_of_epoch(t, s, t->progress.epoch, lr_p, lr_h, err)))
            break;
        t->progress.step_in_epoch = 0;
        t->progress.epoch++;
        t->timing.train_seconds += movl_now() - t->timing.interval_start;
        t->timing.interval_start = movl_now();
        tr_phase_enter(t, TR_PHASE_CHECKPOINT);
        rc = tr_save_resume(t, err);
        t->progress.epoch--;
        if (rc)
            break;
        if (movl_verbose) {
            char title[96];
            snprintf(title, sizeof title, "%s epoch %d/%d", s->name, t->progress.epoch + 1, s->epochs);
            tr_timing_print(t, epoch_split, title, stdout);
        }
        if (stop_requested) {
            t->progress.epoch++;
            rc = MOVL_INTERRUPTED;
            break;
        }
    }
    free(perm);
    if (rc)
        return rc;
    /* The stage ends with its best parameters (model selection on val). */
    tr_phase_enter(t, TR_PHASE_VAL);
    return tr_snapshot_restore(t, &t->best.params, err);
}

static size_t trainable_params(const trainer *t)
{
    size_t n = t->model.has_prompt ? t->model.prompt_len : 0;
    if (t->model.has_probe)
        n += (size_t)t->dims.classes * t->dims.feature_dim + t->dims.classes;
    if (t->model.map_fully && !t->model.map_text) /* CLIP's text head is fixed */
        n += (size_t)t->dims.classes * t->dims.source_classes + t->dims.classes;
    if (t->model.has_backbone)
        n += movl_encoder_param_count(t->enc);
    return n;
}

/* reliability.png of the test split; like the curves, a view of numbers
 * summary.json holds, so failing to draw it is a warning. */
static void write_reliability(const trainer *t, const movl_metrics *test)
{
    char path[1400], title[64], why[MOVL_ERRLEN];
    long long count[MOVL_CAL_BINS];
    for (int b = 0; b < MOVL_CAL_BINS; b++)
        count[b] = test->cal_count[b];
    snprintf(title, sizeof title, "test split, N = %lld", (long long)test->n);
    movl_plot_reliability r = {title, MOVL_CAL_BINS, count, test->cal_acc, test->cal_conf, test->ece};
    path_in(t, "reliability.png", path, sizeof path);
    if (movl_plot_reliability_write(path, &r, 560, 600, why))
        fprintf(stderr, "warning: no reliability diagram: %s\n", why);
}

static int write_outputs(trainer *t, movl_metrics *val, movl_metrics *test, char *err)
{
    char path[1400];
    const movl_experiment *e = t->exp;
    int rc;
    if ((rc = tr_add_uncertainty(t, val, err)) || (rc = tr_add_uncertainty(t, test, err)))
        return rc;
    /* The shift suite ([eval] shift): the selected model on corrupted copies of the test split. */
    cJSON *shift = NULL;
    if (e->eval.shift[0]) {
        tr_phase_enter(t, TR_PHASE_SHIFT);
        if ((rc = tr_shift_evaluate(t, MOVL_SPLIT_TEST, e->eval.shift, &shift, err)))
            return rc;
        cJSON *ma = cJSON_GetObjectItemCaseSensitive(shift, "mean_acc");
        cJSON *mu = cJSON_GetObjectItemCaseSensitive(shift, "mean_auc");
        printf("shift (%s): mean acc %.4f, mean auc %.4f over %d corruptions\n", e->eval.shift,
               cJSON_IsNumber(ma) ? ma->valuedouble : NAN, cJSON_IsNumber(mu) ? mu->valuedouble : NAN,
               cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(shift, "corruptions")));
    }
    tr_phase_enter(t, TR_PHASE_OUTPUT);
    write_reliability(t, test);
    path_in(t, "model.safetensors", path, sizeof path);
    if ((rc = tr_save_model(t, &t->best.params, path, err)))
        goto fail;
    if (t->model.has_prompt && e->output.save_prompt_png && t->best.params.delta) {
        path_in(t, "prompt.png", path, sizeof path);
        if ((rc = tr_save_prompt_png(t, t->best.params.delta, path, err)))
            goto fail;
        path_in(t, "prompt_applied.png", path, sizeof path);
        if ((rc = tr_save_prompt_applied_png(t, t->best.params.delta, path, err)))
            goto fail;
    }
    path_in(t, "confusion.csv", path, sizeof path);
    if ((rc = movl_metrics_write_confusion_csv(path, test, (const char *const *)t->host.dataset.class_names, err)))
        goto fail;
    /* Curves are a view of metrics.csv: if they cannot be drawn the run's results still stand.
     * A run without epochs (zeroshot) has a metrics.csv of its header and no curves. */
    char why[MOVL_ERRLEN];
    if (!t->progress.history) {
        if ((rc = write_metrics_csv(t, err)))
            goto fail;
    } else if (movl_plot_run_curves(t->run_dir, why)) {
        fprintf(stderr, "warning: no training curves: %s\n", why);
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "experiment", e->experiment.name);
    cJSON_AddStringToObject(j, "method", movl_method_name(e->train.method));
    cJSON_AddStringToObject(j, "arch", e->encoder.arch);
    cJSON_AddNumberToObject(j, "size", t->dims.image_size);
    cJSON_AddStringToObject(j, "data", e->data.path);
    cJSON_AddNumberToObject(j, "classes", t->dims.classes);
    cJSON_AddNumberToObject(j, "seed", e->experiment.seed);
    cJSON_AddNumberToObject(j, "trainable_params", (double)trainable_params(t));
    cJSON_AddNumberToObject(j, "train_seconds", t->timing.train_seconds);
    cJSON *d = cJSON_AddObjectToObject(j, "device");
    cJSON_AddStringToObject(d, "name", t->dev.info.name);
    cJSON_AddStringToObject(d, "platform", t->dev.info.platform_name);
    cJSON_AddStringToObject(d, "driver", t->dev.info.driver_version);
    cJSON *v = cJSON_AddObjectToObject(j, "versions");
    cJSON_AddStringToObject(v, "movl", MOVL_VERSION);
    cJSON_AddStringToObject(v, "opencl_platform", t->dev.info.platform_version);
    cJSON *b = cJSON_AddObjectToObject(j, "selected");
    cJSON_AddNumberToObject(b, "stage", t->best.stage);
    cJSON_AddNumberToObject(b, "epoch", t->best.epoch + 1);
    cJSON_AddStringToObject(b, "metric", e->eval.select_metric == MOVL_METRIC_AUC ? "auc" : "acc");
    cJSON_AddItemToObject(j, "val", movl_metrics_to_json(val, (const char *const *)t->host.dataset.class_names));
    cJSON_AddItemToObject(j, "test", movl_metrics_to_json(test, (const char *const *)t->host.dataset.class_names));
    if (shift)
        cJSON_AddItemToObject(j, "shift", shift);
    cJSON_AddItemToObject(j, "time_split", tr_timing_json(t));
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    path_in(t, "summary.json", path, sizeof path);
    rc = text ? write_text(path, text, err) : MOVL_ERR_RUN;
    free(text);
    return rc;
fail:
    cJSON_Delete(shift);
    return rc;
}

/* A run or device error after a stop was asked for: PoCL's compiler catches SIGINT/SIGTERM and fails the
 * kernel build under way, so such an error is the stop's doing (movl_train_run). */
static int failed_by_stop(int rc) { return stop_requested && (rc == MOVL_ERR_RUN || rc == MOVL_ERR_DEVICE); }

int movl_train_run(const movl_experiment *exp, const char *run_dir, int resume, char *err)
{
    trainer t;
    memset(&t, 0, sizeof t);
    t.exp = exp;
    tr_timing_start(&t);
    snprintf(t.run_dir, sizeof t.run_dir, "%s", run_dir);
    movl_train_catch_stops();
    int rc = tr_setup(&t, err);
    stage stages[3];
    int ns = plan_stages(exp, stages);
    if (rc == MOVL_OK && resume)
        rc = tr_load_resume(&t, err);
    /* A stop during set-up can also make set-up fail: PoCL's compiler (LLVM)
     * catches SIGINT/SIGTERM itself, deletes its temporary files and passes
     * the signal on, so the kernel build under way fails. The user asked to
     * stop: report that, not the build error it caused. */
    int stopped_in_setup = stop_requested && (rc == MOVL_OK || failed_by_stop(rc));
    if (stopped_in_setup)
        rc = MOVL_INTERRUPTED;
    t.timing.interval_start = movl_now();
    /* Test hooks: MOVL_TRACE=FILE appends one JSON line per step (the PyTorch
     * twin replays them); MOVL_STOP_AFTER_STEPS=N interrupts after N steps. */
    const char *trace = getenv("MOVL_TRACE"), *stop_after = getenv("MOVL_STOP_AFTER_STEPS");
    t.hooks.trace = trace && *trace ? fopen(trace, "a") : NULL;
    t.hooks.stop_after = stop_after ? atol(stop_after) : 0;
    if (rc == MOVL_OK && ns == 0) { /* zeroshot: the set-up model is the selected one */
        t.model.head_is_map = 1;
        rc = tr_snapshot_take(&t, &t.best.params, err);
    }
    int first = t.progress.stage;
    for (; rc == MOVL_OK && t.progress.stage < ns; t.progress.stage++) {
        int resumed = resume && t.progress.stage == first && (t.progress.epoch > 0 || t.progress.step_in_epoch > 0);
        if (!resumed) {
            t.progress.epoch = t.progress.step_in_epoch = 0;
            t.progress.stage_step = 0;
            t.best.score = -1;
            tr_snapshot_free(&t.best.params);
        }
        rc = run_stage(&t, &stages[t.progress.stage], resumed, err);
        if (rc == MOVL_OK) {
            t.progress.epoch = t.progress.step_in_epoch = 0;
        }
    }
    /* The same after set-up: kernels built at their first use (the prompt's in the joint stage)
     * fail the same way when the stop lands in their build. The last checkpoint, if any, holds
     * everything before the failed step, so this is a stop like any other. */
    if (failed_by_stop(rc))
        rc = MOVL_INTERRUPTED;
    if (rc == MOVL_INTERRUPTED && stopped_in_setup && !resume) {
        movl_set_error(err, "interrupted during set-up, before the first step (nothing to resume)");
    } else if (rc == MOVL_INTERRUPTED) {
        movl_set_error(err, "interrupted; continue with: movl train --resume %s", run_dir);
    } else if (rc == MOVL_OK) {
        /* The test split is evaluated once, with the selected parameters. */
        movl_metrics val = {0}, test = {0};
        tr_phase_enter(&t, TR_PHASE_TEST);
        const stage *last = ns ? &stages[ns - 1] : NULL;
        int cached = last && last->kind == STAGE_PROBE_CACHED;
        if (cached && (rc = tr_cache_features(&t, MOVL_SPLIT_TEST, last->use_prompt, err)) == MOVL_OK)
            rc = tr_cache_features(&t, MOVL_SPLIT_VAL, last->use_prompt, err);
        if (rc == MOVL_OK)
            rc = tr_evaluate(&t, MOVL_SPLIT_VAL, cached, &val, err);
        if (rc == MOVL_OK)
            rc = tr_evaluate(&t, MOVL_SPLIT_TEST, cached, &test, err);
        if (rc == MOVL_OK) {
            printf("test: acc %.4f, auc %.4f, balanced acc %.4f, macro F1 %.4f (%zu trainable parameters, %.1f s)\n",
                   test.acc, test.auc_defined ? test.auc : NAN, test.balanced_acc, test.macro_f1, trainable_params(&t),
                   t.timing.train_seconds);
            rc = write_outputs(&t, &val, &test, err);
            if (rc == MOVL_OK && movl_verbose)
                tr_timing_print(&t, NULL, "time split", stdout);
        }
        movl_metrics_free(&val);
        movl_metrics_free(&test);
    }
    if (t.hooks.trace)
        fclose(t.hooks.trace);
    if (t.hooks.events_on)
        close(t.hooks.events_fd);
    tr_free(&t);
    return rc;
}
