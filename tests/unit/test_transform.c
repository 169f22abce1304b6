/* Unit tests for src/data/transform.c: each operation of `hops data
 * transform`, their fixed order, CSV and JSON Lines output, splits, the
 * summary and the spec JSON, and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"
#include "hops/hops.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hops-unit-transform.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

/* dir/NAME (a static buffer per call site is enough: tests use few at once). */
static char *path_of(const char *name)
{
    char *p = hops__aprintf("%s/%s", dir, name);
    assert_non_null(p);
    return p;
}

static char *write_input(const char *name, const char *text)
{
    char *p = path_of(name);
    assert_int_equal(hops__atomic_write(p, text, strlen(text)), HOPS_OK);
    return p;
}

static char *read_text(const char *path)
{
    char *text = NULL;
    size_t len;
    if (hops__read_file(path, &text, &len) != HOPS_OK)
        fail_msg("cannot read %s: %s", path, hops_last_error());
    return text;
}

/* Transform IN_TEXT (written as IN_NAME) to OUT_NAME with O; the output text
 * must be WANT. Returns the summary (owned). */
static json_t *transform_ok(const char *in_name, const char *in_text, const char *out_name,
                            const hops_transform_options *o, const char *want)
{
    char *in = write_input(in_name, in_text), *out = path_of(out_name), *summary = NULL;
    hops_status rc = hops_data_transform(in, out, o, &summary);
    if (rc != HOPS_OK)
        fail_msg("transform failed: %s", hops_last_error());
    json_t *j = json_loads(summary, 0, NULL);
    assert_non_null(j);
    if (want) {
        char *got = read_text(out);
        if (strcmp(got, want) != 0)
            fail_msg("output:\n%s\nwanted:\n%s", got, want);
        free(got);
    }
    hops_free(summary);
    free(in);
    free(out);
    return j;
}

/* Transform must fail with RC and a message holding WANT; no file is left. */
static void transform_fails(const char *in_text, const hops_transform_options *o,
                            hops_status want_rc, const char *want)
{
    char *in = write_input("in.csv", in_text), *out = path_of("fail-out.csv"), *summary = NULL;
    hops_status rc = hops_data_transform(in, out, o, &summary);
    if (rc == HOPS_OK)
        fail_msg("transform succeeded; expected: %s", want);
    assert_int_equal(rc, want_rc);
    assert_null(summary);
    if (!strstr(hops_last_error(), want))
        fail_msg("message:\n  %s\ndoes not hold:\n  %s", hops_last_error(), want);
    assert_false(hops__is_file(out));
    /* No temporary files either. */
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp-"))
            fail_msg("a temporary file was left: %s", e->d_name);
    closedir(d);
    free(in);
    free(out);
}

static const char people[] = "age,country,score,name\n"
                             "31,SE,0.5,\"Smith, J\"\n"
                             "25,NO,,Anna\n"
                             "40,SE,1.25,\"He said \"\"hi\"\"\"\n"
                             ",DK,3,\n"
                             "35,NO,2,\"\"\n";

static void test_copy_keeps_csv(void **state)
{
    (void)state;
    /* Quoting only where needed; a null stays empty, an empty text stays "". */
    json_t *s = transform_ok("in.csv", people, "out.csv", NULL, people);
    assert_int_equal(json_integer_value(json_object_get(s, "rows_in")), 5);
    assert_int_equal(json_integer_value(json_object_get(s, "rows_out")), 5);
    json_decref(s);
    /* Newlines, CRLF input and a BOM; quotes that were not needed go. */
    s = transform_ok("crlf.csv", "\xef\xbb\xbf" "a,b\r\n\"x\",\"multi\nline\"\r\n\"1\",2\r\n",
                     "crlf-out.csv", NULL, "a,b\nx,\"multi\nline\"\n1,2\n");
    json_decref(s);
    /* Header only. */
    s = transform_ok("empty.csv", "a,b\n", "empty-out.csv", NULL, "a,b\n");
    assert_int_equal(json_integer_value(json_object_get(s, "rows_out")), 0);
    json_decref(s);
}

