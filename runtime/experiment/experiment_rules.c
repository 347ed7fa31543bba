/* Rules between keys, checked on the filled struct before any work starts.
 * Each rule below says why it exists; they follow the method table of
 * docs/METHOD.md:
 *
 *   method      trains                          head.type     head.init      discrepancy
 *   lp          probe on cached plain features  linear        zero|random    none
 *   vp          prompt (+ the fully map)        label map     (fully) z|r    none
 *   vp_lp       prompt + probe, CE only         linear        zero|random|lp none
 *   movl        prompt + probe, CE + lambda*D   linear        lp|zero|random any
 *   lp_then_vp  LP, then prompt through it      linear        zero|random    none
 *   vp_then_lp  VP via label map, then LP       label map     zero|random    none
 *   ff          backbone + probe, CE only       linear        zero|random|lp none
 *   zeroshot    nothing (CLIP's text head)      clip_text     -              none
 *
 * clip_text is a label map that needs no fitting: it needs a clip_* encoder (whose text tower is in the
 * same checkpoint), a template with one "{}" and non-empty class names.
 *
 * Keys that a method does not use are ignored, not rejected (method lp with
 * [prompt] keys is fine), so one INI can be swept across methods. The error
 * names the key the user most likely has to change: the non-method key when
 * the INI or an override set it, else the key that was set. */
#include <string.h>

#include "core/common.h"
#include "experiment/experiment_internal.h"
#include "imgio/image_read.h"
#include "kinds/shift_kinds.h"

/* Table index of [section] key. */
static int idx(const char *section, const char *key) { return movl_cfg_index(movl_cfg_find(section, key)); }

/* The first of a, b that was set explicitly, else a. */
static int pick(const exp_load_ctx *ctx, int a, int b)
{
    if (movl_exp_is_set(ctx, a))
        return a;
    return movl_exp_is_set(ctx, b) ? b : a;
}

#define FAIL(at, ...)                                                                                                  \
    do {                                                                                                               \
        char loc_[MOVL_CFG_PATHLEN + 64], msg_[MOVL_ERRLEN];                                                         \
        movl_exp_where(ctx, (at), loc_, sizeof loc_);                                                                       \
        snprintf(msg_, sizeof msg_, __VA_ARGS__);                                                                      \
        movl_set_error(err, "%s %s", loc_, msg_);                                                                      \
        return MOVL_ERR_INPUT;                                                                                         \
    } while (0)

static const char *name_of(const char *section, const char *key, int v)
{
    return movl_experiment_enum_name(section, key, v);
}

/* Head type and init against the method. */
static int check_head(const movl_experiment *e, const exp_load_ctx *ctx, char *err)
{
    int m = idx("train", "method"), ht = idx("head", "type"), hi = idx("head", "init");
    const char *method = movl_method_name(e->train.method);
    int label_map = e->head.type != MOVL_HEAD_LINEAR;

    /* A label map turns the 1000 source logits into K classes; it only makes
     * sense where the prompt is trained without a probe (vp, and the VP stage
     * of vp_then_lp). Every other method trains a linear probe on features. */
    if (label_map && !movl_method_uses_label_map(e->train.method))
        FAIL(pick(ctx, ht, m),
             "[head] type = %s needs method vp or vp_then_lp%s (method %s trains a linear probe: [head] type = linear)",
             name_of("head", "type", (int)e->head.type), e->head.type == MOVL_HEAD_CLIP_TEXT ? " or zeroshot" : "",
             method);
    if (!label_map && movl_method_uses_label_map(e->train.method))
        FAIL(pick(ctx, ht, m),
             "[head] type = linear does not fit method %s (its prompt stage maps the source logits with a label "
             "map: rlm, flm, ilm or fully; prompt + probe is vp_lp or movl)",
             method);

    /* init lp = train the probe on cached plain features, then train the
     * prompt jointly with it. Only the joint methods have such a phase:
     * lp, lp_then_vp and vp_then_lp train the probe by LP anyway (from zero
     * or random), and vp has no probe at all. */
    if (e->head.init == MOVL_HEAD_INIT_LP && e->train.method != MOVL_METHOD_MOVL &&
        e->train.method != MOVL_METHOD_VP_LP && e->train.method != MOVL_METHOD_FF) {
        if (e->train.method == MOVL_METHOD_VP)
            FAIL(pick(ctx, hi, m), "[head] init = lp needs a linear probe, and method vp has none (use zero or random)");
        FAIL(pick(ctx, hi, m),
             "[head] init = lp needs method movl, vp_lp or ff (method %s trains the probe by LP itself, starting from "
             "zero or random)",
             method);
    }
    return MOVL_OK;
}

