/* Unit tests for src/serving/rest.c: TF Serving's routes, request bodies
 * (row and columnar, named features and ready vectors, classify/regress
 * examples with context) decoded into the same rows the model's own
 * encodings give, answers in TF Serving's shapes, and every bad request a
 * 400 (404, 405) with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>

#include "serving/serving_internal.h"
#include "serving_fixture.h"

static hops_model *cls, *reg;

static int setup(void **state)
{
    if (fx_setup(state) != 0)
        return -1;
    cls = fx_train(HOPS_MODEL_LOGISTIC, 1);
    reg = fx_train(HOPS_MODEL_LINEAR, 0);
    return 0;
}

static int teardown(void **state)
{
    hops_model_free(cls);
    hops_model_free(reg);
    return fx_teardown(state);
}

static void route_ok(const char *method, const char *url, rest_kind kind, const char *name,
                     int64_t version, const char *label)
{
    rest_route r;
    char err[256] = "";
    int st = hops__rest_route(method, url, &r, err, sizeof err);
    if (st)
        fail_msg("%s %s: %d %s", method, url, st, err);
    assert_int_equal(r.kind, kind);
    assert_string_equal(r.name, name);
    assert_int_equal(r.version, version);
    assert_string_equal(r.label, label);
}

static void route_bad(const char *method, const char *url, int want)
{
    rest_route r;
    char err[256] = "";
    int st = hops__rest_route(method, url, &r, err, sizeof err);
    if (st != want)
        fail_msg("%s %s: got %d (%s), want %d", method, url, st, err, want);
    assert_true(err[0] != '\0');
}

static void test_routes(void **state)
{
    (void)state;
    route_ok("POST", "/v1/models/iris:predict", REST_PREDICT, "iris", 0, "");
    route_ok("POST", "/v1/models/iris/versions/12:classify", REST_CLASSIFY, "iris", 12, "");
    route_ok("POST", "/v1/models/iris/labels/canary:regress", REST_REGRESS, "iris", 0, "canary");
    route_ok("GET", "/v1/models/iris", REST_STATUS, "iris", 0, "");
    route_ok("GET", "/v1/models/a.b-c_d/versions/3", REST_STATUS, "a.b-c_d", 3, "");
    route_ok("GET", "/v1/models/iris/metadata", REST_METADATA, "iris", 0, "");
    route_ok("GET", "/v1/models/iris/labels/stable/metadata", REST_METADATA, "iris", 0, "stable");
    route_ok("GET", "/metrics", REST_METRICS, "", 0, "");
    route_ok("HEAD", "/healthz", REST_HEALTH, "", 0, "");
    route_ok("GET", "/readyz", REST_READY, "", 0, "");

    route_bad("POST", "/v1/models/iris:explode", 400);
    route_bad("POST", "/v1/models/iris:", 400);
    route_bad("POST", "/v1/models/../etc/passwd:predict", 400);
    route_bad("POST", "/v1/models/..:predict", 400);
    route_bad("POST", "/v1/models/.hidden:predict", 400);
    route_bad("POST", "/v1/models/a%2fb:predict", 400);
    route_bad("POST", "/v1/models/:predict", 400);
    route_bad("POST", "/v1/models/iris/versions/0:predict", 400);
    route_bad("POST", "/v1/models/iris/versions/x1:predict", 400);
    route_bad("POST", "/v1/models/iris/versions/99999999999999999999:predict", 400);
    route_bad("POST", "/v1/models/iris/labels/../x:predict", 400);
    route_bad("GET", "/v1/models/iris:predict", 405);
    route_bad("POST", "/v1/models/iris", 405);
    route_bad("DELETE", "/v1/models/iris", 405);
    route_bad("POST", "/metrics", 405);
    route_bad("GET", "/", 404);
    route_bad("GET", "/v2/models/iris", 404);
    route_bad("GET", "/v1/models/iris/versions/1/extra", 404);
    char longname[300];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "/v1/models/", 11);
    memcpy(longname + 250, ":predict", 9);
    route_bad("POST", longname, 400);
}

/* Decode BODY for M; assert it worked and return the rows. */
static rest_input decode_ok(const hops_model *m, rest_kind kind, const char *body)
{
    rest_input in;
    char err[512] = "";
    int st = hops__rest_decode(body, strlen(body), kind, m, &in, err, sizeof err);
    if (st)
        fail_msg("%s -> %d %s", body, st, err);
    return in;
}

