/* Unit tests for src/run: recording, report lines, filters, queries,
 * the trial-side reporter and reaping dead runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "hops/run.h"
#include "run/run_internal.h"

static char dir[256];
static hops_project *proj;

static int setup(void **state)
{
    (void)state;
    unsetenv("HOPS_PROJECT");
    snprintf(dir, sizeof dir, "/tmp/hops-unit-run.XXXXXX");
    if (!mkdtemp(dir) || hops_project_init(dir) != HOPS_OK)
        return -1;
    return hops_project_open_at(&proj, dir) == HOPS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hops_project_close(proj);
    proj = NULL;
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

static json_t *list(const char *filter, const char *sort)
{
    hops_runs_query q = HOPS_RUNS_QUERY_INIT;
    char *text = NULL;
    q.filter = filter;
    q.sort = sort;
    assert_int_equal(hops_runs_list_json(proj, &q, &text), HOPS_OK);
    json_t *j = json_loads(text, 0, NULL);
    hops_free(text);
    assert_non_null(j);
    return j;
}

static hops_run *start(const char *exp, const char *lr)
{
    hops_kv params[] = {{"lr", lr}, {"opt", "adam"}};
    hops_run_options o = HOPS_RUN_OPTIONS_INIT;
    hops_run *r;
    o.experiment = exp;
    o.params = params;
    o.n_params = 2;
    assert_int_equal(hops_run_start(&r, proj, &o), HOPS_OK);
    return r;
}

static void test_record_and_query(void **state)
{
    (void)state;
    hops_run *r = start("e1", "0.1");
    assert_int_equal(strlen(hops_run_id(r)), 14);
    assert_string_equal(hops_run_params_json(r), "{\"lr\":0.1,\"opt\":\"adam\"}");
    for (int i = 0; i < 100; i++)
        assert_int_equal(hops_run_log_metric(r, "loss", i, 1.0 / (i + 1)), HOPS_OK);
    assert_int_equal(hops_run_log_final(r, "acc", 0.75), HOPS_OK);
    assert_int_equal(hops_run_log_final(r, "acc", 0.8), HOPS_OK); /* last one wins */
    assert_int_equal(hops_run_end(r, HOPS_RUN_FINISHED, 0, 0, NULL), HOPS_OK);
    assert_int_equal(hops_run_end(r, HOPS_RUN_FINISHED, 0, 0, NULL), HOPS_ESTATE);
    assert_int_equal(hops_run_log_metric(r, "loss", 1, 1), HOPS_ESTATE);

    json_t *runs = list(NULL, NULL);
    assert_int_equal(json_array_size(runs), 1);
    json_t *run = json_array_get(runs, 0);
    assert_string_equal(json_string_value(json_object_get(run, "state")), "FINISHED");
    assert_true(json_real_value(json_object_get(json_object_get(run, "metrics"), "acc")) == 0.8);
    assert_true(json_real_value(json_object_get(json_object_get(run, "metrics"), "loss")) == 0.01);
    assert_true(json_real_value(json_object_get(json_object_get(run, "params"), "lr")) == 0.1);
    json_decref(runs);

    char *text;
    assert_int_equal(hops_run_metrics_json(proj, hops_run_id(r), "loss", &text), HOPS_OK);
    json_t *doc = json_loads(text, 0, NULL);
    hops_free(text);
    json_t *pts = json_object_get(json_object_get(doc, "metrics"), "loss");
    assert_int_equal(json_array_size(pts), 100);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(pts, 99), 0)), 99);
    json_decref(doc);
    hops_run_free(r);
}

