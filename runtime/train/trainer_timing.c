/* The time split of a training run: one running phase at a time, switched
 * at phase boundaries with the monotonic clock, so the phases add up to the
 * wall time. Carried through resumes in the checkpoint, written to
 * summary.json and printed by movl train -v. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "train/trainer_internal.h"

static const struct {
    const char *key;  /* summary.json time_split key */
    const char *name; /* printed */
    const char *what;
} phases[TR_NPHASES] = {
    [TR_PHASE_SETUP] = {"setup_s", "set-up", "device, self-test, kernel build, weights, buffers"},
    [TR_PHASE_DATASET] = {"dataset_s", "dataset", "reading and decoding the dataset"},
    [TR_PHASE_CACHE] = {"cache_s", "cache", "frozen-feature caching, label-map fits"},
    [TR_PHASE_DATA] = {"data_s", "data", "training batches: preprocessing, cached features, uploads"},
    [TR_PHASE_STEPS] = {"steps_s", "steps", "forward, backward, optimiser, one host sync per step"},
    [TR_PHASE_VAL] = {"val_s", "val", "per-epoch validation and model selection"},
    [TR_PHASE_CHECKPOINT] = {"checkpoint_s", "checkpoint", "resume checkpoints"},
    [TR_PHASE_TEST] = {"test_s", "test", "selected model on val and test, intervals, calibration"},
    [TR_PHASE_SHIFT] = {"shift_s", "shift", "the shift suite"},
    [TR_PHASE_OUTPUT] = {"output_s", "output", "model, PNGs, plots, confusion.csv, summary.json"},
};

void tr_timing_start(trainer *t)
{
    tr_timing *m = &t->timing;
    m->session_start = m->phase_start = movl_now();
    m->phase = TR_PHASE_SETUP;
    m->sessions = 1;
    const char *ev = getenv("MOVL_EVENTS");
    t->hooks.events_fd = ev && *ev ? open(ev, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    t->hooks.events_on = t->hooks.events_fd >= 0;
    tr_phase_event(t);
}

void tr_phase_event(const trainer *t)
{
    if (!t->hooks.events_on)
        return;
    char line[96];
    int n = snprintf(line, sizeof line, "%s %d %ld %.6f\n", phases[t->timing.phase].name, t->progress.stage,
                     t->progress.global_step, movl_now() - t->timing.session_start);
    if (write(t->hooks.events_fd, line, (size_t)n) != n)
        return; /* a test hook: nothing to report to */
}

tr_phase tr_phase_enter(trainer *t, tr_phase p)
{
    tr_timing *m = &t->timing;
    double now = movl_now();
    tr_phase was = m->phase;
    m->phase_seconds[was] += now - m->phase_start;
    m->phase = p;
    m->phase_start = now;
    if (p != was)
        tr_phase_event(t);
    return was;
}

double tr_timing_now(const trainer *t, double sec[TR_NPHASES])
{
    const tr_timing *m = &t->timing;
    double now = movl_now();
    memcpy(sec, m->phase_seconds, sizeof m->phase_seconds);
    sec[m->phase] += now - m->phase_start;
    return m->earlier_wall + (now - m->session_start);
}

cJSON *tr_timing_json(const trainer *t)
{
    double sec[TR_NPHASES];
    double wall = tr_timing_now(t, sec);
    cJSON *j = cJSON_CreateObject();
    for (int i = 0; i < TR_NPHASES; i++)
        cJSON_AddNumberToObject(j, phases[i].key, sec[i]);
    cJSON_AddNumberToObject(j, "wall_s", wall);
    cJSON_AddNumberToObject(j, "sessions", t->timing.sessions);
    return j;
}

static double seconds_key(const cJSON *j, const char *key, const char **bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (x >= 0 && isfinite(x))
        return x;
    if (!*bad)
        *bad = key;
    return 0;
}

int tr_timing_resume(trainer *t, const cJSON *split, const char *path, char *err)
{
    if (!split) /* a checkpoint from before the split was kept */
        return MOVL_OK;
    const char *bad = cJSON_IsObject(split) ? NULL : "time_split";
    double sec[TR_NPHASES];
    for (int i = 0; i < TR_NPHASES && !bad; i++)
        sec[i] = seconds_key(split, phases[i].key, &bad);
    double wall = bad ? 0 : seconds_key(split, "wall_s", &bad);
    double sessions = bad ? 0 : seconds_key(split, "sessions", &bad);
    if (!bad && (sessions < 1 || sessions > 1e9))
        bad = "sessions";
    if (bad) {
        movl_set_error(err, "%s: progress record key time_split.%s is missing or out of range", path,
                       strcmp(bad, "time_split") ? bad : "(not an object)");
        return MOVL_ERR_INPUT;
    }
    for (int i = 0; i < TR_NPHASES; i++)
        t->timing.phase_seconds[i] += sec[i];
    t->timing.earlier_wall = wall;
    t->timing.sessions = 1 + (int)sessions;
    return MOVL_OK;
}

void tr_timing_print(const trainer *t, const double *since, const char *title, FILE *f)
{
    double sec[TR_NPHASES];
    double wall = tr_timing_now(t, sec);
    if (since) {
        fprintf(f, "%s time:", title);
        const char *sep = " ";
        for (int i = 0; i < TR_NPHASES; i++)
            if (sec[i] - since[i] >= 0.0005) {
                fprintf(f, "%s%s %.3f s", sep, phases[i].name, sec[i] - since[i]);
                sep = ", ";
            }
        fprintf(f, "\n");
        fflush(f);
        return;
    }
    fprintf(f, "%s: %.1f s wall", title, wall);
    if (t->timing.sessions > 1)
        fprintf(f, " over %d sessions (resumes; time after a session's last checkpoint is not counted)",
                t->timing.sessions);
    fprintf(f, "\n");
    for (int i = 0; i < TR_NPHASES; i++)
        fprintf(f, "  %-10s %9.2f s %5.1f %%  %s\n", phases[i].name, sec[i], wall > 0 ? 100 * sec[i] / wall : 0.0,
                phases[i].what);
    double step = sec[TR_PHASE_DATA] + sec[TR_PHASE_STEPS];
    if (step > 0)
        fprintf(f, "  data is %.1f %% of the training steps' time (data + steps, %ld steps)\n",
                100 * sec[TR_PHASE_DATA] / step, t->progress.global_step);
    fflush(f);
}
