/* Unit tests for src/ml/model_file.c: a saved model loads back to the same
 * header and the same predictions; damaged, truncated, foreign and newer
 * files are refused with HOPS_ECORRUPT / HOPS_EVERSION and a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "hops/hops.h"

static char dir[256];
static char *data_path;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hops-unit-model-file.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "x,color,y\n");
    for (int i = 0; i < 60; i++)
        hops__buf_printf(&b, "%d,%s,%s\n", i, i % 2 ? "red" : "blue", i % 3 == 0 ? "a" : "b");
    data_path = hops__aprintf("%s/data.csv", dir);
    int rc = hops__atomic_write(data_path, b.data, b.len);
    hops__buf_free(&b);
    return rc == HOPS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(data_path);
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

static hops_model *train(hops_model_type type)
{
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL;
    o.type = type;
    o.label = "y";
    o.epochs = 5;
    o.threads = 1;
    o.run_id = "01testrun00000";
    if (hops_model_train(&m, data_path, &o, NULL) != HOPS_OK)
        fail_msg("train: %s", hops_last_error());
    return m;
}

static char *predictions(const hops_model *m)
{
    hops_predict_options o = HOPS_PREDICT_OPTIONS_INIT;
    char *out = NULL;
    o.rows_in_json = 1;
    assert_int_equal(hops_model_predict(m, data_path, &o, &out), HOPS_OK);
    return out;
}

static void roundtrip(hops_model_type type)
{
    hops_model *m = train(type), *back = NULL;
    char *path = hops__aprintf("%s/%s.hops", dir, hops_model_type_name(type));
    char *h1, *h2, *p1, *p2;
    assert_int_equal(hops_model_save(m, path), HOPS_OK);
    assert_int_equal(hops_model_load(&back, path), HOPS_OK);
    assert_int_equal(hops_model_get_type(back), type);
    assert_int_equal(hops_model_header_json(m, &h1), HOPS_OK);
    assert_int_equal(hops_model_header_json(back, &h2), HOPS_OK);
    assert_string_equal(h1, h2);
    assert_non_null(strstr(h1, "\"run\": \"01testrun00000\""));
    p1 = predictions(m);
    p2 = predictions(back);
    assert_string_equal(p1, p2);
    hops_free(h1);
    hops_free(h2);
    hops_free(p1);
    hops_free(p2);
    hops_model_free(back);
    hops_model_free(m);
    free(path);
}

static void test_roundtrip(void **state)
{
    (void)state;
    roundtrip(HOPS_MODEL_LOGISTIC);
    roundtrip(HOPS_MODEL_MLP);
    roundtrip(HOPS_MODEL_GBDT);
}

static void expect_refused(const void *data, size_t len, hops_status want, const char *msg)
{
    hops_model *m = NULL;
    hops_status rc = hops_model_load_buffer(&m, data, len, "m.hops");
    if (rc != want || !strstr(hops_last_error(), msg))
        fail_msg("expected %s '%s', got %s: %s", hops_err_name(want), msg, hops_err_name(rc),
                 hops_last_error());
    assert_null(m);
}

static void test_damage(void **state)
{
    (void)state;
    hops_model *m = train(HOPS_MODEL_SOFTMAX);
    char *path = hops__aprintf("%s/m.hops", dir), *data = NULL;
    size_t len = 0;
    assert_int_equal(hops_model_save(m, path), HOPS_OK);
    hops_model_free(m);
    assert_int_equal(hops__read_file(path, &data, &len), HOPS_OK);

    /* Every truncation is refused (never read past the end). */
    for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 97))
        expect_refused(data, cut, HOPS_ECORRUPT, "m.hops is not a usable hops model file");
    expect_refused(data, len - 1, HOPS_ECORRUPT, "checksum mismatch");
    /* A flipped byte anywhere: the checksum. */
    for (size_t at = 16; at < len; at += 41) {
        data[at] ^= 0x20;
        expect_refused(data, len, HOPS_ECORRUPT, "checksum mismatch");
        data[at] ^= 0x20;
    }
    /* A foreign file, a newer format. */
    expect_refused("PK\3\4 not a model at all, no", 28, HOPS_ECORRUPT, "no model file signature");
    data[8] = 2;
    expect_refused(data, len, HOPS_EVERSION, "format version 2");
    data[8] = 1;
    hops_model *ok = NULL;
    assert_int_equal(hops_model_load_buffer(&ok, data, len, "m.hops"), HOPS_OK);
    hops_model_free(ok);
    /* Missing file. */
    char *missing = hops__aprintf("%s/none.hops", dir);
    assert_int_not_equal(hops_model_load(&ok, missing), HOPS_OK);
    assert_non_null(strstr(hops_last_error(), "none.hops"));
    free(missing);
    free(data);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
