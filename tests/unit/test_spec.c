/* Unit tests for src/hpo/spec.c and the slots / executor parsers: defaults,
 * normalization, and errors that name the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "hpo/hpo_internal.h"

#define SPACE "\"space\": {\"x\": [1, 5]}"

static void expect_error(const char *json, const char *needle)
{
    hops_hpo_spec *s = NULL;
    hops_status rc = hops_hpo_spec_parse(&s, json, strlen(json));
    assert_int_equal(rc, HOPS_EPARSE);
    assert_null(s);
    if (!strstr(hops_last_error(), needle))
        fail_msg("error '%s' does not contain '%s'", hops_last_error(), needle);
}

static void test_defaults(void **state)
{
    (void)state;
    const char *j = "{" SPACE "}";
    hops_hpo_spec *s = NULL;
    assert_int_equal(hops_hpo_spec_parse(&s, j, strlen(j)), HOPS_OK);
    assert_int_equal(s->sampler, HOPS__SAMPLER_RANDOM);
    assert_int_equal(s->maximize, 1);
    assert_string_equal(s->metric, "metric");
    assert_int_equal(s->population, 6); /* hops-util-py's */
    assert_int_equal(s->generations, 4);
    assert_int_equal(s->request.cpu, 1);
    assert_null(hops_hpo_spec_name(s));
    char *text = hops_hpo_spec_json(s);
    hops_hpo_spec *again = NULL;
    assert_int_equal(hops_hpo_spec_parse(&again, text, strlen(text)), HOPS_OK);
    char *text2 = hops_hpo_spec_json(again);
    assert_string_equal(text, text2); /* normalized form is a fixed point */
    hops_free(text);
    hops_free(text2);
    hops_hpo_spec_free(again);
    hops_hpo_spec_free(s);
}

static void test_full(void **state)
{
    (void)state;
    const char *j = "{\"name\": \"m\", \"command\": [\"python3\", \"t.py\"], " SPACE ","
                    " \"sampler\": {\"type\": \"de\", \"population\": 8, \"generations\": 2,"
                    " \"mutation\": 0.6, \"crossover\": 0.9, \"mode\": \"generational\"},"
                    " \"direction\": \"min\", \"metric\": \"loss\", \"seed\": 7,"
                    " \"early_stopping\": {\"type\": \"asha\", \"reduction_factor\": 2,"
                    " \"min_resource\": 1, \"max_resource\": 8, \"budget_param\": \"epochs\"},"
                    " \"resources\": {\"cpu\": 2, \"gpu\": 1, \"mem\": 1.5}, \"timeout\": 30,"
                    " \"retries\": 2, \"max_failures\": 3, \"args\": true}";
    hops_hpo_spec *s = NULL;
    assert_int_equal(hops_hpo_spec_parse(&s, j, strlen(j)), HOPS_OK);
    assert_string_equal(hops_hpo_spec_name(s), "m");
    assert_int_equal(s->sampler, HOPS__SAMPLER_DE);
    assert_int_equal(s->de_async, 0);
    assert_int_equal(s->population, 8);
    assert_int_equal(s->maximize, 0);
    assert_string_equal(s->metric, "loss");
    assert_int_equal(s->es, HOPS__ES_ASHA);
    assert_string_equal(s->budget_param, "epochs");
    assert_int_equal(s->request.gpu, 1);
    assert_int_equal(s->retries, 2);
    assert_int_equal(s->args, 1);
    hops_hpo_spec_free(s);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("{}", "space: missing");
    expect_error("{" SPACE ", \"sampler\": \"bayes\"}", "sampler.type: unknown sampler 'bayes'");
    expect_error("{" SPACE ", \"sampler\": {\"type\": \"de\", \"population\": 3}}", "sampler.population: must be between 4");
    expect_error("{" SPACE ", \"sampler\": {\"type\": \"de\", \"mode\": \"sync\"}}", "sampler.mode");
    expect_error("{" SPACE ", \"sampler\": {\"type\": \"de\", \"crossover\": 1.5}}", "sampler.crossover");
    expect_error("{" SPACE ", \"direction\": \"up\"}", "direction: must be");
    expect_error("{" SPACE ", \"early_stopping\": {\"type\": \"hyperband\"}}", "early_stopping.type: unknown rule");
    expect_error("{" SPACE ", \"early_stopping\": {\"type\": \"asha\", \"min_resource\": 9, \"max_resource\": 3}}",
                 "early_stopping.min_resource");
    expect_error("{" SPACE ", \"resources\": {\"cpu\": 0}}", "resources.cpu");
    expect_error("{" SPACE ", \"resources\": {\"tpu\": 1}}", "resources: unknown key 'tpu'");
    expect_error("{" SPACE ", \"retries\": -1}", "retries: must be between 0");
    expect_error("{" SPACE ", \"max_failures\": 0}", "max_failures");
    expect_error("{" SPACE ", \"command\": []}", "command: must be a non-empty list");
    expect_error("{" SPACE ", \"trails\": 5}", "spec: unknown key 'trails'");
    expect_error("{\"space\": {\"lr\": [0.3, 0.1]}}", "space.lr");
    expect_error("{" SPACE ", \"seed\": 1, \"seed\": 2}", "'seed' is given twice");
    expect_error("{\"space\": {\"a\": [1, 1000], \"b\": [1, 1000], \"c\": [1, 1000]}, \"sampler\": \"grid\"}",
                 "the grid has over");
}

static void test_slots(void **state)
{
    (void)state;
    hops_slots s;
    assert_int_equal(hops_slots_parse(&s, "cpu=4,gpu=2,mem=16"), HOPS_OK);
    assert_int_equal(s.cpu, 4);
    assert_int_equal(s.gpu, 2);
    assert_true(s.mem == 16);
    assert_int_equal(hops_slots_parse(&s, "3"), HOPS_OK);
    assert_int_equal(s.cpu, 3);
    assert_int_equal(hops_slots_parse(&s, "gpu=1,mem=0.5"), HOPS_OK);
    assert_int_equal(s.cpu, 0);
    static const char *const bad[] = {"", "cpu=", "cpu=-1", "cpu=1.5", "tpu=2", "cpu=2,", "cpu=x", "cpu=0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(hops_slots_parse(&s, bad[i]), HOPS_EINVAL);
        assert_true(strlen(hops_last_error()) > 0);
    }
    hops_executor_kind k;
    assert_int_equal(hops_executor_parse(&k, "slurm:sbatch"), HOPS_OK);
    assert_int_equal(k, HOPS_EXECUTOR_SLURM_SBATCH);
    assert_int_equal(hops_executor_parse(&k, "kubernetes"), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "unknown executor 'kubernetes'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
