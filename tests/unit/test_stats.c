/* Unit tests for src/data/stats.c: the statistics document on known data,
 * independence from threads and chunking, partial states merged across
 * byte ranges, and every bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "hops/run.h"
#include "hops/stats.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hops-unit-stats.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

static const char *path_of(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static const char *write_file(const char *name, const char *text)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static json_t *stats(const char *path, const hops_stats_options *o)
{
    char *text = NULL;
    hops_status st = hops_data_stats_json(path, o, &text);
    if (st != HOPS_OK)
        fail_msg("stats of %s: %s", path, hops_last_error());
    json_t *doc = json_loads(text, 0, NULL);
    hops_free(text);
    assert_non_null(doc);
    return doc;
}

static json_t *column(json_t *doc, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "columns"), i,
                       c) if (strcmp(json_string_value(json_object_get(c, "name")), name) ==
                              0) return c;
    fail_msg("no column %s", name);
    return NULL;
}

static double num(json_t *col, const char *key)
{
    json_t *v = json_object_get(json_object_get(col, "numeric"), key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static double quant(json_t *col, const char *key)
{
    return json_number_value(
        json_object_get(json_object_get(json_object_get(col, "numeric"), "quantiles"), key));
}

static json_int_t ival(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}
static const char *sval(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Small data: everything exact, against values worked out by hand (and
 * numpy's linear quantiles, numpy.histogram's bins). */
static void test_known_values(void **state)
{
    (void)state;
    const char *p = write_file("known.csv", "id,x,name,flag,when,cat,y\n"
                                            "1,1.5,ann,true,2024-01-01,a,0\n"
                                            "2,2.5,bob,false,2024-01-02T10:00:00Z,b,0\n"
                                            "3,,cid,TRUE,2024-02-29 23:59:59,a,1\n"
                                            "4,-4.25,dan,False,2024-03-01,a,0\n"
                                            ",10,\"e,f\",true,2024-03-02T00:00:00+02:00,b,0\n"
                                            "6,0.25,ann,,2024-03-03,a,1\n");
    hops_stats_options o = HOPS_STATS_OPTIONS_INIT;
    o.label = "y";
    json_t *doc = stats(p, &o), *c;
    assert_int_equal(ival(doc, "rows"), 6);
    assert_string_equal(sval(doc, "format"), "csv");

    c = column(doc, "id");
    assert_string_equal(sval(c, "type"), "int");
    assert_int_equal(ival(c, "count"), 5);
    assert_int_equal(ival(c, "nulls"), 1);
    assert_true(json_is_integer(json_object_get(json_object_get(c, "numeric"), "min")));
    assert_true(num(c, "min") == 1 && num(c, "max") == 6);
    assert_true(num(c, "mean") == 3.2);
    assert_true(fabs(num(c, "std") - sqrt(3.7)) < 1e-15); /* ddof 1 */
    assert_true(quant(c, "p50") == 3 && quant(c, "p25") == 2 && quant(c, "p75") == 4);
    assert_true(fabs(quant(c, "p1") - 1.04) < 1e-12);
    assert_true(num(c, "quantile_rank_error") == 0);
    json_t *h = json_object_get(json_object_get(c, "numeric"), "histogram");
    assert_int_equal(json_array_size(json_object_get(h, "edges")), 11);
    assert_true(json_number_value(json_array_get(json_object_get(h, "edges"), 0)) == 1);
    assert_true(json_number_value(json_array_get(json_object_get(h, "edges"), 10)) == 6);
    /* numpy.histogram([1,2,3,4,6], 10): [1,0,1,0,1,0,1,0,0,1] */
    static const int want[] = {1, 0, 1, 0, 1, 0, 1, 0, 0, 1};
    for (int i = 0; i < 10; i++)
        assert_int_equal(
            json_integer_value(json_array_get(json_object_get(h, "counts"), (size_t)i)), want[i]);
    assert_int_equal(ival(c, "distinct"), 5);
    assert_true(json_real_value(json_object_get(c, "distinct_error")) == 0);

    c = column(doc, "x");
    assert_string_equal(sval(c, "type"), "float");
    assert_true(num(c, "min") == -4.25 && num(c, "max") == 10);
    assert_true(num(c, "mean") == 2.0);
    assert_true(quant(c, "p50") == 1.5);

    c = column(doc, "name");
    assert_string_equal(sval(c, "type"), "string");
    assert_null(json_object_get(c, "numeric"));
    json_t *top = json_object_get(c, "top");
    assert_string_equal(sval(json_array_get(top, 0), "value"), "ann");
    assert_int_equal(ival(json_array_get(top, 0), "count"), 2);
    assert_string_equal(sval(json_array_get(top, 1), "value"), "bob"); /* ties by value */
    assert_string_equal(sval(json_array_get(top, 4), "value"), "e,f");
    assert_true(json_is_true(json_object_get(c, "top_exact")));

    assert_string_equal(sval(column(doc, "flag"), "type"), "bool");
    assert_int_equal(ival(column(doc, "flag"), "nulls"), 1);
    assert_string_equal(sval(column(doc, "when"), "type"), "timestamp");
    assert_string_equal(sval(column(doc, "cat"), "type"), "category");

    json_t *lab = json_object_get(doc, "label");
    assert_string_equal(sval(lab, "column"), "y");
    json_t *cls = json_object_get(lab, "classes");
    assert_int_equal(json_array_size(cls), 2);
    assert_string_equal(sval(json_array_get(cls, 0), "value"), "0");
    assert_int_equal(ival(json_array_get(cls, 0), "count"), 4);
    assert_int_equal(ival(json_array_get(cls, 1), "count"), 2);
    assert_true(json_real_value(json_object_get(lab, "imbalance_ratio")) == 2.0);

    /* Pearson over id, x and y on the rows where both are present. */
    json_t *corr = json_object_get(doc, "correlation");
    assert_int_equal(json_array_size(json_object_get(corr, "columns")), 3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(corr, "columns"), 1)),
                        "x");
    json_t *m = json_object_get(corr, "matrix");
    assert_true(json_real_value(json_array_get(json_array_get(m, 0), 0)) == 1.0);
    /* id,x pairs: (1,1.5) (2,2.5) (4,-4.25) (6,0.25): numpy.corrcoef gives
     * -0.45415248101116207. */
    double r = json_real_value(json_array_get(json_array_get(m, 0), 1));
    assert_true(fabs(r - (-0.45415248101116207)) < 1e-12);
    assert_true(r == json_real_value(json_array_get(json_array_get(m, 1), 0)));
    json_decref(doc);
}

