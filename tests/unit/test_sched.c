/* Unit tests for src/sched: real child processes under the slot scheduler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "hops/sched.h"

#define MAX_TASKS 8

typedef struct {
    const char *const *cmds[MAX_TASKS];
    hops_slots req[MAX_TASKS];
    double timeout[MAX_TASKS];
    int n, next;
    hops_task_end ends[MAX_TASKS];
    int ended[MAX_TASKS];
    char lines[MAX_TASKS][256];
    int order[MAX_TASKS]; /* task id -> index in cmds */
} plan;

static void add(plan *p, const char *const *cmd, unsigned cpu, unsigned gpu, double timeout)
{
    p->cmds[p->n] = cmd;
    p->req[p->n] = (hops_slots){cpu, gpu, 0};
    p->timeout[p->n++] = timeout;
}

static int fill(hops_sched *s, void *ud)
{
    plan *p = ud;
    while (p->next < p->n && hops_sched_fits(s, &p->req[p->next])) {
        hops_task_options o = HOPS_TASK_OPTIONS_INIT;
        const char *const *argv = p->cmds[p->next];
        int id;
        while (argv[o.argc])
            o.argc++;
        o.argv = argv;
        o.request = p->req[p->next];
        o.timeout = p->timeout[p->next];
        assert_int_equal(hops_sched_submit(s, &o, &id), HOPS_OK);
        p->order[id] = p->next++;
    }
    return p->next == p->n ? 1 : 0;
}

static int stop_on_line; /* hops_sched_stop a task at its first report line */

static void on_line(hops_sched *s, int task, const char *line, size_t len, void *ud)
{
    plan *p = ud;
    snprintf(p->lines[p->order[task]], sizeof p->lines[0], "%.*s", (int)len, line);
    if (stop_on_line)
        assert_int_equal(hops_sched_stop(s, task), HOPS_OK);
}

static void on_end(hops_sched *s, int task, const hops_task_end *e, void *ud)
{
    plan *p = ud;
    (void)s;
    p->ends[p->order[task]] = *e;
    p->ends[p->order[task]].reason = NULL;
    p->ended[p->order[task]]++;
}

static void run_plan(plan *p, hops_slots pool, double grace)
{
    hops_sched_options o = HOPS_SCHED_OPTIONS_INIT;
    hops_sched *s;
    o.slots = pool;
    o.kill_grace = grace;
    o.fill = fill;
    o.on_line = on_line;
    o.on_end = on_end;
    o.ud = p;
    assert_int_equal(hops_sched_new(&s, &o), HOPS_OK);
    assert_int_equal(hops_sched_run(s), HOPS_OK);
    hops_sched_free(s);
    for (int i = 0; i < p->n; i++)
        assert_int_equal(p->ended[i], 1);
}

/* A slot goes to the next task the moment one ends, while a slow one runs on. */
static void test_slot_reuse_without_barrier(void **state)
{
    (void)state;
    static const char *const slow[] = {"sleep", "0.6", NULL}, *const fast[] = {"sleep", "0.05", NULL};
    plan p;
    memset(&p, 0, sizeof p);
    add(&p, slow, 1, 0, 0);
    for (int i = 0; i < 3; i++)
        add(&p, fast, 1, 0, 0);
    run_plan(&p, (hops_slots){2, 0, 0}, 1);
    for (int i = 1; i < 4; i++)
        assert_int_equal(p.ends[i].exit_code, 0);
    /* Tasks 2 and 3 started after task 1 ended and before the slow one did. */
    assert_true(p.ends[2].start_time >= p.ends[1].end_time - 0.01);
    assert_true(p.ends[3].end_time < p.ends[0].end_time);
    assert_true(p.ends[3].start_time >= p.ends[2].end_time - 0.01);
}

static void test_gpus_and_reports(void **state)
{
    (void)state;
    static const char *const show[] = {
        "sh", "-c", "sleep 0.1; echo \"{\\\"gpus\\\": \\\"$CUDA_VISIBLE_DEVICES\\\"}\" >>\"$HOPS_REPORT\"", NULL};
    plan p, q;
    memset(&p, 0, sizeof p);
    memset(&q, 0, sizeof q);
    add(&p, show, 1, 1, 0);
    add(&p, show, 1, 1, 0);
    add(&p, show, 1, 0, 0);
    unsetenv("CUDA_VISIBLE_DEVICES");
    run_plan(&p, (hops_slots){4, 2, 0}, 1);
    assert_string_equal(p.lines[0], "{\"gpus\": \"0\"}");
    assert_string_equal(p.lines[1], "{\"gpus\": \"1\"}");
    assert_string_equal(p.lines[2], "{\"gpus\": \"\"}");
    /* Inside CUDA_VISIBLE_DEVICES=5,7 the pool's GPUs are 5 and 7. */
    add(&q, show, 1, 1, 0);
    add(&q, show, 1, 1, 0);
    setenv("CUDA_VISIBLE_DEVICES", "5,7", 1);
    run_plan(&q, (hops_slots){2, 2, 0}, 1);
    unsetenv("CUDA_VISIBLE_DEVICES");
    assert_string_equal(q.lines[0], "{\"gpus\": \"5\"}");
    assert_string_equal(q.lines[1], "{\"gpus\": \"7\"}");
}

