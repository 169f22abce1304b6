/* Unit tests for src/hpo/median.c and src/hpo/asha.c: the early-stopping rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "hpo/hpo_internal.h"

static hops__history hist(const double *v, size_t n)
{
    hops__history h = {0};
    for (size_t i = 0; i < n; i++)
        hops__history_push(&h, v[i]);
    return h;
}

static void test_median_rule(void **state)
{
    (void)state;
    const double f1[] = {0.5, 0.6, 0.7}, f2[] = {0.6, 0.7, 0.8}, f3[] = {0.7, 0.8, 0.9};
    hops__history fin[3] = {hist(f1, 3), hist(f2, 3), hist(f3, 3)};
    /* Step 2: running means 0.55, 0.65, 0.75 -> median 0.65. */
    const double bad[] = {0.1, 0.2}, good[] = {0.1, 0.7}, one[] = {0.4};
    hops__history b = hist(bad, 2), g = hist(good, 2), o = hist(one, 1);
    assert_int_equal(hops__median_should_stop(&b, fin, 3, 1, 3), 1);
    assert_int_equal(hops__median_should_stop(&g, fin, 3, 1, 3), 0); /* its best beats the median */
    assert_int_equal(hops__median_should_stop(&b, fin, 3, 1, 4), 0); /* es_min not reached */
    assert_int_equal(hops__median_should_stop(&o, fin, 3, 1, 0), 1); /* 0.4 < median(0.5,0.6,0.7) */
    /* Minimizing: 0.1 is better than the median of the means. */
    assert_int_equal(hops__median_should_stop(&b, fin, 3, 0, 3), 0);
    /* A trial longer than every finished one has nothing to compare with. */
    const double longer[] = {0, 0, 0, 0};
    hops__history l = hist(longer, 4);
    assert_int_equal(hops__median_should_stop(&l, fin, 3, 1, 0), 0);
    for (int i = 0; i < 3; i++)
        hops__history_free(&fin[i]);
    hops__history_free(&b);
    hops__history_free(&g);
    hops__history_free(&o);
    hops__history_free(&l);
}

static void test_asha_rungs(void **state)
{
    (void)state;
    hops__asha *a;
    assert_int_equal(hops__asha_new(&a, 3, 1, 27, 1), HOPS_OK);
    assert_int_equal(hops__asha_rungs(a), 3); /* milestones 9, 3, 1 */
    assert_true(hops__asha_milestone(a, 0) == 9);
    assert_true(hops__asha_milestone(a, 2) == 1);
    /* The first trial at a rung always goes on. */
    assert_int_equal(hops__asha_on_result(a, 0, 1, 0.5), 0);
    assert_int_equal(hops__asha_on_result(a, 1, 1, 0.9), 0); /* better: on */
    assert_int_equal(hops__asha_on_result(a, 2, 1, 0.1), 1); /* below the top third: stop */
    assert_int_equal(hops__asha_rung_size(a, 2), 3);
    /* A step that is not a new milestone records nothing. */
    assert_int_equal(hops__asha_on_result(a, 1, 2, 0.0), 0);
    assert_int_equal(hops__asha_on_result(a, 1, 3, 0.95), 0);
    assert_int_equal(hops__asha_rung_size(a, 1), 1);
    hops__asha_free(a);
    /* Minimizing flips the comparison. */
    assert_int_equal(hops__asha_new(&a, 2, 1, 8, 0), HOPS_OK);
    assert_int_equal(hops__asha_on_result(a, 0, 1, 1.0), 0);
    assert_int_equal(hops__asha_on_result(a, 1, 1, 5.0), 1);
    assert_int_equal(hops__asha_on_result(a, 2, 1, 0.5), 0);
    hops__asha_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_rule),
        cmocka_unit_test(test_asha_rungs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
