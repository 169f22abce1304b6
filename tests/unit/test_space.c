/* Unit tests for src/hpo/space.c: search-space parsing (hops' shapes and
 * hops-util-py's), errors that name the field, and decoding points. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "hpo/hpo_internal.h"

static hops_space *parse_ok(const char *json)
{
    hops_space *s = NULL;
    hops_status rc = hops_space_parse(&s, json, strlen(json));
    if (rc != HOPS_OK)
        fail_msg("parse failed: %s", hops_last_error());
    return s;
}

static void expect_error(const char *json, const char *needle)
{
    hops_space *s = (hops_space *)&s;
    hops_status rc = hops_space_parse(&s, json, strlen(json));
    assert_int_equal(rc, HOPS_EPARSE);
    assert_null(s);
    if (!strstr(hops_last_error(), needle))
        fail_msg("error '%s' does not contain '%s'", hops_last_error(), needle);
}

static void test_types(void **state)
{
    (void)state;
    hops_space *s = parse_ok("{\"layers\": {\"type\": \"int\", \"range\": [1, 8]},"
                             " \"lr\": {\"type\": \"float\", \"range\": [0.0001, 0.1], \"log\": true},"
                             " \"drop\": {\"type\": \"float\", \"range\": [0, 0.5]},"
                             " \"opt\": {\"type\": \"categorical\", \"values\": [\"adam\", \"sgd\"]},"
                             " \"bs\": {\"type\": \"discrete\", \"values\": [16, 32, 64]}}");
    assert_int_equal(hops_space_dims(s), 5);
    assert_string_equal(hops_space_name(s, 0), "layers");
    assert_int_equal(hops_space_type(s, 0), HOPS_PARAM_INT);
    assert_int_equal(hops_space_type(s, 1), HOPS_PARAM_FLOAT);
    assert_int_equal(hops_space_type(s, 3), HOPS_PARAM_CATEGORICAL);
    assert_int_equal(hops_space_type(s, 4), HOPS_PARAM_DISCRETE);
    hops_space_free(s);
}

static void test_hops_util_py_shapes(void **state)
{
    (void)state;
    hops_space *s = parse_ok("{\"kernel\": [2, 8], \"lr\": [0.01, 0.3], \"act\": [\"relu\", \"tanh\"],"
                             " \"pool\": [\"INTEGER\", [2, 4]], \"d\": [\"DISCRETE\", [1, 5, 9]],"
                             " \"c\": [\"CATEGORICAL\", [\"x\"]], \"f\": [\"DOUBLE\", [1, 2]]}");
    assert_int_equal(hops_space_type(s, 0), HOPS_PARAM_INT);
    assert_int_equal(hops_space_type(s, 1), HOPS_PARAM_FLOAT);
    assert_int_equal(hops_space_type(s, 2), HOPS_PARAM_CATEGORICAL);
    assert_int_equal(hops_space_type(s, 3), HOPS_PARAM_INT);
    assert_int_equal(hops_space_type(s, 4), HOPS_PARAM_DISCRETE);
    assert_int_equal(hops_space_type(s, 5), HOPS_PARAM_CATEGORICAL);
    assert_int_equal(hops_space_type(s, 6), HOPS_PARAM_FLOAT);
    hops_space_free(s);
}

static void test_errors_name_the_field(void **state)
{
    (void)state;
    expect_error("{\"lr\": {\"type\": \"float\", \"range\": [0.1, 0.01]}}", "space.lr");
    expect_error("{\"lr\": {\"type\": \"float\", \"range\": [0.1, 0.1]}}", "lo must be below hi");
    expect_error("{\"n\": {\"type\": \"int\", \"range\": [5, 1]}}", "space.n: range [5, 1]");
    expect_error("{\"n\": {\"type\": \"int\", \"range\": [1.5, 3]}}", "space.n: an int range needs integer");
    expect_error("{\"x\": {\"type\": \"quantum\", \"range\": [1, 3]}}", "space.x: unknown type 'quantum'");
    expect_error("{\"opt\": {\"type\": \"categorical\", \"values\": []}}", "space.opt: values is empty");
    expect_error("{\"opt\": []}", "space.opt: the list is empty");
    expect_error("{\"lr\": 1, \"lr\": 2}", "space.lr: defined twice");
    expect_error("{\"lr\": {\"type\": \"float\", \"range\": [0, 1], \"log\": true}}", "space.lr: a log range needs lo > 0");
    expect_error("{\"b\": {\"type\": \"discrete\", \"values\": [1, \"x\"]}}", "space.b: discrete values must be numbers");
    expect_error("{\"x\": {\"type\": \"int\"}}", "space.x: needs \"range\"");
    expect_error("{\"x\": {\"type\": \"int\", \"range\": [1, 2], \"step\": 1}}", "space.x: unknown key 'step'");
    expect_error("{}", "space is empty");
    expect_error("[1, 2]", "space must be an object");
    expect_error("{\"a=b\": [1, 2]}", "bad parameter name");
    expect_error("{\"x\": [\"WHATEVER\", [1, 2]]}", "space.x: unknown type 'WHATEVER'");
    expect_error("not json", "not JSON");
}

static void test_decode(void **state)
{
    (void)state;
    hops_space *s = parse_ok("{\"n\": [1, 4], \"lr\": {\"type\": \"float\", \"range\": [0.001, 1], \"log\": true},"
                             " \"opt\": [\"a\", \"b\", \"c\"]}");
    double lo[] = {0, 0, 0}, hi[] = {1, 1, 1}, mid[] = {0.5, 0.5, 0.5};
    json_t *o = hops__space_decode(s, lo);
    assert_int_equal(json_integer_value(json_object_get(o, "n")), 1);
    assert_true(fabs(json_real_value(json_object_get(o, "lr")) - 0.001) < 1e-15);
    assert_string_equal(json_string_value(json_object_get(o, "opt")), "a");
    json_decref(o);
    o = hops__space_decode(s, hi);
    assert_int_equal(json_integer_value(json_object_get(o, "n")), 4);
    assert_true(json_real_value(json_object_get(o, "lr")) == 1.0);
    assert_string_equal(json_string_value(json_object_get(o, "opt")), "c");
    json_decref(o);
    o = hops__space_decode(s, mid); /* log scale: the geometric middle */
    assert_true(fabs(json_real_value(json_object_get(o, "lr")) - sqrt(0.001)) < 1e-12);
    assert_string_equal(json_string_value(json_object_get(o, "opt")), "b");
    json_decref(o);
    /* Every choice is reachable and equally wide. */
    for (size_t k = 0; k < 4; k++) {
        double u[] = {hops__unit_of_index(k, 4), 0, 0};
        o = hops__space_decode(s, u);
        assert_int_equal(json_integer_value(json_object_get(o, "n")), (json_int_t)k + 1);
        json_decref(o);
    }
    hops_space_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_hops_util_py_shapes),
        cmocka_unit_test(test_errors_name_the_field),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
