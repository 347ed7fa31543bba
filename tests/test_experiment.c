/* Experiment files: every example in configs/ validates; defaults, including
 * those that depend on the method, are filled in; -s overrides take effect;
 * bad input of every kind gives one line naming the file, line and key; the
 * resolved config reads back into an identical struct. No device needed.
 * Test INIs go to a mkdtemp folder, next to empty stand-ins for the weights
 * and dataset files, so the "must exist" checks run for real here; the
 * configs/ examples are checked with MOVL_EXP_NO_FILE_CHECKS in addition,
 * because their data and weights may be absent where the tests run. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapt/discrepancy.h"
#include "adapt/optim.h"
#include "adapt/prompt.h"
#include "experiment/experiment.h"
#include "test_util.h"

static char dir[128];
static char weights[160], npz[160], folder[160];

static const char *write_ini(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    test_write_text(path, text);
    return path;
}

/* A valid config for `method` followed by `extra` lines (may add sections). */
static const char *base_ini(const char *method, const char *extra)
{
    static char text[4096];
    snprintf(text, sizeof text,
             "[encoder]\narch = resnet18\nweights = %s\n"
             "[data]\npath = %s\n"
             "[train]\nmethod = %s\n%s",
             weights, npz, method, extra);
    return text;
}

static int load_text(const char *text, const char *const *ov, int n, movl_experiment *e, char *err)
{
    const char *path = write_ini("x.ini", text);
    err[0] = 0;
    return movl_experiment_load(path, ov, n, 0, e, err);
}

/* Loading text (with overrides) must fail with MOVL_ERR_INPUT and a one-line message containing want. */
static void expect_error(const char *what, const char *text, const char *const *ov, int n, const char *want)
{
    movl_experiment e;
    char err[MOVL_ERRLEN];
    int rc = load_text(text, ov, n, &e, err);
    CHECK(rc == MOVL_ERR_INPUT, "%s: rc %d (expected %d), err '%s'", what, rc, MOVL_ERR_INPUT, err);
    CHECK(strstr(err, want) != NULL, "%s: error '%s' lacks '%s'", what, err, want);
    CHECK(!strchr(err, '\n'), "%s: error has a newline: '%s'", what, err);
}

static void expect_ok(const char *what, const char *text, const char *const *ov, int n, movl_experiment *e)
{
    char err[MOVL_ERRLEN];
    int rc = load_text(text, ov, n, e, err);
    CHECK(rc == MOVL_OK, "%s: rc %d, err '%s'", what, rc, err);
}

static void touch(const char *path) { test_write_text(path, ""); }

/* [eval] shift is checked at load against the shift suite's names; "all"
 * needs [data] modality or a file name that tells it. */
static void test_shift_keys(void)
{
    movl_experiment e;
    expect_ok("shift names", base_ini("lp", "[eval]\nshift = jpeg, gaussian_noise:3\n"), NULL, 0, &e);
    CHECK(e.data.modality == MOVL_MODALITY_AUTO, "modality default %d", (int)e.data.modality);
    const char *fundus[] = {"data.modality=fundus"};
    expect_ok("shift all with modality", base_ini("lp", "[eval]\nshift = all\n"), fundus, 1, &e);
    CHECK(e.data.modality == MOVL_MODALITY_FUNDUS, "modality %d", (int)e.data.modality);
    expect_error("shift all without modality", base_ini("lp", "[eval]\nshift = all\n"), NULL, 0,
                 "x.ini:9: [eval] shift: 'all' needs a modality");
    expect_error("shift severity", base_ini("lp", "[eval]\nshift = jpeg:7\n"), NULL, 0,
                 "[eval] shift: item 'jpeg:7': severity '7' is not one of 1..5");
    expect_error("shift name", base_ini("lp", "[eval]\nshift = pixelate,blur:2\n"), NULL, 0,
                 "[eval] shift: item 'blur:2': unknown corruption 'blur' (valid: all, pixelate, jpeg,");
    const char *mri[] = {"data.modality=mri"};
    expect_error("bad modality", base_ini("lp", ""), mri, 1, "modality");
}