static void test_filter(void **state)
{
    (void)state;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    o.filter = "age > 30 and country == \"SE\" or score is null";
    json_t *s = transform_ok("in.csv", people, "out.csv", &o,
                             "age,country,score,name\n"
                             "31,SE,0.5,\"Smith, J\"\n"
                             "25,NO,,Anna\n"
                             "40,SE,1.25,\"He said \"\"hi\"\"\"\n");
    assert_int_equal(json_integer_value(json_object_get(s, "rows_filtered")), 2);
    assert_int_equal(json_integer_value(json_object_get(s, "rows_out")), 3);
    json_decref(s);

    o.filter = "age > 30 and";
    transform_fails(people, &o, HOPS_EPARSE,
                    "--filter: column 13: expected a column name, 'not' or '(' after 'and'\n"
                    "  age > 30 and\n"
                    "              ^");
    o.filter = "agee > 30";
    transform_fails(
        people, &o, HOPS_EPARSE,
        "--filter: column 1: unknown column 'agee'; the columns are: age, country, score, name");
}

static void test_fill_then_cast(void **state)
{
    (void)state;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    hops_transform_fill fills[] = {{"score", "0"}, {"name", "n/a"}};
    hops_transform_cast casts[] = {{"score", HOPS_CAST_FLOAT}, {"age", HOPS_CAST_INT}};
    o.fills = fills;
    o.n_fills = 2;
    o.casts = casts;
    o.n_casts = 2;
    /* fill-null comes before cast: the filled "0" becomes 0.0. */
    json_t *s = transform_ok("in.csv", people, "out.csv", &o,
                             "age,country,score,name\n"
                             "31,SE,0.5,\"Smith, J\"\n"
                             "25,NO,0.0,Anna\n"
                             "40,SE,1.25,\"He said \"\"hi\"\"\"\n"
                             ",DK,3.0,n/a\n"
                             "35,NO,2.0,\"\"\n");
    json_decref(s);
}

static void test_casts(void **state)
{
    (void)state;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    hops_transform_cast casts[] = {{"i", HOPS_CAST_INT},
                                   {"f", HOPS_CAST_FLOAT},
                                   {"b", HOPS_CAST_BOOL},
                                   {"s", HOPS_CAST_STRING}};
    o.casts = casts;
    o.n_casts = 4;
    json_t *s = transform_ok("c.csv",
                             "i,f,b,s\n"
                             "007,1,TRUE,x\n"
                             "-3.0,0.1,no,1\n"
                             "1e3,1e300,Y,\"\"\n"
                             "+5,-0,0,\n",
                             "c-out.csv", &o,
                             "i,f,b,s\n"
                             "7,1.0,true,x\n"
                             "-3,0.1,false,1\n"
                             "1000,1e+300,true,\"\"\n"
                             "5,-0.0,false,\n");
    json_decref(s);
    /* JSON Lines output types the values. */
    s = transform_ok("c.csv",
                     "i,f,b,s\n"
                     "007,1,TRUE,x\n"
                     "-3.0,0.1,no,1\n",
                     "c-out.jsonl", &o,
                     "{\"i\":7,\"f\":1.0,\"b\":true,\"s\":\"x\"}\n"
                     "{\"i\":-3,\"f\":0.1,\"b\":false,\"s\":\"1\"}\n");
    json_decref(s);

    /* A value that does not convert: FILE:LINE:COL and the value. */
    hops_transform_cast bad[] = {{"age", HOPS_CAST_INT}};
    o.casts = bad;
    o.n_casts = 1;
    transform_fails("name,age\nA,1\nB,2.5\n", &o, HOPS_ERROR,
                    "in.csv:3:3: column 'age': cannot cast '2.5' to int (--cast-errors null makes "
                    "such values null)");
    transform_fails("name,age\n\"a\nb\",1\n\"x,\"\"y\",abc\n", &o, HOPS_ERROR,
                    "in.csv:4:9: column 'age': cannot cast 'abc' to int");
    hops_transform_cast badb[] = {{"age", HOPS_CAST_BOOL}};
    o.casts = badb;
    transform_fails("name,age\nA,yes\nB,maybe\n", &o, HOPS_ERROR,
                    "in.csv:3:3: column 'age': cannot cast 'maybe' to bool");
    hops_transform_cast badf[] = {{"age", HOPS_CAST_FLOAT}};
    o.casts = badf;
    transform_fails("name,age\nA,1\nB,nan\n", &o, HOPS_ERROR,
                    "in.csv:3:3: column 'age': cannot cast 'nan' to float");

    /* --cast-errors null: they become null, and are counted. */
    o.casts = bad;
    o.cast_errors_null = 1;
    s = transform_ok("in.csv", "name,age\nA,1\nB,2.5\nC,\nD,x\n", "out.csv", &o,
                     "name,age\nA,1\nB,\nC,\nD,\n");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "cast_nulls"), "age")),
                     2);
    json_decref(s);
}

