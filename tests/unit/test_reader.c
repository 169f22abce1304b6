/* Unit tests for src/data/reader.c: RFC 4180 CSV, JSON Lines, gzip, chunking
 * and threads (same records whatever the thread count or chunk size), and
 * bad input named by file, line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/core.h"
#include "data/data_internal.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hops-unit-reader.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unsetenv("HOPS_CHUNK_SIZE");
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

static char *write_file(const char *name, const char *data, size_t len)
{
    char *path = hops__aprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

/* Records rendered as "line:field|field|<null>\n" per chunk, joined in order. */
typedef struct {
    hops_buf out;
} dump;

static void *dump_begin(void *ud)
{
    (void)ud;
    dump *d = calloc(1, sizeof *d);
    return d;
}

static hops_status dump_record(void *ud, void *cs, const hops_record *r)
{
    dump *d = cs;
    (void)ud;
    hops__buf_printf(&d->out, "%llu:", (unsigned long long)r->line);
    for (size_t i = 0; i < r->n_fields; i++) {
        if (i)
            hops__buf_puts(&d->out, "|");
        if (r->fields[i].is_null)
            hops__buf_puts(&d->out, "<null>");
        else
            hops__buf_put(&d->out, r->fields[i].ptr, r->fields[i].len);
    }
    hops__buf_printf(&d->out, "#raw=%zu", r->raw_len);
    if (r->eol_len != 1)
        hops__buf_printf(&d->out, "+%zu", r->eol_len);
    hops__buf_puts(&d->out, "\n");
    return HOPS_OK;
}

static hops_status dump_end(void *ud, void *cs)
{
    hops_buf *all = ud;
    dump *d = cs;
    if (d->out.len)
        hops__buf_put(all, d->out.data, d->out.len);
    hops__buf_free(&d->out);
    free(d);
    return HOPS_OK;
}

static hops_status scan(const char *path, int threads, size_t chunk, const char *fmt, char **out,
                        hops_table_info *info)
{
    hops_read_options o = HOPS_READ_OPTIONS_INIT;
    hops_buf all = HOPS_BUF_INIT;
    hops_scan_cb cb = {&all, dump_begin, dump_record, dump_end, NULL};
    o.threads = threads;
    o.chunk_size = chunk;
    if (fmt && strcmp(fmt, "noheader") == 0)
        o.no_header = 1;
    if (fmt && strcmp(fmt, ";") == 0)
        o.delimiter = ';';
    hops_status rc = hops__data_scan(path, &o, info, &cb);
    *out = hops__buf_detach(&all);
    return rc;
}

static const char rfc[] =
    "\xef\xbb\xbf" "name,quote,n\r\n"
    "alice,\"said \"\"hi\"\"\",1\r\n"
    "bob,\"multi\nline\",2\r\n"
    "\r\n"
    ",\"\",\r\n"
    "carol,plain,3";

static void test_rfc4180(void **state)
{
    (void)state;
    char *path = write_file("rfc.csv", rfc, sizeof rfc - 1), *out;
    hops_table_info info;
    assert_int_equal(scan(path, 1, 0, NULL, &out, &info), HOPS_OK);
    assert_int_equal(info.n_columns, 3);
    assert_string_equal(info.columns[0], "name"); /* BOM skipped */
    assert_string_equal(info.header_raw, "name,quote,n");
    assert_string_equal(out, "2:alice|said \"hi\"|1#raw=21+2\n"
                             "3:bob|multi\nline|2#raw=18+2\n"
                             "6:<null>||<null>#raw=4+2\n"
                             "7:carol|plain|3#raw=13+0\n");
    hops__table_info_free(&info);
    free(out);
    free(path);
}

static void test_same_records_any_threads_and_chunks(void **state)
{
    (void)state;
    hops_buf data = HOPS_BUF_INIT;
    hops__buf_puts(&data, "a,b,c\n");
    for (int i = 0; i < 5000; i++) {
        if (i % 7 == 0)
            hops__buf_printf(&data, "%d,\"x\n%d,\"\"y\"\"\",%d.5\n", i, i, i);
        else if (i % 11 == 0)
            hops__buf_printf(&data, "%d,,\r\n", i);
        else
            hops__buf_printf(&data, "%d,plain %d,%d\n", i, i, -i);
    }
    char *path = write_file("big.csv", data.data, data.len), *ref, *out;
    setenv("HOPS_NO_MMAP", "1", 1); /* the reference: read(), not the mapping */
    assert_int_equal(scan(path, 1, 0, NULL, &ref, NULL), HOPS_OK);
    unsetenv("HOPS_NO_MMAP");
    const int threads[] = {1, 2, 4, 7};
    const size_t chunks[] = {64, 100, 1000, 4096, 1 << 20};
    for (size_t t = 0; t < HOPS_ARRAY_LEN(threads); t++)
        for (size_t c = 0; c < HOPS_ARRAY_LEN(chunks); c++) {
            assert_int_equal(scan(path, threads[t], chunks[c], NULL, &out, NULL), HOPS_OK);
            assert_string_equal(out, ref);
            free(out);
        }
    /* The same bytes gzipped read the same. */
    char *gzpath = hops__aprintf("%s/big.csv.gz", dir);
    gzFile gz = gzopen(gzpath, "wb");
    gzwrite(gz, data.data, (unsigned)data.len);
    gzclose(gz);
    assert_int_equal(scan(gzpath, 3, 1000, NULL, &out, NULL), HOPS_OK);
    assert_string_equal(out, ref);
    free(out);
    free(gzpath);
    free(ref);
    free(path);
    hops__buf_free(&data);
}