static void test_schema_api(void)
{
    int n;
    const movl_cfg_spec *t = movl_cfg_table(&n);
    CHECK(n > 40, "schema has %d keys", n);
    /* Every default (and every method default) must pass its own checks. */
    for (int i = 0; i < n; i++) {
        movl_cfg_value v;
        char why[256];
        if (t[i].def)
            CHECK(movl_cfg_parse_value(&t[i], t[i].def, &v, why, sizeof why) == MOVL_OK, "default of [%s] %s: %s",
                  t[i].section, t[i].key, why);
        else
            CHECK(t[i].flags & MOVL_CFG_REQUIRED, "[%s] %s has no default but is not required", t[i].section,
                  t[i].key);
        CHECK(t[i].help && t[i].help[0], "[%s] %s has help", t[i].section, t[i].key);
        CHECK(movl_cfg_find(t[i].section, t[i].key) == &t[i], "find [%s] %s", t[i].section, t[i].key);
    }
    const movl_cfg_spec *lambda = movl_cfg_find("LOSS", "Lambda");
    CHECK(lambda && lambda->type == MOVL_CFG_FLOAT, "find is case-insensitive");
    CHECK(movl_cfg_find("loss", "lamda") == NULL, "unknown key not found");
    CHECK(movl_cfg_section_known("sweep") && !movl_cfg_section_known("trian"), "sections");

    movl_cfg_value v;
    char why[256];
    CHECK(movl_cfg_parse_value(lambda, "0.25", &v, why, sizeof why) == MOVL_OK && v.f == 0.25, "parse float");
    CHECK(movl_cfg_parse_value(lambda, "-1", &v, why, sizeof why) == MOVL_ERR_INPUT &&
              !strcmp(why, "is out of range (expected >= 0)"),
          "range: '%s'", why);
    const movl_cfg_spec *size = movl_cfg_find("encoder", "size");
    CHECK(movl_cfg_parse_value(size, "0", &v, why, sizeof why) == MOVL_OK, "size 0 = default");
    CHECK(movl_cfg_parse_value(size, "16", &v, why, sizeof why) && strstr(why, "expected 0 or 32 to 1024"), "'%s'",
          why);
    const movl_cfg_spec *ms = movl_cfg_find("train", "milestones");
    CHECK(movl_cfg_parse_value(ms, " 3, 7 ,9", &v, why, sizeof why) == MOVL_OK && v.n == 3 && v.list[2] == 9,
          "int list");
    CHECK(movl_cfg_parse_value(ms, "7, 3", &v, why, sizeof why) && strstr(why, "strictly increasing"), "'%s'", why);
    CHECK(movl_cfg_parse_value(ms, "3,,7", &v, why, sizeof why) && strstr(why, "empty element"), "'%s'", why);
    const movl_cfg_spec *mom = movl_cfg_find("train", "prompt_momentum");
    CHECK(movl_cfg_parse_value(mom, "1", &v, why, sizeof why) && strstr(why, "expected >= 0 and < 1"), "'%s'", why);
    const movl_cfg_spec *gamma = movl_cfg_find("train", "gamma");
    CHECK(movl_cfg_parse_value(gamma, "0", &v, why, sizeof why) && strstr(why, "expected > 0 and <= 1"), "'%s'", why);
    CHECK(movl_cfg_parse_value(lambda, "nan", &v, why, sizeof why) && strstr(why, "not a number"), "nan: '%s'", why);
    CHECK(movl_cfg_parse_value(lambda, "inf", &v, why, sizeof why) && strstr(why, "not a finite number"), "'%s'", why);

    /* Formatting round-trips exactly, in the shortest form. */
    char buf[64];
    v.f = 0.1;
    CHECK(movl_cfg_format_value(lambda, &v, buf, sizeof buf) > 0 && !strcmp(buf, "0.1"), "format 0.1: %s", buf);
    v.f = 1.0 / 3.0;
    movl_cfg_format_value(lambda, &v, buf, sizeof buf);
    CHECK(strtod(buf, NULL) == 1.0 / 3.0, "1/3 round trip: %s", buf);

    CHECK(movl_cfg_edit_distance("kitten", "sitting") == 3, "levenshtein");
    CHECK(movl_cfg_suggest_section("trian") && !strcmp(movl_cfg_suggest_section("trian"), "train"), "section guess");
    CHECK(movl_cfg_suggest_key("train", "epoch") && !strcmp(movl_cfg_suggest_key("train", "epoch"), "epochs"), "key");
    CHECK(movl_cfg_suggest_key("train", "prompt_l") && !strcmp(movl_cfg_suggest_key("train", "prompt_l"), "prompt_lr"),
          "prefix guess");
    CHECK(movl_cfg_suggest_key("train", "zzzzzz") == NULL, "no wild guesses");

    /* The schema's value lists follow the enums of prompt.h, discrepancy.h and optim.h. */
    const movl_cfg_spec *pt = movl_cfg_find("prompt", "type"), *dk = movl_cfg_find("loss", "discrepancy"),
                        *ok = movl_cfg_find("train", "head_optimizer");
    for (int i = 0; pt->values[i]; i++) {
        const char *name = movl_prompt_type_name((movl_prompt_type)i);
        CHECK(name && !strcmp(name, pt->values[i]), "prompt type %d: %s vs %s", i, pt->values[i], name);
    }
    for (int i = 0; dk->values[i]; i++) {
        const char *name = movl_disc_name((movl_disc_kind)i);
        CHECK(name && !strcmp(name, dk->values[i]), "discrepancy %d: %s vs %s", i, dk->values[i], name);
    }
    for (int i = 0; ok->values[i]; i++) {
        movl_opt_kind k;
        char e2[MOVL_ERRLEN];
        CHECK(movl_opt_kind_parse(ok->values[i], &k, e2) == MOVL_OK && (int)k == i, "optimizer %s", ok->values[i]);
    }

    FILE *f = tmpfile();
    movl_cfg_print_schema(f);
    long len = ftell(f);
    fclose(f);
    CHECK(len > 2000, "schema printout has %ld bytes", len);
}

static void test_examples(void)
{
    static const struct {
        const char *file;
        movl_method method;
    } want[] = {{"lp.ini", MOVL_METHOD_LP},         {"vp.ini", MOVL_METHOD_VP},
                {"vp_lp.ini", MOVL_METHOD_VP_LP},   {"movl.ini", MOVL_METHOD_MOVL},
                {"lp_then_vp.ini", MOVL_METHOD_LP_THEN_VP}, {"vp_then_lp.ini", MOVL_METHOD_VP_THEN_LP},
                {"demo.ini", MOVL_METHOD_MOVL},     {"zeroshot.ini", MOVL_METHOD_ZEROSHOT},
                {"clip_vp.ini", MOVL_METHOD_VP}};
    DIR *d = opendir("configs");
    CHECK(d != NULL, "configs/ readable from the working directory");
    if (!d)
        return;
    int count = 0, found[sizeof want / sizeof want[0]] = {0};
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".ini"))
            continue;
        char path[512], err[MOVL_ERRLEN], out[600];
        snprintf(path, sizeof path, "configs/%s", de->d_name);
        movl_experiment e, back;
        int rc = movl_experiment_load(path, NULL, 0, MOVL_EXP_NO_FILE_CHECKS, &e, err);
        CHECK(rc == MOVL_OK, "%s: %s", path, err);
        count++;
        for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
            if (!strcmp(de->d_name, want[k].file)) {
                found[k] = 1;
                CHECK(rc == MOVL_OK && e.train.method == want[k].method, "%s: method %d", path, (int)e.train.method);
            }
        if (rc)
            continue;
        /* Where the data and weights are present, the full checks pass too. */
        if (access(e.encoder.weights, R_OK) == 0 && access(e.data.path, R_OK) == 0)
            CHECK(movl_experiment_load(path, NULL, 0, 0, &back, err) == MOVL_OK, "%s with file checks: %s", path,
                  err);
        /* Resolved config of each example reads back identically. */
        snprintf(out, sizeof out, "%s/resolved_%s", dir, de->d_name);
        CHECK(movl_experiment_write(&e, out, "resolved", err) == MOVL_OK, "write %s: %s", out, err);
        CHECK(movl_experiment_load(out, NULL, 0, MOVL_EXP_NO_FILE_CHECKS, &back, err) == MOVL_OK, "reload %s: %s",
              out, err);
        CHECK(memcmp(&e, &back, sizeof e) == 0, "%s: resolved round trip identical", path);
    }
    closedir(d);
    CHECK(count >= 7, "%d example configs", count);
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        CHECK(found[k], "configs/%s exists", want[k].file);
}