static void test_standardize(void **state)
{
    (void)state;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    const char *cols[] = {"x", "c"};
    o.standardize = cols;
    o.n_standardize = 2;
    /* x: 1, 2, 3, null -> mean 2, std (ddof 0) sqrt(2/3); c is constant -> 0. */
    json_t *s = transform_ok("s.csv", "x,c,y\n1,5,a\n2,5,b\n3,5,c\n,5,d\n", "s-out.csv", &o, NULL);
    char *out = path_of("s-out.csv");
    char *text = read_text(out);
    double sd = sqrt(2.0 / 3.0);
    /* Compare numerically: parse each x back. */
    double x1, x3;
    assert_int_equal(sscanf(text, "x,c,y\n%lf,0.0,a\n0.0,0.0,b\n%lf,0.0,c\n,0.0,d\n", &x1, &x3), 2);
    assert_true(fabs(x1 + 1 / sd) < 1e-12 && fabs(x3 - 1 / sd) < 1e-12);
    assert_non_null(strstr(text, "\n0.0,0.0,b\n"));
    json_t *st = json_object_get(json_object_get(s, "standardize"), "x");
    assert_true(fabs(json_real_value(json_object_get(st, "mean")) - 2) < 1e-15);
    assert_true(fabs(json_real_value(json_object_get(st, "std")) - sd) < 1e-15);
    assert_int_equal(json_integer_value(json_object_get(st, "count")), 3);
    assert_int_equal(json_integer_value(json_object_get(s, "ddof")), 0);
    free(text);
    free(out);
    json_decref(s);

    /* ddof 1: std 1. */
    o.standardize_ddof = 1;
    s = transform_ok("s.csv", "x,c,y\n1,5,a\n2,5,b\n3,5,c\n,5,d\n", "s-out.csv", &o,
                     "x,c,y\n-1.0,0.0,a\n0.0,0.0,b\n1.0,0.0,c\n,0.0,d\n");
    json_decref(s);

    /* Text in a standardized column. */
    o.n_standardize = 1;
    transform_fails("x\n1\n2\nabc\n", &o, HOPS_ERROR,
                    "in.csv:4:1: column 'x': --standardize needs numbers, not 'abc'");
}