/* A chunk without quotes takes a fast path (parse_csv_plain); its records
 * must be those of the general parser (HOPS_CSV_GENERIC=1) byte for byte. */
static void test_plain_path_matches_generic(void **state)
{
    (void)state;
    hops_buf wide = HOPS_BUF_INIT;
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 100; i++)
            hops__buf_printf(&wide, "%s%d", i ? "," : "", r * 100 + i);
    static const char *const cases[] = {
        "a,b,c\n1,2,3\n4,5,6\n",
        "a,b,c\r\n1,2,3\r\n\r\n4,,6\r\n",
        "a,b,c\n1,2,3\n\n\n7,8,9",
        "a,b,c\n1,2\r,3\r\n\r,\r,\r\n4,5,6\r",
        "a,b,c\n1,2,3,4\n5\n,,\n",
        "a,b,c\n\r\n\n,,\r",
        "a,b,c\n1,2,3\n\r",
        "a\n\n1\n\n\n2\n",
    };
    const size_t chunks[] = {64, 70, 1000};
    for (size_t k = 0; k <= HOPS_ARRAY_LEN(cases); k++) {
        const char *data = k < HOPS_ARRAY_LEN(cases) ? cases[k] : wide.data;
        char *path = write_file("plain.csv", data, strlen(data)), *fast, *slow;
        for (size_t c = 0; c < HOPS_ARRAY_LEN(chunks); c++) {
            hops_status rf = scan(path, 1, chunks[c], k == HOPS_ARRAY_LEN(cases) ? "noheader" : NULL,
                                  &fast, NULL);
            setenv("HOPS_CSV_GENERIC", "1", 1);
            setenv("HOPS_NO_MMAP", (c & 1) ? "1" : "0", 1); /* read() or the mapping */
            hops_status rs = scan(path, 1, chunks[c], k == HOPS_ARRAY_LEN(cases) ? "noheader" : NULL,
                                  &slow, NULL);
            unsetenv("HOPS_CSV_GENERIC");
            unsetenv("HOPS_NO_MMAP");
            assert_int_equal(rf, HOPS_OK);
            assert_int_equal(rs, HOPS_OK);
            assert_string_equal(fast, slow);
            if (k == 1 && c == 0)
                assert_string_equal(fast, "2:1|2|3#raw=5+2\n4:4|<null>|6#raw=4+2\n");
            if (k == 3 && c == 0)
                assert_string_equal(fast, "2:1|2\r|3#raw=6+2\n3:\r|\r|<null>#raw=4+2\n"
                                          "4:4|5|6#raw=6+0\n");
            free(fast);
            free(slow);
        }
        free(path);
    }
    hops__buf_free(&wide);
}

static void test_jsonl(void **state)
{
    (void)state;
    static const char j[] = "{\"a\": 1, \"b\": \"x\"}\n"
                            "\n"
                            "{\"b\": null, \"c\": true, \"a\": 2.5}\r\n"
                            "{\"a\": [1,2], \"d\": {\"k\": 1}}";
    char *path = write_file("d.jsonl", j, sizeof j - 1), *out;
    hops_table_info info;
    assert_int_equal(scan(path, 2, 64, NULL, &out, &info), HOPS_OK);
    assert_int_equal(info.format, HOPS_FORMAT_JSONL);
    assert_int_equal(info.n_columns, 4);
    assert_string_equal(info.columns[2], "c");
    assert_string_equal(out, "1:1|x|<null>|<null>#raw=18\n"
                             "3:2.5|<null>|true|<null>#raw=32+2\n"
                             "4:[1,2]|<null>|<null>|{\"k\":1}#raw=27+0\n");
    hops__table_info_free(&info);
    free(out);
    free(path);
}

static void expect_error(const char *name, const char *data, size_t len, const char *fmt,
                         const char *want)
{
    char *path = write_file(name, data, len), *out = NULL;
    hops_status rc = scan(path, 2, 64, fmt, &out, NULL);
    assert_int_equal(rc, HOPS_EPARSE);
    if (!strstr(hops_last_error(), want))
        fail_msg("error '%s' lacks '%s'", hops_last_error(), want);
    free(out);
    free(path);
}