static void decode_bad(const hops_model *m, rest_kind kind, const char *body, const char *needle)
{
    rest_input in;
    char err[512] = "";
    int st = hops__rest_decode(body, strlen(body), kind, m, &in, err, sizeof err);
    if (st != 400)
        fail_msg("%s -> %d (%s), want 400", body, st, err);
    assert_null(in.x);
    assert_int_equal(in.n, 0);
    if (!strstr(err, needle))
        fail_msg("%s: message '%s' lacks '%s'", body, err, needle);
}

/* The rows a model's own encodings give for raw values. */
static void expect_row(const hops_model *m, const float *x, double x1, double x2, const char *color)
{
    hops_feature_value v[3];
    float want[16];
    memset(v, 0, sizeof v);
    for (size_t f = 0; f < 3; f++) {
        const char *name = hops_model_feature_name(m, f);
        if (strcmp(name, "x1") == 0) {
            v[f].kind = HOPS_VALUE_NUMBER;
            v[f].number = x1;
        } else if (strcmp(name, "x2") == 0) {
            v[f].kind = HOPS_VALUE_NUMBER;
            v[f].number = x2;
        } else {
            v[f].kind = color ? HOPS_VALUE_TEXT : HOPS_VALUE_NULL;
            v[f].text = color;
        }
    }
    assert_true(hops_model_n_inputs(m) <= 16);
    assert_int_equal(hops_model_encode_row(m, v, want), HOPS_OK);
    for (size_t i = 0; i < hops_model_n_inputs(m); i++)
        assert_true(want[i] == x[i]);
}

static void test_decode_forms(void **state)
{
    (void)state;
    size_t d = hops_model_n_inputs(cls);
    assert_int_equal(d, 6); /* x1, x2, 4 colors */
    rest_input in = decode_ok(
        cls, REST_PREDICT,
        "{\"instances\": [{\"x1\": 1.5, \"x2\": -2, \"color\": \"red\"}, {\"color\": \"blue\", "
        "\"x2\": 0, \"x1\": 3, \"extra\": [1]}]}");
    assert_int_equal(in.n, 2);
    assert_int_equal(in.d, d);
    assert_false(in.columnar);
    expect_row(cls, in.x, 1.5, -2, "red");
    expect_row(cls, in.x + d, 3, 0, "blue");
    hops__rest_input_free(&in);

    /* Columnar, one-element lists (tf.Example style), numbers as text, a
     * number for a category ("3"), an unseen category and a null one. */
    in = decode_ok(cls, REST_PREDICT,
                   "{\"signature_name\": \"serving_default\", \"inputs\": {\"x1\": [1, \"2.5\", "
                   "[4]], \"x2\": [0, 0, 1], \"color\": [3, \"purple\", null]}}");
    assert_int_equal(in.n, 3);
    assert_true(in.columnar);
    expect_row(cls, in.x, 1, 0, "3");
    expect_row(cls, in.x + d, 2.5, 0, "purple");
    expect_row(cls, in.x + 2 * d, 4, 1, NULL);
    hops__rest_input_free(&in);

    /* A ready vector. */
    in = decode_ok(cls, REST_PREDICT, "{\"instances\": [[0.5, 1, 0, 0, 1, 0]]}");
    assert_int_equal(in.n, 1);
    assert_true(in.x[0] == 0.5f && in.x[1] == 1.0f && in.x[4] == 1.0f);
    hops__rest_input_free(&in);
    in = decode_ok(cls, REST_PREDICT, "{\"inputs\": [[0.5, 1, 0, 0, 1, 0], [0,0,0,0,0,0]]}");
    assert_int_equal(in.n, 2);
    assert_true(in.columnar);
    hops__rest_input_free(&in);

    /* classify: context fills what examples lack; examples win. */
    in = decode_ok(cls, REST_CLASSIFY,
                   "{\"context\": {\"color\": \"green\", \"x2\": 7}, \"examples\": [{\"x1\": 1}, "
                   "{\"x1\": 2, \"x2\": 3, \"color\": \"red\"}]}");
    assert_int_equal(in.n, 2);
    expect_row(cls, in.x, 1, 7, "green");
    expect_row(cls, in.x + d, 2, 3, "red");
    hops__rest_input_free(&in);
    in = decode_ok(reg, REST_REGRESS,
                   "{\"examples\": [{\"x1\": 1, \"x2\": 2, \"color\": \"red\"}]}");
    assert_int_equal(in.n, 1);
    hops__rest_input_free(&in);
}