/* Synthetic data big enough for every sketch to compact and every exact
 * table to overflow. */
static const char *big_file(void)
{
    const char *p = path_of("big.csv");
    struct stat st;
    if (stat(p, &st) == 0)
        return p;
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("a,b,c,d,e,y\n", f);
    uint64_t s = 12345;
    for (int i = 0; i < 60000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0;
        if (i % 17 == 3)
            fprintf(f, ",");
        else
            fprintf(f, "%.17g,", log(u + 1e-9) * 3 + 7);
        fprintf(f, "%d,", (int)(s >> 40) % 1000 - 500);
        if (i % 10 == 0)
            fputs(",", f);
        else if ((s >> 33) % 4 == 0)
            fputs("heavy,", f);
        else
            fprintf(f, "v%d,", i);
        fprintf(f, "%.3f,", (double)(i % 997) / 7.0);
        fprintf(f, "k%d,", (int)(s >> 50) % 50);
        fprintf(f, "%d\n", u < 0.9 ? 0 : u < 0.97 ? 1 : 2);
    }
    fclose(f);
    return p;
}

static void test_threads_and_chunks(void **state)
{
    (void)state;
    const char *p = big_file();
    hops_stats_options o = HOPS_STATS_OPTIONS_INIT;
    char *t1, *t4, *tiny;
    o.label = "y";
    o.read.threads = 1;
    assert_int_equal(hops_data_stats_json(p, &o, &t1), HOPS_OK);
    o.read.threads = 4;
    assert_int_equal(hops_data_stats_json(p, &o, &t4), HOPS_OK);
    assert_string_equal(t1, t4); /* byte for byte */
    o.read.chunk_size = 3000;
    assert_int_equal(hops_data_stats_json(p, &o, &tiny), HOPS_OK);
    json_t *a = json_loads(t1, 0, NULL), *b = json_loads(tiny, 0, NULL);
    const char *names[] = {"a", "b", "c", "d", "e", "y"};
    for (size_t i = 0; i < 6; i++) {
        json_t *ca = column(a, names[i]), *cb = column(b, names[i]);
        assert_int_equal(ival(ca, "count"), ival(cb, "count"));
        assert_int_equal(ival(ca, "nulls"), ival(cb, "nulls"));
        assert_string_equal(sval(ca, "type"), sval(cb, "type"));
        if (!json_object_get(ca, "numeric"))
            continue;
        assert_true(num(ca, "min") == num(cb, "min"));
        assert_true(num(ca, "max") == num(cb, "max"));
        assert_true(num(ca, "mean") == num(cb, "mean")); /* an exact sum: bit for bit */
        assert_true(fabs(num(ca, "std") - num(cb, "std")) <= 1e-12 * num(ca, "std"));
        double eps = num(ca, "quantile_rank_error");
        assert_true(eps > 0 && eps < 0.01);
    }
    assert_true(json_equal(json_object_get(a, "label"), json_object_get(b, "label")));
    json_decref(a);
    json_decref(b);
    hops_free(t1);
    hops_free(t4);
    hops_free(tiny);
}