static void test_ingest_lines(void **state)
{
    (void)state;
    hops_run *r = start(NULL, "1");
    const char *good[] = {
        "{\"step\": 1, \"metrics\": {\"loss\": 0.5, \"acc\": 0.1}}\n",
        "{\"step\": 2, \"metrics\": {\"loss\": NaN, \"acc\": Infinity}}",
        "{\"step\": 3, \"metrics\": {\"loss\": \"-Infinity\"}}\r\n",
        "{\"metrics\": {\"loss\": 0.25}}", /* no step: the next one (4) */
        "{\"final\": {\"acc\": 0.9}}",
        "{\"final\": 0.5}", /* a bare number: hops-util-py's "metric" */
        "{\"step\": 5, \"metrics\": {\"note\": \"say NaN\"}, \"x\": \"NaN inside a string\"}",
    };
    const char *bad[] = {
        "", "not json", "[1,2]", "{}", "{\"step\": 1.5, \"metrics\": {\"a\": 1}}",
        "{\"step\": 1, \"metrics\": {\"a\": \"high\"}}", "{\"step\": 1, \"metrics\": [1]}",
        "{\"metrics\": {\"\": 1}}", "{\"final\": \"x\"}", "{\"step\": 1, \"step\": 2, \"metrics\": {}}",
        "{\"step\": 1, \"metrics\": {\"ok\": 1, \"bad\": true}}",
        "{\"metrics\": {\"\xff\xfe\": 1}}",
    };
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(hops_run_ingest_line(r, good[i], strlen(good[i])), HOPS_OK);
    /* The largest step, then one without a step: no overflow (fuzzer find). */
    const char *big = "{\"step\": 9223372036854775807, \"metrics\": {\"big\": 1}}";
    const char *after = "{\"metrics\": {\"big\": 2}}";
    assert_int_equal(hops_run_ingest_line(r, big, strlen(big)), HOPS_OK);
    assert_int_equal(hops_run_ingest_line(r, after, strlen(after)), HOPS_OK);
    /* The last good-looking line has a string metric: refused as a whole. */
    assert_int_equal(hops_run_ingest_line(r, good[6], strlen(good[6])), HOPS_EPARSE);
    for (size_t i = 0; i < HOPS_ARRAY_LEN(bad); i++) {
        assert_int_equal(hops_run_ingest_line(r, bad[i], strlen(bad[i])), HOPS_EPARSE);
        assert_true(hops_last_error()[0] != '\0');
    }
    /* A NUL byte after a bare NaN: still refused (fuzzer find). */
    static const char nul_line[] = "{\"metrics\":{\"a\":NaN}}\0garbage";
    assert_int_equal(hops_run_ingest_line(r, nul_line, sizeof nul_line - 1), HOPS_EPARSE);
    assert_int_equal(hops_run_log_metric(r, "\xff", 1, 1.0), HOPS_EINVAL);
    assert_int_equal(hops_run_end(r, HOPS_RUN_FINISHED, 0, 0, NULL), HOPS_OK);
    char *text;
    assert_int_equal(hops_run_metrics_json(proj, hops_run_id(r), NULL, &text), HOPS_OK);
    json_t *doc = json_loads(text, 0, NULL);
    hops_free(text);
    json_t *loss = json_object_get(json_object_get(doc, "metrics"), "loss");
    json_t *acc = json_object_get(json_object_get(doc, "metrics"), "acc");
    assert_int_equal(json_array_size(loss), 4);
    assert_string_equal(json_string_value(json_array_get(json_array_get(loss, 1), 1)), "NaN");
    assert_string_equal(json_string_value(json_array_get(json_array_get(loss, 2), 1)), "-Infinity");
    assert_int_equal(json_integer_value(json_array_get(json_array_get(loss, 3), 0)), 4);
    assert_string_equal(json_string_value(json_array_get(json_array_get(acc, 1), 1)), "Infinity");
    assert_null(json_object_get(json_object_get(doc, "metrics"), "ok")); /* all or nothing */
    json_decref(doc);
    json_t *runs = list(NULL, NULL);
    json_t *m = json_object_get(json_array_get(runs, 0), "metrics");
    assert_true(json_real_value(json_object_get(m, "acc")) == 0.9);   /* final wins */
    assert_true(json_real_value(json_object_get(m, "metric")) == 0.5);
    json_decref(runs);
    hops_run_free(r);
}

