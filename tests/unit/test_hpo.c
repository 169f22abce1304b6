/* Unit tests for src/hpo/hpo.c: the search driver with in-process objectives
 * (the Python binding's path) and with processes: results, persistence, the
 * max-failures guard, and a resume that finds what an uninterrupted search
 * finds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "hops/hpo.h"

static char dir[256];
static hops_project *proj;

static int setup(void **state)
{
    (void)state;
    unsetenv("HOPS_PROJECT");
    snprintf(dir, sizeof dir, "/tmp/hops-unit-hpo.XXXXXX");
    if (!mkdtemp(dir) || hops_project_init(dir) != HOPS_OK)
        return -1;
    return hops_project_open_at(&proj, dir) == HOPS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hops_project_close(proj);
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

static hops_hpo_spec *spec_of(const char *json)
{
    hops_hpo_spec *s = NULL;
    if (hops_hpo_spec_parse(&s, json, strlen(json)) != HOPS_OK)
        fail_msg("spec: %s", hops_last_error());
    return s;
}

typedef struct {
    int calls;
    int stop_at;   /* return -1 (stop the search) at this call; -1: never */
    int fail_all;
} objective_state;

/* Deterministic: maximum at x = 0.25, y = 3. */
static int objective(hops_run *run, const char *params_json, double *value, const char **reason, void *ud)
{
    objective_state *os = ud;
    json_t *p = json_loads(params_json, 0, NULL);
    double x = json_number_value(json_object_get(p, "x"));
    double y = json_number_value(json_object_get(p, "y"));
    json_decref(p);
    if (os->calls++ == os->stop_at) {
        *reason = "interrupted by the test";
        return -1;
    }
    if (os->fail_all) {
        *reason = "this objective always fails";
        return 1;
    }
    hops_run_log_metric(run, "score", 0, x);
    *value = -(x - 0.25) * (x - 0.25) - (y - 3) * (y - 3);
    return 0;
}

#define DE_SPEC \
    "{\"space\": {\"x\": {\"type\": \"float\", \"range\": [0, 1]}, \"y\": [1, 5]}, \"seed\": 11," \
    " \"sampler\": {\"type\": \"de\", \"population\": 5, \"generations\": 4}, \"metric\": \"score\"}"

static void test_in_process_de(void **state)
{
    (void)state;
    hops_hpo_spec *spec = spec_of(DE_SPEC);
    hops_hpo_options o = HOPS_HPO_OPTIONS_INIT;
    hops_hpo_result res;
    objective_state os = {0, -1, 0};
    char *show = NULL;
    o.spec = spec;
    o.experiment = "de-in-process";
    o.objective = objective;
    o.objective_ud = &os;
    assert_int_equal(hops_hpo_run(proj, &o, &res), HOPS_OK);
    assert_string_equal(res.state, "FINISHED");
    assert_true(res.trials >= 5 && res.trials <= 25);
    assert_int_equal(res.finished, res.trials);
    assert_true(res.best_trial >= 0);
    assert_true(res.best_value <= 0 && res.best_value > -1);
    assert_int_equal(hops_hpo_show_json(proj, "de-in-process", &show), HOPS_OK);
    json_t *doc = json_loads(show, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "FINISHED");
    assert_int_equal(json_array_size(json_object_get(doc, "trials")), (size_t)res.trials);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "best"), "trial")), res.best_trial);
    json_decref(doc);
    hops_free(show);
    /* The same name again is refused: that is what resume is for. */
    assert_int_equal(hops_hpo_run(proj, &o, &res), HOPS_EEXISTS);
    assert_non_null(strstr(hops_last_error(), "hops hpo resume"));
    hops_hpo_spec_free(spec);
}

