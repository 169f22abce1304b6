/* Unit tests for src/core: errors, strings, files, ids, progress bar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/core.h"

static char tmpdir[256];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hops-unit-core.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    return hops__rm_rf(tmpdir) == HOPS_OK ? 0 : -1;
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(hops_strerror(HOPS_OK), "success");
    assert_string_equal(hops_strerror(HOPS_ENOTFOUND), "not found");
    assert_string_equal(hops_err_name(HOPS_ECORRUPT), "HOPS_ECORRUPT");
    assert_string_equal(hops_strerror(-9999), "unknown error");
    assert_int_equal(HOPS_ESTATE, -15); /* numbers are never reassigned */
    assert_int_equal(HOPS_ETIMEDOUT, -16);
}

static void *other_thread(void *arg)
{
    (void)arg;
    return (void *)(hops_last_error()[0] == '\0' ? "empty" : "leaked");
}

static void test_last_error_is_thread_local(void **state)
{
    pthread_t t;
    void *res;
    (void)state;
    assert_int_equal(hops__error(HOPS_EINVAL, "bad thing %d", 42), HOPS_EINVAL);
    assert_string_equal(hops_last_error(), "bad thing 42");
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, &res);
    assert_string_equal((const char *)res, "empty");
    hops__error_prefix(HOPS_EIO, "while %s", "saving");
    assert_string_equal(hops_last_error(), "while saving: bad thing 42");
    hops_error_clear();
    assert_string_equal(hops_last_error(), "");
}

static void test_buf_and_strings(void **state)
{
    hops_buf b = HOPS_BUF_INIT;
    char small[4];
    (void)state;
    for (int i = 0; i < 1000; i++)
        hops__buf_printf(&b, "%d,", i);
    assert_true(b.len > 2000);
    assert_memory_equal(b.data, "0,1,2,", 6);
    char *s = hops__buf_detach(&b);
    assert_null(b.data);
    free(s);
    assert_int_equal(hops__strlcpy(small, "abc", sizeof small), 0);
    assert_int_equal(hops__strlcpy(small, "abcdef", sizeof small), -1);
    assert_string_equal(small, "abc");
    s = hops__aprintf("%s-%d", "x", 7);
    assert_string_equal(s, "x-7");
    free(s);
}

static void test_atomic_write(void **state)
{
    char path[512], *data;
    size_t len;
    (void)state;
    snprintf(path, sizeof path, "%s/a/b/file.json", tmpdir);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/a/b", tmpdir);
    assert_int_equal(hops__mkdir_p(dir, 0755), HOPS_OK);
    assert_int_equal(hops__mkdir_p(dir, 0755), HOPS_OK); /* again: fine */
    assert_int_equal(hops__atomic_write(path, "one", 3), HOPS_OK);
    assert_int_equal(hops__atomic_write(path, "second", 6), HOPS_OK);
    assert_int_equal(hops__read_file(path, &data, &len), HOPS_OK);
    assert_int_equal(len, 6);
    assert_string_equal(data, "second");
    free(data);
    /* No temp file is left beside it. */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_atomic_write_failure_keeps_old_file(void **state)
{
    char path[512], *data;
    struct rlimit old, lim;
    (void)state;
    snprintf(path, sizeof path, "%s/keep.txt", tmpdir);
    assert_int_equal(hops__atomic_write(path, "old", 3), HOPS_OK);
    /* A "disk full": the file-size limit makes the write fail. */
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 16;
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &lim);
    hops_status rc = hops__atomic_write(path, "a much longer replacement text", 30);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(rc, HOPS_EIO);
    assert_non_null(strstr(hops_last_error(), "cannot write"));
    assert_int_equal(hops__read_file(path, &data, NULL), HOPS_OK);
    assert_string_equal(data, "old");
    free(data);
}

