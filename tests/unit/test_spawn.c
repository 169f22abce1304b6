/* Unit tests for src/core/spawn.c: the one process-spawn helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

static void test_exit_code(void **state)
{
    char *const argv[] = {"sh", "-c", "exit 7", NULL};
    hops_spawn_opts o = {0};
    hops_child c;
    int code, sig;
    (void)state;
    o.argv = argv;
    assert_int_equal(hops__spawn(&c, &o), HOPS_OK);
    assert_int_equal(hops__child_wait(&c, &code, &sig), HOPS_OK);
    hops__child_close(&c);
    assert_int_equal(code, 7);
    assert_int_equal(sig, 0);
}

static void test_signal(void **state)
{
    char *const argv[] = {"sh", "-c", "kill -KILL $$", NULL};
    hops_spawn_opts o = {0};
    hops_child c;
    int code, sig;
    (void)state;
    o.argv = argv;
    assert_int_equal(hops__spawn(&c, &o), HOPS_OK);
    assert_int_equal(hops__child_wait(&c, &code, &sig), HOPS_OK);
    hops__child_close(&c);
    assert_int_equal(sig, SIGKILL);
    assert_int_equal(code, 128 + SIGKILL);
}

static void test_not_found(void **state)
{
    char *const argv[] = {"hops-no-such-program-xyz", NULL};
    hops_spawn_opts o = {0};
    hops_child c;
    (void)state;
    o.argv = argv;
    assert_int_equal(hops__spawn(&c, &o), HOPS_ENOTFOUND);
    assert_non_null(strstr(hops_last_error(), "command not found: hops-no-such-program-xyz"));
    o.argv = NULL;
    assert_int_equal(hops__spawn(&c, &o), HOPS_EINVAL);
}

static void test_own_process_group_and_files(void **state)
{
    char dir[] = "/tmp/hops-unit-spawn.XXXXXX", out[300], err[300], *text;
    char *const argv[] = {"sh", "-c", "echo pgid=$(cut -d' ' -f5 /proc/$$/stat) pid=$$; pwd; echo oops >&2",
                          NULL};
    hops_spawn_opts o = {0};
    hops_child c;
    int code, sig;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/out.log", dir);
    snprintf(err, sizeof err, "%s/err.log", dir);
    o.argv = argv;
    o.cwd = dir;
    o.stdout_path = out;
    o.stderr_path = err;
    o.stdin_null = 1;
    assert_int_equal(hops__spawn(&c, &o), HOPS_OK);
    assert_int_equal(hops__child_wait(&c, &code, &sig), HOPS_OK);
    hops__child_close(&c);
    assert_int_equal(code, 0);
    assert_int_equal(hops__read_file(out, &text, NULL), HOPS_OK);
    char want[64];
    snprintf(want, sizeof want, "pgid=%ld pid=%ld", (long)c.pid, (long)c.pid);
    assert_non_null(strstr(text, want)); /* its own process group */
    assert_non_null(strstr(text, dir));  /* ran in cwd */
    free(text);
    assert_int_equal(hops__read_file(err, &text, NULL), HOPS_OK);
    assert_string_equal(text, "oops\n");
    free(text);
    hops__rm_rf(dir);
}

static void test_capture(void **state)
{
    char *const argv[] = {"printf", "%s", "captured text", NULL};
    char *out = NULL;
    int code = -1;
    (void)state;
    assert_int_equal(hops__run_capture(argv, NULL, &out, &code), HOPS_OK);
    assert_int_equal(code, 0);
    assert_string_equal(out, "captured text");
    free(out);
}

static void test_pipes_and_kept_fd(void **state)
{
    int report[2];
    char cmd[128], buf[64];
    hops_spawn_opts o = {0};
    hops_child c;
    int code, sig;
    (void)state;
    assert_int_equal(pipe(report), 0); /* no O_CLOEXEC: kept explicitly */
    snprintf(cmd, sizeof cmd, "echo to-stdout; echo to-report >&%d", report[1]);
    char *const argv[] = {"sh", "-c", cmd, NULL};
    o.argv = argv;
    o.stdout_pipe = 1;
    o.keep_fds = &report[1];
    o.n_keep_fds = 1;
    assert_int_equal(hops__spawn(&c, &o), HOPS_OK);
    close(report[1]);
    ssize_t n = read(c.stdout_fd, buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "to-stdout\n");
    n = read(report[0], buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "to-report\n");
    assert_int_equal(hops__child_wait(&c, &code, &sig), HOPS_OK);
    hops__child_close(&c);
    close(report[0]);
    assert_true(hops__proc_start_ticks(getpid()) > 0);
    assert_int_equal(hops__proc_start_ticks(c.pid), 0); /* reaped: gone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_code),
        cmocka_unit_test(test_signal),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_own_process_group_and_files),
        cmocka_unit_test(test_capture),
        cmocka_unit_test(test_pipes_and_kept_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
