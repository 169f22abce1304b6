/* The TensorFlow Serving REST codec (tensorflow_serving/g3doc/api_rest.md):
 * routes, request bodies decoded into encoded rows, answers encoded back.
 *
 * A row is either an object naming the model's raw features (encoded with
 * the model's stored encodings; a one-element list stands for its element,
 * as in a tf.Example feature) or a list of hops_model_n_inputs numbers, a
 * ready encoded vector. */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving_internal.h"

#define MAX_ROWS 1000000

static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return status;
}

int hops__rest_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SRV_NAME_MAX || s[0] == '.' || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

/* Copy the path segment at *P (up to '/', ':' or the end) into OUT. -1 when
 * it does not fit. */
static int segment(const char **p, char *out, size_t n)
{
    size_t len = strcspn(*p, "/:");
    if (len >= n)
        return -1;
    memcpy(out, *p, len);
    out[len] = '\0';
    *p += len;
    return 0;
}

static int parse_version(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (v < 1)
        return -1;
    *out = v;
    return 0;
}

int hops__rest_route(const char *method, const char *url, rest_route *r, char *err, size_t errlen)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    char seg[SRV_NAME_MAX + 2];
    const char *p = url;
    memset(r, 0, sizeof *r);
    if (strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 ||
        strcmp(url, "/readyz") == 0) {
        if (!get)
            return fail(err, errlen, 405, "%s allows GET only, not %.20s", url, method);
        r->kind = url[1] == 'm' ? REST_METRICS : url[1] == 'h' ? REST_HEALTH : REST_READY;
        return 0;
    }
    if (strncmp(p, "/v1/models/", 11) != 0)
        return fail(err, errlen, 404, "no such resource; the API is /v1/models/NAME[:VERB]");
    p += 11;
    if (segment(&p, seg, sizeof seg) != 0 || !hops__rest_name_ok(seg))
        return fail(err, errlen, 400,
                    "bad model name in the path: names are letters, digits, '.', '_' and '-' "
                    "(at most %d), not starting with '.' or '-'",
                    SRV_NAME_MAX);
    memcpy(r->name, seg, strlen(seg) + 1);
    if (strncmp(p, "/versions/", 10) == 0) {
        p += 10;
        if (segment(&p, seg, sizeof seg) != 0 || parse_version(seg, &r->version) != 0)
            return fail(err, errlen, 400, "bad version in the path: versions are 1, 2, ...");
    } else if (strncmp(p, "/labels/", 8) == 0) {
        p += 8;
        if (segment(&p, seg, sizeof seg) != 0 || !hops__rest_name_ok(seg))
            return fail(err, errlen, 400, "bad label in the path");
        memcpy(r->label, seg, strlen(seg) + 1);
    }
    if (*p == '\0' || strcmp(p, "/metadata") == 0) {
        if (!get)
            return fail(err, errlen, 405, "model status and metadata take GET, not %.20s", method);
        r->kind = *p ? REST_METADATA : REST_STATUS;
        return 0;
    }
    if (*p == ':') {
        if (strcmp(p, ":predict") == 0)
            r->kind = REST_PREDICT;
        else if (strcmp(p, ":classify") == 0)
            r->kind = REST_CLASSIFY;
        else if (strcmp(p, ":regress") == 0)
            r->kind = REST_REGRESS;
        else
            return fail(err, errlen, 400,
                        "unknown verb '%.40s': use :predict, :classify or :regress", p);
        if (!post)
            return fail(err, errlen, 405, "%s takes POST, not %.20s", p, method);
        return 0;
    }
    return fail(err, errlen, 404, "no such resource under /v1/models/%s", r->name);
}

/* ---- decoding ---- */

typedef struct {
    const hops_model *m;
    size_t nf, d;
    hops_feature_value *vals;
    char *err;
    size_t errlen;
} decoder;

