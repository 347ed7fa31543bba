/* The one writer of output files (core/file_io): contents land whole under
 * the target's name, temporary names are unique per process and per open,
 * and every failure leaves no temporary file and names the target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/file_io.h"
#include "test_util.h"

static char dir[256], err[MOVL_ERRLEN];

static const char *in_dir(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

/* The file's bytes, or "" when it cannot be read (a static buffer). */
static const char *contents(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
    return buf;
}

static void test_write_and_replace(void)
{
    const char *path = in_dir("a.txt");
    CHECK(movl_write_file(path, "first\n", 6, err) == MOVL_OK, "write: %s", err);
    CHECK(!strcmp(contents(path), "first\n"), "contents '%s'", contents(path));
    CHECK(movl_write_file(path, "second", 6, err) == MOVL_OK, "rewrite: %s", err);
    CHECK(!strcmp(contents(path), "second"), "replaced contents '%s'", contents(path));
    CHECK(!test_temp_left(path), "temporary file left behind");
    /* the permissions fopen would give: 0666 less the umask */
    mode_t mask = umask(0);
    umask(mask);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask), "mode %o", (unsigned)(st.st_mode & 0777));
    CHECK(movl_write_file(path, NULL, 0, err) == MOVL_OK && stat(path, &st) == 0 && st.st_size == 0,
          "an empty file: %s", err);
}

/* Two writers of one target (two processes storing the same program cache
 * file, here two opens in one process) never share a temporary file. */
static void test_unique_temp_names(void)
{
    const char *path = in_dir("shared.bin");
    char stale[600];
    snprintf(stale, sizeof stale, "%s.tmp.%ld", path, (long)getpid());
    test_write_text(stale, "left by a dead process of this PID");
    movl_out_file a, b;
    CHECK(movl_out_open(&a, path, err) == MOVL_OK, "open a: %s", err);
    CHECK(movl_out_open(&b, path, err) == MOVL_OK, "open b: %s", err);
    CHECK(strcmp(a.tmp, b.tmp) && strcmp(a.tmp, stale) && strcmp(b.tmp, stale), "temporary names %s, %s, %s", a.tmp,
          b.tmp, stale);
    fputs("from a", a.f);
    fputs("from b", b.f);
    CHECK(movl_out_commit(&b, err) == MOVL_OK, "commit b: %s", err);
    CHECK(movl_out_commit(&a, err) == MOVL_OK, "commit a: %s", err);
    CHECK(!strcmp(contents(path), "from a"), "the last commit wins whole: '%s'", contents(path));
    CHECK(!strcmp(contents(stale), "left by a dead process of this PID"), "the stale file was written to");
    remove(stale);
    CHECK(!test_temp_left(path), "temporary file left behind");
}

static void test_abort_keeps_old_file(void)
{
    const char *path = in_dir("keep.txt");
    CHECK(movl_write_file(path, "old", 3, err) == MOVL_OK, "write: %s", err);
    movl_out_file o;
    CHECK(movl_out_open(&o, path, err) == MOVL_OK, "open: %s", err);
    fputs("half of the new", o.f);
    movl_out_abort(&o);
    CHECK(!strcmp(contents(path), "old"), "aborted write changed the file: '%s'", contents(path));
    CHECK(!test_temp_left(path), "abort left its temporary file");
    CHECK(movl_out_open(&o, path, err) == MOVL_OK, "open: %s", err);
    CHECK(movl_out_fail(&o, err) == MOVL_ERR_RUN && strstr(err, path) == err && strstr(err, ": cannot write ("),
          "fail: '%s'", err);
    CHECK(!test_temp_left(path), "fail left its temporary file");
}

static void test_errors(void)
{
    const char *missing = in_dir("no/such/dir/x.txt");
    char want[700];
    snprintf(want, sizeof want, "%s: cannot write (No such file or directory)", missing);
    CHECK(movl_write_file(missing, "x", 1, err) == MOVL_ERR_RUN && !strcmp(err, want), "missing folder: '%s'", err);
    /* written, then renamed onto a folder: the rename fails, the temporary file goes */
    const char *folder = in_dir("a_folder");
    CHECK(mkdir(folder, 0755) == 0, "mkdir %s", folder);
    snprintf(want, sizeof want, "%s: cannot write (Is a directory)", folder);
    CHECK(movl_write_file(folder, "x", 1, err) == MOVL_ERR_RUN && !strcmp(err, want), "onto a folder: '%s'", err);
    CHECK(!test_temp_left(folder), "failed rename left its temporary file");
    rmdir(folder);
    /* a name too long for the temporary name (the error line is cut at MOVL_ERRLEN) */
    char longname[5000];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    err[0] = 0;
    CHECK(movl_write_file(longname, "x", 1, err) == MOVL_ERR_RUN && !strncmp(err, longname, 100),
          "long name: '%.100s'", err);
}

int main(void)
{
    test_make_tmpdir(dir, sizeof dir, "file_io");
    test_write_and_replace();
    test_unique_temp_names();
    test_abort_keeps_old_file();
    test_errors();
    test_remove_tree(dir);
    return test_finish();
}