static void test_one_hot(void **state)
{
    (void)state;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    const char *hot[] = {"c", "n"};
    o.one_hot = hot;
    o.n_one_hot = 2;
    /* Text values bytewise, numbers numerically; in place; a null sets none. */
    json_t *s = transform_ok("h.csv", "id,c,n\n1,SE,10\n2,NO,2\n3,,1\n4,SE,2\n5,\"a,b\",10\n",
                             "h-out.csv", &o,
                             "id,c=NO,c=SE,\"c=a,b\",n=1,n=2,n=10\n"
                             "1,0,1,0,0,0,1\n"
                             "2,1,0,0,0,1,0\n"
                             "3,0,0,0,1,0,0\n"
                             "4,0,1,0,0,1,0\n"
                             "5,0,0,1,0,0,1\n");
    json_t *cats = json_object_get(json_object_get(s, "one_hot"), "n");
    assert_int_equal(json_array_size(cats), 3);
    assert_string_equal(json_string_value(json_array_get(cats, 2)), "10");
    json_decref(s);

    /* JSON Lines: 0/1 numbers. The name of a one-hot column selects all of it. */
    const char *sel[] = {"n", "id"};
    o.select = sel;
    o.n_select = 2;
    s = transform_ok("h.csv", "id,c,n\n1,SE,10\n2,NO,2\n", "h-out.jsonl", &o,
                     "{\"n=2\":0,\"n=10\":1,\"id\":1}\n"
                     "{\"n=2\":1,\"n=10\":0,\"id\":2}\n");
    json_decref(s);

    /* Too many distinct values. */
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "c\n");
    for (int i = 0; i <= HOPS_TRANSFORM_MAX_ONE_HOT; i++)
        hops__buf_printf(&b, "v%d\n", i);
    o.n_one_hot = 1;
    o.select = NULL;
    o.n_select = 0;
    transform_fails(b.data, &o, HOPS_EINVAL,
                    "--one-hot c: the column has more than 1000 distinct values");
    hops__buf_free(&b);
}

static void test_select_drop(void **state)
{
    (void)state;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    const char *sel[] = {"name", "age"};
    const char *drop[] = {"score", "name"};
    o.select = sel;
    o.n_select = 2;
    json_t *s = transform_ok("in.csv", people, "out.csv", &o,
                             "name,age\n\"Smith, J\",31\nAnna,25\n\"He said \"\"hi\"\"\",40\n,\n"
                             "\"\",35\n");
    json_decref(s);
    o.n_select = 0;
    o.drop = drop;
    o.n_drop = 2;
    s = transform_ok("in.csv", people, "out.csv", &o,
                     "age,country\n31,SE\n25,NO\n40,SE\n,DK\n35,NO\n");
    json_decref(s);
    /* One column left with a null: written as "" so the row is not a blank line. */
    const char *only[] = {"age"};
    o.select = only;
    o.n_select = 1;
    o.n_drop = 0;
    s = transform_ok("in.csv", people, "out.csv", &o, "age\n31\n25\n40\n\"\"\n35\n");
    json_decref(s);

    const char *unknown[] = {"age", "nmae"};
    o.select = unknown;
    o.n_select = 2;
    transform_fails(people, &o, HOPS_EINVAL,
                    "--select: unknown column 'nmae'; the columns are: age, country, score, name");
    const char *twice[] = {"age", "age"};
    o.select = twice;
    transform_fails(people, &o, HOPS_EINVAL, "--select: column 'age' is selected twice");
    const char *all[] = {"age", "country", "score", "name"};
    o.n_select = 0;
    o.drop = all;
    o.n_drop = 4;
    transform_fails(people, &o, HOPS_EINVAL, "--select/--drop leave no column to write");
}