/* One raw value of feature NAME from J (NULL: absent). */
static int feature_value(decoder *dc, size_t fi, const json_t *j, hops_feature_value *v)
{
    const char *name = hops_model_feature_name(dc->m, fi);
    if (json_is_array(j)) {
        if (json_array_size(j) != 1)
            return fail(dc->err, dc->errlen, 400,
                        "feature '%s': a list must hold exactly one value, not %zu", name,
                        json_array_size(j));
        j = json_array_get(j, 0);
    }
    memset(v, 0, sizeof *v);
    if (!j || json_is_null(j)) {
        v->kind = HOPS_VALUE_NULL;
        if (!hops_model_feature_is_categorical(dc->m, fi))
            return fail(dc->err, dc->errlen, 400, "feature '%s' is %s; it needs a number", name,
                        j ? "null" : "missing");
    } else if (json_is_number(j)) {
        v->kind = HOPS_VALUE_NUMBER;
        v->number = json_number_value(j);
    } else if (json_is_string(j)) {
        v->kind = HOPS_VALUE_TEXT;
        v->text = json_string_value(j);
        if (strlen(v->text) != json_string_length(j))
            return fail(dc->err, dc->errlen, 400, "feature '%s' holds a NUL byte", name);
    } else if (json_is_boolean(j)) {
        v->kind = HOPS_VALUE_TEXT;
        v->text = json_is_true(j) ? "true" : "false";
    } else {
        return fail(dc->err, dc->errlen, 400, "feature '%s' is an object; it needs a %s", name,
                    hops_model_feature_is_categorical(dc->m, fi) ? "category" : "number");
    }
    return 0;
}

/* Prefix the decoder's message with "row ROW: ". */
static int row_error(decoder *dc, size_t row, int status)
{
    char msg[512];
    hops__strlcpy(msg, dc->err, sizeof msg);
    return fail(dc->err, dc->errlen, status, "row %zu: %s", row, msg);
}

static int encode_values(decoder *dc, size_t row, float *x)
{
    if (hops_model_encode_row(dc->m, dc->vals, x) != HOPS_OK)
        return fail(dc->err, dc->errlen, 400, "row %zu: %s", row, hops_last_error());
    return 0;
}

/* A row given as a list of D numbers. */
static int vector_row(decoder *dc, size_t row, const json_t *a, float *x)
{
    size_t i;
    json_t *v;
    if (json_array_size(a) != dc->d)
        return fail(dc->err, dc->errlen, 400,
                    "row %zu has %zu values; the model takes %zu encoded inputs (or an object "
                    "naming its %zu features)",
                    row, json_array_size(a), dc->d, dc->nf);
    json_array_foreach(a, i, v)
    {
        if (!json_is_number(v))
            return fail(dc->err, dc->errlen, 400, "row %zu, input %zu is a %s, not a number", row,
                        i,
                        json_is_string(v)   ? "string"
                        : json_is_array(v)  ? "list"
                        : json_is_object(v) ? "object"
                        : json_is_null(v)   ? "null"
                                            : "boolean");
        double d = json_number_value(v);
        float f = (float)d;
        if (!isfinite(d) || !isfinite(f))
            return fail(dc->err, dc->errlen, 400, "row %zu, input %zu is out of range", row, i);
        x[i] = f;
    }
    return 0;
}

/* A row given as an object of named features, with CONTEXT (may be NULL)
 * filling in features the row lacks. */
static int named_row(decoder *dc, size_t row, const json_t *o, const json_t *context, float *x)
{
    int st;
    for (size_t f = 0; f < dc->nf; f++) {
        const char *name = hops_model_feature_name(dc->m, f);
        const json_t *v = json_object_get(o, name);
        if (!v && context)
            v = json_object_get(context, name);
        if ((st = feature_value(dc, f, v, &dc->vals[f])) != 0)
            return row_error(dc, row, st);
    }
    return encode_values(dc, row, x);
}

static int any_row(decoder *dc, size_t row, const json_t *j, const json_t *context, float *x)
{
    if (json_is_object(j))
        return named_row(dc, row, j, context, x);
    if (json_is_array(j) && !context)
        return vector_row(dc, row, j, x);
    return fail(dc->err, dc->errlen, 400, "row %zu is a %s; a row is an object of named features%s",
                row,
                json_is_array(j)    ? "list"
                : json_is_string(j) ? "string"
                : json_is_number(j) ? "number"
                                    : "null or boolean",
                context ? "" : " or a list of numbers");
}

