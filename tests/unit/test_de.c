/* Unit tests for src/hpo/de.c: generational DE has its barrier and budget,
 * async DE has none, both improve on a deterministic objective, and the
 * same asks and tells give the same points (what resume relies on). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "hpo/hpo_internal.h"

static hops_hpo_spec *spec_of(const char *json)
{
    hops_hpo_spec *s = NULL;
    if (hops_hpo_spec_parse(&s, json, strlen(json)) != HOPS_OK)
        fail_msg("spec: %s", hops_last_error());
    return s;
}

/* A smooth objective with its maximum 0 at x = 0.3, y = 0.7. */
static double objective(const double *u) { return -((u[0] - 0.3) * (u[0] - 0.3) + (u[1] - 0.7) * (u[1] - 0.7)); }

#define DE_SPEC(mode) \
    "{\"space\": {\"x\": {\"type\": \"float\", \"range\": [0, 1]}, \"y\": {\"type\": \"float\", \"range\": [0, 1]}}," \
    " \"sampler\": {\"type\": \"de\", \"population\": 8, \"generations\": 10, \"mode\": \"" mode "\"}, \"seed\": 3}"

static void test_generational_barrier_and_budget(void **state)
{
    (void)state;
    hops_hpo_spec *s = spec_of(DE_SPEC("generational"));
    hops__sampler *d;
    double u[2], best = -INFINITY, first_gen_best = -INFINITY;
    int done = 0;
    int64_t t = 0;
    assert_int_equal(hops__sampler_new(&d, s), HOPS_OK);
    while (!done) {
        /* Ask a whole generation; the next ask must wait for the tells. */
        int64_t first = t;
        double vals[8];
        size_t n = 0;
        while (n < 8 && d->ops->ask(d, t, u, &done) == HOPS_OK) {
            vals[n++] = objective(u);
            t++;
        }
        if (done)
            break;
        assert_int_equal(n, 8);
        assert_int_equal(d->ops->ask(d, t, u, &done), HOPS_EBUSY);
        assert_false(done); /* the barrier, not the end */
        for (size_t i = 0; i < n; i++) {
            d->ops->tell(d, first + (int64_t)i, vals[i]);
            if (vals[i] > best)
                best = vals[i];
            if (first == 0 && vals[i] > first_gen_best)
                first_gen_best = vals[i];
        }
    }
    /* population x (generations + 1), less the repeats served from the cache. */
    assert_true(t <= 8 * 11);
    assert_true(t >= 8 * 6);
    assert_true(best >= first_gen_best);
    assert_true(best > -0.01);
    d->ops->free(d);
    hops_hpo_spec_free(s);
}

static void test_async_no_barrier(void **state)
{
    (void)state;
    hops_hpo_spec *s = spec_of(DE_SPEC("async"));
    hops__sampler *d;
    double u[2], best = -INFINITY;
    int done = 0;
    int64_t t;
    double pending[4];
    assert_int_equal(hops__sampler_new(&d, s), HOPS_OK);
    /* Four slots: the first four points, then the loop tells the oldest one
     * and asks again at once; it never has to wait while any member has a value. */
    for (t = 0; t < 4; t++) {
        assert_int_equal(d->ops->ask(d, t, u, &done), HOPS_OK);
        pending[t] = objective(u);
    }
    int64_t asked = 4, told = 0;
    while (told < asked) {
        d->ops->tell(d, told, pending[told % 4]);
        if (pending[told % 4] > best)
            best = pending[told % 4];
        told++;
        if (!done) {
            hops_status rc = d->ops->ask(d, asked, u, &done);
            if (rc == HOPS_OK) {
                pending[asked % 4] = objective(u);
                asked++;
            } else {
                assert_true(done); /* only the budget ends it */
            }
        }
    }
    assert_true(asked <= 8 * 11);
    assert_true(best > -0.01);
    d->ops->free(d);
    hops_hpo_spec_free(s);
}

/* The same asks and tells in the same order give the same points. */
static void test_replay_is_deterministic(void **state)
{
    (void)state;
    hops_hpo_spec *s = spec_of(DE_SPEC("async"));
    hops__sampler *a, *b;
    double ua[2], ub[2];
    int da = 0, db = 0;
    assert_int_equal(hops__sampler_new(&a, s), HOPS_OK);
    assert_int_equal(hops__sampler_new(&b, s), HOPS_OK);
    for (int64_t t = 0; t < 40; t++) {
        hops_status ra = a->ops->ask(a, t, ua, &da), rb = b->ops->ask(b, t, ub, &db);
        assert_int_equal(ra, rb);
        assert_int_equal(da, db);
        if (ra != HOPS_OK)
            break;
        assert_memory_equal(ua, ub, sizeof ua);
        a->ops->tell(a, t, objective(ua));
        b->ops->tell(b, t, objective(ub));
    }
    a->ops->free(a);
    b->ops->free(b);
    hops_hpo_spec_free(s);
}

/* A tiny space: most trial vectors repeat points already evaluated, which
 * come from the cache; the sampler still ends. */
static void test_cached_repeats(void **state)
{
    (void)state;
    hops_hpo_spec *s = spec_of("{\"space\": {\"c\": [\"a\", \"b\"], \"n\": [1, 2]},"
                               " \"sampler\": {\"type\": \"de\", \"population\": 4, \"generations\": 20,"
                               " \"mode\": \"generational\"}}");
    hops__sampler *d;
    double u[2];
    int done = 0;
    int64_t t = 0;
    assert_int_equal(hops__sampler_new(&d, s), HOPS_OK);
    while (!done) {
        int64_t first = t;
        while (d->ops->ask(d, t, u, &done) == HOPS_OK)
            t++;
        for (int64_t k = first; k < t; k++)
            d->ops->tell(d, k, (double)k);
    }
    assert_true(t < 4 * 21); /* repeats were not asked again */
    d->ops->free(d);
    hops_hpo_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generational_barrier_and_budget),
        cmocka_unit_test(test_async_no_barrier),
        cmocka_unit_test(test_replay_is_deterministic),
        cmocka_unit_test(test_cached_repeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