static void test_timeout_term_then_kill(void **state)
{
    (void)state;
    static const char *const sleeper[] = {"sleep", "10", NULL};
    static const char *const stubborn[] = {"sh", "-c", "trap '' TERM; sleep 10", NULL};
    plan p;
    memset(&p, 0, sizeof p);
    add(&p, sleeper, 1, 0, 0.2);
    add(&p, stubborn, 1, 0, 0.2);
    run_plan(&p, (hops_slots){2, 0, 0}, 0.3);
    assert_true(p.ends[0].timed_out);
    assert_int_equal(p.ends[0].term_signal, SIGTERM);
    assert_true(p.ends[1].timed_out);
    assert_int_equal(p.ends[1].term_signal, SIGKILL); /* it ignored SIGTERM */
    assert_true(p.ends[1].end_time - p.ends[1].start_time < 5);
}

/* hops_sched_stop (early stopping): SIGTERM to the process group, stopped=1. */
static void test_stop(void **state)
{
    (void)state;
    static const char *const beat[] = {"sh", "-c", "echo '{\"step\": 1}' >>\"$HOPS_REPORT\"; sleep 10", NULL};
    plan p;
    memset(&p, 0, sizeof p);
    add(&p, beat, 1, 0, 0);
    stop_on_line = 1;
    run_plan(&p, (hops_slots){1, 0, 0}, 1);
    stop_on_line = 0;
    assert_true(p.ends[0].stopped);
    assert_false(p.ends[0].timed_out);
    assert_int_equal(p.ends[0].term_signal, SIGTERM);
    assert_true(p.ends[0].end_time - p.ends[0].start_time < 5);
}

/* Memory is a slot too: two tasks of 0.6 GiB never share a 1 GiB pool. */
static void test_memory_slots(void **state)
{
    (void)state;
    static const char *const nap[] = {"sleep", "0.1", NULL};
    plan p;
    memset(&p, 0, sizeof p);
    add(&p, nap, 1, 0, 0);
    add(&p, nap, 1, 0, 0);
    p.req[0].mem = p.req[1].mem = 0.6;
    run_plan(&p, (hops_slots){4, 0, 1.0}, 1);
    assert_true(p.ends[1].start_time >= p.ends[0].end_time - 0.01);
}

static void test_submit_errors(void **state)
{
    (void)state;
    hops_sched_options o = HOPS_SCHED_OPTIONS_INIT;
    hops_task_options t = HOPS_TASK_OPTIONS_INIT;
    static const char *const sleeper[] = {"sleep", "0.05", NULL};
    static const char *const missing[] = {"hops-no-such-command-xyz", NULL};
    hops_sched *s;
    int id;
    o.slots = (hops_slots){1, 0, 0};
    assert_int_equal(hops_sched_new(&s, &o), HOPS_OK);
    t.argv = sleeper;
    t.argc = 2;
    t.request = (hops_slots){2, 0, 0};
    assert_int_equal(hops_sched_submit(s, &t, &id), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "could never run"));
    t.request = (hops_slots){1, 0, 0};
    t.argv = missing;
    t.argc = 1;
    assert_int_equal(hops_sched_submit(s, &t, &id), HOPS_ENOTFOUND);
    assert_int_equal(hops_sched_running(s), 0); /* its slot is free again */
    t.argv = sleeper;
    t.argc = 2;
    assert_int_equal(hops_sched_submit(s, &t, &id), HOPS_OK);
    assert_int_equal(hops_sched_submit(s, &t, &id), HOPS_EBUSY);
    hops_sched_free(s); /* kills what runs */
    o.executor = HOPS_EXECUTOR_LOCAL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_reuse_without_barrier),
        cmocka_unit_test(test_gpus_and_reports),
        cmocka_unit_test(test_timeout_term_then_kill),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_memory_slots),
        cmocka_unit_test(test_submit_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