static void test_decode_bad(void **state)
{
    (void)state;
    decode_bad(cls, REST_PREDICT, "", "empty body");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [", "malformed JSON");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x1\": NaN}]}", "malformed JSON");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [[1e999,0,0,0,0,0]]}", "malformed JSON");
    decode_bad(cls, REST_PREDICT, "[1, 2]", "JSON object");
    decode_bad(cls, REST_PREDICT, "{}", "missing \"instances\"");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [], \"inputs\": []}", "not both");
    decode_bad(cls, REST_PREDICT, "{\"instances\": []}", "no rows");
    decode_bad(cls, REST_PREDICT, "{\"instances\": {\"x1\": 1}}", "list of rows");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [[1, 2, 3]]}", "has 3 values");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [[1, 2, 3, 4, 5, \"6\"]]}", "not a number");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [[1, 2, 3, 4, 5, null]]}", "null");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [[1, 2, 3, 4, 5, 1e300]]}", "out of range");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x1\": 1e300, \"x2\": 1}]}", "out of range");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [7]}", "row 0 is a number");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x2\": 1, \"color\": \"red\"}]}",
               "'x1' is missing");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x1\": null, \"x2\": 1}]}", "'x1' is null");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x1\": \"NaN\", \"x2\": 1}]}", "NaN");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x1\": \"inf\", \"x2\": 1}]}", "infinite");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x1\": \"abc\", \"x2\": 1}]}",
               "not a number");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x1\": {}, \"x2\": 1}]}", "object");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x1\": [1, 2], \"x2\": 1}]}",
               "exactly one value");
    decode_bad(cls, REST_PREDICT, "{\"instances\": [{\"x1\": 1, \"x1\": 2, \"x2\": 1}]}",
               "malformed JSON");
    decode_bad(cls, REST_PREDICT, "{\"inputs\": {\"x1\": [1, 2], \"x2\": [1]}}",
               "different lengths");
    decode_bad(cls, REST_PREDICT, "{\"inputs\": {\"x1\": 1}}", "must be a list");
    decode_bad(cls, REST_PREDICT, "{\"inputs\": {\"nothing\": [1]}}", "none of the model");
    decode_bad(cls, REST_PREDICT, "{\"signature_name\": \"other\", \"instances\": [[1]]}",
               "unknown signature_name");
    decode_bad(cls, REST_PREDICT, "{\"signature_name\": 3, \"instances\": [[1]]}",
               "must be a string");
    decode_bad(cls, REST_CLASSIFY, "{\"instances\": []}", "missing \"examples\"");
    decode_bad(cls, REST_CLASSIFY, "{\"examples\": [{\"x1\": 1, \"x2\": 1}], \"context\": 3}",
               "context");
    decode_bad(cls, REST_REGRESS, "{\"examples\": [{\"x1\": 1, \"x2\": 1}]}", "classifier");
    decode_bad(reg, REST_CLASSIFY, "{\"examples\": [{\"x1\": 1, \"x2\": 1}]}", "regression");
    /* Not NUL-terminated: the decoder stays inside LEN. */
    char buf[8] = {'{', '"', 'a', '"', ':', '1', '}', 'x'};
    rest_input in;
    char err[128];
    assert_int_equal(hops__rest_decode(buf, 7, REST_PREDICT, cls, &in, err, sizeof err), 400);
}

