/* Fuzz the TF Serving request decoder (src/serving/rest.c): the route of a
 * URL and the body of a :predict / :classify / :regress request.
 *
 * Input: "METHOD URL\n" then the body. The URL goes through
 * hops__rest_route; the body through hops__rest_decode for each verb,
 * against a small classifier (numeric and categorical features) and a
 * regression model trained once at start-up. Properties:
 *   - a refusal is 400/404/405 (route) or 400 (body) with a message, and
 *     leaves no rows;
 *   - a decoded request has 1.. rows of exactly hops_model_n_inputs finite
 *     numbers, the model predicts them, and the answer is valid JSON with
 *     one result per row;
 *   - a route's name and label are well-formed names.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "hops/hops.h"
#include "serving/serving_internal.h"

#include "fuzz_util.h"

static hops_model *cls, *reg;

static hops_model *train(const char *dir, int classify)
{
    hops_buf b = HOPS_BUF_INIT;
    static const char *const colors[] = {"red", "green", "blue", "7"};
    static const char *const cats[] = {"color"};
    hops__buf_puts(&b, "x1,x2,color,label\n");
    for (unsigned i = 0; i < 60; i++) {
        double x1 = (double)(i % 13) - 6, x2 = (double)(i % 7) - 3;
        double y = 2 * x1 - x2 + (i % 4 == 0);
        if (classify)
            hops__buf_printf(&b, "%g,%g,%s,%s\n", x1, x2, colors[i % 4], y > 0 ? "yes" : "no");
        else
            hops__buf_printf(&b, "%g,%g,%s,%g\n", x1, x2, colors[i % 4], y);
    }
    char *path = hops__aprintf("%s/t%d.csv", dir, classify);
    FUZZ_CHECK(path && hops__atomic_write(path, b.data, b.len) == HOPS_OK, "write");
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL;
    o.type = classify ? HOPS_MODEL_LOGISTIC : HOPS_MODEL_LINEAR;
    o.label = "label";
    o.categorical = cats;
    o.n_categorical = 1;
    o.threads = 1;
    FUZZ_CHECK(hops_model_train(&m, path, &o, NULL) == HOPS_OK, "train: %s", hops_last_error());
    hops__buf_free(&b);
    free(path);
    return m;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_default_artifact_prefix(argc, argv);
    char *dir = fuzz_tempdir("serving");
    cls = train(dir, 1);
    reg = train(dir, 0);
    hops__rm_rf(dir);
    free(dir);
    return 0;
}

static void body(const hops_model *m, rest_kind kind, const uint8_t *data, size_t size)
{
    rest_input in;
    char err[512];
    err[0] = '\0';
    int st = hops__rest_decode((const char *)data, size, kind, m, &in, err, sizeof err);
    if (st) {
        FUZZ_CHECK(st == 400, "status %d: %s", st, err);
        FUZZ_CHECK(err[0], "a refusal without a message");
        FUZZ_CHECK(!in.x && in.n == 0, "a refusal left rows");
        return;
    }
    size_t d = hops_model_n_inputs(m), k = hops_model_n_classes(m);
    FUZZ_CHECK(in.n >= 1 && in.d == d && in.x, "rows %zu, width %zu of %zu", in.n, in.d, d);
    for (size_t i = 0; i < in.n * d; i++)
        FUZZ_CHECK(isfinite(in.x[i]), "input %zu is not finite", i);
    double *pred = malloc(in.n * (k ? k : 1) * sizeof *pred);
    FUZZ_CHECK(pred, "out of memory");
    hops_status rc = hops_model_predict_matrix(m, in.x, in.n, 1, pred);
    if (rc != HOPS_OK) { /* inputs so large the prediction overflows: a 400 */
        FUZZ_CHECK(rc == HOPS_EINVAL && strstr(hops_last_error(), "not a finite number"),
                   "predict: %s", hops_last_error());
        free(pred);
        hops__rest_input_free(&in);
        return;
    }
    char *text = hops__rest_encode(kind, in.columnar, m, pred, in.n);
    FUZZ_CHECK(text, "encode");
    json_t *doc = json_loads(text, 0, NULL);
    FUZZ_CHECK(doc, "the answer is not JSON: %s", text);
    json_t *list = json_object_get(
        doc, kind == REST_PREDICT ? (in.columnar ? "outputs" : "predictions") : "results");
    if (json_is_object(list))
        list = json_object_get(list, "classes");
    FUZZ_CHECK(json_array_size(list) == in.n, "%zu results for %zu rows", json_array_size(list),
               in.n);
    json_decref(doc);
    free(text);
    free(pred);
    hops__rest_input_free(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t line = nl ? (size_t)(nl - data) : size;
    char *first = fuzz_cstr(data, line > 4096 ? 4096 : line);
    char *sp = strchr(first, ' ');
    rest_route r;
    char err[512];
    if (sp) {
        *sp = '\0';
        int st = hops__rest_route(first, sp + 1, &r, err, sizeof err);
        if (st) {
            FUZZ_CHECK(st == 400 || st == 404 || st == 405, "route status %d", st);
        } else if (r.kind <= REST_METADATA) {
            FUZZ_CHECK(hops__rest_name_ok(r.name), "bad name '%s' routed", r.name);
            FUZZ_CHECK(!r.label[0] || hops__rest_name_ok(r.label), "bad label '%s'", r.label);
            FUZZ_CHECK(!(r.version && r.label[0]), "version and label");
        }
    }
    free(first);
    const uint8_t *b = nl ? nl + 1 : data;
    size_t bn = nl ? size - line - 1 : size;
    body(cls, REST_PREDICT, b, bn);
    body(cls, REST_CLASSIFY, b, bn);
    body(reg, REST_REGRESS, b, bn);
    body(reg, REST_PREDICT, b, bn);
    return 0;
}
