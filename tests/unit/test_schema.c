/* Unit tests for src/data/schema.c and src/data/validate.c: value parsers,
 * schema inference, schema checking with line:column messages, every
 * validation rule, the quarantine file, and independence of thread count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "hops/run.h"
#include "hops/schema.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hops-unit-schema.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unsetenv("HOPS_CHUNK_SIZE");
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

/* A file NAME in the test dir holding TEXT; returns its path (static buffer per slot). */
static const char *put(const char *name, const char *text)
{
    static char paths[4][512];
    static int slot;
    char *p = paths[slot++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    assert_int_equal(hops__atomic_write(p, text, strlen(text)), HOPS_OK);
    return p;
}

static json_t *infer(const char *path, int threads)
{
    hops_read_options o = HOPS_READ_OPTIONS_INIT;
    char *text = NULL;
    o.threads = threads;
    assert_int_equal(hops_data_schema_infer_json(path, &o, &text), HOPS_OK);
    assert_int_equal(hops_data_schema_check(text, "inferred"), HOPS_OK);
    json_t *j = json_loads(text, 0, NULL);
    hops_free(text);
    assert_non_null(j);
    return j;
}

static json_t *col(json_t *schema, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(schema, "columns"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
            return c;
    }
    fail_msg("no column %s", name);
    return NULL;
}

static const char *type_of(json_t *schema, const char *name)
{
    return json_string_value(json_object_get(col(schema, name), "type"));
}

static json_t *validate(const char *path, const char *schema, const char *quarantine,
                        size_t max_examples, int threads, int *failed)
{
    hops_read_options o = HOPS_READ_OPTIONS_INIT;
    char *text = NULL;
    o.threads = threads;
    assert_int_equal(
        hops_data_validate_json(path, schema, &o, quarantine, max_examples, &text, failed),
        HOPS_OK);
    json_t *j = json_loads(text, 0, NULL);
    hops_free(text);
    assert_non_null(j);
    return j;
}

/* The rule object RULE (on COLUMN, NULL for file rules) of a report. */
static json_t *rule(json_t *report, const char *name, const char *column)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "rules"), i, r) {
        const char *c = json_string_value(json_object_get(r, "column"));
        if (strcmp(json_string_value(json_object_get(r, "rule")), name) == 0 &&
            (column ? c && strcmp(c, column) == 0 : !c))
            return r;
    }
    return NULL;
}

static long long count_of(json_t *report, const char *name, const char *column)
{
    json_t *r = rule(report, name, column);
    assert_non_null(r);
    return (long long)json_integer_value(json_object_get(r, "count"));
}

static long long example_line(json_t *report, const char *name, const char *column, size_t k)
{
    json_t *ex = json_array_get(json_object_get(rule(report, name, column), "examples"), k);
    assert_non_null(ex);
    return (long long)json_integer_value(json_object_get(ex, "line"));
}

static const char *example_message(json_t *report, const char *name, const char *column, size_t k)
{
    json_t *ex = json_array_get(json_object_get(rule(report, name, column), "examples"), k);
    assert_non_null(ex);
    return json_string_value(json_object_get(ex, "message"));
}

/* ---- value parsers ---- */

static void test_parse_timestamp(void **state)
{
    (void)state;
    double t;
    struct {
        const char *s;
        double want;
    } good[] = {
        {"1970-01-01", 0},
        {"2000-03-01", 951868800},
        {"2024-02-29", 1709164800},
        {"1970-01-01T00:00:01Z", 1},
        {"1970-01-01 00:01", 60},
        {"1970-01-01t00:00:01+01:00", 1 - 3600},
        {"1970-01-01T00:00:01-0130", 1 + 5400},
        {"1970-01-01T00:00:01+02", 1 - 7200},
        {"1970-01-01T00:00:00.25", 0.25},
        {"1970-01-01T00:00:00.123456789Z", 0.123456789},
        {"1969-12-31T23:59:59", -1},
    };
    const char *bad[] = {"",
                         "2024",
                         "2024-1-01",
                         "2024-13-01",
                         "2023-02-29",
                         "2024-04-31",
                         "2024-01-01T",
                         "2024-01-01T24:00",
                         "2024-01-01T10:60",
                         "2024-01-01X10:00",
                         "2024-01-01T10:00:00.",
                         "2024-01-01T10:00:00.1234567890",
                         "2024-01-01T10:00Zjunk",
                         "2024-01-01T10:00+1",
                         "2024-01-01 ",
                         "20240101",
                         "abcd-ef-gh",
                         "2024-01-01T10:00:00+01:0"};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(good); i++) {
        assert_true(hops_data_parse_timestamp(good[i].s, strlen(good[i].s), &t));
        assert_true(t > good[i].want - 1e-6 && t < good[i].want + 1e-6);
    }
    for (size_t i = 0; i < HOPS_ARRAY_LEN(bad); i++)
        if (hops_data_parse_timestamp(bad[i], strlen(bad[i]), &t))
            fail_msg("'%s' parsed as a timestamp", bad[i]);
    /* Only LEN bytes are read. */
    assert_true(hops_data_parse_timestamp("2024-01-01garbage", 10, &t));
}