static void test_defaults(void)
{
    movl_experiment e;
    expect_ok("minimal movl", base_ini("movl", ""), NULL, 0, &e);
    CHECK(!strcmp(e.experiment.name, "x"), "name = file stem: '%s'", e.experiment.name);
    CHECK(e.experiment.seed == 0 && !strcmp(e.experiment.output_dir, "runs"), "experiment defaults");
    CHECK(!strcmp(e.device.select, ""), "device default");
    CHECK(!strcmp(e.encoder.arch, "resnet18") && e.encoder.size == 224, "encoder size = arch default: %d",
          e.encoder.size);
    CHECK(e.data.format == MOVL_DATA_NPZ && e.data.num_classes == 0 && e.data.val_fraction == 0.1 &&
              e.data.test_fraction == 0.2 && e.data.max_train == 0 && e.data.max_eval == 0,
          "data defaults");
    CHECK(e.prompt.type == MOVL_PROMPT_PADDING && e.prompt.size == 30 && e.prompt.init == MOVL_PROMPT_INIT_ZERO &&
              e.prompt.init_std == 0.01 && !e.prompt.sigmoid,
          "prompt defaults");
    CHECK(e.head.type == MOVL_HEAD_LINEAR && e.head.init == MOVL_HEAD_INIT_LP, "movl: head linear, init lp");
    CHECK(e.loss.discrepancy == MOVL_DISC_FEATURE_MSE && e.loss.lambda == 0.1 && e.loss.temperature == 1,
          "movl: feature_mse, lambda 0.1");
    CHECK(e.train.epochs == 10 && e.train.batch_size == 32 && e.train.lp_epochs == 30 &&
              e.train.schedule == MOVL_SCHED_COSINE && e.train.warmup_steps == 0 && e.train.milestones.n == 0 &&
              e.train.gamma == 0.1,
          "train defaults");
    CHECK(e.train.prompt.optimizer == MOVL_OPT_SGD && e.train.prompt.lr == 40 && e.train.prompt.momentum == 0.9 &&
              !e.train.prompt.nesterov && e.train.prompt.weight_decay == 0,
          "prompt group defaults (Bahng)");
    CHECK(e.train.head.optimizer == MOVL_OPT_ADAM && e.train.head.lr == 1e-3, "head group defaults");
    CHECK(e.eval.select_metric == MOVL_METRIC_AUC && e.eval.batch_size == 64, "eval defaults");
    CHECK(e.output.save_prompt_png == 1 && e.output.checkpoint_every == 0, "output defaults");
    CHECK(e.sweep.n == 0 && e.sweep.mode == MOVL_SWEEP_GRID, "no sweep");

    /* Defaults that depend on the method. */
    expect_ok("vp", base_ini("vp", ""), NULL, 0, &e);
    CHECK(e.head.type == MOVL_HEAD_FLM && e.head.init == MOVL_HEAD_INIT_ZERO && e.loss.discrepancy == MOVL_DISC_NONE,
          "vp: flm, zero, none");
    expect_ok("vp_then_lp", base_ini("vp_then_lp", ""), NULL, 0, &e);
    CHECK(e.head.type == MOVL_HEAD_FLM && e.head.init == MOVL_HEAD_INIT_ZERO, "vp_then_lp: flm, zero");
    const char *linear_methods[] = {"lp", "vp_lp", "lp_then_vp"};
    for (int i = 0; i < 3; i++) {
        expect_ok(linear_methods[i], base_ini(linear_methods[i], ""), NULL, 0, &e);
        CHECK(e.head.type == MOVL_HEAD_LINEAR && e.head.init == MOVL_HEAD_INIT_ZERO &&
                  e.loss.discrepancy == MOVL_DISC_NONE,
              "%s: linear, zero, none", linear_methods[i]);
    }
    /* CLIP's text head: zeroshot defaults to it; it needs a clip_* encoder, one "{}" and non-empty names. */
    const char *clip[] = {"encoder.arch=clip_vit_b_32"};
    expect_ok("zeroshot", base_ini("zeroshot", ""), clip, 1, &e);
    CHECK(e.head.type == MOVL_HEAD_CLIP_TEXT && !strcmp(e.head.template_text, "This is a photo of a {}.") &&
              strstr(e.head.vocab, "bpe_simple_vocab_16e6.txt.gz"),
          "zeroshot: clip_text, Bahng's template, the shipped vocabulary");
    expect_ok("vp clip_text", base_ini("vp", "[head]\ntype = clip_text\nclasses = a b, c\n"), clip, 1, &e);
    CHECK(!strcmp(e.head.classes, "a b, c"), "classes kept as written: '%s'", e.head.classes);
    expect_error("zeroshot on resnet18", base_ini("zeroshot", ""), NULL, 0,
                 "x.ini:2: [head] type = clip_text needs a CLIP encoder");
    expect_error("zeroshot with flm", base_ini("zeroshot", "[head]\ntype = flm\n"), clip, 1,
                 "method zeroshot needs [head] type = clip_text");
    expect_error("clip_text on lp", base_ini("lp", "[head]\ntype = clip_text\n"), clip, 1,
                 "[head] type = clip_text needs method vp or vp_then_lp or zeroshot");
    expect_error("no {}", base_ini("zeroshot", "[head]\ntemplate = a photo\n"), clip, 1,
                 "x.ini:9: template 'a photo' must hold \"{}\" exactly once");
    expect_error("two {}", base_ini("zeroshot", "[head]\ntemplate = {} {}\n"), clip, 1, "exactly once");
    expect_error("empty name", base_ini("zeroshot", "[head]\nclasses = a,  ,b\n"), clip, 1,
                 "x.ini:9: class name 2 is empty");
    expect_error("trailing comma", base_ini("zeroshot", "[head]\nclasses = a,b,\n"), clip, 1, "class name 3 is empty");

    /* Prompt size on transformers: patch prompts default to one token; padding keeps 30; a set size stays. */
    const char *vit16[] = {"encoder.arch=vit_b_16", "prompt.type=random_patch"};
    expect_ok("vit_b_16 random_patch", base_ini("vp_lp", ""), vit16, 2, &e);
    CHECK(e.prompt.size == 16, "vit_b_16 random_patch: size %d (expected the patch, 16)", e.prompt.size);
    const char *clip32[] = {"encoder.arch=clip_vit_b_32", "prompt.type=patch"};
    expect_ok("clip_vit_b_32 patch", base_ini("vp_lp", ""), clip32, 2, &e);
    CHECK(e.prompt.size == 32, "clip_vit_b_32 patch: size %d (expected 32)", e.prompt.size);
    const char *vitpad[] = {"encoder.arch=vit_b_32"};
    expect_ok("vit_b_32 padding", base_ini("vp_lp", ""), vitpad, 1, &e);
    CHECK(e.prompt.size == 30, "vit_b_32 padding: size %d (expected 30)", e.prompt.size);
    const char *vitset[] = {"encoder.arch=vit_b_32", "prompt.type=patch", "prompt.size=8"};
    expect_ok("vit_b_32 patch 8", base_ini("vp_lp", ""), vitset, 3, &e);
    CHECK(e.prompt.size == 8, "vit_b_32 patch with size 8: size %d", e.prompt.size);
    const char *cnnpatch[] = {"prompt.type=patch"};
    expect_ok("resnet18 patch", base_ini("vp_lp", ""), cnnpatch, 1, &e);
    CHECK(e.prompt.size == 30, "resnet18 patch: size %d (expected 30)", e.prompt.size);

    /* Method names are case-insensitive and stored canonically; arch too. */
    char text[2048];
    snprintf(text, sizeof text, "[Encoder]\nARCH = ResNet50\nweights = %s\n[data]\nformat = folder\npath = %s\n"
             "[train]\nmethod = MoVL\n", weights, folder);
    expect_ok("case-insensitive names", text, NULL, 0, &e);
    CHECK(!strcmp(e.encoder.arch, "resnet50") && e.train.method == MOVL_METHOD_MOVL && e.encoder.size == 224,
          "canonical arch '%s'", e.encoder.arch);
    CHECK(e.data.format == MOVL_DATA_FOLDER, "folder");
    /* efficientnet_lite2 default size, folder format inferred from a directory. */
    snprintf(text, sizeof text, "[encoder]\narch = efficientnet_lite2\nweights = %s\n[data]\npath = %s\n"
             "[train]\nmethod = lp\n", weights, folder);
    expect_ok("lite2", text, NULL, 0, &e);
    CHECK(e.encoder.size == 260 && e.data.format == MOVL_DATA_FOLDER, "lite2 size %d, format %d", e.encoder.size,
          (int)e.data.format);
    /* Prompt keys are ignored by lp, even when they would not fit the image. */
    expect_ok("lp ignores prompt", base_ini("lp", "[encoder]\nsize = 32\n[prompt]\nsize = 500\n"), NULL, 0, &e);
}