/* Byte ranges in separate "processes" (partial states), merged in order:
 * the exact statistics equal the single pass bit for bit. */
static void test_partial_merge(void **state)
{
    (void)state;
    const char *p = big_file();
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    hops_stats_options o = HOPS_STATS_OPTIONS_INIT;
    o.label = "y";
    json_t *whole = stats(p, &o);
    static const size_t splits[] = {1, 2, 3, 7};
    for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
        size_t n = splits[s];
        char *states[8];
        size_t lens[8];
        for (size_t i = 0; i < n; i++) {
            uint64_t b = (uint64_t)st.st_size * i / n, e = (uint64_t)st.st_size * (i + 1) / n;
            if (hops_data_stats_partial(p, &o, b, e, &states[i], &lens[i]) != HOPS_OK)
                fail_msg("partial %zu/%zu: %s", i, n, hops_last_error());
        }
        char *text;
        if (hops_data_stats_merge_json((const char *const *)states, lens, n, &o, &text) != HOPS_OK)
            fail_msg("merge of %zu: %s", n, hops_last_error());
        json_t *m = json_loads(text, 0, NULL);
        assert_int_equal(ival(m, "rows"), ival(whole, "rows"));
        size_t i;
        json_t *cw;
        json_array_foreach(json_object_get(whole, "columns"), i, cw)
        {
            json_t *cm = json_array_get(json_object_get(m, "columns"), i);
            assert_string_equal(sval(cm, "name"), sval(cw, "name"));
            assert_string_equal(sval(cm, "type"), sval(cw, "type"));
            assert_int_equal(ival(cm, "count"), ival(cw, "count"));
            assert_int_equal(ival(cm, "nulls"), ival(cw, "nulls"));
            if (json_object_get(cw, "numeric")) {
                assert_true(num(cm, "min") == num(cw, "min"));
                assert_true(num(cm, "max") == num(cw, "max"));
                assert_true(num(cm, "mean") == num(cw, "mean"));
                assert_true(fabs(num(cm, "std") - num(cw, "std")) <= 1e-12 * num(cw, "std"));
            }
            if (json_is_true(json_object_get(cw, "top_exact"))) {
                assert_true(json_equal(json_object_get(cm, "top"), json_object_get(cw, "top")));
                assert_int_equal(ival(cm, "distinct"), ival(cw, "distinct"));
            }
        }
        assert_true(json_equal(json_object_get(m, "label"), json_object_get(whole, "label")));
        json_t *ra = json_object_get(json_object_get(m, "correlation"), "matrix");
        json_t *rb = json_object_get(json_object_get(whole, "correlation"), "matrix");
        assert_int_equal(json_array_size(ra), json_array_size(rb));
        for (size_t x = 0; x < json_array_size(ra); x++)
            for (size_t y = 0; y < json_array_size(ra); y++)
                assert_true(fabs(json_real_value(json_array_get(json_array_get(ra, x), y)) -
                                 json_real_value(json_array_get(json_array_get(rb, x), y))) <
                            1e-12);
        json_decref(m);
        hops_free(text);
        for (size_t k = 0; k < n; k++)
            hops_free(states[k]);
    }
    json_decref(whole);
}

