/* Unit tests for src/data/table.c: a whole table in memory, in file order
 * whatever the threads and chunk size; nulls, quotes, JSON Lines, line
 * numbers, and the reader's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "hops/hops.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hops-unit-table.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

static char *write_file(const char *name, const char *text)
{
    char *p = hops__aprintf("%s/%s", dir, name);
    assert_non_null(p);
    assert_int_equal(hops__atomic_write(p, text, strlen(text)), HOPS_OK);
    return p;
}

static void test_csv(void **state)
{
    (void)state;
    char *path = write_file("t.csv", "a,b,c\n1,\"x, y\",\n2,\"two\nlines\",3\n\"\",z,4\n");
    hops_table *t = NULL;
    size_t len;
    assert_int_equal(hops_table_read(&t, path, NULL), HOPS_OK);
    assert_int_equal(hops_table_rows(t), 3);
    assert_int_equal(hops_table_columns(t), 3);
    assert_string_equal(hops_table_column_name(t, 1), "b");
    assert_int_equal(hops_table_column_index(t, "c"), 2);
    assert_int_equal(hops_table_column_index(t, "d"), -1);
    assert_string_equal(hops_table_cell(t, 0, 1, &len), "x, y");
    assert_int_equal(len, 4);
    assert_null(hops_table_cell(t, 0, 2, NULL));             /* empty unquoted: null */
    assert_string_equal(hops_table_cell(t, 2, 0, NULL), ""); /* "" is an empty text */
    assert_string_equal(hops_table_cell(t, 1, 1, NULL), "two\nlines");
    assert_int_equal(hops_table_line(t, 0), 2);
    assert_int_equal(hops_table_line(t, 1), 3);
    assert_int_equal(hops_table_line(t, 2), 5);  /* after the two-line record */
    assert_null(hops_table_cell(t, 3, 0, NULL)); /* out of range */
    assert_false(hops_table_is_jsonl(t));
    hops_table_free(t);
    free(path);
}

/* Many rows, one thread with tiny chunks vs several with others: the same. */
static void test_order(void **state)
{
    (void)state;
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "i,s\n");
    for (int i = 0; i < 5000; i++)
        hops__buf_printf(&b, "%d,%s\n", i, i % 7 ? "v" : "");
    char *path = write_file("many.csv", b.data);
    hops__buf_free(&b);
    hops_read_options o1 = HOPS_READ_OPTIONS_INIT, o2 = HOPS_READ_OPTIONS_INIT;
    o1.threads = 1;
    o1.chunk_size = 256;
    o2.threads = 3;
    o2.chunk_size = 4096;
    hops_table *t1 = NULL, *t2 = NULL;
    assert_int_equal(hops_table_read(&t1, path, &o1), HOPS_OK);
    assert_int_equal(hops_table_read(&t2, path, &o2), HOPS_OK);
    assert_int_equal(hops_table_rows(t1), 5000);
    assert_int_equal(hops_table_rows(t2), 5000);
    for (size_t r = 0; r < 5000; r++) {
        char want[16];
        snprintf(want, sizeof want, "%zu", r);
        assert_string_equal(hops_table_cell(t1, r, 0, NULL), want);
        assert_string_equal(hops_table_cell(t2, r, 0, NULL), want);
        assert_int_equal(hops_table_cell(t1, r, 1, NULL) == NULL, r % 7 == 0);
        assert_int_equal(hops_table_cell(t2, r, 1, NULL) == NULL, r % 7 == 0);
        assert_int_equal(hops_table_line(t1, r), r + 2);
    }
    hops_table_free(t1);
    hops_table_free(t2);
    free(path);
}

static void test_jsonl_and_errors(void **state)
{
    (void)state;
    char *path = write_file(
        "t.jsonl", "{\"a\": 1, \"b\": \"x\"}\n{\"a\": null}\n{\"b\": \"y\", \"a\": 2.5}\n");
    hops_table *t = NULL;
    assert_int_equal(hops_table_read(&t, path, NULL), HOPS_OK);
    assert_true(hops_table_is_jsonl(t));
    assert_int_equal(hops_table_rows(t), 3);
    long a = hops_table_column_index(t, "a"), bcol = hops_table_column_index(t, "b");
    assert_true(a >= 0 && bcol >= 0);
    assert_string_equal(hops_table_cell(t, 0, (size_t)a, NULL), "1");
    assert_null(hops_table_cell(t, 1, (size_t)a, NULL));
    assert_null(hops_table_cell(t, 1, (size_t)bcol, NULL)); /* a missing key */
    assert_string_equal(hops_table_cell(t, 2, (size_t)bcol, NULL), "y");
    hops_table_free(t);
    free(path);

    char *ragged = write_file("r.csv", "a,b\n1,2\n3\n");
    assert_int_equal(hops_table_read(&t, ragged, NULL), HOPS_EPARSE);
    assert_null(t);
    assert_non_null(strstr(hops_last_error(), "r.csv:3"));
    char *missing = hops__aprintf("%s/none.csv", dir);
    assert_int_not_equal(hops_table_read(&t, missing, NULL), HOPS_OK);
    assert_non_null(strstr(hops_last_error(), "none.csv"));
    free(missing);
    free(ragged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_and_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