static void test_overrides(void)
{
    movl_experiment e;
    const char *ov1[] = {"loss.lambda=0.5", " train.epochs = 3 ", "EVAL.Batch_Size=16", "device.select=\"cpu\""};
    expect_ok("overrides", base_ini("movl", "[loss]\nlambda = 0.2\n"), ov1, 4, &e);
    CHECK(e.loss.lambda == 0.5, "override beats the file: %g", e.loss.lambda);
    CHECK(e.train.epochs == 3, "override of a default");
    CHECK(e.eval.batch_size == 16, "override into a section the file lacks");
    CHECK(!strcmp(e.device.select, "cpu"), "quotes removed: '%s'", e.device.select);
    /* An override of the method changes the method-dependent defaults. */
    const char *ov2[] = {"train.method=vp_lp"};
    expect_ok("method override", base_ini("movl", ""), ov2, 1, &e);
    CHECK(e.train.method == MOVL_METHOD_VP_LP && e.head.init == MOVL_HEAD_INIT_ZERO &&
              e.loss.discrepancy == MOVL_DISC_NONE,
          "vp_lp defaults after override");
    /* The last override of a key wins. */
    const char *ov3[] = {"loss.lambda=0.5", "loss.lambda=0.7"};
    expect_ok("repeat", base_ini("movl", ""), ov3, 2, &e);
    CHECK(e.loss.lambda == 0.7, "last override wins");
    /* A required key may come from an override alone. */
    char text[2048];
    snprintf(text, sizeof text, "[encoder]\narch = resnet18\nweights = %s\n[data]\npath = %s\n", weights, npz);
    const char *ov4[] = {"train.method=lp"};
    expect_ok("method from override", text, ov4, 1, &e);
    CHECK(e.train.method == MOVL_METHOD_LP, "method lp");
}