static void test_order_is_fixed(void **state)
{
    (void)state;
    /* filter sees the raw values (before fill-null); cast sees filled ones;
     * standardize uses only the kept rows; one-hot sees cast values; select
     * sees one-hot's columns. */
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    hops_transform_fill fills[] = {{"k", "1"}};
    hops_transform_cast casts[] = {{"k", HOPS_CAST_FLOAT}};
    const char *std[] = {"x"}, *hot[] = {"k"}, *drop[] = {"k=2.0"};
    o.filter = "k is not null or x = 100";
    o.fills = fills;
    o.n_fills = 1;
    o.casts = casts;
    o.n_casts = 1;
    o.standardize = std;
    o.n_standardize = 1;
    o.one_hot = hot;
    o.n_one_hot = 1;
    o.drop = drop;
    o.n_drop = 1;
    json_t *s = transform_ok("o.csv", "x,k\n1,1\n3,2\n5,\n100,\n", "o-out.csv", &o, NULL);
    /* Kept: x=1 (k 1.0), x=3 (k 2.0), x=100 (k filled 1 -> 1.0); mean of 1, 3, 100. */
    json_t *st = json_object_get(json_object_get(s, "standardize"), "x");
    assert_true(fabs(json_real_value(json_object_get(st, "mean")) - 104.0 / 3) < 1e-12);
    json_t *cols = json_object_get(s, "columns");
    assert_int_equal(json_array_size(cols), 2);
    assert_string_equal(json_string_value(json_array_get(cols, 1)), "k=1.0");
    json_decref(s);
}

/* Row counts of each output of a split run with THREADS and CHUNK bytes. */
static char *split_run(const char *in, int threads, size_t chunk, const char *out)
{
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    hops_transform_split sp[] = {{"train", 0.8}, {"test", 0.2}};
    char *summary = NULL, *outp = path_of(out);
    o.read.threads = threads;
    o.read.chunk_size = chunk;
    o.splits = sp;
    o.n_splits = 2;
    o.seed = 42;
    if (hops_data_transform(in, outp, &o, &summary) != HOPS_OK)
        fail_msg("split: %s", hops_last_error());
    free(outp);
    return summary;
}

static void test_split(void **state)
{
    (void)state;
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "i,v\n");
    for (int i = 0; i < 10000; i++)
        hops__buf_printf(&b, "%d,%d\n", i, i * 7 % 13);
    char *in = write_input("big.csv", b.data);
    hops__buf_free(&b);

    char *s1 = split_run(in, 1, 0, "a.csv");
    char *s4 = split_run(in, 4, 1000, "b.csv"); /* many small chunks on 4 threads */
    json_t *j = json_loads(s1, 0, NULL);
    json_t *outs = json_object_get(j, "outputs");
    long long train = json_integer_value(json_object_get(json_array_get(outs, 0), "rows"));
    long long test = json_integer_value(json_object_get(json_array_get(outs, 1), "rows"));
    assert_int_equal(train + test, 10000);
    /* Binomial(10000, 0.8): sd 40; allow 5 sd. */
    assert_true(train > 8000 - 200 && train < 8000 + 200);
    assert_true(hops__is_file(json_string_value(json_object_get(json_array_get(outs, 0), "path"))));
    assert_non_null(
        strstr(json_string_value(json_object_get(json_array_get(outs, 1), "path")), "/a.test.csv"));
    json_decref(j);

    /* The same rows in the same files whatever the threads and chunks. */
    const char *names[][2] = {{"a.train.csv", "b.train.csv"}, {"a.test.csv", "b.test.csv"}};
    for (int k = 0; k < 2; k++) {
        char *pa = path_of(names[k][0]), *pb = path_of(names[k][1]);
        char *ta = read_text(pa), *tb = read_text(pb);
        assert_string_equal(ta, tb);
        free(ta);
        free(tb);
        free(pa);
        free(pb);
    }
    /* And on a second run. */
    char *again = split_run(in, 3, 4096, "a.csv");
    json_t *ja = json_loads(s1, 0, NULL), *jb = json_loads(again, 0, NULL);
    assert_true(json_equal(json_object_get(ja, "outputs"), json_object_get(jb, "outputs")));
    json_decref(ja);
    json_decref(jb);
    hops_free(again);
    hops_free(s1);
    hops_free(s4);

    /* Into a directory. */
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    hops_transform_split sp[] = {{"train", 0.5}, {"val", 0.25}, {"test", 0.25}};
    char *outdir = path_of("splits/sub/"), *summary = NULL;
    o.splits = sp;
    o.n_splits = 3;
    assert_int_equal(hops_data_transform(in, outdir, &o, &summary), HOPS_OK);
    char *p = path_of("splits/sub/val.csv");
    assert_true(hops__is_file(p));
    free(p);
    hops_free(summary);
    free(outdir);
    free(in);
}

