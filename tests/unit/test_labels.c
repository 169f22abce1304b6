/* Unit tests for src/ml/labels.c: labels point at existing versions, move,
 * are removed, listed, and refused with the right status for unknown
 * models, versions and bad names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>

#include "serving_fixture.h"

static void test_labels(void **state)
{
    (void)state;
    char *root = hops__aprintf("%s/p", fx_dir), *file = hops__aprintf("%s/m.hops", fx_dir);
    hops_project *p;
    hops_model *m = fx_train(HOPS_MODEL_LINEAR, 0);
    char *text;
    assert_int_equal(hops__mkdir_p(root, 0755), HOPS_OK);
    assert_int_equal(hops_project_init(root), HOPS_OK);
    assert_int_equal(hops_project_open(&p, root), HOPS_OK);
    assert_int_equal(hops_model_save(m, file), HOPS_OK);
    assert_int_equal(hops_model_register(p, "m", file, NULL), HOPS_OK);
    assert_int_equal(hops_model_register(p, "m", file, NULL), HOPS_OK);

    assert_int_equal(hops_model_labels_json(p, "m", &text), HOPS_OK);
    assert_string_equal(text, "{}");
    hops_free(text);
    assert_int_equal(hops_model_label_set(p, "m", 1, "stable"), HOPS_OK);
    assert_int_equal(hops_model_label_set(p, "m", 2, "canary"), HOPS_OK);
    assert_int_equal(hops_model_label_set(p, "m", 2, "stable"), HOPS_OK); /* moves */
    assert_int_equal(hops_model_labels_json(p, "m", &text), HOPS_OK);
    assert_string_equal(text, "{\"canary\":2,\"stable\":2}");
    hops_free(text);

    assert_int_equal(hops_model_label_set(p, "m", 3, "stable"), HOPS_ENOTFOUND);
    assert_int_equal(hops_model_label_set(p, "nope", 1, "stable"), HOPS_ENOTFOUND);
    assert_int_equal(hops_model_label_set(p, "m", 0, "stable"), HOPS_EINVAL);
    assert_int_equal(hops_model_label_set(p, "m", 1, "../x"), HOPS_EINVAL);
    assert_int_equal(hops_model_label_set(p, "m", 1, ""), HOPS_EINVAL);
    assert_int_equal(hops_model_labels_json(p, "../m", &text), HOPS_EINVAL);

    assert_int_equal(hops_model_label_remove(p, "m", "canary"), HOPS_OK);
    assert_int_equal(hops_model_label_remove(p, "m", "canary"), HOPS_ENOTFOUND);
    assert_int_equal(hops_model_labels_json(p, "m", &text), HOPS_OK);
    assert_string_equal(text, "{\"stable\":2}");
    hops_free(text);
    /* Failed calls leave the database writable (their transactions ended). */
    assert_int_equal(hops_model_register(p, "m", file, NULL), HOPS_OK);
    hops_project_close(p);
    hops_model_free(m);
    free(root);
    free(file);
}

static void test_predict_rows(void **state)
{
    (void)state;
    hops_model *m = fx_train(HOPS_MODEL_GBDT, 1);
    assert_int_equal(hops_model_n_features(m), 3);
    assert_int_equal(hops_model_n_classes(m), 2);
    assert_null(hops_model_feature_name(m, 3));
    assert_null(hops_model_class_name(m, 2));
    assert_string_equal(hops_model_label(m), "label");
    size_t color = 0;
    while (strcmp(hops_model_feature_name(m, color), "color") != 0)
        color++;
    assert_true(hops_model_feature_is_categorical(m, color));
    hops_feature_value v[3];
    float x[2 * 6];
    for (size_t f = 0; f < 3; f++) {
        v[f].kind = HOPS_VALUE_NUMBER;
        v[f].number = 1.0;
        v[f].text = NULL;
    }
    v[color].kind = HOPS_VALUE_NUMBER; /* 3 matches the category "3" */
    v[color].number = 3;
    assert_int_equal(hops_model_encode_row(m, v, x), HOPS_OK);
    float sum = 0;
    for (size_t i = 0; i < hops_model_n_inputs(m); i++)
        sum += x[i];
    v[color].kind = HOPS_VALUE_TEXT;
    v[color].text = "3";
    assert_int_equal(hops_model_encode_row(m, v, x + 6), HOPS_OK);
    assert_memory_equal(x, x + 6, 6 * sizeof *x);
    double p[4];
    assert_int_equal(hops_model_predict_matrix(m, x, 2, 1, p), HOPS_OK);
    assert_true(p[0] == p[2] && p[1] == p[3]);
    assert_true(fabs(p[0] + p[1] - 1) < 1e-6);
    /* Bad values of a numeric feature name it. */
    size_t num = color == 0 ? 1 : 0;
    v[num].kind = HOPS_VALUE_TEXT;
    v[num].text = "abc";
    assert_int_equal(hops_model_encode_row(m, v, x), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), hops_model_feature_name(m, num)));
    v[num].kind = HOPS_VALUE_NULL;
    assert_int_equal(hops_model_encode_row(m, v, x), HOPS_EINVAL);
    v[num].kind = HOPS_VALUE_NUMBER;
    v[num].number = NAN;
    assert_int_equal(hops_model_encode_row(m, v, x), HOPS_EINVAL);
    x[0] = INFINITY;
    assert_int_equal(hops_model_predict_matrix(m, x, 1, 1, p), HOPS_EINVAL);
    (void)sum;
    hops_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_predict_rows),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