static void test_errors(void)
{
    char text[2048];
    /* Unknown key, with its line and a suggestion. */
    expect_error("typo key", base_ini("movl", "[loss]\nlamda = 0.1\n"), NULL, 0,
                 "x.ini:9: unknown key 'lamda' in [loss] (did you mean 'lambda'?)");
    expect_error("wrong section", base_ini("movl", "lambda = 0.1\n"), NULL, 0,
                 "x.ini:8: unknown key 'lambda' in [train] (it belongs in [loss])");
    expect_error("no guess", base_ini("movl", "[loss]\nfrobnicate = 1\n"), NULL, 0,
                 "x.ini:9: unknown key 'frobnicate' in [loss]");
    expect_error("typo section", base_ini("movl", "[trian]\nepochs = 3\n"), NULL, 0,
                 "x.ini:8: unknown section [trian] (did you mean [train]?)");
    expect_error("negative lr", base_ini("movl", "head_lr = -0.1\n"), NULL, 0,
                 "x.ini:8: [train] head_lr = -0.1 is out of range (expected > 0)");
    expect_error("wrong type", base_ini("movl", "epochs = abc\n"), NULL, 0,
                 "x.ini:8: [train] epochs = abc is not an integer");
    expect_error("float for int", base_ini("movl", "epochs = 2.5\n"), NULL, 0, "epochs = 2.5 is not an integer");
    expect_error("bad float", base_ini("movl", "[loss]\nlambda = 0.1x\n"), NULL, 0,
                 "x.ini:9: [loss] lambda = 0.1x is not a number");
    expect_error("bad bool", base_ini("movl", "[prompt]\nsigmoid = maybe\n"), NULL, 0,
                 "[prompt] sigmoid = maybe is not a boolean (expected true or false)");
    expect_error("bad enum", base_ini("movl", "[prompt]\ntype = padd\n"), NULL, 0,
                 "x.ini:9: [prompt] type = padd is not one of: padding, shrink_pad, patch, random_patch, full "
                 "(did you mean 'padding'?)");
    expect_error("bad method", base_ini("vpl", ""), NULL, 0,
                 "x.ini:7: [train] method = vpl is not one of: lp, vp, vp_lp, movl, lp_then_vp, vp_then_lp");
    expect_error("bad arch", "[encoder]\narch = resnet19\n", NULL, 0,
                 "x.ini:2: [encoder] arch = resnet19 is not one of: resnet18, resnet34, resnet50, efficientnet_lite0");
    expect_error("too small size", base_ini("movl", "[encoder]\nsize = 16\n"), NULL, 0,
                 "[encoder] size = 16 is out of range (expected 0 or 32 to 1024)");
    expect_error("fraction", base_ini("movl", "[data]\nval_fraction = 0.95\n"), NULL, 0,
                 "[data] val_fraction = 0.95 is out of range (expected 0 to 0.9)");
    expect_error("momentum 1", base_ini("movl", "prompt_momentum = 1\n"), NULL, 0,
                 "[train] prompt_momentum = 1 is out of range (expected >= 0 and < 1)");
    expect_error("milestones order", base_ini("movl", "schedule = multistep\nmilestones = 5, 3\n"), NULL, 0,
                 "x.ini:9: [train] milestones = 5, 3 is not strictly increasing");

    /* Missing required keys; the line is the section header when it exists. */
    snprintf(text, sizeof text, "[encoder]\narch = resnet18\nweights = %s\n[data]\npath = %s\n[train]\nepochs = 2\n",
             weights, npz);
    expect_error("missing method", text, NULL, 0,
                 "x.ini:6: missing required key 'method' in [train] (expected one of: lp, vp, vp_lp, movl, "
                 "lp_then_vp, vp_then_lp, ff, zeroshot)");
    snprintf(text, sizeof text, "[encoder]\narch = resnet18\n[data]\npath = %s\n[train]\nmethod = lp\n", npz);
    expect_error("missing weights", text, NULL, 0,
                 "x.ini:1: missing required key 'weights' in [encoder] (expected a path)");
    snprintf(text, sizeof text, "[encoder]\narch = resnet18\nweights = %s\n[train]\nmethod = lp\n", weights);
    expect_error("missing data section", text, NULL, 0, "x.ini: missing required key 'path' in [data]");

    /* Missing files. */
    snprintf(text, sizeof text, "[encoder]\narch = resnet18\nweights = %s/none.safetensors\n[data]\npath = %s\n"
             "[train]\nmethod = lp\n", dir, npz);
    expect_error("missing weights file", text, NULL, 0,
                 "x.ini:3: [encoder] weights = ");
    expect_error("missing weights file 2", text, NULL, 0, "none.safetensors cannot be read (No such file or directory");
    snprintf(text, sizeof text, "[encoder]\narch = resnet18\nweights = %s\n[data]\npath = %s/none.npz\n"
             "[train]\nmethod = lp\n", weights, dir);
    expect_error("missing data file", text, NULL, 0, "none.npz cannot be read (No such file or directory)");
    expect_error("duplicate across repeated section", base_ini("lp", "[encoder]\nweights = configs\n"), NULL, 0,
                 "x.ini:9: duplicate key 'weights' in [encoder] (first set on line 3)");
    snprintf(text, sizeof text, "[encoder]\narch = resnet18\nweights = %s\n[data]\npath = %s\n[train]\nmethod = lp\n",
             folder, npz);
    expect_error("weights is a folder", text, NULL, 0, "x.ini:3: [encoder] weights = ");
    expect_error("weights is a folder 2", text, NULL, 0, "a folder, expected a safetensors file");
    snprintf(text, sizeof text, "[encoder]\narch = resnet18\nweights = %s\n[data]\npath = %s\nformat = folder\n"
             "[train]\nmethod = lp\n", weights, npz);
    expect_error("format vs path", text, NULL, 0, "x.ini:6: [data] path = ");
    expect_error("format vs path 2", text, NULL, 0, "is not a folder, but [data] format = folder expects a folder");
    snprintf(text, sizeof text, "[encoder]\narch = resnet18\nweights = %s\n[data]\npath = %s\n[train]\nmethod = lp\n",
             weights, weights);
    expect_error("format not inferable", text, NULL, 0, "x.ini:5: cannot infer [data] format of");

    /* Inconsistent combinations (experiment_rules.c). */
    expect_error("label map with movl", base_ini("movl", "[head]\ntype = ilm\n"), NULL, 0,
                 "x.ini:9: [head] type = ilm needs method vp or vp_then_lp (method movl trains a linear probe");
    expect_error("label map with lp", base_ini("lp", "[head]\ntype = fully\n"), NULL, 0,
                 "[head] type = fully needs method vp or vp_then_lp");
    expect_error("vp with linear", base_ini("vp", "[head]\ntype = linear\n"), NULL, 0,
                 "x.ini:9: [head] type = linear does not fit method vp");
    expect_error("init lp with vp", base_ini("vp", "[head]\ninit = lp\n"), NULL, 0,
                 "x.ini:9: [head] init = lp needs a linear probe, and method vp has none");
    expect_error("init lp with lp", base_ini("lp", "[head]\ninit = lp\n"), NULL, 0,
                 "[head] init = lp needs method movl, vp_lp or ff (method lp trains the probe by LP itself");
    expect_error("kl without movl", base_ini("vp_lp", "[loss]\ndiscrepancy = kl\n"), NULL, 0,
                 "x.ini:9: [loss] discrepancy = kl needs method movl (method vp_lp trains with cross-entropy only");
    expect_error("plain_ce with vp", base_ini("vp", "[loss]\ndiscrepancy = plain_ce\n"), NULL, 0,
                 "[loss] discrepancy = plain_ce needs method movl");
    expect_error("multistep", base_ini("movl", "schedule = multistep\n"), NULL, 0,
                 "x.ini:8: [train] schedule = multistep needs [train] milestones");
    expect_error("nesterov adam", base_ini("movl", "head_nesterov = true\n"), NULL, 0,
                 "x.ini:8: [train] head_nesterov = true needs head_optimizer = sgd");
    expect_error("nesterov momentum", base_ini("movl", "prompt_nesterov = yes\nprompt_momentum = 0\n"), NULL, 0,
                 "[train] prompt_nesterov = true needs prompt_momentum > 0");
    expect_error("prompt too large", base_ini("vp_lp", "[encoder]\nsize = 64\n[prompt]\nsize = 32\n"), NULL, 0,
                 "x.ini:11: [prompt] size = 32 is too large for a padding prompt at encoder size 64 "
                 "(expected 2*size < 64)");
    expect_error("default prompt vs size", base_ini("vp_lp", "[encoder]\nsize = 48\n"), NULL, 0,
                 "x.ini:9: [prompt] size = 30 is too large for a padding prompt at encoder size 48");
    expect_error("patch", base_ini("movl", "[encoder]\nsize = 32\n[prompt]\ntype = patch\nsize = 33\n"), NULL, 0,
                 "[prompt] size = 33 is too large for a patch prompt at encoder size 32 (expected size <= 32)");
    expect_error("fractions", base_ini("movl", "[data]\nval_fraction = 0.5\ntest_fraction = 0.5\n"), NULL, 0,
                 "x.ini:10: [data] val_fraction + test_fraction = 1 leaves no training data");
    expect_error("rlm classes", base_ini("vp", "[head]\ntype = rlm\n[data]\nnum_classes = 1001\n"), NULL, 0,
                 "x.ini:11: [data] num_classes = 1001 is more than the 1000 source classes");
    expect_error("name", base_ini("movl", "[experiment]\nname = a/b\n"), NULL, 0,
                 "x.ini:9: [experiment] name = 'a/b' is not usable as a folder name");

    /* Structure errors the line scan or iniparser catch. */
    expect_error("duplicate", base_ini("movl", "[loss]\nlambda = 0.1\nLambda = 0.2\n"), NULL, 0,
                 "x.ini:10: duplicate key 'lambda' in [loss] (first set on line 9)");
    expect_error("outside section", "seed = 1\n[train]\nmethod = lp\n", NULL, 0,
                 "x.ini:1: key 'seed' is outside any section");
    expect_error("syntax", base_ini("movl", "epochs 3\n"), NULL, 0,
                 "x.ini:8: syntax error: 'epochs 3' (expected [section] or key = value)");
    /* The earliest error in the file is the one reported. */
    expect_error("first error", base_ini("movl", "[loss]\nlambda = -1\n[trian]\n"), NULL, 0,
                 "x.ini:9: [loss] lambda = -1 is out of range");
    {
        movl_experiment e;
        char err[MOVL_ERRLEN];
        snprintf(text, sizeof text, "%s/no_such.ini", dir);
        CHECK(movl_experiment_load(text, NULL, 0, 0, &e, err) == MOVL_ERR_INPUT &&
                  strstr(err, "no_such.ini: cannot open experiment file (No such file or directory)"),
              "missing INI: '%s'", err);
    }

    /* Overrides: syntax, unknown names, bad values, and rules at an override. */
    const char *bad1[] = {"loss.lambda"};
    expect_error("override no =", base_ini("movl", ""), bad1, 1,
                 "-s loss.lambda: bad override (expected section.key=value");
    const char *bad2[] = {"lambda=0.1"};
    expect_error("override no section", base_ini("movl", ""), bad2, 1,
                 "-s lambda=0.1: bad override (expected section.key=value");
    const char *bad3[] = {"loss.lamda=0.1"};
    expect_error("override unknown key", base_ini("movl", ""), bad3, 1,
                 "-s loss.lamda=0.1: unknown key 'lamda' in [loss] (did you mean 'lambda'?)");
    const char *bad4[] = {"trian.epochs=3"};
    expect_error("override unknown section", base_ini("movl", ""), bad4, 1,
                 "-s trian.epochs=3: unknown section [trian] (did you mean [train]?)");
    const char *bad5[] = {"train.head_lr=-1"};
    expect_error("override bad value", base_ini("movl", ""), bad5, 1,
                 "-s train.head_lr=-1: [train] head_lr = -1 is out of range (expected > 0)");
    const char *bad6[] = {"loss.lambda=0.3", "head.type=ilm"};
    expect_error("override breaks a rule", base_ini("movl", ""), bad6, 2,
                 "-s head.type=ilm: [head] type = ilm needs method vp or vp_then_lp");
    const char *bad7[] = {"train.method=vp"};
    expect_error("method override vs file", base_ini("movl", "[head]\ninit = lp\n"), bad7, 1,
                 "x.ini:9: [head] init = lp needs a linear probe, and method vp has none");
    const char *bad8[] = {".x=1"};
    expect_error("override empty section", base_ini("movl", ""), bad8, 1, "-s .x=1: bad override");

    /* [sweep]: keys validated against the schema, values per element. */
    expect_error("sweep key typo", base_ini("movl", "[sweep]\nloss.lamda = 0.1, 0.2\n"), NULL, 0,
                 "x.ini:9: unknown key 'loss.lamda' in [sweep] (did you mean 'loss.lambda'?)");
    expect_error("sweep section typo", base_ini("movl", "[sweep]\nlos.lambda = 0.1, 0.2\n"), NULL, 0,
                 "x.ini:9: unknown section 'los' in [sweep] key 'los.lambda' (did you mean 'loss.lambda'?)");
    expect_error("sweep bad value", base_ini("movl", "[sweep]\nloss.lambda = 0.1, -1\n"), NULL, 0,
                 "x.ini:9: loss.lambda value '-1' is out of range (expected >= 0)");
    expect_error("sweep empty value", base_ini("movl", "[sweep]\nloss.lambda = 0.1,,0.3\n"), NULL, 0,
                 "loss.lambda has an empty value");
    expect_error("sweep bare key", base_ini("movl", "[sweep]\nlambda = 0.1\n"), NULL, 0,
                 "unknown key 'lambda' in [sweep] (expected mode, or section.key = v1, v2, ...)");
    expect_error("sweep list key", base_ini("movl", "[sweep]\ntrain.milestones = 3\n"), NULL, 0,
                 "train.milestones cannot be swept");
    expect_error("sweep zip", base_ini("movl", "[sweep]\nmode = zip\nloss.lambda = 0.1, 0.2\ntrain.epochs = 1\n"),
                 NULL, 0, "x.ini:9: [sweep] mode = zip needs value lists of equal length");
    expect_error("sweep mode", base_ini("movl", "[sweep]\nmode = cartesian\n"), NULL, 0,
                 "[sweep] mode = cartesian is not one of: grid, zip");
    expect_error("sweep name", base_ini("movl", "[sweep]\nexperiment.name = a, b\n"), NULL, 0,
                 "x.ini:9: experiment.name cannot be swept (the sweep names and places its points' run folders");
    expect_error("sweep output_dir", base_ini("movl", "[sweep]\nexperiment.output_dir = a, b\n"), NULL, 0,
                 "experiment.output_dir cannot be swept");
    expect_error("sweep device", base_ini("movl", "[sweep]\ndevice.select = 0, 1\n"), NULL, 0,
                 "device.select cannot be swept (give devices with movl sweep --devices");
    expect_error("sweep repeated value", base_ini("movl", "[sweep]\nloss.lambda = 0.1, 0.5 , 0.1\n"), NULL, 0,
                 "x.ini:9: loss.lambda lists the value '0.1' twice");
    char long_value[400];
    snprintf(long_value, sizeof long_value, "[sweep]\ndata.path = a.npz, %0200d.npz\n", 0);
    expect_error("sweep long value", base_ini("movl", long_value), NULL, 0,
                 "...' is too long for a sweep (at most 127 characters)");
}

