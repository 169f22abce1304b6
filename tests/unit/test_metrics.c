/* Unit tests for src/ml/metrics.c: classification and regression metrics on
 * small cases worked out by hand (the e2e test metrics_vs_sklearn.sh checks
 * them against scikit-learn on real predictions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "core/core.h"
#include "hops/hops.h"

/* |GOT - WANT| <= EPS, with both values in the message when not. */
#define assert_near(got, want, eps) near_at((got), (want), (eps), __FILE__, __LINE__)
static void near_at(double got, double want, double eps, const char *file, int line)
{
    if (!(fabs(got - want) <= eps))
        fail_msg("%s:%d: got %.17g, want %.17g (+- %g)", file, line, got, want, eps);
}

static json_t *parse(char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    hops_free(text);
    return j;
}

static double num(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void test_binary(void **state)
{
    (void)state;
    /* true:  0 0 1 1 1 ; p(1): .1 .6 .4 .8 .9 -> predicted 0 1 0 1 1 */
    const size_t y[] = {0, 0, 1, 1, 1};
    const double p[] = {.9, .1, .4, .6, .6, .4, .2, .8, .1, .9};
    const char *classes[] = {"no", "yes"};
    char *text = NULL;
    assert_int_equal(hops_metrics_classification(y, p, 5, 2, classes, &text), HOPS_OK);
    json_t *m = parse(text);
    assert_near(num(m, "accuracy"), 3.0 / 5, 1e-12);
    /* class 0: tp 1, predicted 2, actual 2 -> p .5 r .5; class 1: tp 2, predicted 3, actual 3 */
    double p0 = .5, r0 = .5, p1 = 2.0 / 3, r1 = 2.0 / 3;
    assert_near(num(m, "precision"), (p0 + p1) / 2, 1e-12);
    assert_near(num(m, "recall"), (r0 + r1) / 2, 1e-12);
    assert_near(num(m, "f1"), (2 * p0 * r0 / (p0 + r0) + 2 * p1 * r1 / (p1 + r1)) / 2, 1e-12);
    double ll = -(log(.9) + log(.4) + log(.4) + log(.8) + log(.9)) / 5;
    assert_near(num(m, "log_loss"), ll, 1e-12);
    /* positives .4 .8 .9 vs negatives .1 .6: pairs won 1+2+2 of 6 -> 5/6 */
    assert_near(num(m, "roc_auc"), 5.0 / 6, 1e-12);
    json_t *cm = json_object_get(json_object_get(m, "confusion_matrix"), "matrix");
    assert_int_equal(json_integer_value(json_array_get(json_array_get(cm, 0), 0)), 1);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(cm, 0), 1)), 1);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(cm, 1), 0)), 1);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(cm, 1), 1)), 2);
    json_decref(m);
}

static void test_auc_ties_and_clipping(void **state)
{
    (void)state;
    /* every score equal: AUC 1/2; a probability of 0 for the true class is
     * clipped to eps, not -log(0). */
    const size_t y[] = {0, 1, 0, 1};
    const double p[] = {.5, .5, .5, .5, .5, .5, .5, .5};
    char *text = NULL;
    assert_int_equal(hops_metrics_classification(y, p, 4, 2, NULL, &text), HOPS_OK);
    json_t *m = parse(text);
    assert_near(num(m, "roc_auc"), .5, 1e-12);
    json_decref(m);
    const size_t y2[] = {1};
    const double p2[] = {1, 0};
    assert_int_equal(hops_metrics_classification(y2, p2, 1, 2, NULL, &text), HOPS_OK);
    m = parse(text);
    assert_true(isfinite(num(m, "log_loss")) && num(m, "log_loss") > 30);
    assert_true(json_is_null(json_object_get(m, "roc_auc"))); /* one class only */
    json_decref(m);
}

static void test_multiclass(void **state)
{
    (void)state;
    const size_t y[] = {0, 1, 2, 2};
    const double p[] = {.7, .2, .1, .1, .3, .6, .2, .2, .6, .3, .3, .4};
    char *text = NULL;
    assert_int_equal(hops_metrics_classification(y, p, 4, 3, NULL, &text), HOPS_OK);
    json_t *m = parse(text);
    /* predicted 0 2 2 2: class 1 never predicted -> precision 0 */
    assert_near(num(m, "accuracy"), .75, 1e-12);
    assert_near(num(m, "precision"), (1 + 0 + 2.0 / 3) / 3, 1e-12);
    assert_near(num(m, "recall"), (1 + 0 + 1) / 3.0, 1e-12);
    assert_null(json_object_get(m, "roc_auc"));
    json_decref(m);
    /* Class 2 neither occurs nor is predicted: the averages are over 0 and 1. */
    const size_t y3[] = {0, 0, 1};
    const double p3[] = {.8, .1, .1, .3, .6, .1, .1, .8, .1};
    assert_int_equal(hops_metrics_classification(y3, p3, 3, 3, NULL, &text), HOPS_OK);
    m = parse(text);
    assert_near(num(m, "precision"), (1 + .5) / 2, 1e-12);
    assert_near(num(m, "recall"), (.5 + 1) / 2, 1e-12);
    json_decref(m);
    assert_int_equal(hops_metrics_classification(y, p, 4, 1, NULL, &text), HOPS_EINVAL);
    assert_int_equal(hops_metrics_classification(y, p, 0, 3, NULL, &text), HOPS_EINVAL);
}

static void test_regression(void **state)
{
    (void)state;
    const double y[] = {1, 2, 3, 4}, p[] = {1, 3, 3, 2};
    char *text = NULL;
    assert_int_equal(hops_metrics_regression(y, p, 4, &text), HOPS_OK);
    json_t *m = parse(text);
    assert_near(num(m, "rmse"), sqrt(5.0 / 4), 1e-12);
    assert_near(num(m, "mae"), 3.0 / 4, 1e-12);
    assert_near(num(m, "r2"), 1 - 5.0 / 5.0, 1e-12);
    json_decref(m);
    const double c[] = {2, 2}; /* constant truth: r2 is 1 when exact, else 0 */
    assert_int_equal(hops_metrics_regression(c, c, 2, &text), HOPS_OK);
    m = parse(text);
    assert_near(num(m, "r2"), 1, 0);
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_auc_ties_and_clipping),
        cmocka_unit_test(test_multiclass),
        cmocka_unit_test(test_regression),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
