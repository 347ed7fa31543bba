/* Safetensors reader/writer: round trip through movl_weights_write, exact
 * F16/BF16 decoding from hand-built files, and one bad file per validation
 * rule, each of which must fail with MOVL_ERR_INPUT and a message naming the
 * file and the problem. Needs no OpenCL device. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "test_util.h"
#include "core/weights.h"

static char dir[64];

static void path_in_dir(char *buf, size_t len, const char *name) { snprintf(buf, len, "%s/%s", dir, name); }

static int same_bits(const float *a, const float *b, size_t n) { return n == 0 || memcmp(a, b, n * sizeof *a) == 0; }

static void put_u64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes a raw safetensors-like file: 8-byte length (hlen_field), header text,
 * then data. Returns the number of bytes written. */
static size_t write_raw(const char *path, uint64_t hlen_field, const char *header, const void *data, size_t dlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    unsigned char len[8];
    put_u64le(len, hlen_field);
    size_t total = fwrite(len, 1, 8, f) + fwrite(header, 1, strlen(header), f);
    if (dlen)
        total += fwrite(data, 1, dlen, f);
    fclose(f);
    return total;
}

/* Same, with the header length field equal to the header text length. */
static void write_file(const char *path, const char *header, const void *data, size_t dlen)
{
    write_raw(path, strlen(header), header, data, dlen);
}

