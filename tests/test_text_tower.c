/* CLIP's text tower and tokenizer against open_clip (tests/golden/make_clip_golden.py, random weights of a
 * small CLIP with the full vocabulary): movl's tokens equal open_clip's for the class prompts, the text
 * embeddings agree to a relative L2 error below 1e-3 (fp32 against float64), the end-token pooling picks
 * each text's own position (texts of different lengths in one batch, and batches smaller than the count),
 * and bad input is refused with the tensor, text or position named. Exit 77 (skip) without PyTorch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/common.h"
#include "core/file_io.h"
#include "core/weights.h"
#include "encoder/text_tower.h"
#include "test_util.h"
#include "text/clip_tokenizer.h"

#define SKIP_CODE 77
#define VOCAB MOVL_SOURCE_DIR "/data/clip/bpe_simple_vocab_16e6.txt.gz"

static char tmpdir[64];

static const char *in_tmp(const char *name)
{
    static char p[2][160];
    static int which;
    which ^= 1;
    snprintf(p[which], sizeof p[which], "%s/%s", tmpdir, name);
    return p[which];
}

static int make_golden(void)
{
    const char *python = getenv("MOVL_PYTHON") ? getenv("MOVL_PYTHON") : "/usr/bin/python3";
    char cmd[1024];
    /* names of 1 to 9 tokens, so the end tokens sit at different positions */
    snprintf(cmd, sizeof cmd,
             "%s %s/tests/golden/make_clip_golden.py %s 11 64 'a photo of a {}.' normal pneumonia "
             "'age-related macular degeneration' 'benign' 'malignant tumour of the breast, stage II' cat",
             python, MOVL_SOURCE_DIR, tmpdir);
    fflush(stdout);
    int st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static cJSON *read_json(const char *path)
{
    char err[MOVL_ERRLEN];
    int missing = 0;
    char *text = movl_read_text(path, (size_t)1 << 26, &missing, err);
    if (!text) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) {
        fprintf(stderr, "%s: not JSON\n", path);
        exit(1);
    }
    return j;
}

/* Relative L2 error against the float64 reference, rounded to float (6e-8 relative, far below the bound). */
static double rel_l2(const float *ref, const float *got, size_t n) { return sqrt(test_nmse(ref, got, n)); }