static int alloc_rows(decoder *dc, rest_input *in, size_t n)
{
    if (n == 0)
        return fail(dc->err, dc->errlen, 400, "no rows: the list is empty");
    if (n > MAX_ROWS)
        return fail(dc->err, dc->errlen, 400, "%zu rows; at most %d in a request", n, MAX_ROWS);
    in->n = n;
    in->d = dc->d;
    in->x = malloc(n * (dc->d ? dc->d : 1) * sizeof *in->x);
    return in->x ? 0 : fail(dc->err, dc->errlen, 500, "out of memory");
}

static int rows_list(decoder *dc, rest_input *in, const json_t *list, const json_t *context)
{
    int st;
    size_t i;
    json_t *row;
    if (!json_is_array(list))
        return fail(dc->err, dc->errlen, 400, "expected a list of rows");
    if ((st = alloc_rows(dc, in, json_array_size(list))) != 0)
        return st;
    json_array_foreach(list, i, row) if ((st = any_row(dc, i, row, context, in->x + i * dc->d)) !=
                                         0) return st;
    return 0;
}

/* Columnar "inputs": {feature: [value per row]}. */
static int columns(decoder *dc, rest_input *in, const json_t *obj)
{
    size_t n = 0, have = 0;
    int st;
    for (size_t f = 0; f < dc->nf; f++) {
        const char *name = hops_model_feature_name(dc->m, f);
        const json_t *col = json_object_get(obj, name);
        if (!col)
            continue;
        if (!json_is_array(col))
            return fail(dc->err, dc->errlen, 400,
                        "inputs['%s'] must be a list with one value per row", name);
        if (have && json_array_size(col) != n)
            return fail(dc->err, dc->errlen, 400,
                        "inputs have different lengths: '%s' has %zu values, others %zu", name,
                        json_array_size(col), n);
        n = json_array_size(col);
        have++;
    }
    if (!have)
        return fail(dc->err, dc->errlen, 400, "inputs name none of the model's %zu features",
                    dc->nf);
    if ((st = alloc_rows(dc, in, n)) != 0)
        return st;
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < dc->nf; f++) {
            const json_t *col = json_object_get(obj, hops_model_feature_name(dc->m, f));
            if ((st = feature_value(dc, f, col ? json_array_get(col, i) : NULL, &dc->vals[f])) != 0)
                return row_error(dc, i, st);
        }
        if ((st = encode_values(dc, i, in->x + i * dc->d)) != 0)
            return st;
    }
    return 0;
}

static int check_signature(decoder *dc, const json_t *doc)
{
    const json_t *sig = json_object_get(doc, "signature_name");
    const char *s;
    if (!sig)
        return 0;
    if (!json_is_string(sig))
        return fail(dc->err, dc->errlen, 400, "signature_name must be a string");
    s = json_string_value(sig);
    if (strcmp(s, "serving_default") != 0 && strcmp(s, "predict") != 0 &&
        strcmp(s, "classification") != 0 && strcmp(s, "regression") != 0)
        return fail(dc->err, dc->errlen, 400,
                    "unknown signature_name '%.60s'; this model has serving_default", s);
    return 0;
}