static void test_encode(void **state)
{
    (void)state;
    double p[4] = {0.25, 0.75, 0.9, 0.1};
    char *text = hops__rest_encode(REST_PREDICT, 0, cls, p, 2);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    json_t *pred = json_object_get(doc, "predictions");
    assert_int_equal(json_array_size(pred), 2);
    const char *c0 = json_string_value(json_object_get(json_array_get(pred, 0), "classes"));
    /* The class with the larger probability, named as the model names it. */
    assert_string_equal(c0, hops_model_class_name(cls, 1));
    assert_true(json_real_value(
                    json_array_get(json_object_get(json_array_get(pred, 1), "scores"), 0)) == 0.9);
    json_decref(doc);
    free(text);

    text = hops__rest_encode(REST_PREDICT, 1, cls, p, 2);
    doc = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "outputs"), "scores")),
                     2);
    json_decref(doc);
    free(text);

    text = hops__rest_encode(REST_CLASSIFY, 0, cls, p, 2);
    doc = json_loads(text, 0, NULL);
    json_t *r0 = json_array_get(json_object_get(doc, "results"), 0);
    assert_int_equal(json_array_size(r0), 2);
    assert_string_equal(json_string_value(json_array_get(json_array_get(r0, 1), 0)),
                        hops_model_class_name(cls, 1));
    assert_true(json_real_value(json_array_get(json_array_get(r0, 1), 1)) == 0.75);
    json_decref(doc);
    free(text);

    double y[2] = {1.5, -2};
    text = hops__rest_encode(REST_REGRESS, 0, reg, y, 2);
    assert_string_equal(text, "{\"results\":[1.5,-2.0]}");
    free(text);
    text = hops__rest_encode(REST_PREDICT, 1, reg, y, 2);
    assert_string_equal(text, "{\"outputs\":[1.5,-2.0]}");
    free(text);
    text = hops__rest_error_body("bad \"thing\"\n");
    assert_string_equal(text, "{\"error\":\"bad \\\"thing\\\"\\n\"}");
    free(text);
}

/* Decoding + prediction equals hops_model_predict on the same rows. */
static void test_same_as_batch_predict(void **state)
{
    (void)state;
    char *csv = hops__aprintf("%s/rows.csv", fx_dir);
    const char *text = "color,x2,x1\nred,1,0.5\ngreen,-1,2\n3,0,-1\n";
    assert_int_equal(hops__atomic_write(csv, text, strlen(text)), HOPS_OK);
    hops_predict_options po = HOPS_PREDICT_OPTIONS_INIT;
    po.rows_in_json = 1;
    po.threads = 1;
    char *out = NULL;
    assert_int_equal(hops_model_predict(reg, csv, &po, &out), HOPS_OK);
    json_t *doc = json_loads(out, 0, NULL);
    json_t *want = json_object_get(doc, "predictions");
    rest_input in = decode_ok(reg, REST_PREDICT,
                              "{\"instances\": [{\"x1\": 0.5, \"x2\": 1, \"color\": \"red\"}, "
                              "{\"x1\": 2, \"x2\": -1, \"color\": \"green\"}, {\"x1\": -1, "
                              "\"x2\": 0, \"color\": 3}]}");
    double got[3];
    assert_int_equal(hops_model_predict_matrix(reg, in.x, in.n, 1, got), HOPS_OK);
    for (size_t i = 0; i < 3; i++)
        assert_true(fabs(got[i] - json_real_value(json_array_get(want, i))) < 1e-9);
    hops__rest_input_free(&in);
    json_decref(doc);
    hops_free(out);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_decode_forms),
        cmocka_unit_test(test_decode_bad),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_same_as_batch_predict),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