static void test_parse_bool(void **state)
{
    (void)state;
    int b = -1;
    assert_true(hops_data_parse_bool("true", 4, &b) && b == 1);
    assert_true(hops_data_parse_bool("FALSE", 5, &b) && b == 0);
    assert_true(hops_data_parse_bool("True", 4, &b) && b == 1);
    assert_false(hops_data_parse_bool("yes", 3, &b));
    assert_false(hops_data_parse_bool("1", 1, &b));
    assert_false(hops_data_parse_bool("truex", 5, &b));
    assert_false(hops_data_parse_bool("", 0, &b));
}

/* ---- inference ---- */

static void test_infer_types(void **state)
{
    (void)state;
    const char *path =
        put("types.csv",
            "i,f,mixed,b,s,c,t,d,allnull,neg\n"
            "1,1.5,1,true,alpha,SE,2024-01-02T03:04:05Z,2024-01-01,,-5\n"
            "2,2.25,2.5,False,beta,NO,2023-12-31 23:59:59,2024-02-01,,-7\n"
            "3,-0.5,3,TRUE,gamma,SE,2024-06-30T00:00:00+02:00,2023-01-01,,9223372036854775807\n"
            "-4,1e3,4,false,delta,NO,2024-01-01T00:00,2024-12-31,,0\n");
    json_t *s = infer(path, 1);
    assert_string_equal(type_of(s, "i"), "int");
    assert_string_equal(type_of(s, "f"), "float");
    assert_string_equal(type_of(s, "mixed"), "float");
    assert_string_equal(type_of(s, "b"), "bool");
    assert_string_equal(type_of(s, "s"), "string");
    assert_string_equal(type_of(s, "c"), "category");
    assert_string_equal(type_of(s, "t"), "timestamp");
    assert_string_equal(type_of(s, "d"), "timestamp");
    assert_string_equal(type_of(s, "allnull"), "string");
    assert_string_equal(type_of(s, "neg"), "int");
    /* ranges */
    assert_int_equal(json_integer_value(json_object_get(col(s, "i"), "min")), -4);
    assert_int_equal(json_integer_value(json_object_get(col(s, "i"), "max")), 3);
    assert_true(json_is_integer(json_object_get(col(s, "neg"), "max")));
    assert_true(json_integer_value(json_object_get(col(s, "neg"), "max")) == INT64_MAX);
    assert_true(json_real_value(json_object_get(col(s, "f"), "min")) == -0.5);
    assert_true(json_real_value(json_object_get(col(s, "f"), "max")) == 1000.0);
    assert_true(json_real_value(json_object_get(col(s, "mixed"), "max")) == 4.0);
    assert_string_equal(json_string_value(json_object_get(col(s, "t"), "min")),
                        "2023-12-31 23:59:59");
    assert_string_equal(json_string_value(json_object_get(col(s, "t"), "max")),
                        "2024-06-30T00:00:00+02:00");
    assert_string_equal(json_string_value(json_object_get(col(s, "d"), "max")), "2024-12-31");
    /* value sets: bools and categories only, sorted */
    json_t *cv = json_object_get(col(s, "c"), "values");
    assert_int_equal(json_array_size(cv), 2);
    assert_string_equal(json_string_value(json_array_get(cv, 0)), "NO");
    assert_string_equal(json_string_value(json_array_get(cv, 1)), "SE");
    json_t *bv = json_object_get(col(s, "b"), "values");
    assert_int_equal(json_array_size(bv), 2);
    assert_true(json_is_false(json_array_get(bv, 0)) && json_is_true(json_array_get(bv, 1)));
    assert_null(json_object_get(col(s, "s"), "values"));
    assert_null(json_object_get(col(s, "i"), "values"));
    assert_null(json_object_get(col(s, "s"), "min"));
    /* nullability */
    assert_true(json_is_true(json_object_get(col(s, "allnull"), "nullable")));
    assert_true(json_is_false(json_object_get(col(s, "i"), "nullable")));
    /* the file */
    json_t *from = json_object_get(s, "inferred_from");
    assert_int_equal(json_integer_value(json_object_get(from, "rows")), 4);
    assert_string_equal(json_string_value(json_object_get(from, "format")), "csv");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "rows"), "min")), 1);
    json_decref(s);
}