static void test_bad_input(void **state)
{
    (void)state;
    static const char unterminated[] = "a,b\n1,2\n3,\"open\nstill open\n";
    expect_error("u.csv", unterminated, sizeof unterminated - 1, NULL,
                 "u.csv:3:3: unterminated quoted field");
    static const char badutf[] = "a,b\n1,2\n3,caf\xc3\x28\n";
    expect_error("utf.csv", badutf, sizeof badutf - 1, NULL, "utf.csv:3:6: invalid UTF-8");
    static const char binary[] = "a,b\n1,\0\x01\x02\n";
    expect_error("bin.csv", binary, sizeof binary - 1, NULL, "bin.csv:2:3: binary data");
    expect_error("empty.csv", "", 0, NULL, "empty.csv: the file is empty");
    static const char after_quote[] = "a,b\n\"x\"y,2\n";
    expect_error("aq.csv", after_quote, sizeof after_quote - 1, NULL,
                 "aq.csv:2:4: unexpected character after a closing quote");
    static const char dup[] = "a,b,a\n1,2,3\n";
    expect_error("dup.csv", dup, sizeof dup - 1, NULL, "column name 'a' appears twice");
    static const char badjson[] = "{\"a\": 1}\n{\"a\": }\n";
    expect_error("b.jsonl", badjson, sizeof badjson - 1, NULL, "b.jsonl:2:");
    static const char notobj[] = "{\"a\": 1}\n[1]\n";
    expect_error("n.jsonl", notobj, sizeof notobj - 1, NULL, "must be a JSON object");

    char *out = NULL;
    hops_table_info info;
    assert_int_equal(scan("/nonexistent/x.csv", 1, 0, NULL, &out, &info), HOPS_ENOTFOUND);
    assert_non_null(strstr(hops_last_error(), "/nonexistent/x.csv: no such file"));
    free(out);

    /* Header only: no records, no error. Ragged rows reach the callback; the check names them. */
    char *path = write_file("h.csv", "x,y\n", 4);
    assert_int_equal(scan(path, 1, 0, NULL, &out, &info), HOPS_OK);
    assert_string_equal(out, "");
    hops_field f[3] = {{"1", 1, 0, 0}, {"2", 1, 0, 0}, {"3", 1, 0, 0}};
    hops_record rec = {f, 3, 9, "1,2,3", 5, 1};
    assert_int_equal(hops__record_check(&info, &rec), HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "h.csv:9: expected 2 fields, found 3"));
    hops__table_info_free(&info);
    free(out);
    free(path);
}

static void test_big_field_and_options(void **state)
{
    (void)state;
    size_t big = 10u << 20;
    hops_buf data = HOPS_BUF_INIT;
    hops__buf_puts(&data, "id;text\n1;\"");
    hops__buf_grow(&data, big + 64);
    memset(data.data + data.len, 'z', big);
    data.len += big;
    hops__buf_puts(&data, "\"\n2;short\n");
    char *path = write_file("big.csv", data.data, data.len), *out;
    hops_table_info info;
    assert_int_equal(scan(path, 2, 4096, ";", &out, &info), HOPS_OK);
    assert_int_equal(info.n_columns, 2);
    assert_non_null(strstr(out, "3:2|short"));
    assert_int_equal(strlen(out), 2 + 2 + big + 13 + 17);
    hops__table_info_free(&info);
    free(out);
    free(path);
    hops__buf_free(&data);

    path = write_file("nh.csv", "1,2\n3,4\n", 8);
    assert_int_equal(scan(path, 1, 0, "noheader", &out, &info), HOPS_OK);
    assert_string_equal(info.columns[1], "c2");
    assert_string_equal(out, "1:1|2#raw=3\n2:3|4#raw=3\n");
    hops__table_info_free(&info);
    free(out);
    free(path);
}

static void test_numbers(void **state)
{
    (void)state;
    const char *good[] = {"0", "-0.5", "1.", "+3", "123456789012345", "1e-3", "2.5E+10",
                          "0.1", "1234567890.123456789", "-.5"};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(good); i++) {
        hops_field f = {good[i], strlen(good[i]), 0, 0};
        double v;
        assert_true(hops__field_double(&f, &v));
        assert_true(v == strtod(good[i], NULL)); /* bit-exact with strtod */
    }
    const char *bad[] = {"", "+", "-", ".", "1,5", "0x10", "nan", "inf", " 1", "1 ", "1e", "1e999", "abc"};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(bad); i++) {
        hops_field f = {bad[i], strlen(bad[i]), 0, 0};
        double v;
        if (hops__field_double(&f, &v))
            fail_msg("'%s' parsed as a number", bad[i]);
    }
    hops_field f = {"-9223372036854775808", 20, 0, 0};
    int64_t n;
    assert_true(hops__field_int64(&f, &n));
    assert_true(n == INT64_MIN);
    f.ptr = "9223372036854775808";
    f.len = 19;
    assert_false(hops__field_int64(&f, &n));
    f.ptr = "1.0";
    f.len = 3;
    assert_false(hops__field_int64(&f, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rfc4180, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_records_any_threads_and_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_path_matches_generic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_field_and_options, setup, teardown),
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