static void test_resume_finds_the_same_best(void **state)
{
    (void)state;
    hops_hpo_spec *spec = spec_of(DE_SPEC);
    hops_hpo_options o = HOPS_HPO_OPTIONS_INIT;
    hops_hpo_result full, cut, resumed;
    objective_state a = {0, -1, 0}, b = {0, 9, 0}, c = {0, -1, 0};
    o.spec = spec;
    o.objective = objective;
    o.experiment = "uninterrupted";
    o.objective_ud = &a;
    assert_int_equal(hops_hpo_run(proj, &o, &full), HOPS_OK);
    o.experiment = "interrupted";
    o.objective_ud = &b;
    assert_int_equal(hops_hpo_run(proj, &o, &cut), HOPS_OK);
    assert_string_equal(cut.state, "KILLED");
    assert_true(cut.trials < full.trials);
    hops_hpo_options r = HOPS_HPO_OPTIONS_INIT;
    r.objective = objective;
    r.objective_ud = &c;
    assert_int_equal(hops_hpo_resume(proj, "interrupted", &r, &resumed), HOPS_OK);
    assert_string_equal(resumed.state, "FINISHED");
    assert_int_equal(resumed.trials, full.trials);
    /* Finished trials were not rerun: the second session evaluated the rest. */
    assert_int_equal(b.calls - 1 + c.calls, a.calls);
    assert_int_equal(resumed.best_trial, full.best_trial);
    assert_true(resumed.best_value == full.best_value);
    hops_hpo_spec_free(spec);
}

static void test_max_failures(void **state)
{
    (void)state;
    hops_hpo_spec *spec = spec_of("{\"space\": {\"x\": [0.0, 1.0], \"y\": [1, 2]}, \"trials\": 50,"
                                  " \"max_failures\": 3, \"retries\": 1}");
    hops_hpo_options o = HOPS_HPO_OPTIONS_INIT;
    hops_hpo_result res;
    objective_state os = {0, -1, 1};
    o.spec = spec;
    o.experiment = "hopeless";
    o.objective = objective;
    o.objective_ud = &os;
    assert_int_equal(hops_hpo_run(proj, &o, &res), HOPS_ERROR);
    assert_non_null(strstr(hops_last_error(), "max_failures is 3"));
    assert_non_null(strstr(hops_last_error(), "this objective always fails"));
    assert_string_equal(res.state, "FAILED");
    assert_int_equal(os.calls, 3); /* stopped at once, not after 50 trials */
    hops_hpo_spec_free(spec);
}

static void test_process_trials_and_errors(void **state)
{
    (void)state;
    hops_hpo_spec *spec = spec_of("{\"space\": {\"x\": [1, 3]}, \"sampler\": \"grid\", \"metric\": \"v\"}");
    hops_hpo_options o = HOPS_HPO_OPTIONS_INIT;
    hops_hpo_result res;
    static const char *const cmd[] = {
        "sh", "-c", "echo \"{\\\"final\\\": {\\\"v\\\": $(echo $HOPS_PARAMS | tr -dc 0-9)}}\" >>$HOPS_REPORT", NULL};
    o.spec = spec;
    o.experiment = "procs";
    o.argv = cmd;
    o.argc = 3;
    o.slots = (hops_slots){2, 0, 0};
    assert_int_equal(hops_hpo_run(proj, &o, &res), HOPS_OK);
    assert_int_equal(res.finished, 3);
    assert_true(res.best_value == 3);
    /* A trial that needs more than the pool is refused before anything runs. */
    hops_hpo_spec *big = spec_of("{\"space\": {\"x\": [1, 3]}, \"resources\": {\"gpu\": 1}}");
    o.spec = big;
    o.experiment = "too-big";
    assert_int_equal(hops_hpo_run(proj, &o, &res), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "no trial could ever run"));
    /* No command anywhere. */
    o.spec = spec;
    o.argv = NULL;
    o.argc = 0;
    o.experiment = "no-command";
    assert_int_equal(hops_hpo_run(proj, &o, &res), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "no trial command"));
    assert_int_equal(hops_hpo_resume(proj, "procs", &o, &res), HOPS_EINVAL); /* keeps its spec */
    o.spec = NULL;
    assert_int_equal(hops_hpo_resume(proj, "nope", &o, &res), HOPS_ENOTFOUND);
    assert_non_null(strstr(hops_last_error(), "'nope' has no search"));
    hops_hpo_spec_free(big);
    hops_hpo_spec_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_process_de, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_finds_the_same_best, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_trials_and_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