static void test_infer_nulls_and_sets(void **state)
{
    (void)state;
    /* A quoted empty string is a value, not a null; an unquoted empty field is a null. */
    const char *path = put("nulls.csv", "a,b,few,many,long\n"
                                        "1,\"\",x,v1,aaaa\n"
                                        ",\"\",y,v2,aaaa\n"
                                        "3,\"\",x,v3,aaaa\n"
                                        "4,\"\",y,v4,aaaa\n"
                                        "5,\"\",x,v5,aaaa\n"
                                        "6,\"\",y,v6,aaaa\n");
    json_t *s = infer(path, 1);
    assert_string_equal(type_of(s, "a"), "int");
    assert_true(json_is_true(json_object_get(col(s, "a"), "nullable")));
    assert_string_equal(type_of(s, "b"), "category"); /* six times "" */
    assert_true(json_is_false(json_object_get(col(s, "b"), "nullable")));
    assert_string_equal(type_of(s, "few"), "category");
    assert_string_equal(type_of(s, "many"), "string"); /* six values seen once each */
    assert_string_equal(type_of(s, "long"), "category");
    json_decref(s);

    /* More than 20 distinct values: a string, even when each repeats. */
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "k\n");
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < 21; i++)
            hops__buf_printf(&b, "v%d\n", i);
    s = infer(put("wide.csv", b.data), 2);
    assert_string_equal(type_of(s, "k"), "string");
    json_decref(s);
    hops__buf_free(&b);

    /* Exactly 20 values, each seen three times: a category with all 20. */
    hops__buf_puts(&b, "k\n");
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < 20; i++)
            hops__buf_printf(&b, "v%02d\n", i);
    s = infer(put("twenty.csv", b.data), 2);
    assert_string_equal(type_of(s, "k"), "category");
    assert_int_equal(json_array_size(json_object_get(col(s, "k"), "values")), 20);
    json_decref(s);
    hops__buf_free(&b);

    /* A header and no records. */
    s = infer(put("empty.csv", "x,y\n"), 1);
    assert_string_equal(type_of(s, "x"), "string");
    assert_true(json_is_true(json_object_get(col(s, "x"), "nullable")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s, "inferred_from"), "rows")), 0);
    assert_null(json_object_get(json_object_get(s, "rows"), "min"));
    json_decref(s);
}

static void test_infer_jsonl(void **state)
{
    (void)state;
    const char *path =
        put("d.jsonl",
            "{\"n\": 1, \"x\": 0.5, \"ok\": true, \"name\": \"a\", \"when\": \"2024-01-01\"}\n"
            "{\"n\": 2, \"x\": 1, \"ok\": false, \"name\": null}\n"
            "{\"n\": \"3\", \"x\": 2.5, \"ok\": true, \"name\": \"a\", \"when\": "
            "\"2024-03-01T10:00Z\"}\n"
            "{\"n\": 4, \"x\": -1e-3, \"ok\": false, \"name\": \"a\", \"when\": null}\n");
    json_t *s = infer(path, 1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(s, "inferred_from"), "format")), "jsonl");
    assert_string_equal(type_of(s, "n"), "int");
    assert_string_equal(type_of(s, "x"), "float");
    assert_true(json_real_value(json_object_get(col(s, "x"), "min")) == -1e-3);
    assert_string_equal(type_of(s, "ok"), "bool");
    assert_string_equal(type_of(s, "name"), "category");
    assert_true(json_is_true(json_object_get(col(s, "name"), "nullable")));
    assert_string_equal(type_of(s, "when"), "timestamp");
    assert_true(json_is_true(json_object_get(col(s, "when"), "nullable"))); /* missing and null */
    json_decref(s);
}

static void test_infer_errors(void **state)
{
    (void)state;
    char *text = (char *)1;
    assert_int_equal(hops_data_schema_infer_json(put("ragged.csv", "a,b\n1,2\n3\n"), NULL, &text),
                     HOPS_EPARSE);
    assert_null(text);
    assert_non_null(strstr(hops_last_error(), "ragged.csv:3"));
    assert_non_null(strstr(hops_last_error(), "expected 2 fields, found 1"));
    assert_int_equal(hops_data_schema_infer_json("/nonexistent/x.csv", NULL, &text),
                     HOPS_ENOTFOUND);
    assert_int_equal(
        hops_data_schema_infer_json(put("unterminated.csv", "a,b\n1,\"open\n"), NULL, &text),
        HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "unterminated.csv:2:"));
    assert_int_equal(hops_data_schema_infer_json(put("empty.csv", ""), NULL, &text), HOPS_EPARSE);
    assert_int_equal(hops_data_schema_infer_json(NULL, NULL, &text), HOPS_EINVAL);
}

