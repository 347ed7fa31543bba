/* Optimisers on device buffers of n floats (one per parameter group: the
 * prompt, the probe) and host learning-rate schedules.
 *
 * Semantics are PyTorch's, step t = 1, 2, ... (the count of updates so far,
 * this one included), g = grad + weight_decay * p (L2 decay, as torch):
 *   SGD (torch.optim.SGD, dampening 0):
 *     momentum == 0: p -= lr * g
 *     else: buf = (t == 1) ? g : momentum * buf + g
 *           p -= lr * (nesterov ? g + momentum * buf : buf)
 *   Adam (torch.optim.Adam, amsgrad off):
 *     m = m + (1 - beta1) (g - m);  v = beta2 v + (1 - beta2) g^2
 *     p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *   (bias corrections computed on the host in double, as torch does.)
 * The state (SGD momentum buffer, Adam m and v) lives on the device; the
 * step count and the learning rate are the trainer's, passed per step, so a
 * checkpoint holds the state floats plus the trainer's step count. */
#ifndef MOVL_OPTIM_H
#define MOVL_OPTIM_H

#include <stddef.h>

#include "device/device.h"
#include "kinds/adapt_kinds.h"

typedef struct movl_opt_config {
    movl_opt_kind kind;
    float weight_decay; /* L2, added to the gradient (both kinds) */
    float momentum;     /* SGD; 0 = plain SGD (no state) */
    int nesterov;       /* SGD; needs momentum > 0 */
    float beta1, beta2; /* Adam; torch defaults 0.9, 0.999 */
    float eps;          /* Adam; torch default 1e-8 */
} movl_opt_config;

/* The torch defaults: SGD momentum 0, no Nesterov, no decay; Adam betas
 * 0.9/0.999, eps 1e-8, no decay. */
movl_opt_config movl_opt_defaults(movl_opt_kind kind);
/* "sgd" / "adam" -> kind; MOVL_ERR_INPUT with a message otherwise. */
int movl_opt_kind_parse(const char *name, movl_opt_kind *out, char *err);
/* Validates ranges (momentum, betas in [0, 1), eps > 0, decay >= 0,
 * Nesterov only with momentum): MOVL_ERR_INPUT naming the field. */
int movl_opt_check(const movl_opt_config *c, char *err);

typedef struct movl_optimizer {
    movl_device *dev;
    movl_opt_config cfg;
    size_t n;       /* parameters */
    cl_mem state;   /* SGD: buf [n] (NULL when momentum is 0); Adam: m [n] then v [n] */
} movl_optimizer;

/* Allocates the state (zeros) for n parameters. */
int movl_opt_init(movl_optimizer *o, movl_device *dev, const movl_opt_config *cfg, size_t n, char *err);
void movl_opt_free(movl_optimizer *o);

/* One update of param (n floats) with grad (n floats, not modified), learning
 * rate lr, step t >= 1 (see above; SGD starts its buffer at t == 1). Enqueues
 * only. */
int movl_opt_step(movl_optimizer *o, cl_mem param, cl_mem grad, double lr, long step, char *err);

/* Floats of state for checkpoints: 0 (SGD without momentum), n (SGD), 2n
 * (Adam: m then v). Download is blocking; upload replaces the state. */
size_t movl_opt_state_floats(const movl_optimizer *o);
int movl_opt_state_download(movl_optimizer *o, float *host, char *err);
int movl_opt_state_upload(movl_optimizer *o, const float *host, char *err);

/* ---- learning-rate schedules (host; step t = 0, 1, ... is the update about
 * to be taken, i.e. torch's LambdaLR last_epoch counted in steps) ---- */

/* Linear warm-up then cosine to 0 (the cosine_lr of Bahng et al.'s visual
 * prompting code):
 *   t < warmup:  base * (t + 1) / warmup
 *   else:        base * 0.5 * (1 + cos(pi * (t - warmup) / (total - warmup)))
 * warmup 0 is pure cosine; t >= total gives 0; when total <= warmup there
 * is no cosine phase: base after the ramp. */
double movl_lr_cosine(double base, long step, long warmup, long total);

/* Same warm-up, then torch.optim.lr_scheduler.MultiStepLR: base * gamma^m,
 * m = number of milestones <= t (milestones in steps, any order). */
double movl_lr_multistep(double base, long step, long warmup, const long *milestones, int n_milestones,
                         double gamma);

#endif