/* Number of directory entries in dir whose name starts with prefix. */
static int count_entries(const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_round_trip(void)
{
    char path[128];
    path_in_dir(path, sizeof path, "round.safetensors");
    float a[2 * 3 * 4], b[7], scalar = -2.5f, big[1000];
    test_fill_uniform(a, 24, -3.f, 3.f);
    test_fill_uniform(b, 7, -1.f, 1.f);
    test_fill_uniform(big, 1000, -100.f, 100.f);
    b[0] = -0.0f;
    b[1] = INFINITY;
    b[2] = 1e-42f; /* subnormal */
    movl_tensor_out out[] = {
        {"conv.weight", 3, {2, 3, 4}, a},
        {"bias", 1, {7}, b},
        {"scalar", 0, {0}, &scalar},
        {"empty", 2, {0, 5}, NULL},
        {"layer.\"quoted\"\\name", 4, {10, 1, 10, 10}, big},
    };
    char err[MOVL_ERRLEN] = "";
    int rc = movl_weights_write(path, out, 5, "{\"format\":\"pt\",\"note\":\"test\"}", err);
    CHECK(rc == MOVL_OK, "write: %s", err);
    CHECK(count_entries("round.safetensors.tmp") == 0, "a temp file was left behind");

    /* header length is a multiple of 8 and the data block follows directly */
    FILE *f = fopen(path, "rb");
    unsigned char len[8] = {0};
    CHECK(f && fread(len, 1, 8, f) == 8, "read header length");
    if (f)
        fclose(f);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | len[i];
    CHECK(hlen % 8 == 0, "header length %llu is not a multiple of 8", (unsigned long long)hlen);

    movl_weights *w = NULL;
    rc = movl_weights_open(path, &w, err);
    CHECK(rc == MOVL_OK, "open: %s", err);
    if (rc != MOVL_OK)
        return;
    CHECK(strcmp(movl_weights_path(w), path) == 0, "path");
    CHECK(movl_weights_count(w) == 5, "count %zu, expected 5 (metadata must be skipped)", movl_weights_count(w));
    for (size_t i = 0; i < 5; i++) {
        const movl_tensor_info *t = movl_weights_at(w, i);
        CHECK(t && strcmp(t->name, out[i].name) == 0, "tensor %zu name", i);
        CHECK(t && t->dtype == MOVL_DTYPE_F32 && t->ndim == out[i].ndim, "tensor %zu dtype/ndim", i);
        size_t numel = 1;
        for (int d = 0; t && d < t->ndim; d++) {
            CHECK(t->shape[d] == out[i].shape[d], "tensor %zu dim %d", i, d);
            numel *= (size_t)out[i].shape[d];
        }
        CHECK(t && t->numel == numel && t->nbytes == 4 * numel, "tensor %zu numel %zu", i, numel);
        CHECK(t && t->offset >= 8 + hlen && t->offset % 4 == 0, "tensor %zu offset is absolute and aligned", i);
        float got[1000];
        memset(got, 0xff, sizeof got);
        rc = movl_weights_read_f32(w, out[i].name, got, numel, err);
        CHECK(rc == MOVL_OK, "read %s: %s", out[i].name, err);
        CHECK(same_bits(out[i].data, got, numel), "tensor %s differs after the round trip", out[i].name);
    }
    CHECK(movl_weights_at(w, 5) == NULL, "index past the end gives NULL");
    CHECK(movl_weights_find(w, "bias") == movl_weights_at(w, 1), "find");
    CHECK(movl_weights_find(w, "nope") == NULL, "find absent");
    const char *note = movl_weights_metadata(w, "note"), *fmt = movl_weights_metadata(w, "format");
    CHECK(note && !strcmp(note, "test") && fmt && !strcmp(fmt, "pt"), "metadata values: '%s' '%s'", note ? note : "",
          fmt ? fmt : "");
    CHECK(movl_weights_metadata(w, "absent") == NULL, "absent metadata key gives NULL");

    /* contract errors of read_f32: absent tensor, wrong element count */
    err[0] = '\0';
    rc = movl_weights_read_f32(w, "missing.weight", big, 3, err);
    CHECK(rc == MOVL_ERR_INPUT && strstr(err, path) && strstr(err, "'missing.weight' not found"),
          "missing tensor: rc %d, message '%s'", rc, err);
    err[0] = '\0';
    rc = movl_weights_read_f32(w, "conv.weight", big, 25, err);
    CHECK(rc == MOVL_ERR_INPUT && strstr(err, path) && strstr(err, "'conv.weight' has 24 elements") &&
              strstr(err, "expected 25"),
          "numel mismatch: rc %d, message '%s'", rc, err);
    movl_weights_close(w);

    /* overwriting an existing file goes through the temp file too */
    rc = movl_weights_write(path, out, 2, NULL, err);
    CHECK(rc == MOVL_OK, "rewrite: %s", err);
    rc = movl_weights_open(path, &w, err);
    CHECK(rc == MOVL_OK && movl_weights_count(w) == 2, "rewritten file has 2 tensors: %s", err);
    CHECK(rc != MOVL_OK || movl_weights_metadata(w, "note") == NULL, "a file without metadata has no metadata keys");
    movl_weights_close(w);
    CHECK(count_entries("round.safetensors.tmp") == 0, "a temp file was left behind after rewrite");

    /* writer rejects bad inputs and leaves nothing behind */
    char bad[128];
    path_in_dir(bad, sizeof bad, "bad_write.safetensors");
    movl_tensor_out dup[] = {{"x", 1, {7}, b}, {"x", 1, {7}, b}};
    CHECK(movl_weights_write(bad, dup, 2, NULL, err) == MOVL_ERR_INPUT && strstr(err, "'x'"), "duplicate names: %s",
          err);
    movl_tensor_out neg[] = {{"x", 1, {-1}, b}};
    CHECK(movl_weights_write(bad, neg, 1, NULL, err) == MOVL_ERR_INPUT, "negative dim rejected");
    CHECK(movl_weights_write(bad, out, 1, "{\"n\": 3}", err) == MOVL_ERR_INPUT && strstr(err, "metadata"),
          "non-string metadata rejected: %s", err);
    CHECK(count_entries("bad_write") == 0, "rejected writes left a file behind");
    /* rename onto a directory fails after the temp file was written: the
     * temp file must be removed */
    char isdir[128];
    path_in_dir(isdir, sizeof isdir, "adir.safetensors");
    mkdir(isdir, 0700);
    err[0] = '\0';
    CHECK(movl_weights_write(isdir, out, 2, NULL, err) != MOVL_OK && strstr(err, isdir),
          "rename onto a directory fails with a message naming the file: %s", err);
    CHECK(count_entries("adir.safetensors.tmp") == 0, "failed write left its temp file behind");
    rmdir(isdir);
    char nodir[160];
    path_in_dir(nodir, sizeof nodir, "no/such/dir.safetensors");
    err[0] = '\0';
    CHECK(movl_weights_write(nodir, out, 1, NULL, err) != MOVL_OK && strstr(err, nodir),
          "unwritable path fails with a message naming it: %s", err);
}

/* F16 and BF16 bit patterns with their exact f32 values. */
static void test_half_types(void)
{
    static const uint16_t f16[] = {
        0x3c00, /* 1 */
        0xc000, /* -2 */
        0x3555, /* 0.333251953125 */
        0x7bff, /* 65504, largest half */
        0x0400, /* 2^-14, smallest normal */
        0x0001, /* 2^-24, smallest subnormal */
        0x03ff, /* 1023 * 2^-24, largest subnormal */
        0x8200, /* -2^-15, negative subnormal */
        0x7c00, /* +inf */
        0xfc00, /* -inf */
        0x8000, /* -0 */
        0x7e00, /* quiet NaN */
    };
    const float f16_want[] = {1.0f,
                              -2.0f,
                              0.333251953125f,
                              65504.0f,
                              ldexpf(1.0f, -14),
                              ldexpf(1.0f, -24),
                              ldexpf(1023.0f, -24),
                              -ldexpf(1.0f, -15),
                              INFINITY,
                              -INFINITY,
                              -0.0f,
                              NAN};
    static const uint16_t bf16[] = {0x3f80, 0xc0a0, 0x0001, 0x7f80, 0xff80, 0x4049, 0x8000};
    const uint32_t bf16_want_bits[] = {0x3f800000, 0xc0a00000, 0x00010000, 0x7f800000,
                                       0xff800000, 0x40490000, 0x80000000};
    const float f32v[] = {1.5f, -0.125f};

    /* data block: f16 (24 bytes) | bf16 (14 bytes) | pad 2 | f32 (8 bytes) */
    unsigned char data[48] = {0};
    for (int i = 0; i < 12; i++) {
        data[2 * i] = (unsigned char)f16[i];
        data[2 * i + 1] = (unsigned char)(f16[i] >> 8);
    }
    for (int i = 0; i < 7; i++) {
        data[24 + 2 * i] = (unsigned char)bf16[i];
        data[24 + 2 * i + 1] = (unsigned char)(bf16[i] >> 8);
    }
    for (int i = 0; i < 2; i++) {
        uint32_t u;
        memcpy(&u, &f32v[i], 4);
        for (int k = 0; k < 4; k++)
            data[40 + 4 * i + k] = (unsigned char)(u >> (8 * k));
    }
    char path[128];
    path_in_dir(path, sizeof path, "half.safetensors");
    write_file(path,
               "{\"__metadata__\":{\"a\":\"b\"},"
               "\"h\":{\"dtype\":\"F16\",\"shape\":[3,4],\"data_offsets\":[0,24]},"
               "\"b\":{\"dtype\":\"BF16\",\"shape\":[7],\"data_offsets\":[24,38]},"
               "\"f\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[40,48]}}   ",
               data, sizeof data);
    movl_weights *w = NULL;
    char err[MOVL_ERRLEN] = "";
    int rc = movl_weights_open(path, &w, err);
    CHECK(rc == MOVL_OK, "open hand-built file: %s", err);
    if (rc != MOVL_OK)
        return;
    CHECK(movl_weights_count(w) == 3, "3 tensors");
    const movl_tensor_info *h = movl_weights_find(w, "h"), *b = movl_weights_find(w, "b");
    CHECK(h && h->dtype == MOVL_DTYPE_F16 && h->numel == 12 && h->nbytes == 24, "f16 info");
    CHECK(b && b->dtype == MOVL_DTYPE_BF16 && b->numel == 7 && b->nbytes == 14, "bf16 info");
    float got[12];
    rc = movl_weights_read_f32(w, "h", got, 12, err);
    CHECK(rc == MOVL_OK, "read f16: %s", err);
    for (int i = 0; i < 11; i++)
        CHECK(memcmp(&got[i], &f16_want[i], 4) == 0, "f16 0x%04x -> %.9g, expected %.9g", f16[i], got[i],
              f16_want[i]);
    CHECK(isnan(got[11]), "f16 NaN stays NaN");
    rc = movl_weights_read_f32(w, "b", got, 7, err);
    CHECK(rc == MOVL_OK, "read bf16: %s", err);
    for (int i = 0; i < 7; i++) {
        uint32_t u;
        memcpy(&u, &got[i], 4);
        CHECK(u == bf16_want_bits[i], "bf16 0x%04x -> 0x%08x, expected 0x%08x", bf16[i], u, bf16_want_bits[i]);
    }
    rc = movl_weights_read_f32(w, "f", got, 2, err);
    CHECK(rc == MOVL_OK && same_bits(got, f32v, 2), "read f32: %s", err);
    movl_weights_close(w);

    /* every one of the 65536 half patterns: finite values must equal the
     * mantissa * 2^exponent computed independently with ldexpf */
    unsigned char all[65536 * 2];
    for (uint32_t i = 0; i < 65536; i++) {
        all[2 * i] = (unsigned char)i;
        all[2 * i + 1] = (unsigned char)(i >> 8);
    }
    path_in_dir(path, sizeof path, "allhalf.safetensors");
    write_file(path, "{\"h\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[0,131072]}}", all, sizeof all);
    float *vals = malloc(65536 * sizeof *vals);
    rc = movl_weights_open(path, &w, err);
    CHECK(rc == MOVL_OK && vals, "open all-halves file: %s", err);
    if (rc != MOVL_OK || !vals) {
        free(vals);
        return;
    }
    rc = movl_weights_read_f32(w, "h", vals, 65536, err);
    CHECK(rc == MOVL_OK, "read all halves: %s", err);
    int wrong = 0;
    for (uint32_t i = 0; i < 65536; i++) {
        int e = (int)(i >> 10 & 0x1f), m = (int)(i & 0x3ff);
        float s = (i & 0x8000) ? -1.0f : 1.0f;
        float want = e == 0 ? s * ldexpf((float)m, -24) : e == 31 ? (m ? NAN : s * INFINITY)
                                                                   : s * ldexpf((float)(m + 1024), e - 25);
        int ok = e == 31 && m ? isnan(vals[i]) && (signbit(vals[i]) != 0) == (s < 0)
                              : memcmp(&vals[i], &want, 4) == 0;
        wrong += !ok;
    }
    CHECK(wrong == 0, "%d of 65536 half patterns decoded wrongly", wrong);
    free(vals);
    movl_weights_close(w);
}

/* Opening path must fail with MOVL_ERR_INPUT and a message containing the
 * file name and phrase. */
static void expect_open_error(const char *path, const char *what, const char *phrase)
{
    movl_weights *w = NULL;
    char err[MOVL_ERRLEN] = "";
    int rc = movl_weights_open(path, &w, err);
    CHECK(rc == MOVL_ERR_INPUT && w == NULL, "%s: rc %d, expected MOVL_ERR_INPUT", what, rc);
    CHECK(strstr(err, path) != NULL, "%s: message does not name the file: '%s'", what, err);
    CHECK(strstr(err, phrase) != NULL, "%s: message lacks '%s': '%s'", what, phrase, err);
    CHECK(strchr(err, '\n') == NULL, "%s: message is not one line", what);
    if (w)
        movl_weights_close(w);
}

static void test_bad_files(void)
{
    char p[128];
    unsigned char data[64] = {0};
    const char *good = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}";

    path_in_dir(p, sizeof p, "good.safetensors");
    write_file(p, good, data, 32);
    movl_weights *w = NULL;
    char err[MOVL_ERRLEN];
    CHECK(movl_weights_open(p, &w, err) == MOVL_OK, "the unbroken base file opens: %s", err);
    movl_weights_close(w);

    path_in_dir(p, sizeof p, "cut_data.safetensors");
    write_file(p, good, data, 20); /* tensor b cut after 4 of its 16 bytes */
    expect_open_error(p, "truncated data block", "'b': data_offsets [16, 32] reach past the end of the data block");

    path_in_dir(p, sizeof p, "cut_header.safetensors");
    write_raw(p, strlen(good), "{\"a\":{\"dtype\":\"F32\",\"sha", NULL, 0);
    expect_open_error(p, "truncated header", "truncated");

    path_in_dir(p, sizeof p, "huge_hlen.safetensors");
    write_raw(p, 1ull << 40, good, data, 32);
    expect_open_error(p, "header length larger than the file", "header length 1099511627776 is larger than");

    path_in_dir(p, sizeof p, "tiny.safetensors");
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs("abc", f);
        fclose(f);
    }
    expect_open_error(p, "3-byte file", "too short");

    path_in_dir(p, sizeof p, "empty_header.safetensors");
    write_raw(p, 0, "", NULL, 0);
    expect_open_error(p, "empty header", "not valid JSON");

    path_in_dir(p, sizeof p, "bad_json.safetensors");
    write_file(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},,}", data, 16);
    expect_open_error(p, "invalid JSON", "not valid JSON");

    path_in_dir(p, sizeof p, "trailing.safetensors");
    write_file(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", data, 4);
    expect_open_error(p, "trailing garbage after the header", "unexpected bytes after the object");

    path_in_dir(p, sizeof p, "array.safetensors");
    write_file(p, "[1, 2]", NULL, 0);
    expect_open_error(p, "header is an array", "not an object");

    path_in_dir(p, sizeof p, "dtype.safetensors");
    write_file(p, "{\"n\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data, 16);
    expect_open_error(p, "unknown dtype", "tensor 'n' has unsupported dtype 'I64'");

    path_in_dir(p, sizeof p, "nodtype.safetensors");
    write_file(p, "{\"n\":{\"shape\":[2],\"data_offsets\":[0,8]}}", data, 8);
    expect_open_error(p, "missing dtype", "'n': missing string \"dtype\"");

    path_in_dir(p, sizeof p, "negdim.safetensors");
    write_file(p, "{\"n\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]}}", data, 8);
    expect_open_error(p, "negative dimension", "shape[1] is not a non-negative integer");

    path_in_dir(p, sizeof p, "fracdim.safetensors");
    write_file(p, "{\"n\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", data, 8);
    expect_open_error(p, "fractional dimension", "shape[0] is not a non-negative integer");

    path_in_dir(p, sizeof p, "ndim.safetensors");
    write_file(p, "{\"n\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", data, 4);
    expect_open_error(p, "9 dimensions", "9 dimensions");

    path_in_dir(p, sizeof p, "oob.safetensors");
    write_file(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[48,64]}}", data, 32);
    expect_open_error(p, "offsets out of bounds", "reach past the end of the data block (32 bytes)");

    path_in_dir(p, sizeof p, "reversed.safetensors");
    write_file(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[16,0]}}", data, 32);
    expect_open_error(p, "begin after end", "begin after end");

    path_in_dir(p, sizeof p, "badoffs.safetensors");
    write_file(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", data, 4);
    expect_open_error(p, "one offset", "must be [begin, end]");

    path_in_dir(p, sizeof p, "size.safetensors");
    write_file(p, "{\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", data, 16);
    expect_open_error(p, "offsets/shape size mismatch", "span 16 bytes but shape [2, 3] of F16 needs 12 bytes");

    path_in_dir(p, sizeof p, "overflow.safetensors");
    write_file(p,
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,0]}}",
               data, 16);
    expect_open_error(p, "numel overflow", "too large");

    path_in_dir(p, sizeof p, "overlap.safetensors");
    write_file(p,
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]},"
               "\"c\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
               data, 40);
    expect_open_error(p, "overlapping tensors", "tensors 'a' [0, 16] and 'c' [8, 24] overlap");

    path_in_dir(p, sizeof p, "dup.safetensors");
    write_file(p,
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               data, 8);
    expect_open_error(p, "duplicate name", "'a' appears twice");

    path_in_dir(p, sizeof p, "ctrl.safetensors");
    write_file(p, "{\"a\nb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data, 4);
    expect_open_error(p, "raw newline in a name", "tensor name 'a?b' contains control characters");

    path_in_dir(p, sizeof p, "no_such_file.safetensors");
    expect_open_error(p, "missing file", "cannot open");

    /* empty tensors occupy no bytes, so sharing an offset is no overlap */
    path_in_dir(p, sizeof p, "empties.safetensors");
    write_file(p,
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
               "\"e\":{\"dtype\":\"BF16\",\"shape\":[3,0],\"data_offsets\":[8,8]}}",
               data, 16);
    int rc = movl_weights_open(p, &w, err);
    CHECK(rc == MOVL_OK && movl_weights_find(w, "e") && movl_weights_find(w, "e")->numel == 0,
          "empty tensor inside another's range is accepted: %s", err);
    movl_weights_close(w);
}