/* A copy of the golden weights without `drop`, or with `reshape` given one row less. */
static const char *variant(const char *name, const char *drop, const char *reshape)
{
    char err[MOVL_ERRLEN];
    movl_weights *w = NULL;
    if (movl_weights_open(in_tmp("weights.safetensors"), &w, err) != MOVL_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    size_t n = 0;
    while (movl_weights_at(w, n))
        n++;
    movl_tensor_out *out = calloc(n, sizeof *out);
    float **data = calloc(n, sizeof *data);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const movl_tensor_info *t = movl_weights_at(w, i);
        if (drop && !strcmp(t->name, drop))
            continue;
        data[k] = malloc(sizeof(float) * (t->numel ? t->numel : 1));
        movl_weights_read_f32(w, t->name, data[k], t->numel, err);
        out[k].name = t->name;
        out[k].ndim = t->ndim;
        memcpy(out[k].shape, t->shape, sizeof t->shape);
        out[k].data = data[k];
        if (reshape && !strcmp(t->name, reshape))
            out[k].shape[0]--;
        k++;
    }
    const char *path = in_tmp(name);
    CHECK(movl_weights_write(path, out, k, NULL, err) == MOVL_OK, "writing %s: %s", path, err);
    for (size_t i = 0; i < k; i++)
        free(data[i]);
    free(data);
    free(out);
    movl_weights_close(w);
    return path;
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/movl_text_tower_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    int st = make_golden();
    if (st == SKIP_CODE) {
        printf("skipped: PyTorch is not installed\n");
        return SKIP_CODE;
    }
    if (st != 0) {
        fprintf(stderr, "make_clip_golden.py failed (status %d)\n", st);
        return 1;
    }
    movl_device dev;
    test_open_device(&dev);
    char err[MOVL_ERRLEN];
    cJSON *g = read_json(in_tmp("text.json"));
    cJSON *prompts = cJSON_GetObjectItem(g, "prompts"), *tokens = cJSON_GetObjectItem(g, "tokens"),
          *eot_ref = cJSON_GetObjectItem(g, "eot"), *feats = cJSON_GetObjectItem(g, "text_features");
    int k = cJSON_GetArraySize(prompts);

    movl_clip_tokenizer *tok = NULL;
    CHECK(movl_clip_tokenizer_load(VOCAB, &tok, err) == MOVL_OK, "tokenizer: %s", err);
    /* max_batch 4 < 6 texts: two batches, the second partial */
    movl_text_tower *tower = NULL;
    int rc = movl_text_tower_load(&dev, "clip_vit_b_32", in_tmp("weights.safetensors"), 4, &tower, err);
    CHECK(rc == MOVL_OK, "text tower: %s", err);
    if (!tok || !tower)
        return test_finish();
    int ctx = movl_text_tower_context(tower), dim = movl_text_tower_embed_dim(tower);
    CHECK(ctx == 77 && dim == 64 && movl_text_tower_vocab(tower) == 49408, "context %d, embedding %d, vocabulary %d",
          ctx, dim, movl_text_tower_vocab(tower));
    double scale_ref = cJSON_GetObjectItem(g, "logit_scale")->valuedouble;
    CHECK(fabs(movl_text_tower_logit_scale(tower) - scale_ref) < 1e-5 * scale_ref, "logit scale %g, open_clip %g",
          movl_text_tower_logit_scale(tower), scale_ref);

    int32_t *ids = calloc((size_t)k * ctx, sizeof *ids);
    int *eot = calloc((size_t)k, sizeof *eot);
    for (int i = 0; i < k; i++) {
        const char *p = cJSON_GetArrayItem(prompts, i)->valuestring;
        CHECK(movl_clip_tokenize(tok, p, ctx, ids + (size_t)i * ctx, &eot[i], err) == MOVL_OK, "tokenize: %s", err);
        int same = eot[i] == cJSON_GetArrayItem(eot_ref, i)->valueint;
        for (int j = 0; j < ctx; j++)
            same &= ids[(size_t)i * ctx + j] == cJSON_GetArrayItem(cJSON_GetArrayItem(tokens, i), j)->valueint;
        CHECK(same, "tokens of '%s' (end at %d) differ from open_clip's", p, eot[i]);
    }
    float *emb = calloc((size_t)k * dim, sizeof *emb);
    float *ref = calloc((size_t)k * dim, sizeof *ref);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < dim; j++)
            ref[(size_t)i * dim + j] = (float)cJSON_GetArrayItem(cJSON_GetArrayItem(feats, i), j)->valuedouble;
    CHECK(movl_text_tower_encode(tower, k, ids, eot, emb, err) == MOVL_OK, "encode: %s", err);
    for (int i = 0; i < k; i++) {
        double e = rel_l2(ref + (size_t)i * dim, emb + (size_t)i * dim, (size_t)dim);
        printf("text %d (end token at %d): relative L2 error %.2e\n", i, eot[i], e);
        CHECK(e < 1e-3, "text embedding %d: relative L2 error %.2e against open_clip", i, e);
    }
    /* one text alone gives the same embedding (pooling per text, not per batch position) */
    float one[256];
    CHECK(movl_text_tower_encode(tower, 1, ids + (size_t)5 * ctx, eot + 5, one, err) == MOVL_OK, "encode: %s", err);
    CHECK(rel_l2(ref + (size_t)5 * dim, one, (size_t)dim) < 1e-3, "text 5 encoded alone differs");

    /* bad input: an id outside the vocabulary, an end token outside the context */
    ids[3] = 49408;
    rc = movl_text_tower_encode(tower, k, ids, eot, emb, err);
    CHECK(rc == MOVL_ERR_INPUT && strstr(err, "text 0") && strstr(err, "49408"), "bad token refused (got %d '%s')",
          rc, err);
    ids[3] = 1;
    eot[2] = 77;
    rc = movl_text_tower_encode(tower, k, ids, eot, emb, err);
    CHECK(rc == MOVL_ERR_INPUT && strstr(err, "text 2"), "end token outside the context refused (got '%s')", err);
    movl_text_tower_free(tower);

    /* checkpoints missing or mis-shaping a text tensor: named */
    const char *bad[][3] = {{"no_token_embedding.safetensors", "token_embedding.weight", NULL},
                            {"no_ln_final.safetensors", "ln_final.weight", NULL},
                            {"no_proj.safetensors", "text_projection", NULL},
                            {"short_mlp.safetensors", NULL, "transformer.resblocks.1.mlp.c_fc.bias"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = variant(bad[i][0], bad[i][1], bad[i][2]), *name = bad[i][1] ? bad[i][1] : bad[i][2];
        tower = NULL;
        rc = movl_text_tower_load(&dev, "clip_vit_b_32", path, 2, &tower, err);
        CHECK(rc == MOVL_ERR_INPUT && strstr(err, name) && strstr(err, path), "%s refused naming '%s' (got %d '%s')",
              bad[i][0], name, rc, err);
        movl_text_tower_free(tower);
        unlink(path);
    }
    rc = movl_text_tower_load(&dev, "vit_b_32", in_tmp("weights.safetensors"), 2, &tower, err);
    CHECK(rc == MOVL_ERR_INPUT && strstr(err, "clip_"), "a non-CLIP arch is refused (got '%s')", err);

    free(ids);
    free(eot);
    free(emb);
    free(ref);
    cJSON_Delete(g);
    movl_clip_tokenizer_free(tok);
    movl_device_close(&dev);
    const char *files[] = {"weights.safetensors", "text.json", "data.npz", "logits.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(in_tmp(files[i]));
    for (int i = 0; i < 64; i++) {
        char n[32];
        snprintf(n, sizeof n, "test_%d.png", i);
        unlink(in_tmp(n));
    }
    rmdir(tmpdir);
    return test_finish();
}
