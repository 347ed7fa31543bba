/* Runs the encoder's layer graph: forward in order, backward in reverse with
 * the input gradients routed and summed through reference-counted gradient
 * buffers (a tensor read by two layers, a residual's skip input, gets the sum
 * of both contributions). Profiling markers bracket every layer. */
#include "encoder/encoder_internal.h"

#include <string.h>

#include "core/common.h"

/* ---- profiling markers ---- */

static void release_events(cl_event *ev, int n)
{
    for (int i = 0; ev && i < n; i++)
        if (ev[i]) {
            clReleaseEvent(ev[i]);
            ev[i] = NULL;
        }
}

/* Enqueues a marker into *ev when the queue profiles (no host sync). */
static int mark(movl_encoder *e, cl_event *events, int i, char *err)
{
    if (!e->dev->profiling || !events)
        return MOVL_OK;
    cl_int rc = clEnqueueMarkerWithWaitList(e->dev->queue, 0, NULL, &events[i]);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "%s: cannot enqueue a profiling marker: %s", e->arch, movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

/* ---- forward ---- */

int enc_run_forward(movl_encoder *e, int batch, char *err)
{
    release_events(e->fwd_events, e->nlayers + 1);
    int rc = mark(e, e->fwd_events, 0, err);
    for (int i = 0; i < e->nlayers && rc == MOVL_OK; i++) {
        enc_layer *l = &e->layers[i];
        rc = l->kind->forward(e, l, batch, err);
        if (rc == MOVL_OK)
            rc = mark(e, e->fwd_events, i + 1, err);
    }
    return rc;
}

/* ---- backward ---- */

/* Gradient handles: pool slots 0..ENC_MAX_POOL-1, then the caller's buffers. */
enum { G_DX = ENC_MAX_POOL, G_DFEATURES, G_DLOGITS, G_COUNT, G_NONE = -1 };

typedef struct bwd_state {
    movl_encoder *e;
    int batch, dry, in_use, peak;
    enc_grad_slot slot[G_COUNT];
    int *grad; /* per tensor: its gradient's handle or G_NONE */
} bwd_state;

static int acquire(bwd_state *s, int *h, char *err)
{
    int limit = s->dry ? ENC_MAX_POOL : s->e->npool;
    for (int i = 0; i < limit; i++)
        if (s->slot[i].refs == 0) {
            s->slot[i].refs = 1;
            if (++s->in_use > s->peak)
                s->peak = s->in_use;
            *h = i;
            return MOVL_OK;
        }
    movl_set_error(err, "%s: backward needs more than %d gradient buffers", s->e->arch, limit);
    return MOVL_ERR_RUN;
}

static void release(bwd_state *s, int h)
{
    if (h >= 0 && --s->slot[h].refs == 0 && h < ENC_MAX_POOL)
        s->in_use--;
}

static int writable(const bwd_state *s, int h) { return s->slot[h].refs == 1 && !s->slot[h].readonly; }

/* y = a + b over the batch's elements of tensor t (no activation). */
static int accumulate(bwd_state *s, int t, int a, int b, int y, char *err)
{
    if (s->dry)
        return MOVL_OK;
    size_t n = (size_t)s->batch * s->e->tensors[t].numel;
    return movl_add_forward(s->e->dev, n, s->slot[a].mem, s->slot[b].mem, MOVL_ACT_NONE, s->slot[y].mem, err);
}

static int copy(bwd_state *s, int t, int from, int to, char *err)
{
    if (s->dry)
        return MOVL_OK;
    size_t bytes = sizeof(float) * (size_t)s->batch * s->e->tensors[t].numel;
    cl_int rc = clEnqueueCopyBuffer(s->e->dev->queue, s->slot[from].mem, s->slot[to].mem, 0, 0, bytes, 0, NULL, NULL);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "%s: gradient copy failed: %s", s->e->arch, movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

/* Adds layer l's gradient for input `slot` (from dz, handle hz) to the
 * gradient of that input tensor. */
static int contribute(bwd_state *s, enc_layer *l, int slot, int hz, char *err)
{
    int t = l->in[slot], rc = MOVL_OK;
    int *g = &s->grad[t];
    int identity = l->kind->backward_input == NULL;
    if (t == 0 && !s->slot[G_DX].mem)
        return MOVL_OK; /* no input gradient asked for (a trainable encoder's weight gradients only) */
    if (*g == G_NONE) { /* first contribution: written straight into its place */
        if (t == 0) {
            *g = G_DX;
            s->slot[G_DX].refs = 1;
            if (identity)
                return copy(s, t, hz, G_DX, err);
        } else if (identity) {
            s->slot[hz].refs++;
            *g = hz;
            return MOVL_OK;
        } else if ((rc = acquire(s, g, err)) != MOVL_OK) {
            return rc;
        }
        return s->dry ? MOVL_OK : l->kind->backward_input(s->e, l, slot, s->batch, s->slot[hz].mem, s->slot[*g].mem, err);
    }
    int hc = hz; /* the contribution, then summed into *g */
    if (!identity) {
        if ((rc = acquire(s, &hc, err)) != MOVL_OK)
            return rc;
        if (!s->dry)
            rc = l->kind->backward_input(s->e, l, slot, s->batch, s->slot[hz].mem, s->slot[hc].mem, err);
    }
    if (rc == MOVL_OK && writable(s, *g)) {
        rc = accumulate(s, t, *g, hc, *g, err);
    } else if (rc == MOVL_OK) { /* shared or the caller's: sum into a fresh buffer */
        int hn;
        if ((rc = acquire(s, &hn, err)) == MOVL_OK && (rc = accumulate(s, t, *g, hc, hn, err)) == MOVL_OK) {
            release(s, *g);
            *g = hn;
        }
    }
    if (!identity)
        release(s, hc);
    return rc;
}

static int backward_layer(bwd_state *s, enc_layer *l, char *err)
{
    int hy = s->grad[l->out], hz = hy, rc = MOVL_OK;
    if (hy == G_NONE)
        return MOVL_OK; /* nothing flows back through this layer */
    if (l->act != MOVL_ACT_NONE) { /* gradient before the activation, from the stored output */
        if (!writable(s, hy) && (rc = acquire(s, &hz, err)) != MOVL_OK)
            return rc;
        if (!s->dry) {
            enc_tensor *y = &s->e->tensors[l->out];
            rc = movl_act_backward(s->e->dev, l->act, (size_t)s->batch * y->numel, y->buf, s->slot[hy].mem,
                                   s->slot[hz].mem, err);
        }
    }
    if (rc == MOVL_OK && s->e->trainable && l->kind->backward_params && !s->dry)
        rc = l->kind->backward_params(s->e, l, s->batch, s->slot[hz].mem, err);
    for (int i = 0; i < l->nin && rc == MOVL_OK; i++)
        rc = contribute(s, l, i, hz, err);
    if (hz != hy)
        release(s, hz);
    release(s, hy);
    s->grad[l->out] = G_NONE;
    return rc;
}

int enc_run_backward(movl_encoder *e, cl_mem dfeatures, cl_mem dlogits, cl_mem dx, int dry, char *err)
{
    bwd_state s;
    memset(&s, 0, sizeof s);
    s.e = e;
    s.batch = dry ? e->max_batch : e->batch;
    s.dry = dry;
    for (int i = 0; i < ENC_MAX_POOL; i++)
        s.slot[i].mem = e->pool[i].mem;
    s.slot[G_DX].mem = dx;
    s.slot[G_DFEATURES] = (enc_grad_slot){dfeatures, 1, 1};
    s.slot[G_DLOGITS] = (enc_grad_slot){dlogits, 1, 1};
    s.grad = e->grad_handles;
    for (int i = 0; i < e->ntensors; i++)
        s.grad[i] = G_NONE;
    if (dfeatures)
        s.grad[e->t_features] = G_DFEATURES;
    if (dlogits)
        s.grad[e->t_logits] = G_DLOGITS;

    int rc = MOVL_OK;
    if (!dry) {
        release_events(e->bwd_events, e->nlayers + 1);
        rc = mark(e, e->bwd_events, e->nlayers, err);
    }
    for (int i = e->nlayers - 1; i >= 0 && rc == MOVL_OK; i--) {
        rc = backward_layer(&s, &e->layers[i], err);
        if (rc == MOVL_OK && !dry)
            rc = mark(e, e->bwd_events, i, err);
    }
    if (rc == MOVL_OK && s.grad[0] == G_NONE && !dry && dx) /* no gradient given: d(nothing)/dx = 0 */
        rc = movl_fill_zero(e->dev, dx, sizeof(float) * (size_t)e->batch * e->tensors[0].numel, err);
    if (rc == MOVL_OK && s.in_use != 0) {
        movl_set_error(err, "%s: internal error: %d gradient buffers still held after backward", e->arch, s.in_use);
        rc = MOVL_ERR_RUN;
    }
    if (dry && rc == MOVL_OK && s.peak > e->npool)
        e->npool = s.peak;
    return rc;
}