/* The discrepancy term is MoVL's: every D compares the prompted and plain
 * paths of the frozen model + probe; kl and plain_ce need the probe.
 * Other methods train with cross-entropy only. */
static int check_loss(const movl_experiment *e, const exp_load_ctx *ctx, char *err)
{
    int m = idx("train", "method"), d = idx("loss", "discrepancy");
    if (e->loss.discrepancy != MOVL_DISC_NONE && e->train.method != MOVL_METHOD_MOVL)
        FAIL(pick(ctx, d, m), "[loss] discrepancy = %s needs method movl (method %s trains with cross-entropy only; "
                              "set discrepancy = none)",
             name_of("loss", "discrepancy", (int)e->loss.discrepancy), movl_method_name(e->train.method));
    return MOVL_OK;
}

/* Schedule and per-group optimiser settings. */
static int check_optim(const movl_experiment *e, const exp_load_ctx *ctx, char *err)
{
    /* multistep without milestones would be a constant schedule in disguise. */
    if (e->train.schedule == MOVL_SCHED_MULTISTEP && e->train.milestones.n == 0)
        FAIL(pick(ctx, idx("train", "milestones"), idx("train", "schedule")),
             "[train] schedule = multistep needs [train] milestones (epochs, e.g. milestones = 30, 60)");

    /* Nesterov is a variant of SGD momentum (as in PyTorch: it needs momentum > 0). */
    const struct {
        const char *prefix;
        const movl_group_config *o;
    } groups[] = {{"prompt", &e->train.prompt}, {"head", &e->train.head}, {"backbone", &e->train.backbone}};
    for (int g = 0; g < 3; g++) {
        char kn[64], ko[64], km[64];
        snprintf(kn, sizeof kn, "%s_nesterov", groups[g].prefix);
        snprintf(ko, sizeof ko, "%s_optimizer", groups[g].prefix);
        snprintf(km, sizeof km, "%s_momentum", groups[g].prefix);
        if (!groups[g].o->nesterov)
            continue;
        if (groups[g].o->optimizer != MOVL_OPT_SGD)
            FAIL(pick(ctx, idx("train", kn), idx("train", ko)), "[train] %s = true needs %s = sgd", kn, ko);
        if (groups[g].o->momentum == 0)
            FAIL(pick(ctx, idx("train", kn), idx("train", km)), "[train] %s = true needs %s > 0", kn, km);
    }
    return MOVL_OK;
}

/* The prompt must fit the S x S input (only where a prompt is trained). */
static int check_prompt(const movl_experiment *e, const exp_load_ctx *ctx, char *err)
{
    if (!movl_method_uses_prompt(e->train.method))
        return MOVL_OK;
    int at = pick(ctx, idx("prompt", "size"), idx("encoder", "size"));
    int p = e->prompt.size, S = e->encoder.size;
    const char *type = name_of("prompt", "type", (int)e->prompt.type);
    switch (e->prompt.type) {
    case MOVL_PROMPT_PADDING:
    case MOVL_PROMPT_SHRINK_PAD:
        /* Borders of width p on both sides must leave an inner image. */
        if (2 * p >= S)
            FAIL(at, "[prompt] size = %d is too large for a %s prompt at encoder size %d (expected 2*size < %d)", p,
                 type, S, S);
        break;
    case MOVL_PROMPT_PATCH:
    case MOVL_PROMPT_RANDOM_PATCH:
        if (p > S)
            FAIL(at, "[prompt] size = %d is too large for a %s prompt at encoder size %d (expected size <= %d)", p, type,
                 S, S);
        break;
    case MOVL_PROMPT_FULL: /* covers the whole image; size unused */
        break;
    }
    return MOVL_OK;
}