/* The same schema and the same report for 1 or 4 threads and any chunk size. */
static void test_threads_do_not_matter(void **state)
{
    (void)state;
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "id,v,c,note\n");
    for (int i = 0; i < 3000; i++)
        hops__buf_printf(&b, "%d,%s,%s,\"n\n%d\"\n", i % 1500,
                         i % 97 == 0 ? "" : (i % 5 ? "1.5" : "2"), i % 3 ? "a" : "b", i);
    const char *path = put("many.csv", b.data);
    hops__buf_free(&b);
    hops_read_options o = HOPS_READ_OPTIONS_INIT;
    char *s1, *s4, *r1, *r4;
    o.threads = 1;
    assert_int_equal(hops_data_schema_infer_json(path, &o, &s1), HOPS_OK);
    setenv("HOPS_CHUNK_SIZE", "200", 1);
    o.threads = 4;
    assert_int_equal(hops_data_schema_infer_json(path, &o, &s4), HOPS_OK);
    assert_string_equal(s1, s4);
    const char *schema =
        "{\"columns\": [{\"name\": \"id\", \"type\": \"int\", \"unique\": true, "
        "\"max\": 1400}, {\"name\": \"v\", \"type\": \"float\", \"nullable\": false},"
        "{\"name\": \"c\", \"type\": \"category\", \"values\": [\"a\"]}]}";
    char q1[600], q4[600];
    snprintf(q1, sizeof q1, "%s/q1.csv", dir);
    snprintf(q4, sizeof q4, "%s/q4.csv", dir);
    unsetenv("HOPS_CHUNK_SIZE");
    o.threads = 1;
    assert_int_equal(hops_data_validate_json(path, schema, &o, q1, 3, &r1, NULL), HOPS_OK);
    setenv("HOPS_CHUNK_SIZE", "200", 1);
    o.threads = 4;
    assert_int_equal(hops_data_validate_json(path, schema, &o, q4, 3, &r4, NULL), HOPS_OK);
    /* Only the quarantine path differs. */
    char *at = strstr(r4, "q4.csv");
    assert_non_null(at);
    at[1] = '1';
    assert_string_equal(r1, r4);
    char *t1, *t4;
    size_t n1, n4;
    assert_int_equal(hops__read_file(q1, &t1, &n1), HOPS_OK);
    assert_int_equal(hops__read_file(q4, &t4, &n4), HOPS_OK);
    assert_int_equal(n1, n4);
    assert_memory_equal(t1, t4, n1);
    json_t *rep = json_loads(r1, 0, NULL);
    assert_int_equal(count_of(rep, "unique", "id"), 1500);
    assert_int_equal(example_line(rep, "unique", "id", 0), 2 + 1500 * 2);
    assert_string_equal(example_message(rep, "unique", "id", 0), "'0' repeats the value of line 2");
    assert_int_equal(count_of(rep, "max", "id"), 2 * 99);
    assert_int_equal(count_of(rep, "not_null", "v"), 31);
    assert_int_equal(count_of(rep, "values", "c"), 1000);
    json_decref(rep);
    free(t1);
    free(t4);
    hops_free(s1);
    hops_free(s4);
    hops_free(r1);
    hops_free(r4);
}

/* ---- schema documents ---- */

/* Check TEXT and expect an error whose message contains each of the NULL-ended WANTS. */
static void bad_schema(const char *text, ...)
{
    va_list ap;
    const char *want;
    assert_int_equal(hops_data_schema_check(text, "s.json"), HOPS_EPARSE);
    va_start(ap, text);
    while ((want = va_arg(ap, const char *)) != NULL)
        if (!strstr(hops_last_error(), want))
            fail_msg("message '%s' lacks '%s'", hops_last_error(), want);
    va_end(ap);
}

static void test_schema_errors(void **state)
{
    (void)state;
    bad_schema("{\"columns\": [\n  {\"name\": \"a\", \"type\": \"int\"},\n}",
               "s.json:3:1:", "not valid JSON", NULL);
    bad_schema("", "s.json:", "not valid JSON", NULL);
    bad_schema("not json", "s.json:1:", NULL);
    bad_schema("[1, 2]", "s.json:1:1:", "a schema is a JSON object", NULL);
    bad_schema("{}", "s.json:1:1:", "needs \"columns\"", NULL);
    bad_schema("{\"columns\": {}}", "s.json:1:13:", "needs \"columns\"", NULL);
    bad_schema("{\"columns\": [\n    {\"name\": \"age\", \"type\": \"integer\"}\n]}",
               "s.json:2:29:", "column 'age': unknown type 'integer'", "int, float, bool", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"int\"},\n"
               "  {\"name\": \"e\", \"type\": \"string\", \"regex\": \"([a-z\"}]}",
               "s.json:2:44:", "column 'e': bad regex", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"int\", \"nulable\": false}]}",
               "s.json:1:43:", "unknown key 'nulable'", NULL);
    bad_schema("{\"columns\": [], \"row\": {}}", "s.json:1:17:", "unknown key 'row'", NULL);
    bad_schema("{\"columns\": [{\"type\": \"int\"}]}", "s.json:1:14:", "has no \"name\"", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\"}]}", "has no \"type\"", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"int\"}, {\"name\": \"a\", \"type\": "
               "\"int\"}]}",
               "column 'a' appears twice", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"int\", \"min\": 5, \"max\": 1}]}",
               "min 5 is above max 1", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"int\", \"min\": \"5\"}]}",
               "min of an int column is a number", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"string\", \"min\": 5}]}",
               "s.json:1:46:", "min applies to int, float and timestamp columns", NULL);
    bad_schema(
        "{\"columns\": [{\"name\": \"t\", \"type\": \"timestamp\", \"max\": \"yesterday\"}]}",
        "ISO 8601", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"int\", \"values\": [1, 2, \"3\"]}]}",
               "s.json:1:60:", "values of an int column are integers", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"category\", \"values\": \"x\"}]}",
               "values is a list", NULL);
    bad_schema("{\"columns\": [{\"name\": \"b\", \"type\": \"bool\", \"values\": [\"maybe\"]}]}",
               "true or false", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"int\", \"nullable\": \"no\"}]}",
               "nullable is true or false", NULL);
    bad_schema("{\"columns\": [{\"name\": \"a\", \"type\": \"int\", \"type\": \"float\"}]}",
               "duplicate object key", NULL);
    bad_schema("{\"columns\": [], \"rows\": {\"min\": -1}}", "rows: min is a whole number", NULL);
    bad_schema("{\"columns\": [], \"rows\": {\"min\": 5, \"max\": 2}}",
               "rows: min 5 is above max 2", NULL);
    bad_schema("{\"columns\": [], \"rows\": {\"count\": 5}}", "unknown key 'count'", NULL);
    bad_schema("{\"version\": 2, \"columns\": []}", "unsupported schema version", NULL);
    /* Good ones, including every key. */
    assert_int_equal(hops_data_schema_check("{\"columns\": []}", NULL), HOPS_OK);
    assert_int_equal(
        hops_data_schema_check(
            "{\"version\": 1, \"description\": \"d\", \"inferred_from\": {},"
            " \"columns\": [{\"name\": \"a\", \"type\": \"float\", \"nullable\": true,"
            " \"min\": 0, \"max\": 1.5, \"values\": [0, 0.5, 1.5], \"regex\": \"[0-9.]+\","
            " \"unique\": true, \"description\": \"x\"},"
            " {\"name\": \"t\", \"type\": \"timestamp\", \"min\": \"2020-01-01\","
            " \"values\": [\"2021-01-01T00:00Z\"]}], \"rows\": {\"min\": 0, \"max\": 9}}",
            NULL),
        HOPS_OK);
    /* The default name, and a NULL schema. */
    assert_int_equal(hops_data_schema_check("{", NULL), HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "schema:1:"));
    assert_int_equal(hops_data_schema_check(NULL, NULL), HOPS_EINVAL);
}