static void test_bad_states(void **state)
{
    (void)state;
    const char *p = write_file("small.csv", "a,b\n1,x\n2,y\n");
    const char *q = write_file("other.csv", "a,c\n1,x\n");
    char *s1, *s2, *text = NULL;
    size_t l1, l2;
    assert_int_equal(hops_data_stats_partial(p, NULL, 0, 1000, &s1, &l1), HOPS_OK);
    assert_int_equal(hops_data_stats_partial(q, NULL, 0, 1000, &s2, &l2), HOPS_OK);
    const char *both[] = {s1, s2};
    size_t lens[] = {l1, l2};
    assert_int_equal(hops_data_stats_merge_json(both, lens, 2, NULL, &text), HOPS_ECORRUPT);
    assert_non_null(strstr(hops_last_error(), "other columns"));
    const char *junk[] = {"not a state at all"};
    size_t junk_len[] = {18};
    assert_int_equal(hops_data_stats_merge_json(junk, junk_len, 1, NULL, &text), HOPS_ECORRUPT);
    for (size_t cut = 0; cut < l1; cut += 7) {
        const char *one[] = {s1};
        size_t len[] = {cut};
        assert_int_equal(hops_data_stats_merge_json(one, len, 1, NULL, &text), HOPS_ECORRUPT);
    }
    /* A flipped byte anywhere is refused or merges into something sane, never a crash. */
    char *copy = malloc(l1);
    for (size_t i = 0; i < l1; i++) {
        memcpy(copy, s1, l1);
        copy[i] ^= 0x5a;
        const char *one[] = {copy};
        size_t len[] = {l1};
        if (hops_data_stats_merge_json(one, len, 1, NULL, &text) == HOPS_OK) {
            hops_free(text);
            text = NULL;
        }
    }
    free(copy);
    assert_int_equal(hops_data_stats_merge_json(NULL, NULL, 0, NULL, &text), HOPS_EINVAL);
    hops_free(s1);
    hops_free(s2);
    assert_int_equal(hops_data_stats_partial(p, NULL, 10, 5, &s2, &l2), HOPS_EINVAL);
    assert_null(s2);
    /* A range past the end is empty, not an error. */
    assert_int_equal(hops_data_stats_partial(p, NULL, 5000, 6000, &s2, &l2), HOPS_OK);
    const char *empty[] = {s2};
    assert_int_equal(hops_data_stats_merge_json(empty, &l2, 1, NULL, &text), HOPS_OK);
    json_t *doc = json_loads(text, 0, NULL);
    assert_int_equal(ival(doc, "rows"), 0);
    json_decref(doc);
    hops_free(text);
    hops_free(s2);
}

static void test_bad_input(void **state)
{
    (void)state;
    char *text = NULL;
    hops_stats_options o = HOPS_STATS_OPTIONS_INIT;
    assert_int_equal(hops_data_stats_json(path_of("missing.csv"), NULL, &text), HOPS_ENOTFOUND);
    assert_null(text);
    assert_non_null(strstr(hops_last_error(), "missing.csv"));

    const char *p = write_file("cols.csv", "alpha,beta,gamma\n1,2,3\n");
    o.label = "delta";
    assert_int_equal(hops_data_stats_json(p, &o, &text), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "no column 'delta'"));
    assert_non_null(strstr(hops_last_error(), "alpha, beta, gamma"));

    p = write_file("ragged.csv", "a,b\n1,2\n3\n4,5\n");
    assert_int_equal(hops_data_stats_json(p, NULL, &text), HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "ragged.csv:3"));

    p = write_file("empty.csv", "");
    assert_int_equal(hops_data_stats_json(p, NULL, &text), HOPS_EPARSE);

    p = write_file("quote.csv", "a,b\n1,\"open\n");
    assert_int_equal(hops_data_stats_json(p, NULL, &text), HOPS_EPARSE);

    hops_stats_options v = HOPS_STATS_OPTIONS_INIT;
    v.version = 99;
    assert_int_equal(hops_data_stats_json(p, &v, &text), HOPS_EVERSION);
    v = (hops_stats_options)HOPS_STATS_OPTIONS_INIT;
    v.top_k = -1;
    assert_int_equal(hops_data_stats_json(p, &v, &text), HOPS_EINVAL);
    assert_int_equal(hops_data_stats_json(NULL, NULL, &text), HOPS_EINVAL);
}