/* The converted EfficientNet-Lite0 checkpoint (tools/fetch_weights.sh), when
 * present: the C reader accepts what the Python converter wrote. */
static void test_converted_lite0(void)
{
    const char *path = "weights/efficientnet_lite0.safetensors";
    if (access(path, R_OK) != 0) {
        printf("note: %s absent (tools/fetch_weights.sh), not checked\n", path);
        return;
    }
    movl_weights *w = NULL;
    char err[MOVL_ERRLEN] = "";
    int rc = movl_weights_open(path, &w, err);
    CHECK(rc == MOVL_OK, "open %s: %s", path, err);
    if (rc != MOVL_OK)
        return;
    CHECK(movl_weights_count(w) == 247, "%zu tensors, expected 247", movl_weights_count(w));
    const movl_tensor_info *stem = movl_weights_find(w, "_conv_stem.weight");
    CHECK(stem && stem->ndim == 4 && stem->shape[0] == 32 && stem->shape[1] == 3 && stem->shape[2] == 3 &&
              stem->shape[3] == 3,
          "_conv_stem.weight is [32, 3, 3, 3]");
    size_t total = 0, bad = 0;
    for (size_t i = 0; i < movl_weights_count(w); i++) {
        const movl_tensor_info *t = movl_weights_at(w, i);
        float *buf = malloc(t->numel * sizeof *buf + 1);
        rc = movl_weights_read_f32(w, t->name, buf, t->numel, err);
        CHECK(rc == MOVL_OK, "read %s: %s", t->name, err);
        for (size_t k = 0; rc == MOVL_OK && k < t->numel; k++)
            bad += !isfinite(buf[k]);
        total += t->numel;
        free(buf);
    }
    CHECK(total == 4694024 && bad == 0, "%zu floats (expected 4694024), %zu not finite", total, bad);
    movl_weights_close(w);
}

int main(void)
{
    test_rng_init(test_seed());
    test_make_tmpdir(dir, sizeof dir, "test_weights");
    test_round_trip();
    test_half_types();
    test_bad_files();
    test_remove_tree(dir);
    test_converted_lite0();
    return test_finish();
}