static void test_schema_write(void **state)
{
    (void)state;
    char out[600];
    struct stat st;
    snprintf(out, sizeof out, "%s/schema.json", dir);
    assert_int_equal(hops_data_schema_write("{\"columns\": [}", out), HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), out));
    assert_int_not_equal(stat(out, &st), 0); /* nothing written */
    const char *good = "{\"columns\": []}\n";
    assert_int_equal(hops_data_schema_write(good, out), HOPS_OK);
    char *text;
    assert_int_equal(hops__read_file(out, &text, NULL), HOPS_OK);
    assert_string_equal(text, good);
    free(text);
}

/* ---- validation rules ---- */

static const char *people_schema =
    "{\"columns\": [\n"
    "  {\"name\": \"id\", \"type\": \"int\", \"nullable\": false, \"unique\": true},\n"
    "  {\"name\": \"age\", \"type\": \"int\", \"min\": 0, \"max\": 120},\n"
    "  {\"name\": \"score\", \"type\": \"float\", \"nullable\": false, \"min\": -1.5, \"max\": "
    "1e3},\n"
    "  {\"name\": \"country\", \"type\": \"category\", \"values\": [\"SE\", \"NO\", \"DK\"]},\n"
    "  {\"name\": \"member\", \"type\": \"bool\", \"values\": [true]},\n"
    "  {\"name\": \"joined\", \"type\": \"timestamp\", \"min\": \"2020-01-01\", \"max\": "
    "\"2024-12-31T23:59:59Z\"},\n"
    "  {\"name\": \"email\", \"type\": \"string\", \"regex\": \"[a-z]+@[a-z]+\\\\.(se|no)\"}\n"
    "], \"rows\": {\"min\": 1, \"max\": 100}}";