static void test_edge_shapes(void **state)
{
    (void)state;
    /* Header only: zero rows, every column empty. */
    json_t *doc = stats(write_file("header.csv", "a,b\n"), NULL);
    assert_int_equal(ival(doc, "rows"), 0);
    assert_int_equal(ival(column(doc, "a"), "count"), 0);
    assert_string_equal(sval(column(doc, "a"), "type"), "string");
    json_decref(doc);

    /* A constant column: numpy's bins around the value; an all-null column. */
    doc = stats(write_file("const.csv", "k,n,s\n7,,x\n7,,x\n7,,\"\"\n"), NULL);
    json_t *k = column(doc, "k");
    json_t *h = json_object_get(json_object_get(k, "numeric"), "histogram");
    assert_true(json_number_value(json_array_get(json_object_get(h, "edges"), 0)) == 6.5);
    assert_true(json_number_value(json_array_get(json_object_get(h, "edges"), 10)) == 7.5);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "counts"), 5)), 3);
    assert_true(json_is_null(json_object_get(json_object_get(k, "numeric"), "std")) == 0);
    assert_true(num(k, "std") == 0);
    assert_int_equal(ival(column(doc, "n"), "nulls"), 3);
    assert_null(json_object_get(column(doc, "n"), "numeric"));
    /* A quoted empty string is a value, not a null. */
    assert_int_equal(ival(column(doc, "s"), "count"), 3);
    /* One numeric column: no pairs, an empty-ish matrix, no NaN in JSON. */
    json_t *m = json_object_get(json_object_get(doc, "correlation"), "matrix");
    assert_int_equal(json_array_size(m), 1);
    assert_true(json_is_null(json_array_get(json_array_get(m, 0), 0))); /* zero variance */
    json_decref(doc);

    /* Invalid UTF-8 is refused by the reader, naming file:line:column. */
    char *text = NULL;
    assert_int_equal(
        hops_data_stats_json(write_file("bytes.csv", "n\nok\n\xc3\x28\n"), NULL, &text),
        HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "bytes.csv:3:1"));

    /* A wide mixed column is a string; huge magnitudes stay finite or null. */
    doc = stats(write_file("mixed.csv", "m,big\n1,1e308\nx,1e308\n2.5,-1e308\n"), NULL);
    assert_string_equal(sval(column(doc, "m"), "type"), "string");
    assert_true(num(column(doc, "big"), "max") == 1e308);
    assert_true(num(column(doc, "big"), "mean") == 1e308 / 3);
    json_decref(doc);
}

static void test_jsonl(void **state)
{
    (void)state;
    const char *p = write_file("rows.jsonl", "{\"a\": 1, \"b\": \"x\", \"c\": true}\n"
                                             "{\"a\": 2.5, \"b\": null, \"c\": false}\n"
                                             "{\"a\": null, \"c\": true}\n"
                                             "{\"a\": 4, \"b\": \"x\", \"c\": false}\n");
    json_t *doc = stats(p, NULL);
    assert_string_equal(sval(doc, "format"), "jsonl");
    assert_int_equal(ival(doc, "rows"), 4);
    json_t *a = column(doc, "a");
    assert_string_equal(sval(a, "type"), "float");
    assert_int_equal(ival(a, "nulls"), 1);
    assert_true(num(a, "mean") == 2.5);
    assert_int_equal(ival(column(doc, "b"), "nulls"), 2); /* null and missing */
    assert_string_equal(sval(column(doc, "c"), "type"), "bool");
    json_decref(doc);
}

/* Past 10,000 distinct values: counts from Misra-Gries with a stated error,
 * the distinct count from HyperLogLog within 3 standard errors. */
static void test_many_distinct(void **state)
{
    (void)state;
    const char *p = path_of("distinct.csv");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("v\n", f);
    int heavy = 0;
    for (int i = 0; i < 100000; i++) {
        if (i % 5 == 0) {
            fputs("popular\n", f);
            heavy++;
        } else
            fprintf(f, "id%d\n", i % 40000);
    }
    fclose(f);
    json_t *doc = stats(p, NULL), *c = column(doc, "v");
    double err = json_real_value(json_object_get(c, "distinct_error"));
    assert_true(err > 0.008 && err < 0.0082);
    assert_true(fabs((double)ival(c, "distinct") - 32001) <
                3 * err * 32001); /* ids not divisible by 5 */
    assert_false(json_is_true(json_object_get(c, "top_exact")));
    json_int_t cerr = ival(c, "top_count_error");
    json_t *first = json_array_get(json_object_get(c, "top"), 0);
    assert_string_equal(sval(first, "value"), "popular");
    assert_true(ival(first, "count") <= heavy && ival(first, "count") + cerr >= heavy);
    assert_true(cerr <= 100000 / 129);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),  cmocka_unit_test(test_threads_and_chunks),
        cmocka_unit_test(test_partial_merge), cmocka_unit_test(test_bad_states),
        cmocka_unit_test(test_bad_input),     cmocka_unit_test(test_edge_shapes),
        cmocka_unit_test(test_jsonl),         cmocka_unit_test(test_many_distinct),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