static void test_split_paths_and_errors(void **state)
{
    (void)state;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    hops_transform_split sp[] = {{"train", 0.7}, {"test", 0.2}};
    o.splits = sp;
    o.n_splits = 2;
    transform_fails("a\n1\n", &o, HOPS_EINVAL, "--split: the fractions sum to 0.9, not 1");
    sp[1].fraction = 0.3;
    sp[1].name = "a/b";
    transform_fails("a\n1\n", &o, HOPS_EINVAL, "--split: 'a/b' is not a split name");
    sp[1].name = "train";
    transform_fails("a\n1\n", &o, HOPS_EINVAL, "--split: 'train' is named twice");
    sp[1].name = "test";
    sp[1].fraction = -0.3;
    transform_fails("a\n1\n", &o, HOPS_EINVAL, "--split: the fraction of 'test' must be in (0, 1]");

    /* No extension: the name is appended. JSONL keeps its extension. */
    sp[1].fraction = 0.3;
    char *in = write_input("x.jsonl", "{\"a\": 1}\n{\"a\": 2.5}\n");
    char *out = path_of("noext"), *summary = NULL;
    assert_int_equal(hops_data_transform(in, out, &o, &summary), HOPS_OK);
    assert_non_null(strstr(summary, "noext.train\""));
    hops_free(summary);
    free(out);
    out = path_of("x.out.jsonl");
    assert_int_equal(hops_data_transform(in, out, &o, &summary), HOPS_OK);
    assert_non_null(strstr(summary, "x.out.train.jsonl\""));
    hops_free(summary);
    free(out);
    free(in);

    char *gz = path_of("o.csv.gz"), *in2 = write_input("in.csv", "a\n1\n");
    assert_int_equal(hops_data_transform(in2, gz, NULL, NULL), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "writing gzip is not supported"));
    free(gz);
    gz = path_of("adir/");
    assert_int_equal(hops_data_transform(in2, gz, NULL, NULL), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "names a directory"));
    free(gz);
    free(in2);
}

static void test_jsonl(void **state)
{
    (void)state;
    /* JSON types are kept (a string "1" stays a string); CSV text is typed. */
    json_t *s =
        transform_ok("j.jsonl",
                     "{\"a\": 1, \"b\": \"1\", \"c\": 0.1, \"d\": true, \"e\": {\"x\": [1]}}\n"
                     "{\"a\": null, \"b\": \"x\\ty\\\"\", \"d\": false}\n",
                     "j-out.jsonl", NULL,
                     "{\"a\":1,\"b\":\"1\",\"c\":0.1,\"d\":true,\"e\":{\"x\":[1]}}\n"
                     "{\"a\":null,\"b\":\"x\\ty\\\"\",\"c\":null,\"d\":false,\"e\":null}\n");
    json_decref(s);
    s = transform_ok("t.csv", "n,s,z,b,e\n1.5,abc,007,true,\"\"\n-2,\"1,2\",0,False,\n",
                     "t-out.jsonl", NULL,
                     "{\"n\":1.5,\"s\":\"abc\",\"z\":\"007\",\"b\":true,\"e\":\"\"}\n"
                     "{\"n\":-2,\"s\":\"1,2\",\"z\":0,\"b\":\"False\",\"e\":null}\n");
    json_decref(s);
    /* JSON Lines to CSV. */
    s = transform_ok("j2.jsonl", "{\"a\": 0.1, \"b\": \"x,y\"}\n", "j2.csv", NULL,
                     "a,b\n0.1,\"x,y\"\n");
    json_decref(s);
}