static void test_validate_rules(void **state)
{
    (void)state;
    const char *good = put("good.csv", "id,age,score,country,member,joined,email\n"
                                       "1,30,0.5,SE,true,2020-01-01,a@b.se\n"
                                       "2,,1000,NO,TRUE,2024-12-31T23:59:59Z,c@d.no\n"
                                       "3,120,-1.5,DK,,2022-06-01 12:00,\n");
    int failed = -1;
    json_t *rep = validate(good, people_schema, NULL, 5, 1, &failed);
    assert_int_equal(failed, 0);
    assert_true(json_is_true(json_object_get(rep, "passed")));
    assert_int_equal(json_integer_value(json_object_get(rep, "violations")), 0);
    assert_int_equal(json_integer_value(json_object_get(rep, "rows")), 3);
    /* Every checked rule is listed with a zero count; unchecked ones are not. */
    assert_int_equal(count_of(rep, "min", "age"), 0);
    assert_int_equal(count_of(rep, "unique", "id"), 0);
    assert_int_equal(count_of(rep, "ragged", NULL), 0);
    assert_null(rule(rep, "not_null", "age"));
    assert_null(rule(rep, "type", "email"));
    assert_string_equal(json_string_value(json_object_get(rule(rep, "min", "age"), "check")),
                        "min 0");
    json_decref(rep);

    const char *bad =
        put("bad.csv", "id,age,score,country,member,joined,email\n"
                       "1,-5,0.5,SE,true,2020-01-01,a@b.se\n"           /* 2: min */
                       "2,121,0.5,SE,true,2020-01-01,a@b.se\n"          /* 3: max */
                       "3,abc,x,SE,true,2020-01-01,a@b.se\n"            /* 4: type, type */
                       ",30,,SE,true,2020-01-01,a@b.se\n"               /* 5: not_null x2 */
                       "1,30,0.5,FI,true,2020-01-01,a@b.se\n"           /* 6: unique, values */
                       "6,30,0.5,SE,false,2020-01-01,a@b.se\n"          /* 7: values (bool) */
                       "7,30,0.5,SE,true,2019-12-31T23:59:59Z,a@b.se\n" /* 8: min (timestamp) */
                       "8,30,0.5,SE,true,2025-01-01,a@b.se\n"           /* 9: max (timestamp) */
                       "9,30,0.5,SE,true,2020-01-01,A@b.se\n"           /* 10: regex */
                       "10,30,0.5,SE,true,2020-01-01,xa@b.sex\n"        /* 11: regex (whole) */
                       "11,30,1000.5,SE,true,2020-01-01,a@b.se\n"       /* 12: max (float) */
                       "12,30,0.5,SE,true,2020-01-01\n"                 /* 13: ragged */
                       "13,30,0.5,SE,true,2020-13-01,a@b.se\n"          /* 14: type (timestamp) */
                       "14,30,0.5,SE,maybe,2020-01-01,a@b.se\n");       /* 15: type (bool) */
    rep = validate(bad, people_schema, NULL, 5, 2, &failed);
    assert_int_equal(failed, 1);
    assert_true(json_is_false(json_object_get(rep, "passed")));
    assert_int_equal(count_of(rep, "min", "age"), 1);
    assert_int_equal(example_line(rep, "min", "age", 0), 2);
    assert_string_equal(example_message(rep, "min", "age", 0), "'-5' is below min 0");
    assert_int_equal(example_line(rep, "max", "age", 0), 3);
    assert_string_equal(example_message(rep, "max", "age", 0), "'121' is above max 120");
    assert_int_equal(count_of(rep, "type", "age"), 1);
    assert_int_equal(example_line(rep, "type", "age", 0), 4);
    assert_string_equal(example_message(rep, "type", "age", 0), "'abc' is not an int");
    assert_int_equal(count_of(rep, "type", "score"), 1);
    assert_int_equal(count_of(rep, "not_null", "id"), 1);
    assert_int_equal(example_line(rep, "not_null", "score", 0), 5);
    json_t *ex = json_array_get(json_object_get(rule(rep, "not_null", "id"), "examples"), 0);
    assert_true(json_is_null(json_object_get(ex, "value")));
    assert_int_equal(count_of(rep, "unique", "id"), 1);
    assert_int_equal(example_line(rep, "unique", "id", 0), 6);
    assert_string_equal(example_message(rep, "unique", "id", 0), "'1' repeats the value of line 2");
    assert_int_equal(count_of(rep, "values", "country"), 1);
    assert_string_equal(example_message(rep, "values", "country", 0),
                        "'FI' is not one of the allowed values (SE, NO, DK)");
    assert_int_equal(example_line(rep, "values", "member", 0), 7);
    assert_int_equal(example_line(rep, "min", "joined", 0), 8);
    assert_int_equal(example_line(rep, "max", "joined", 0), 9);
    assert_int_equal(count_of(rep, "regex", "email"), 2);
    assert_int_equal(example_line(rep, "regex", "email", 0), 10);
    assert_int_equal(example_line(rep, "regex", "email", 1), 11);
    assert_int_equal(example_line(rep, "max", "score", 0), 12);
    assert_int_equal(count_of(rep, "ragged", NULL), 1);
    assert_int_equal(example_line(rep, "ragged", NULL, 0), 13);
    assert_string_equal(example_message(rep, "ragged", NULL, 0), "expected 7 fields, found 6");
    assert_int_equal(example_line(rep, "type", "joined", 0), 14);
    assert_int_equal(example_line(rep, "type", "member", 0), 15);
    assert_int_equal(count_of(rep, "rows", NULL), 0);
    assert_int_equal(count_of(rep, "columns", NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(rep, "failed_rows")), 14);
    assert_int_equal(json_integer_value(json_object_get(rep, "violations")), 17);
    json_decref(rep);
}

static void test_validate_file_rules(void **state)
{
    (void)state;
    /* Columns: 'age' missing from the file, 'extra' not in the schema; rows above max. */
    const char *schema =
        "{\"columns\": [{\"name\": \"id\", \"type\": \"int\"}, {\"name\": \"age\", "
        "\"type\": \"int\", \"nullable\": false}], \"rows\": {\"min\": 1, \"max\": 2}}";
    const char *path = put("cols.csv", "id,extra\n1,x\n2,y\n3,z\n");
    int failed;
    json_t *rep = validate(path, schema, NULL, 5, 1, &failed);
    assert_int_equal(failed, 1);
    assert_int_equal(count_of(rep, "columns", NULL), 2);
    assert_string_equal(example_message(rep, "columns", NULL, 0),
                        "column 'age' is in the schema but not in the file");
    assert_string_equal(example_message(rep, "columns", NULL, 1),
                        "column 'extra' is in the file but not in the schema");
    assert_int_equal(example_line(rep, "columns", NULL, 0), 1);
    assert_int_equal(count_of(rep, "rows", NULL), 1);
    assert_string_equal(example_message(rep, "rows", NULL, 0), "3 rows, above max 2");
    assert_null(rule(rep, "not_null", "age")); /* a missing column is reported once */
    assert_int_equal(json_integer_value(json_object_get(rep, "failed_rows")), 0);
    json_decref(rep);

    /* Too few rows: a header only. */
    rep = validate(put("hdr.csv", "id,age\n"), schema, NULL, 5, 1, &failed);
    assert_int_equal(failed, 1);
    assert_string_equal(example_message(rep, "rows", NULL, 0), "0 rows, below min 1");
    json_decref(rep);
}