static int check_data(const movl_experiment *e, const exp_load_ctx *ctx, char *err)
{
    /* Held-out shares must leave training data. */
    if (e->data.val_fraction + e->data.test_fraction >= 1.0)
        FAIL(pick(ctx, idx("data", "test_fraction"), idx("data", "val_fraction")),
             "[data] val_fraction + test_fraction = %g leaves no training data (expected a sum < 1)",
             e->data.val_fraction + e->data.test_fraction);
    movl_image_read_opts read;
    char why[MOVL_ERRLEN];
    if (movl_image_parse_window(e->data.window, &read, why) != 0)
        FAIL(idx("data", "window"), "[data] window: %.400s", why);
    /* rlm/flm/ilm assign each class a distinct one of the 1000 source classes. */
    if ((e->head.type == MOVL_HEAD_RLM || e->head.type == MOVL_HEAD_FLM || e->head.type == MOVL_HEAD_ILM) &&
        e->data.num_classes > 1000)
        FAIL(pick(ctx, idx("data", "num_classes"), idx("head", "type")),
             "[data] num_classes = %d is more than the 1000 source classes label map %s can assign", e->data.num_classes,
             name_of("head", "type", (int)e->head.type));
    return MOVL_OK;
}

/* [eval] shift names corruptions and severities the shift suite knows;
 * "all" needs a modality ([data] modality, or one read from the file name). */
static int check_shift(const movl_experiment *e, const exp_load_ctx *ctx, char *err)
{
    if (!e->eval.shift[0])
        return MOVL_OK;
    movl_shift_item items[MOVL_SHIFT_MAX_ITEMS];
    char why[MOVL_ERRLEN];
    movl_modality m = movl_modality_resolve(e->data.modality, e->data.path);
    if (movl_shift_parse(e->eval.shift, m, items, why, sizeof why) < 0)
        FAIL(idx("eval", "shift"), "[eval] shift: %.440s", why);
    return MOVL_OK;
}

/* The run name becomes a folder name under output_dir. */
static int check_name(const movl_experiment *e, const exp_load_ctx *ctx, char *err)
{
    const char *n = e->experiment.name;
    if (!n[0] || strchr(n, '/') || !strcmp(n, ".") || !strcmp(n, ".."))
        FAIL(idx("experiment", "name"), "[experiment] name = '%s' is not usable as a folder name (no '/', not '.' or "
                                        "'..', not empty)",
             n);
    return MOVL_OK;
}

/* CLIP's text head: the encoder, the template and the class names. */
static int check_text_head(const movl_experiment *e, const exp_load_ctx *ctx, char *err)
{
    int m = idx("train", "method"), ht = idx("head", "type"), a = idx("encoder", "arch");
    if (e->train.method == MOVL_METHOD_ZEROSHOT && e->head.type != MOVL_HEAD_CLIP_TEXT)
        FAIL(pick(ctx, ht, m), "method zeroshot needs [head] type = clip_text (the only head that needs no training)");
    if (e->head.type != MOVL_HEAD_CLIP_TEXT)
        return MOVL_OK;
    if (strncmp(e->encoder.arch, "clip_", 5) != 0)
        FAIL(pick(ctx, ht, a), "[head] type = clip_text needs a CLIP encoder ([encoder] arch = clip_vit_b_32 ...; got "
                               "%s, which has no text tower)", e->encoder.arch);
    const char *t = e->head.template_text, *hole = strstr(t, "{}");
    if (!hole || strstr(hole + 2, "{}"))
        FAIL(idx("head", "template"), "template '%.200s' must hold \"{}\" exactly once (where the class name goes)", t);
    if (!e->head.classes[0])
        return MOVL_OK; /* the dataset's names, checked when it is loaded */
    int n = 0, empty = 0;
    char **names = movl_head_class_names(e->head.classes, &n);
    if (!names) {
        movl_set_error(err, "out of host memory checking [head] classes");
        return MOVL_ERR_RUN;
    }
    while (empty < n && names[empty][0])
        empty++;
    movl_names_free(names, n);
    if (empty < n)
        FAIL(idx("head", "classes"), "class name %d is empty (expected comma-separated names in label order)",
             empty + 1);
    return MOVL_OK;
}

int movl_exp_check_rules(const movl_experiment *e, const exp_load_ctx *ctx, char *err)
{
    int rc;
    if ((rc = check_name(e, ctx, err)) || (rc = check_text_head(e, ctx, err)) || (rc = check_head(e, ctx, err)) || (rc = check_loss(e, ctx, err)) ||
        (rc = check_optim(e, ctx, err)) || (rc = check_prompt(e, ctx, err)) || (rc = check_data(e, ctx, err)) ||
        (rc = check_shift(e, ctx, err)))
        return rc;
    return MOVL_OK;
}
