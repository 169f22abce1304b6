/* Unit tests for src/hpo/grid.c and src/hpo/random.c. */
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

/* Ask until done, telling 0 each time; the decoded points, compact JSON. */
static size_t ask_all(hops__sampler *smp, const hops_hpo_spec *spec, char **out, size_t max)
{
    double u[8];
    size_t n = 0;
    int done = 0;
    for (int64_t t = 0; n < max; t++) {
        hops_status rc = smp->ops->ask(smp, t, u, &done);
        if (done)
            break;
        assert_int_equal(rc, HOPS_OK);
        json_t *o = hops__space_decode(spec->space, u);
        out[n++] = hops__json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        smp->ops->tell(smp, t, 0);
    }
    return n;
}

static void test_grid_product(void **state)
{
    (void)state;
    hops_hpo_spec *s = spec_of("{\"space\": {\"a\": [1, 3], \"b\": [\"x\", \"y\"],"
                               " \"c\": {\"type\": \"float\", \"range\": [0, 1]}},"
                               " \"sampler\": {\"type\": \"grid\", \"points\": 3}}");
    hops__sampler *g;
    char *pts[64];
    assert_int_equal(hops__grid_size(s), 18);
    assert_int_equal(hops__sampler_new(&g, s), HOPS_OK);
    size_t n = ask_all(g, s, pts, 64);
    assert_int_equal(n, 18);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(pts[i], pts[j]); /* every combination once */
    assert_string_equal(pts[0], "{\"a\":1,\"b\":\"x\",\"c\":0.0}");
    assert_string_equal(pts[1], "{\"a\":1,\"b\":\"x\",\"c\":0.5}");
    assert_string_equal(pts[17], "{\"a\":3,\"b\":\"y\",\"c\":1.0}");
    for (size_t i = 0; i < n; i++)
        hops_free(pts[i]);
    g->ops->free(g);
    hops_hpo_spec_free(s);
}

static void test_random_seeded(void **state)
{
    (void)state;
    hops_hpo_spec *s1 = spec_of("{\"space\": {\"lr\": [0.001, 0.1], \"n\": [1, 100]}, \"trials\": 20, \"seed\": 42}");
    hops_hpo_spec *s2 = spec_of("{\"space\": {\"lr\": [0.001, 0.1], \"n\": [1, 100]}, \"trials\": 20, \"seed\": 43}");
    hops__sampler *a, *b, *c;
    char *pa[32], *pb[32], *pc[32];
    assert_int_equal(hops__sampler_new(&a, s1), HOPS_OK);
    assert_int_equal(hops__sampler_new(&b, s1), HOPS_OK);
    assert_int_equal(hops__sampler_new(&c, s2), HOPS_OK);
    assert_int_equal(ask_all(a, s1, pa, 32), 20);
    assert_int_equal(ask_all(b, s1, pb, 32), 20);
    assert_int_equal(ask_all(c, s2, pc, 32), 20);
    int differs = 0;
    for (size_t i = 0; i < 20; i++) {
        assert_string_equal(pa[i], pb[i]); /* same seed, same points */
        differs |= strcmp(pa[i], pc[i]) != 0;
        json_t *o = json_loads(pa[i], 0, NULL);
        double lr = json_real_value(json_object_get(o, "lr"));
        json_int_t n = json_integer_value(json_object_get(o, "n"));
        assert_true(lr >= 0.001 && lr <= 0.1);
        assert_true(n >= 1 && n <= 100);
        json_decref(o);
        hops_free(pa[i]);
        hops_free(pb[i]);
        hops_free(pc[i]);
    }
    assert_true(differs);
    a->ops->free(a);
    b->ops->free(b);
    c->ops->free(c);
    hops_hpo_spec_free(s1);
    hops_hpo_spec_free(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_product),
        cmocka_unit_test(test_random_seeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