static void test_validate_examples_capped(void **state)
{
    (void)state;
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "v\n");
    for (int i = 0; i < 50; i++)
        hops__buf_puts(&b, "-1\n");
    const char *path = put("many.csv", b.data);
    hops__buf_free(&b);
    const char *schema = "{\"columns\": [{\"name\": \"v\", \"type\": \"int\", \"min\": 0}]}";
    json_t *rep = validate(path, schema, NULL, 3, 1, NULL);
    assert_int_equal(count_of(rep, "min", "v"), 50);
    assert_int_equal(json_array_size(json_object_get(rule(rep, "min", "v"), "examples")), 3);
    assert_int_equal(example_line(rep, "min", "v", 2), 4);
    json_decref(rep);
    rep = validate(path, schema, NULL, 0, 1, NULL);
    assert_int_equal(count_of(rep, "min", "v"), 50);
    assert_int_equal(json_array_size(json_object_get(rule(rep, "min", "v"), "examples")), 0);
    json_decref(rep);
}

static void test_validate_values_of_each_type(void **state)
{
    (void)state;
    const char *schema =
        "{\"columns\": [{\"name\": \"i\", \"type\": \"int\", \"values\": [1, 3]},"
        " {\"name\": \"f\", \"type\": \"float\", \"values\": [0.1, 2], \"unique\": true},"
        " {\"name\": \"t\", \"type\": \"timestamp\", \"values\": [\"2024-01-01\"]},"
        " {\"name\": \"s\", \"type\": \"string\", \"values\": [\"\", \"a b\"]}]}";
    const char *path =
        put("vals.csv", "i,f,t,s\n"
                        "1,0.1,2024-01-01T00:00:00Z,\"\"\n"      /* all allowed */
                        "03,2.0,2024-01-01T01:00:00+01:00,a b\n" /* allowed; 2.0 == 2 */
                        "2,0.10,2024-01-02,x\n"); /* i, t, s not allowed; f repeats 0.1 */
    json_t *rep = validate(path, schema, NULL, 5, 1, NULL);
    assert_int_equal(count_of(rep, "values", "i"), 1);
    assert_int_equal(count_of(rep, "values", "f"), 0);
    assert_int_equal(count_of(rep, "values", "t"), 1);
    assert_int_equal(count_of(rep, "values", "s"), 1);
    assert_int_equal(count_of(rep, "unique", "f"), 1);
    assert_int_equal(example_line(rep, "unique", "f", 0), 4);
    assert_int_equal(json_integer_value(json_object_get(rep, "failed_rows")), 1);
    json_decref(rep);
}

static void test_validate_jsonl(void **state)
{
    (void)state;
    const char *schema = "{\"columns\": [{\"name\": \"a\", \"type\": \"int\", \"nullable\": false},"
                         " {\"name\": \"b\", \"type\": \"string\", \"regex\": \"x+\"}]}";
    const char *path = put("v.jsonl", "{\"a\": 1, \"b\": \"xx\"}\r\n"
                                      "{\"b\": \"xx\"}\r\n"
                                      "{\"a\": 2, \"b\": \"y\\nz\"}\r\n"
                                      "{\"a\": 3}\r\n");
    char q[600];
    snprintf(q, sizeof q, "%s/bad.jsonl", dir);
    json_t *rep = validate(path, schema, q, 5, 1, NULL);
    assert_null(rule(rep, "ragged", NULL));
    assert_int_equal(example_line(rep, "not_null", "a", 0), 2);
    assert_int_equal(example_line(rep, "regex", "b", 0), 3);
    assert_string_equal(example_message(rep, "regex", "b", 0),
                        "'y\\nz' does not match the regex x+");
    json_t *ex = json_array_get(json_object_get(rule(rep, "regex", "b"), "examples"), 0);
    assert_string_equal(json_string_value(json_object_get(ex, "value")), "y\nz");
    json_decref(rep);
    char *text;
    assert_int_equal(hops__read_file(q, &text, NULL), HOPS_OK);
    assert_string_equal(text, "{\"b\": \"xx\"}\r\n{\"a\": 2, \"b\": \"y\\nz\"}\r\n");
    free(text);
}