static void test_read_missing_and_rm_rf(void **state)
{
    char path[512], *data = NULL;
    (void)state;
    snprintf(path, sizeof path, "%s/nope", tmpdir);
    assert_int_equal(hops__read_file(path, &data, NULL), HOPS_ENOTFOUND);
    assert_int_equal(hops__rm_rf(path), HOPS_OK); /* missing is fine */
    snprintf(path, sizeof path, "%s/tree/x/y", tmpdir);
    assert_int_equal(hops__mkdir_p(path, 0755), HOPS_OK);
    snprintf(path, sizeof path, "%s/tree/x/y/f", tmpdir);
    assert_int_equal(hops__atomic_write(path, "z", 1), HOPS_OK);
    snprintf(path, sizeof path, "%s/tree", tmpdir);
    assert_int_equal(hops__rm_rf(path), HOPS_OK);
    assert_false(hops__is_dir(path));
}

static void test_abspath(void **state)
{
    char *p;
    (void)state;
    p = hops__abspath("/a/./b/../c//d/");
    assert_string_equal(p, "/a/c/d");
    free(p);
    p = hops__abspath("/..");
    assert_string_equal(p, "/");
    free(p);
    p = hops__abspath("rel");
    assert_true(p[0] == '/');
    assert_non_null(strstr(p, "/rel"));
    free(p);
}

static void test_ids_sortable_and_unique(void **state)
{
    enum { N = 2000 };
    static char ids[N][15];
    (void)state;
    for (int i = 0; i < N; i++) {
        hops__make_id(ids[i]);
        assert_int_equal(strlen(ids[i]), 14);
        if (i % 500 == 0)
            usleep(2000);
    }
    for (int i = 1; i < N; i++) {
        assert_true(strcmp(ids[i - 1], ids[i]) < 0); /* strictly increasing within a process */
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    assert_true(strncmp(ids[0], ids[N - 1], 10) < 0);
}

static void test_progress_bar(void **state)
{
    hops_progress p;
    char line[256];
    int fds[2];
    (void)state;
    assert_int_equal(pipe(fds), 0);
    hops__progress_start(&p, fds[1], "rows", 200);
    assert_false(p.enabled); /* a pipe is not a terminal: nothing drawn */
    p.width = 60;
    hops__progress_update(&p, 50);
    hops__progress_render(&p, line, sizeof line);
    assert_non_null(strstr(line, " 25% 50/200"));
    assert_non_null(strstr(line, "rows ["));
    assert_true(strlen(line) <= 60);
    hops__progress_finish(&p);
    close(fds[1]);
    char buf[16];
    assert_int_equal(read(fds[0], buf, sizeof buf), 0); /* nothing was written */
    close(fds[0]);
    hops__progress_start(&p, 1, "count", 0);
    p.done = 7;
    hops__progress_render(&p, line, sizeof line);
    assert_string_equal(line, "count 7");
}

static void test_wall_clock(void **state)
{
    char out[32];
    (void)state;
    assert_true(hops__wall_time() > 1.7e9);
    assert_true(hops__mono_time() > 0);
    hops__format_time(0, out, sizeof out, 1);
    assert_string_equal(out, "-");
    hops__format_time(86400.5, out, sizeof out, 1);
    assert_string_equal(out, "1970-01-02 00:00:00");
}

static void test_json_shortest(void **state)
{
    (void)state;
    json_t *j = json_pack("{s:f, s:f, s:f, s:i, s:f, s:s, s:f}", "a", 0.1, "b", 0.1 + 0.2, "c",
                          1e-7, "d", 42, "e", 3.0, "s", "x 0.10000000000000001 \\\" 7", "n", -2.5e300);
    char *s = hops__json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"a\":0.1,\"b\":0.30000000000000004,\"c\":1e-07,\"d\":42,\"e\":3.0,"
                           "\"s\":\"x 0.10000000000000001 \\\\\\\" 7\",\"n\":-2.5e+300}");
    json_t *back = json_loads(s, 0, NULL);
    assert_true(json_equal(j, back));
    json_decref(back);
    json_decref(j);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_last_error_is_thread_local),
        cmocka_unit_test(test_buf_and_strings),
        cmocka_unit_test_setup_teardown(test_atomic_write, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_atomic_write_failure_keeps_old_file, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_read_missing_and_rm_rf, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_abspath),
        cmocka_unit_test(test_ids_sortable_and_unique),
        cmocka_unit_test(test_progress_bar),
        cmocka_unit_test(test_wall_clock),
        cmocka_unit_test(test_json_shortest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
