/* Unit tests for src/ml/model.c and the trainers (linear.c, logistic.c,
 * mlp.c, gbdt.c, encode.c): each model learns what it should on small
 * synthetic tables, the encodings come from the training split, same seed
 * gives the same model, and every bad input is refused with a message that
 * names the file, line and column or the missing column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "hops/hops.h"
#include "ml/ml.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hops-unit-model.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

static char *write_file(const char *name, const char *text)
{
    char *p = hops__aprintf("%s/%s", dir, name);
    assert_non_null(p);
    assert_int_equal(hops__atomic_write(p, text, strlen(text)), HOPS_OK);
    return p;
}

/* A deterministic "random" number in [-1, 1) from i (no rand()). */
static double noise(unsigned i)
{
    uint64_t z = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0 * 2 - 1;
}

static json_t *parse_owned(char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    hops_free(text);
    return j;
}

static double metric(const json_t *report, const char *which, const char *key)
{
    json_t *v = json_object_get(json_object_get(report, which), key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* y = 2 a - 3 b + 1 exactly, with a categorical column that adds 5 for "x". */
static char *linear_table(void)
{
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "a,b,c,y\n");
    for (unsigned i = 0; i < 200; i++) {
        double a = noise(i) * 10, bb = noise(i + 1000) * 3;
        const char *c = i % 3 == 0 ? "x" : i % 3 == 1 ? "y" : "z";
        hops__buf_printf(&b, "%.6f,%.6f,%s,%.9f\n", a, bb, c,
                         2 * a - 3 * bb + 1 + (i % 3 == 0 ? 5 : 0));
    }
    char *p = write_file("linear.csv", b.data);
    hops__buf_free(&b);
    return p;
}

static void test_linear_exact(void **state)
{
    (void)state;
    char *path = linear_table(), *report = NULL;
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL;
    o.type = HOPS_MODEL_LINEAR;
    o.label = "y";
    o.threads = 1;
    assert_int_equal(hops_model_train(&m, path, &o, &report), HOPS_OK);
    json_t *r = parse_owned(report);
    assert_true(metric(r, "test_metrics", "r2") > 0.999999);
    assert_true(metric(r, "test_metrics", "rmse") < 1e-3);
    assert_string_equal(json_string_value(json_object_get(r, "task")), "regression");
    /* 2 numeric + 3 one-hot inputs */
    assert_int_equal(json_integer_value(json_object_get(r, "inputs")), 5);
    json_decref(r);
    hops_model_free(m);

    /* Ridge shrinks: a large alpha costs fit. */
    o.l2 = 1e4;
    assert_int_equal(hops_model_train(&m, path, &o, &report), HOPS_OK);
    r = parse_owned(report);
    assert_true(metric(r, "test_metrics", "r2") < 0.9);
    json_decref(r);
    hops_model_free(m);
    free(path);
}

/* Two classes separated by a + b > 0 (logistic), three by sectors (softmax). */
static char *class_table(const char *name, int k)
{
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "a,b,label\n");
    for (unsigned i = 0; i < 300; i++) {
        double a = noise(i), bb = noise(i + 5000);
        const char *label;
        if (k == 2)
            label = a + bb > 0 ? "pos" : "neg";
        else
            label = a > 0.3 ? "east" : bb > 0 ? "north" : "south";
        hops__buf_printf(&b, "%.6f,%.6f,%s\n", a, bb, label);
    }
    char *p = write_file(name, b.data);
    hops__buf_free(&b);
    return p;
}

static void train_ok(const char *path, hops_model_type type, double min_acc, const char *label)
{
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL;
    char *report = NULL;
    o.type = type;
    o.label = label;
    o.threads = 1;
    o.seed = 3;
    if (hops_model_train(&m, path, &o, &report) != HOPS_OK)
        fail_msg("train %s: %s", hops_model_type_name(type), hops_last_error());
    json_t *r = parse_owned(report);
    double acc = metric(r, "test_metrics", "accuracy");
    if (acc < min_acc)
        fail_msg("%s: test accuracy %g < %g", hops_model_type_name(type), acc, min_acc);
    json_decref(r);
    hops_model_free(m);
}

static void test_classifiers(void **state)
{
    (void)state;
    char *two = class_table("two.csv", 2), *three = class_table("three.csv", 3);
    train_ok(two, HOPS_MODEL_LOGISTIC, 0.95, "label");
    train_ok(three, HOPS_MODEL_SOFTMAX, 0.9, "label");
    train_ok(two, HOPS_MODEL_MLP, 0.9, "label");
    train_ok(three, HOPS_MODEL_MLP, 0.85, "label");
    train_ok(two, HOPS_MODEL_GBDT, 0.85, "label");
    train_ok(three, HOPS_MODEL_GBDT, 0.85, "label");
    free(two);
    free(three);
}