static void test_options_json(void **state)
{
    (void)state;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    hops_transform_fill fills[] = {{"c", "x"}};
    hops_transform_cast casts[] = {{"age", HOPS_CAST_INT}};
    hops_transform_split sp[] = {{"train", 0.8}, {"test", 0.2}};
    const char *hot[] = {"country"}, *std[] = {"x"}, *sel[] = {"a", "b"};
    char *text = NULL;
    o.filter = "age > 30";
    o.fills = fills;
    o.n_fills = 1;
    o.casts = casts;
    o.n_casts = 1;
    o.one_hot = hot;
    o.n_one_hot = 1;
    o.standardize = std;
    o.n_standardize = 1;
    o.select = sel;
    o.n_select = 2;
    o.splits = sp;
    o.n_splits = 2;
    o.seed = 7;
    o.read.delimiter = ';';
    assert_int_equal(hops_transform_options_to_json(&o, &text), HOPS_OK);
    assert_string_equal(
        text, "{\"filter\":\"age > "
              "30\",\"fill_null\":[{\"column\":\"c\",\"value\":\"x\"}],\"cast\":[{\"column\":"
              "\"age\",\"type\":\"int\"}],\"cast_errors\":\"error\",\"standardize\":{\"columns\":["
              "\"x\"],\"ddof\":0},\"one_hot\":[\"country\"],\"select\":[\"a\",\"b\"],\"split\":[{"
              "\"name\":\"train\",\"fraction\":0.8},{\"name\":\"test\",\"fraction\":0.2}],\"seed\":"
              "7,\"read\":{\"format\":\"auto\",\"delimiter\":\";\",\"no_header\":false},\"order\":"
              "\"filter,fill_null,cast,standardize,one_hot,select,drop,split\"}");
    hops_free(text);
    o.filter = "name = '\xff'";
    assert_int_equal(hops_transform_options_to_json(&o, &text), HOPS_EINVAL);
    assert_null(text);
    o.version = 99;
    assert_int_equal(hops_transform_options_to_json(&o, &text), HOPS_EVERSION);
    assert_int_equal(hops_cast_type_parse("Integer"), HOPS_CAST_INT);
    assert_int_equal(hops_cast_type_parse("nope"), 0);
    assert_string_equal(hops_cast_type_name(HOPS_CAST_BOOL), "bool");
}

static void test_bad_options(void **state)
{
    (void)state;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    hops_transform_cast casts[] = {{"nope", HOPS_CAST_INT}};
    o.casts = casts;
    o.n_casts = 1;
    transform_fails(people, &o, HOPS_EINVAL,
                    "--cast: unknown column 'nope'; the columns are: age, country, score, name");
    hops_transform_cast twice[] = {{"age", HOPS_CAST_INT}, {"age", HOPS_CAST_FLOAT}};
    o.casts = twice;
    o.n_casts = 2;
    transform_fails(people, &o, HOPS_EINVAL, "--cast: column 'age' is named twice");
    o.n_casts = 0;
    const char *both[] = {"age"};
    o.standardize = both;
    o.n_standardize = 1;
    o.one_hot = both;
    o.n_one_hot = 1;
    transform_fails(people, &o, HOPS_EINVAL,
                    "column 'age' is given to both --standardize and --one-hot");
    o.n_one_hot = 0;
    o.standardize_ddof = 2;
    transform_fails(people, &o, HOPS_EINVAL, "--ddof is 0 or 1");
    /* A ragged row and a missing input. */
    transform_fails("a,b\n1,2\n3\n", NULL, HOPS_EPARSE, "in.csv:3: expected 2 fields, found 1");
    char *out = path_of("x.csv");
    assert_int_equal(hops_data_transform("/nonexistent/in.csv", out, NULL, NULL), HOPS_ENOTFOUND);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_keeps_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_then_cast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_casts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_standardize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_hot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_is_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_paths_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