static void test_quarantine_bytes(void **state)
{
    (void)state;
    const char *schema = "{\"columns\": [{\"name\": \"id\", \"type\": \"int\"},"
                         " {\"name\": \"text\", \"type\": \"string\", \"regex\": \"[^!]*\"}]}";
    /* CRLF line ends, a quoted field with an embedded CRLF and doubled quotes,
     * a last record without a line end. */
    const char *data = "id,\"text\"\r\n"
                       "1,fine\r\n"
                       "x,\"bad \"\"id\"\"\r\nsecond line\"\r\n"
                       "2,\"ok,\r\n\"\r\n"
                       "3,\"loud!\"\r\n"
                       "4,no end!";
    const char *path = put("q.csv", data);
    char q[600];
    snprintf(q, sizeof q, "%s/bad.csv", dir);
    int failed;
    json_t *rep = validate(path, schema, q, 5, 4, &failed);
    assert_int_equal(failed, 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(rep, "quarantine"), "rows")), 3);
    assert_int_equal(example_line(rep, "type", "id", 0), 3);
    assert_int_equal(example_line(rep, "regex", "text", 0), 7);
    assert_int_equal(example_line(rep, "regex", "text", 1), 8);
    json_decref(rep);
    char *text;
    size_t len;
    assert_int_equal(hops__read_file(q, &text, &len), HOPS_OK);
    const char *want = "id,\"text\"\r\n"
                       "x,\"bad \"\"id\"\"\r\nsecond line\"\r\n"
                       "3,\"loud!\"\r\n"
                       "4,no end!"; /* untouched: the file's last line had no line end */
    assert_int_equal(len, strlen(want));
    assert_memory_equal(text, want, len);
    free(text);

    /* A clean file: the quarantine holds only the header (LF file: LF). */
    path = put("clean.csv", "id,text\n1,a\n");
    rep = validate(path, schema, q, 5, 1, &failed);
    assert_int_equal(failed, 0);
    json_decref(rep);
    assert_int_equal(hops__read_file(q, &text, NULL), HOPS_OK);
    assert_string_equal(text, "id,text\n");
    free(text);

    /* No header: no header line in the quarantine either. */
    hops_read_options o = HOPS_READ_OPTIONS_INIT;
    char *report;
    o.no_header = 1;
    path = put("nohdr.csv", "1,a\nz,b\n");
    assert_int_equal(hops_data_validate_json(path,
                                             "{\"columns\": [{\"name\": \"c1\", \"type\": "
                                             "\"int\"}, {\"name\": \"c2\", \"type\": \"string\"}]}",
                                             &o, q, 5, &report, &failed),
                     HOPS_OK);
    assert_int_equal(failed, 1);
    hops_free(report);
    assert_int_equal(hops__read_file(q, &text, NULL), HOPS_OK);
    assert_string_equal(text, "z,b\n");
    free(text);
}

static void test_validate_errors(void **state)
{
    (void)state;
    const char *path = put("x.csv", "a\n1\n");
    char *report = (char *)1;
    int failed = 7;
    char q[600];
    struct stat st;
    snprintf(q, sizeof q, "%s/never.csv", dir);
    /* A bad schema: named "schema", with line and column. */
    assert_int_equal(hops_data_validate_json(path,
                                             "{\"columns\": [{\"name\": \"a\", \"type\": \"x\"}]}",
                                             NULL, q, 5, &report, &failed),
                     HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "schema:1:"));
    assert_null(report);
    assert_int_equal(failed, 0);
    assert_int_not_equal(stat(q, &st), 0);
    /* A file that is not a table: the reader's error; no quarantine file is left. */
    const char *broken = put("broken.csv", "a\n\"open\n");
    assert_int_equal(
        hops_data_validate_json(broken, "{\"columns\": []}", NULL, q, 5, &report, NULL),
        HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "broken.csv:2:"));
    assert_int_not_equal(stat(q, &st), 0);
    assert_int_equal(
        hops_data_validate_json("/nonexistent.csv", "{\"columns\": []}", NULL, q, 5, &report, NULL),
        HOPS_ENOTFOUND);
    assert_int_not_equal(stat(q, &st), 0);
    /* The quarantine must not replace the input. */
    assert_int_equal(
        hops_data_validate_json(path, "{\"columns\": []}", NULL, path, 5, &report, NULL),
        HOPS_EINVAL);
    char *text;
    assert_int_equal(hops__read_file(path, &text, NULL), HOPS_OK);
    assert_string_equal(text, "a\n1\n");
    free(text);
    /* A quarantine in a folder that does not exist. */
    assert_int_equal(hops_data_validate_json(path, "{\"columns\": []}", NULL, "/nonexistent/q.csv",
                                             5, &report, NULL),
                     HOPS_EIO);
}

/* What inference writes, validation accepts for the same file. */
static void test_infer_then_validate(void **state)
{
    (void)state;
    const char *path = put("round.csv", "id,x,when,flag,cat,free\n"
                                        "1,0.5,2024-01-01,true,a,\"q, \"\"r\"\"\"\n"
                                        "2,,2024-01-02T10:00:00Z,false,b,s\n"
                                        "3,7,2023-05-05 05:05,true,a,t\n"
                                        "4,-2.5,2024-01-01,false,b,\n");
    char *schema = NULL;
    assert_int_equal(hops_data_schema_infer_json(path, NULL, &schema), HOPS_OK);
    int failed = -1;
    json_t *rep = validate(path, schema, NULL, 5, 3, &failed);
    assert_int_equal(failed, 0);
    json_decref(rep);
    hops_free(schema);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_timestamp),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test_setup_teardown(test_infer_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_nulls_and_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_jsonl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_do_not_matter, setup, teardown),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test_setup_teardown(test_schema_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_file_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_examples_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_values_of_each_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_jsonl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quarantine_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_then_validate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