/* gbdt predictions reuse loaded boosters: calls one after another load the
 * trees once, concurrent ones at most once each; one row at a time, from
 * four threads at once, with other XGBoost thread counts, and after a save
 * and a load, every answer equals that of one call over all the rows. */
enum { GB_ROWS = 64, GB_CLASSES = 3, GB_THREADS = 4 };

typedef struct {
    const hops_model *m;
    const float *x;
    const double *want;
    int bad;
} gb_worker;

static void *gb_work(void *arg)
{
    gb_worker *w = arg;
    for (int round = 0; round < 20; round++)
        for (int r = 0; r < GB_ROWS; r++) {
            double out[GB_CLASSES];
            if (hops_model_predict_matrix(w->m, w->x + 2 * r, 1, 1 + round % 2, out) != HOPS_OK ||
                memcmp(out, w->want + GB_CLASSES * r, sizeof out) != 0)
                w->bad++;
        }
    return NULL;
}

static void test_gbdt_predict_reuse(void **state)
{
    (void)state;
    char *path = class_table("gb.csv", GB_CLASSES);
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL, *back = NULL;
    o.type = HOPS_MODEL_GBDT;
    o.label = "label";
    o.threads = 1;
    assert_int_equal(hops_model_train(&m, path, &o, NULL), HOPS_OK);
    assert_int_equal(hops_model_n_inputs(m), 2);
    assert_int_equal(hops_model_n_classes(m), GB_CLASSES);
    float x[2 * GB_ROWS];
    double want[GB_CLASSES * GB_ROWS], got[GB_CLASSES * GB_ROWS];
    for (int r = 0; r < GB_ROWS; r++) {
        x[2 * r] = (float)noise(77 + (unsigned)r);
        x[2 * r + 1] = (float)noise(999 + (unsigned)r);
    }
    assert_int_equal(hops_model_predict_matrix(m, x, GB_ROWS, 1, want), HOPS_OK);
    for (int r = 0; r < GB_ROWS; r++) /* one caller at a time: one booster, loaded once */
        assert_int_equal(hops_model_predict_matrix(m, x + 2 * r, 1, 1, got), HOPS_OK);
    assert_int_equal(hops__gbdt_pooled(m), 1);
    int seen[GB_CLASSES] = {0}; /* the rows reach every class: the answers differ */
    for (int r = 0; r < GB_ROWS; r++) {
        int best = 0;
        for (int k = 1; k < GB_CLASSES; k++)
            best = want[GB_CLASSES * r + k] > want[GB_CLASSES * r + best] ? k : best;
        seen[best] = 1;
    }
    assert_true(seen[0] && seen[1] && seen[2]);

    gb_worker w[GB_THREADS];
    pthread_t t[GB_THREADS];
    for (int i = 0; i < GB_THREADS; i++) {
        w[i] = (gb_worker){m, x, want, 0};
        assert_int_equal(pthread_create(&t[i], NULL, gb_work, &w[i]), 0);
    }
    for (int i = 0; i < GB_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].bad, 0);
    }
    size_t pooled = hops__gbdt_pooled(m); /* at most one a concurrent caller */
    assert_true(pooled >= 1 && pooled <= GB_THREADS);

    char *file = hops__aprintf("%s/gb.hops", dir);
    assert_int_equal(hops_model_save(m, file), HOPS_OK);
    assert_int_equal(hops_model_load(&back, file), HOPS_OK);
    assert_int_equal(hops_model_predict_matrix(back, x, GB_ROWS, 2, got), HOPS_OK);
    assert_memory_equal(got, want, sizeof got);
    hops_model_free(back);
    hops_model_free(m);
    free(file);
    free(path);
}

/* The MLP's optimizers and activations all learn the two-class table. */
static void test_mlp_variants(void **state)
{
    (void)state;
    char *two = class_table("two.csv", 2);
    static const hops_kv variants[][2] = {
        {{"optimizer", "sgd"}, {"activation", "relu"}},
        {{"optimizer", "sgd"}, {"activation", "tanh"}},
        {{"optimizer", "adam"}, {"activation", "sigmoid"}},
        {{"optimizer", "adam"}, {"activation", "tanh"}},
    };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
        hops_model *m = NULL;
        char *report = NULL;
        o.type = HOPS_MODEL_MLP;
        o.label = "label";
        o.params = variants[v];
        o.n_params = 2;
        o.lr = 0.01;
        o.threads = 1;
        if (hops_model_train(&m, two, &o, &report) != HOPS_OK)
            fail_msg("%s/%s: %s", variants[v][0].value, variants[v][1].value, hops_last_error());
        json_t *r = parse_owned(report);
        if (metric(r, "test_metrics", "accuracy") < 0.9)
            fail_msg("%s/%s: accuracy %g", variants[v][0].value, variants[v][1].value,
                     metric(r, "test_metrics", "accuracy"));
        json_decref(r);
        hops_model_free(m);
    }
    free(two);
}