static void test_filters_and_sort(void **state)
{
    (void)state;
    const char *lrs[] = {"0.1", "0.01", "0.001"};
    const double accs[] = {0.8, 0.95, 0.9};
    for (int i = 0; i < 3; i++) {
        hops_run *r = start(i < 2 ? "a" : "b", lrs[i]);
        hops_run_log_final(r, "acc", accs[i]);
        hops_run_end(r, HOPS_RUN_FINISHED, 0, 0, NULL);
        hops_run_free(r);
    }
    hops_run *nan_run = start("b", "1");
    hops_run_log_final(nan_run, "acc", NAN);
    hops_run_end(nan_run, HOPS_RUN_FAILED, 1, 0, "x");
    hops_run_free(nan_run);

    json_t *j = list("metrics.acc>0.85", NULL);
    assert_int_equal(json_array_size(j), 2);
    json_decref(j);
    j = list("metrics.acc >= 0.9 and experiment = 'b'", NULL);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    j = list("params.lr=0.01", NULL);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    j = list("state != FINISHED", NULL);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    j = list("metrics.`acc`>=0.95 and params.`opt`=adam", NULL);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    j = list("params.opt=\"adam\" and metrics.missing>1", NULL);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);

    j = list(NULL, "metrics.acc desc");
    assert_true(json_real_value(json_object_get(json_object_get(json_array_get(j, 0), "metrics"), "acc")) == 0.95);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(j, 3), "metrics"), "acc")), "NaN");
    json_decref(j);
    j = list("metrics.acc<inf and metrics.acc<1e999 and metrics.acc>-Infinity", NULL);
    assert_int_equal(json_array_size(j), 3); /* the NaN run matches nothing */
    json_decref(j);
    j = list("state = NOSUCHSTATE", "metrics.acc"); /* sorting nothing (fuzzer find) */
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
    j = list(NULL, "metrics.acc");
    assert_true(json_real_value(json_object_get(json_object_get(json_array_get(j, 0), "metrics"), "acc")) == 0.8);
    json_decref(j);

    hops_runs_query q = HOPS_RUNS_QUERY_INIT;
    char *text = NULL;
    const char *bad[] = {"metrics.acc >> 1", "= 3", "metrics.acc > ", "a=1 or b=2", "a='x", "a=1 b=2",
                         "metrics.`acc>1"};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(bad); i++) {
        q.filter = bad[i];
        assert_int_equal(hops_runs_list_json(proj, &q, &text), HOPS_EPARSE);
        assert_non_null(strstr(hops_last_error(), "column"));
        assert_null(text);
    }
    q.filter = NULL;
    q.sort = "metrics.acc up";
    assert_int_equal(hops_runs_list_json(proj, &q, &text), HOPS_EPARSE);
}

static void test_resolve_delete_and_abandon(void **state)
{
    (void)state;
    hops_run *r = start("x", "1");
    char id[32], *full = NULL;
    hops__strlcpy(id, hops_run_id(r), sizeof id);
    char *dirpath = hops__strdup(hops_run_dir(r));
    assert_int_equal(hops_run_delete(proj, id), HOPS_ESTATE); /* still running */
    hops_run_free(r); /* never ended: FAILED "abandoned" */
    json_t *j = list(NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "state")), "FAILED");
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(j, 0), "reason")), "abandoned"));
    json_decref(j);
    id[12] = '\0';
    assert_int_equal(hops_run_resolve(proj, id, &full), HOPS_OK);
    hops_free(full);
    assert_int_equal(hops_run_resolve(proj, "zzzz", &full), HOPS_ENOTFOUND);
    assert_int_equal(hops_run_delete(proj, id), HOPS_OK);
    assert_false(hops__is_dir(dirpath));
    assert_int_equal(hops_run_resolve(proj, id, &full), HOPS_ENOTFOUND);
    free(dirpath);
}

static void test_reap_dead_recorder(void **state)
{
    (void)state;
    hops_run *r = start("x", "1");
    hops_run_log_metric(r, "loss", 1, 1.0);
    hops_run_flush(r);
    /* Pretend the recording process died: point the row at a pid that is gone. */
    sqlite3 *db;
    char *path = hops__aprintf("%s/.hops/hops.db", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE runs SET pid = 999999999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(path);
    int n = -1;
    assert_int_equal(hops_runs_reap(proj, &n), HOPS_OK);
    assert_int_equal(n, 1);
    json_t *j = list(NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "state")), "FAILED");
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(j, 0), "reason")), "died"));
    json_decref(j);
    assert_int_equal(hops_runs_reap(proj, &n), HOPS_OK);
    assert_int_equal(n, 0);
    /* The live handle can still end it; the reaper's verdict is overwritten by the truth. */
    assert_int_equal(hops_run_end(r, HOPS_RUN_FINISHED, 0, 0, NULL), HOPS_OK);
    hops_run_free(r);
}