static void test_sweep(void)
{
    movl_experiment e;
    expect_ok("sweep", base_ini("movl", "[sweep]\nmode = zip\nloss.lambda = 0.1, 0.5\ntrain.method = vp_lp, movl\n"),
              NULL, 0, &e);
    CHECK(e.sweep.mode == MOVL_SWEEP_ZIP && e.sweep.n == 2, "sweep entries %d", e.sweep.n);
    CHECK(e.sweep.n == 2 && !strcmp(e.sweep.entries[0].key, "loss.lambda") &&
              !strcmp(e.sweep.entries[0].values, "0.1, 0.5") && !strcmp(e.sweep.entries[1].key, "train.method"),
          "sweep stored raw");
    const char *ov[] = {"sweep.train.epochs=1, 2"};
    expect_ok("sweep override", base_ini("movl", "[sweep]\nloss.lambda = 0.1, 0.5\n"), ov, 1, &e);
    CHECK(e.sweep.n == 2 && !strcmp(e.sweep.entries[1].key, "train.epochs"), "sweep entry from an override");
}

static void test_round_trip(void)
{
    /* Many non-default values, strings that need quoting, a list, a sweep. */
    char text[4096];
    snprintf(text, sizeof text,
             "[experiment]\nname = \"run;1 #a\"\nseed = 1234567\noutput_dir = out dir\n"
             "[device]\nselect = 0:1\n"
             "[encoder]\narch = efficientnet_lite3\nweights = %s\n"
             "[data]\npath = %s\nnum_classes = 7\nval_fraction = 0.15\ntest_fraction = 0.3\nmax_train = 500\n"
             "max_eval = 100\n"
             "[prompt]\ntype = shrink_pad\nsize = 12\ninit = normal\ninit_std = 0.001\nsigmoid = on\n"
             "[head]\ninit = random\n"
             "[loss]\ndiscrepancy = kl\nlambda = 0.30000000000000004\ntemperature = 2.5\n"
             "[train]\nmethod = movl\nepochs = 7\nbatch_size = 17\nlp_epochs = 3\nschedule = multistep\n"
             "warmup_steps = 100\nmilestones = 2, 5\ngamma = 0.5\nprompt_optimizer = sgd\nprompt_lr = 1e-7\n"
             "prompt_nesterov = true\nprompt_weight_decay = 5e-4\nhead_optimizer = sgd\nhead_lr = 0.123456789\n"
             "head_momentum = 0\n"
             "[eval]\nselect_metric = acc\nbatch_size = 8\n"
             "[output]\nsave_prompt_png = false\ncheckpoint_every = 50\n"
             "[sweep]\nmode = zip\nloss.lambda = 0.1, 0.2\nprompt.type = padding, full\n",
             weights, npz);
    const char *ov[] = {"experiment.seed=99"};
    movl_experiment a, b, c;
    expect_ok("round trip source", text, ov, 1, &a);
    CHECK(!strcmp(a.experiment.name, "run;1 #a") && a.experiment.seed == 99 && a.encoder.size == 280 &&
              a.prompt.sigmoid == 1 && a.train.milestones.n == 2 && a.train.milestones.v[1] == 5 &&
              a.loss.lambda == 0.30000000000000004 && a.sweep.n == 2,
          "source values");
    char path[512], path2[512], err[MOVL_ERRLEN];
    snprintf(path, sizeof path, "%s/resolved.ini", dir);
    CHECK(movl_experiment_write(&a, path, "resolved from x.ini\nwith -s experiment.seed=99", err) == MOVL_OK, "write: %s",
          err);
    CHECK(movl_experiment_load(path, NULL, 0, 0, &b, err) == MOVL_OK, "reload: %s", err);
    CHECK(memcmp(&a, &b, sizeof a) == 0, "reloaded resolved config is identical");
    /* Writing the reloaded struct gives the same text (and no temp files stay behind). */
    snprintf(path2, sizeof path2, "%s/resolved2.ini", dir);
    CHECK(movl_experiment_write(&b, path2, "resolved from x.ini\nwith -s experiment.seed=99", err) == MOVL_OK, "write 2");
    char t1[8192] = {0}, t2[8192] = {0};
    FILE *f1 = fopen(path, "r"), *f2 = fopen(path2, "r");
    if (f1 && f2) {
        size_t n1 = fread(t1, 1, sizeof t1 - 1, f1), n2 = fread(t2, 1, sizeof t2 - 1, f2);
        CHECK(n1 == n2 && !memcmp(t1, t2, n1), "resolved text is stable");
        CHECK(strstr(t1, "# resolved from x.ini\n# with -s experiment.seed=99\n") == t1, "comment header");
        CHECK(strstr(t1, "name = \"run;1 #a\"") && strstr(t1, "size = 280") && strstr(t1, "format = npz") &&
                  strstr(t1, "milestones = 2, 5") && strstr(t1, "prompt_lr = 1e-07") && strstr(t1, "seed = 99") &&
                  strstr(t1, "loss.lambda = \"0.1, 0.2\"") == NULL && strstr(t1, "loss.lambda = 0.1, 0.2"),
              "resolved text has effective values:\n%s", t1);
    }
    if (f1)
        fclose(f1);
    if (f2)
        fclose(f2);
    DIR *d = opendir(dir);
    struct dirent *de;
    int tmps = 0;
    while (d && (de = readdir(d)))
        tmps += strstr(de->d_name, ".tmp") != NULL;
    if (d)
        closedir(d);
    CHECK(tmps == 0, "no temporary files left");

    /* A minimal config resolves every default; its resolved form reloads identically too. */
    expect_ok("minimal", base_ini("vp", ""), NULL, 0, &a);
    CHECK(movl_experiment_write(&a, path, NULL, err) == MOVL_OK, "write minimal");
    CHECK(movl_experiment_load(path, NULL, 0, 0, &c, err) == MOVL_OK, "reload minimal: %s", err);
    CHECK(memcmp(&a, &c, sizeof a) == 0, "minimal round trip identical (name kept: '%s')", c.experiment.name);
    /* Writing into a missing folder fails cleanly. */
    snprintf(path, sizeof path, "%s/no/such/dir/r.ini", dir);
    CHECK(movl_experiment_write(&a, path, NULL, err) == MOVL_ERR_RUN && strstr(err, "r.ini: cannot write (No such file"), "'%s'", err);
}

int main(void)
{
    test_make_tmpdir(dir, sizeof dir, "test_experiment");
    snprintf(weights, sizeof weights, "%s/w.safetensors", dir);
    snprintf(npz, sizeof npz, "%s/d.npz", dir);
    snprintf(folder, sizeof folder, "%s/images", dir);
    touch(weights);
    touch(npz);
    if (mkdir(folder, 0755) != 0) {
        perror("mkdir");
        return 1;
    }

    test_schema_api();
    test_examples();
    test_defaults();
    test_overrides();
    test_errors();
    test_shift_keys();
    test_sweep();
    test_round_trip();

    test_remove_tree(dir);
    return test_finish();
}