static void test_xor_mlp(void **state)
{
    (void)state;
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "a,b,y\n");
    for (unsigned i = 0; i < 400; i++) {
        double a = noise(i), bb = noise(i + 777);
        hops__buf_printf(&b, "%.6f,%.6f,%d\n", a, bb, (a > 0) != (bb > 0));
    }
    char *path = write_file("xor.csv", b.data), *report = NULL;
    hops__buf_free(&b);
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_kv params[] = {{"validation", "0"}};
    size_t hidden[] = {16, 16};
    hops_model *m = NULL;
    o.type = HOPS_MODEL_MLP;
    o.label = "y";
    o.hidden = hidden;
    o.n_hidden = 2;
    o.epochs = 300;
    o.lr = 0.01;
    o.batch = 32;
    o.params = params;
    o.n_params = 1;
    o.threads = 1;
    assert_int_equal(hops_model_train(&m, path, &o, &report), HOPS_OK);
    json_t *r = parse_owned(report);
    /* a linear model cannot do better than ~0.5 on XOR */
    assert_true(metric(r, "test_metrics", "accuracy") > 0.9);
    json_decref(r);
    hops_model_free(m);
    free(path);
}

/* Same seed and threads: the same bytes; another seed: other bytes. */
static void test_deterministic(void **state)
{
    (void)state;
    char *path = class_table("det.csv", 3);
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    char *files[3];
    o.type = HOPS_MODEL_MLP;
    o.label = "label";
    o.threads = 2;
    o.epochs = 20;
    for (int i = 0; i < 3; i++) {
        hops_model *m = NULL;
        o.seed = i < 2 ? 42 : 43;
        assert_int_equal(hops_model_train(&m, path, &o, NULL), HOPS_OK);
        files[i] = hops__aprintf("%s/m%d.hops", dir, i);
        assert_int_equal(hops_model_save(m, files[i]), HOPS_OK);
        hops_model_free(m);
    }
    char *a, *b, *c;
    size_t la, lb, lc;
    assert_int_equal(hops__read_file(files[0], &a, &la), HOPS_OK);
    assert_int_equal(hops__read_file(files[1], &b, &lb), HOPS_OK);
    assert_int_equal(hops__read_file(files[2], &c, &lc), HOPS_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_true(la != lc || memcmp(a, c, la) != 0);
    free(a);
    free(b);
    free(c);
    for (int i = 0; i < 3; i++)
        free(files[i]);
    free(path);
}

/* Standardization and one-hot come from the training rows only: a test row
 * with an unseen category encodes to zeros, and predictions on the raw rows
 * match what training measured. */
static void test_encodings_from_train_split(void **state)
{
    (void)state;
    char *path = linear_table(), *report = NULL, *header = NULL;
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL;
    o.type = HOPS_MODEL_LINEAR;
    o.label = "y";
    o.test_split = 0.5;
    o.seed = 9;
    assert_int_equal(hops_model_train(&m, path, &o, &report), HOPS_OK);
    assert_int_equal(hops_model_header_json(m, &header), HOPS_OK);
    json_t *h = parse_owned(header), *r = parse_owned(report);
    json_t *fa = json_array_get(json_object_get(h, "features"), 0);
    assert_string_equal(json_string_value(json_object_get(fa, "name")), "a");
    /* The mean of a over all 200 rows differs from the one over the 100
     * training rows; the model keeps the latter. */
    double all = 0;
    for (unsigned i = 0; i < 200; i++)
        all += noise(i) * 10;
    all /= 200;
    assert_true(fabs(json_number_value(json_object_get(fa, "mean")) - all) > 1e-6);
    /* Predicting the whole file: every row is predicted and R^2 stays ~1. */
    hops_predict_options po = HOPS_PREDICT_OPTIONS_INIT;
    char *out = NULL;
    po.output = hops__aprintf("%s/pred.csv", dir);
    assert_int_equal(hops_model_predict(m, path, &po, &out), HOPS_OK);
    json_t *p = parse_owned(out);
    assert_int_equal(json_integer_value(json_object_get(p, "rows")), 200);
    assert_true(json_number_value(json_object_get(json_object_get(p, "metrics"), "r2")) > 0.99999);
    /* Unseen category "w": its one-hot inputs are 0 (the row still predicts). */
    char *unseen = write_file("unseen.csv", "a,b,c\n1,1,w\n1,1,x\n");
    assert_int_equal(hops_model_predict(m, unseen, &po, &out), HOPS_OK);
    json_t *q = parse_owned(out);
    assert_int_equal(json_integer_value(json_object_get(q, "rows")), 2);
    assert_true(json_is_null(json_object_get(q, "metrics"))); /* no label column */
    char *csv = NULL;
    size_t len;
    assert_int_equal(hops__read_file(po.output, &csv, &len), HOPS_OK);
    double v1, v2;
    assert_int_equal(sscanf(csv, "prediction\n%lf\n%lf", &v1, &v2), 2);
    assert_true(fabs(v2 - 5.0) < 0.05);             /* 2 - 3 + 1 and the "x" bonus */
    assert_true(isfinite(v1) && fabs(v1 - v2) > 1); /* "w" has no one-hot input: no bonus */
    free(csv);
    json_decref(q);
    json_decref(p);
    json_decref(r);
    json_decref(h);
    free((char *)po.output);
    free(unseen);
    hops_model_free(m);
    free(path);
}

/* Train on TEXT with TYPE; expect RC and a message containing WANT. */
static void expect_error(const char *text, hops_model_type type, const char *label,
                         hops_status want_rc, const char *want)
{
    char *path = write_file("bad.csv", text);
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL;
    o.type = type;
    o.label = label;
    o.test_split = 0;
    hops_status rc = hops_model_train(&m, path, &o, NULL);
    if (rc != want_rc || !strstr(hops_last_error(), want))
        fail_msg("expected %s with '%s', got %s: %s", hops_err_name(want_rc), want,
                 hops_err_name(rc), hops_last_error());
    assert_null(m);
    free(path);
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_error("a,b\n1,2\n3,4\n", HOPS_MODEL_LINEAR, "y", HOPS_EINVAL,
                 "label column 'y' is not in");
    expect_error("a,y\n1,\n3,\n", HOPS_MODEL_LINEAR, "y", HOPS_EINVAL, "entirely null (2 rows)");
    expect_error("a,y\n1,2\n3,4\n5,6\nabc,7\n", HOPS_MODEL_LINEAR, "y", HOPS_EPARSE,
                 "bad.csv:5:1: feature column 'a' is numeric but 'abc' is not a number");
    expect_error("a,y\n1,2\nNaN,4\n5,6\n", HOPS_MODEL_LINEAR, "y", HOPS_EPARSE,
                 "bad.csv:3:1: feature column 'a' is NaN");
    expect_error("a,y\n1,2\n,4\n5,6\n", HOPS_MODEL_LINEAR, "y", HOPS_EPARSE,
                 "bad.csv:3:1: feature column 'a' is empty (null)");
    expect_error("a,y\n1,x\n2,x\n", HOPS_MODEL_LOGISTIC, "y", HOPS_EINVAL, "a single class ('x')");
    expect_error("a,y\n1,x\n2,z\n3,w\n", HOPS_MODEL_LOGISTIC, "y", HOPS_EINVAL,
                 "use --model softmax");
    expect_error("a,y\n1,x\n2,3\n", HOPS_MODEL_LINEAR, "y", HOPS_EPARSE,
                 "bad.csv:2:2: label column 'y' is numeric but 'x' is not a number");

    /* Options: hidden width 0, negative learning rate. */
    char *path = write_file("ok.csv", "a,y\n1,0\n2,1\n3,0\n4,1\n");
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL;
    size_t hidden[] = {8, 0};
    o.type = HOPS_MODEL_MLP;
    o.label = "y";
    o.hidden = hidden;
    o.n_hidden = 2;
    assert_int_equal(hops_model_train(&m, path, &o, NULL), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "hidden layer 2 has 0 units"));
    o.n_hidden = 0;
    o.lr = -0.1;
    assert_int_equal(hops_model_train(&m, path, &o, NULL), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "learning rate must be a positive number"));
    o.lr = 0;
    hops_kv bad[] = {{"bogus", "1"}};
    o.params = bad;
    o.n_params = 1;
    assert_int_equal(hops_model_train(&m, path, &o, NULL), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "--param bogus"));
    free(path);
}

static void test_predict_missing_columns(void **state)
{
    (void)state;
    char *path = linear_table();
    char *other = write_file("other.csv", "b,z\n1,2\n");
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL;
    o.type = HOPS_MODEL_LINEAR;
    o.label = "y";
    assert_int_equal(hops_model_train(&m, path, &o, NULL), HOPS_OK);
    assert_int_equal(hops_model_predict(m, other, NULL, NULL), HOPS_EINVAL);
    assert_non_null(
        strstr(hops_last_error(), "lacks 2 of the 3 columns the model was trained on: 'a', 'c'"));
    hops_model_free(m);
    free(other);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_linear_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classifiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gbdt_predict_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mlp_variants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xor_mlp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encodings_from_train_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predict_missing_columns, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