static void test_bad_options(void **state)
{
    hops_run_options o = HOPS_RUN_OPTIONS_INIT;
    hops_kv dup[] = {{"a", "1"}, {"a", "2"}};
    hops_kv empty[] = {{"", "1"}};
    hops_run *r;
    (void)state;
    o.params = dup;
    o.n_params = 2;
    assert_int_equal(hops_run_start(&r, proj, &o), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "given twice"));
    o.params = empty;
    o.n_params = 1;
    assert_int_equal(hops_run_start(&r, proj, &o), HOPS_EINVAL);
    o.n_params = 0;
    o.experiment = "../escape";
    assert_int_equal(hops_run_start(&r, proj, &o), HOPS_EINVAL);
    o.experiment = "..";
    assert_int_equal(hops_run_start(&r, proj, &o), HOPS_EINVAL);
    hops_kv bad_utf8[] = {{"k", "\xc3\x28"}};
    o.experiment = NULL;
    o.params = bad_utf8;
    o.n_params = 1;
    assert_int_equal(hops_run_start(&r, proj, &o), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "UTF-8"));
    o.n_params = 0;
    o.experiment = NULL;
    o.version = 99;
    assert_int_equal(hops_run_start(&r, proj, &o), HOPS_EVERSION);
}

static void test_param_typing(void **state)
{
    (void)state;
    struct { const char *in, *out; } cases[] = {
        {"1", "1"}, {"-3", "-3"}, {"0.5", "0.5"}, {"1e-3", "0.001"}, {"true", "true"},
        {"false", "false"}, {"adam", "\"adam\""}, {"", "\"\""}, {" 1", "\" 1\""},
        {"nan", "\"nan\""}, {"inf", "\"inf\""}, {"1.2.3", "\"1.2.3\""}, {"0x10", "\"0x10\""},
    };
    for (size_t i = 0; i < HOPS_ARRAY_LEN(cases); i++) {
        json_t *v = hops__param_value(cases[i].in);
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
        assert_string_equal(s, cases[i].out);
        free(s);
        json_decref(v);
    }
}

static void test_trial_reporter(void **state)
{
    (void)state;
    char *path = hops__aprintf("%s/report.jsonl", dir), *text;
    unsetenv("HOPS_REPORT");
    assert_int_equal(hops_report_metric("loss", 1, 0.5), HOPS_ENOTFOUND);
    assert_non_null(strstr(hops_last_error(), "hops run"));
    setenv("HOPS_REPORT", path, 1);
    const char *keys[] = {"loss", "we\"ird\\key"};
    double values[] = {NAN, -INFINITY};
    assert_int_equal(hops_report_metric("loss", 1, 0.5), HOPS_OK);
    assert_int_equal(hops_report_step(-2, 2, keys, values), HOPS_OK);
    assert_int_equal(hops_report_final("acc", 0.1), HOPS_OK);
    const char *nokey[] = {""};
    assert_int_equal(hops_report_step(1, 1, nokey, values), HOPS_EINVAL);
    unsetenv("HOPS_REPORT");
    assert_int_equal(hops__read_file(path, &text, NULL), HOPS_OK);
    assert_string_equal(text,
                        "{\"step\":1,\"metrics\":{\"loss\":0.5}}\n"
                        "{\"step\":-2,\"metrics\":{\"loss\":\"NaN\",\"we\\\"ird\\\\key\":\"-Infinity\"}}\n"
                        "{\"final\":{\"acc\":0.1}}\n");
    /* What the reporter writes, the recorder reads. */
    hops_run *r = start(NULL, "1");
    char *line = text, *nl;
    while ((nl = strchr(line, '\n'))) {
        assert_int_equal(hops_run_ingest_line(r, line, (size_t)(nl - line)), HOPS_OK);
        line = nl + 1;
    }
    hops_run_end(r, HOPS_RUN_FINISHED, 0, 0, NULL);
    hops_run_free(r);
    free(text);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_and_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters_and_sort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_delete_and_abandon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reap_dead_recorder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test(test_param_typing),
        cmocka_unit_test_setup_teardown(test_trial_reporter, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