int hops__rest_decode(const char *body, size_t len, rest_kind kind, const hops_model *m,
                      rest_input *in, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = NULL;
    decoder dc;
    int st;
    memset(in, 0, sizeof *in);
    memset(&dc, 0, sizeof dc);
    dc.m = m;
    dc.nf = hops_model_n_features(m);
    dc.d = hops_model_n_inputs(m);
    dc.err = err;
    dc.errlen = errlen;
    if (!body || len == 0)
        return fail(err, errlen, 400, "empty body: send a JSON object");
    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return fail(err, errlen, 400, "malformed JSON at line %d, column %d: %s", jerr.line,
                    jerr.column, jerr.text);
    dc.vals = calloc(dc.nf ? dc.nf : 1, sizeof *dc.vals);
    if (!dc.vals) {
        st = fail(err, errlen, 500, "out of memory");
        goto out;
    }
    if (!json_is_object(doc)) {
        st = fail(err, errlen, 400, "the body must be a JSON object");
        goto out;
    }
    if ((st = check_signature(&dc, doc)) != 0)
        goto out;
    if (kind == REST_PREDICT) {
        const json_t *inst = json_object_get(doc, "instances"),
                     *inputs = json_object_get(doc, "inputs");
        if (inst && inputs)
            st = fail(err, errlen, 400, "give either \"instances\" or \"inputs\", not both");
        else if (inst)
            st = rows_list(&dc, in, inst, NULL);
        else if (json_is_object(inputs))
            st = columns(&dc, in, inputs);
        else if (inputs)
            st = rows_list(&dc, in, inputs, NULL);
        else
            st = fail(err, errlen, 400,
                      "missing \"instances\" (rows) or \"inputs\" (columns) in the body");
        in->columnar = inputs != NULL;
    } else {
        const json_t *ex = json_object_get(doc, "examples"), *ctx = json_object_get(doc, "context");
        if (ctx && !json_is_object(ctx))
            st = fail(err, errlen, 400, "\"context\" must be an object of features");
        else if (!ex)
            st = fail(err, errlen, 400, "missing \"examples\" in the body");
        else
            st = rows_list(&dc, in, ex, ctx);
        if (!st && kind == REST_CLASSIFY && hops_model_n_classes(m) == 0)
            st = fail(err, errlen, 400,
                      "this is a regression model: use :regress or :predict, not :classify");
        if (!st && kind == REST_REGRESS && hops_model_n_classes(m) != 0)
            st = fail(err, errlen, 400,
                      "this is a classifier: use :classify or :predict, not :regress");
    }
out:
    if (st)
        hops__rest_input_free(in);
    free(dc.vals);
    json_decref(doc);
    return st;
}

void hops__rest_input_free(rest_input *in)
{
    free(in->x);
    memset(in, 0, sizeof *in);
}

/* ---- encoding ---- */

static size_t argmax(const double *p, size_t k)
{
    size_t b = 0;
    for (size_t j = 1; j < k; j++)
        if (p[j] > p[b])
            b = j;
    return b;
}

static json_t *scores(const double *p, size_t k)
{
    json_t *a = json_array();
    for (size_t j = 0; j < k; j++)
        json_array_append_new(a, json_real(p[j]));
    return a;
}

char *hops__rest_encode(rest_kind kind, int columnar, const hops_model *m, const double *pred,
                        size_t n)
{
    size_t k = hops_model_n_classes(m);
    json_t *doc = json_object(), *list = json_array();
    char *text;
    if (kind == REST_PREDICT && columnar && k) {
        json_t *cls = json_array(), *sc = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(cls,
                                  json_string(hops_model_class_name(m, argmax(pred + i * k, k))));
            json_array_append_new(sc, scores(pred + i * k, k));
        }
        json_decref(list);
        list = json_pack("{s:o, s:o}", "classes", cls, "scores", sc);
    } else {
        for (size_t i = 0; i < n; i++) {
            json_t *row;
            if (!k) {
                row = json_real(pred[i]);
            } else if (kind == REST_CLASSIFY) {
                row = json_array();
                for (size_t j = 0; j < k; j++)
                    json_array_append_new(
                        row, json_pack("[s, f]", hops_model_class_name(m, j), pred[i * k + j]));
            } else {
                row = json_pack("{s:s, s:o}", "classes",
                                hops_model_class_name(m, argmax(pred + i * k, k)), "scores",
                                scores(pred + i * k, k));
            }
            json_array_append_new(list, row);
        }
    }
    json_object_set_new(
        doc, kind == REST_PREDICT ? (columnar ? "outputs" : "predictions") : "results", list);
    /* Nine significant digits: every float a model computes reads back
     * exactly (the scores and values come from float32 arithmetic), with
     * one printf per number instead of a search for the shortest form. */
    text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(doc);
    return text;
}

char *hops__rest_error_body(const char *msg)
{
    json_t *doc = json_pack("{s:s}", "error", msg);
    char *text = doc ? hops__json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}
