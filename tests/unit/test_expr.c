/* Unit tests for src/data/expr.c: the --filter language of `hops data
 * transform` — precedence, errors with their exact columns, null handling,
 * in-lists, numeric against text comparison, the canonical form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/expr.h"

static const char *const columns[] = {"age",          "country", "score", "name",
                                      "sepal length", "in",      "größe"};
#define NCOL HOPS_ARRAY_LEN(columns)

/* Parse and bind TEXT; fails the test on an error. */
static hops_expr *parse_ok(const char *text)
{
    hops_expr *e = NULL;
    hops_status rc = hops__expr_parse(&e, text);
    if (rc != HOPS_OK)
        fail_msg("'%s' did not parse: %s", text, hops_last_error());
    rc = hops__expr_bind(e, columns, NCOL);
    if (rc != HOPS_OK)
        fail_msg("'%s' did not bind: %s", text, hops_last_error());
    return e;
}

/* Parse TEXT without binding it. */
static hops_expr *parse_only(const char *text)
{
    hops_expr *e = NULL;
    if (hops__expr_parse(&e, text) != HOPS_OK)
        fail_msg("'%s' did not parse: %s", text, hops_last_error());
    return e;
}

/* The canonical form of TEXT. */
static void assert_format(const char *text, const char *want)
{
    hops_expr *e = parse_only(text);
    char *got = hops__expr_format(e);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("'%s' formats as\n  %s\nnot\n  %s", text, got, want);
    /* The canonical form parses to itself. */
    hops_expr *again = parse_only(got);
    char *got2 = hops__expr_format(again);
    assert_string_equal(got2, got);
    free(got2);
    hops__expr_free(again);
    free(got);
    hops__expr_free(e);
}

/* TEXT fails to parse (or to bind) with exactly the message WANT (its first line). */
static void assert_error(const char *text, const char *want)
{
    hops_expr *e = NULL;
    hops_status rc = hops__expr_parse(&e, text);
    if (rc == HOPS_OK) {
        rc = hops__expr_bind(e, columns, NCOL);
        hops__expr_free(e);
        e = NULL;
    }
    if (rc == HOPS_OK)
        fail_msg("'%s' parsed; expected: %s", text, want);
    assert_int_equal(rc, HOPS_EPARSE);
    assert_null(e);
    const char *msg = hops_last_error();
    const char *nl = strchr(msg, '\n');
    size_t n = nl ? (size_t)(nl - msg) : strlen(msg);
    if (n != strlen(want) || strncmp(msg, want, n) != 0)
        fail_msg("'%s':\n  got:  %.*s\n  want: %s", text, (int)n, msg, want);
}

/* Evaluate TEXT on one row: VALUES per column, NULL for a null field. */
static int eval_row(const char *text, const char *const *values)
{
    hops_field f[NCOL];
    hops_expr *e = parse_ok(text);
    for (size_t i = 0; i < NCOL; i++) {
        f[i].ptr = values[i] ? values[i] : "";
        f[i].len = values[i] ? strlen(values[i]) : 0;
        f[i].quoted = 0;
        f[i].is_null = values[i] == NULL;
    }
    int r = hops__expr_eval(e, f, NCOL);
    hops__expr_free(e);
    return r;
}

static const char *const row_se[] = {"31", "SE", "0.5", "Anna", "5.1", "x", "180"};
static const char *const row_nulls[] = {NULL, "NO", NULL, "", NULL, NULL, NULL};
static const char *const row_text_age[] = {"abc", "se", "1e2", "O'Brien", "4.9", "in", "1.80"};

static void test_precedence(void **state)
{
    (void)state;
    assert_format("age > 30", "(age > 30)");
    assert_format("a_ge = 1 or country == 'SE' and not score < 2",
                  "((a_ge == 1) or ((country == 'SE') and (not (score < 2))))");
    assert_format("age=1 and country='x' or score=2 and name='y'",
                  "(((age == 1) and (country == 'x')) or ((score == 2) and (name == 'y')))");
    assert_format("not age = 1 or score = 2", "((not (age == 1)) or (score == 2))");
    assert_format("not (age = 1 or score = 2)", "(not ((age == 1) or (score == 2)))");
    assert_format("(age = 1 or score = 2) and name != 'z'",
                  "(((age == 1) or (score == 2)) and (name != 'z'))");
    assert_format("a = 1 and b = 2 and c = 3", "((a == 1) and (b == 2) and (c == 3))");
    assert_format("not not age is null", "(not (not (age is null)))");
    assert_format("age >= -1.5e3 AND score <= .5 Or x = 1",
                  "(((age >= -1.5e3) and (score <= .5)) or (x == 1))");
}

static void test_precedence_eval(void **state)
{
    (void)state;
    /* or is lower than and: true or (false and false) */
    assert_true(eval_row("age > 30 or country = 'NO' and score > 100", row_se));
    /* (true or false) and false */
    assert_false(eval_row("(age > 30 or country = 'NO') and score > 100", row_se));
    /* not binds tighter than and */
    assert_false(eval_row("not age > 30 and country = 'SE'", row_se));
    assert_true(eval_row("not (age > 30 and country = 'NO')", row_se));
}

static void test_literals_and_operators(void **state)
{
    (void)state;
    assert_format("age = 1", "(age == 1)");
    assert_format("age == 1", "(age == 1)");
    assert_format("age != 1", "(age != 1)");
    assert_format("age<1", "(age < 1)");
    assert_format("age<=1", "(age <= 1)");
    assert_format("age>1", "(age > 1)");
    assert_format("age>=+1", "(age >= +1)");
    assert_format("score > -.5e-3", "(score > -.5e-3)");
    assert_format("name = \"it's\"", "(name == 'it''s')");
    assert_format("name = 'it''s'", "(name == 'it''s')");
    assert_format("name = \"say \"\"hi\"\"\"", "(name == 'say \"hi\"')");
    assert_format("name = ''", "(name == '')");
    assert_format("`sepal length` >= 5", "(`sepal length` >= 5)");
    assert_format("`in` = 1", "(`in` == 1)");
    assert_format("`a``b` = 1", "(`a``b` == 1)");
    assert_format("`age` = 1", "(age == 1)");
    assert_format("größe > 170", "(größe > 170)");
    assert_format("age IS NULL or age Is Not Null", "((age is null) or (age is not null))");
}

static void test_errors(void **state)
{
    (void)state;
    assert_error("", "column 1: the expression is empty");
    assert_error("   ", "column 4: the expression is empty");
    assert_error("age > ", "column 7: expected a value after '>'");
    assert_error("age > 30 and", "column 13: expected a column name, 'not' or '(' after 'and'");
    assert_error("age > 30 and country == ", "column 25: expected a value after '=='");
    assert_error("age >", "column 6: expected a value after '>'");
    assert_error("age 30",
                 "column 5: expected an operator (= == != < <= > >=), 'is' or 'in' after 'age'");
    assert_error("country == SE", "column 12: expected a value after '==' (quote text: 'SE')");
    assert_error("age == null",
                 "column 8: expected a value after '=='; test for null with `age is null`");
    assert_error(
        "30 < age",
        "column 1: expected a column name, not a value (the column goes on the left: age > 30)");
    assert_error("(age > 1", "column 9: expected ')' to close the '(' at column 1");
    assert_error("age > 1)", "column 8: a ')' without its '('");
    assert_error("age > 1 country = 'x'",
                 "column 9: expected 'and', 'or' or the end of the expression");
    assert_error("name = 'abc", "column 8: unterminated text (the quote opens here)");
    assert_error("`sepal length > 1", "column 1: unterminated `name` (the backtick opens here)");
    assert_error("`` > 1", "column 1: empty column name ``");
    assert_error("age ! 1", "column 5: unexpected '!' (write != or not)");
    assert_error("age > 1 & score > 1", "column 9: unexpected character '&'");
    assert_error("age > 30abc", "column 7: '30abc' is not a number");
    assert_error("age > 1.2.3", "column 7: '1.2.3' is not a number");
    assert_error("age > 1e999", "column 7: the number '1e999' is out of range");
    assert_error("age is 1", "column 8: expected 'null' or 'not null' after 'is'");
    assert_error("age is not 1", "column 12: expected 'null' after 'is not'");
    assert_error("age not 1", "column 9: expected 'in' after 'not'");
    assert_error("age in 1, 2", "column 8: expected '(' after 'in', as in age in (1, 2)");
    assert_error("age in ()", "column 9: expected a value in the list after '('");
    assert_error("age in (1 2)", "column 11: expected ',' or ')' in the list");
    assert_error("age in (1,)", "column 11: expected a value in the list after ','");
    assert_error("and > 1", "column 1: expected a column name, 'not' or '(', not 'and' (a column "
                            "of that name goes in backticks: `and`)");
    assert_error("not", "column 4: expected a column name, 'not' or '(' after 'not'");
    /* Columns count characters, not bytes. */
    assert_error("größe > 1 and", "column 14: expected a column name, 'not' or '(' after 'and'");
    assert_error("name = 'ö' and ?", "column 16: unexpected character '?'");
    /* Binding: unknown columns, with the list and a case hint. */
    assert_error("score > 1 and agee > 30", "column 15: unknown column 'agee'; the columns are: "
                                            "age, country, score, name, sepal length, in, größe");
    assert_error("Age > 30", "column 1: unknown column 'Age' (did you mean 'age'?); the columns "
                             "are: age, country, score, name, sepal length, in, größe");
    /* Not UTF-8. */
    assert_error("name = '\xff'", "column 9: not valid UTF-8");
}

static void test_error_caret(void **state)
{
    (void)state;
    hops_expr *e = NULL;
    assert_int_equal(hops__expr_parse(&e, "age > 30 and\tcountry == "), HOPS_EPARSE);
    /* Tabs are shown as spaces so the caret stays under the place. */
    assert_string_equal(hops_last_error(), "column 25: expected a value after '=='\n"
                                           "  age > 30 and country == \n"
                                           "                          ^");
}

static void test_depth_limit(void **state)
{
    (void)state;
    hops_buf b = HOPS_BUF_INIT;
    hops_expr *e = NULL;
    for (int i = 0; i < HOPS_EXPR_MAX_DEPTH; i++)
        hops__buf_puts(&b, "(");
    hops__buf_puts(&b, "age > 1");
    for (int i = 0; i < HOPS_EXPR_MAX_DEPTH; i++)
        hops__buf_puts(&b, ")");
    assert_int_equal(hops__expr_parse(&e, b.data), HOPS_OK);
    hops__expr_free(e);
    hops__buf_free(&b);
    for (int i = 0; i < 100000; i++)
        hops__buf_puts(&b, i % 2 ? "(" : "not ");
    assert_int_equal(hops__expr_parse(&e, b.data), HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "nested too deeply"));
    assert_null(e);
    hops__buf_free(&b);
    /* Long and/or chains are flat, not deep. */
    for (int i = 0; i < 20000; i++)
        hops__buf_puts(&b, i ? " or age = 1" : "age = 1");
    assert_int_equal(hops__expr_parse(&e, b.data), HOPS_OK);
    hops__expr_free(e);
    hops__buf_free(&b);
}

static void test_null_handling(void **state)
{
    (void)state;
    /* Like NaN in pandas: only != and not in hold for a null. */
    assert_false(eval_row("age = 1", row_nulls));
    assert_true(eval_row("age != 1", row_nulls));
    assert_false(eval_row("age < 1", row_nulls));
    assert_false(eval_row("age <= 1", row_nulls));
    assert_false(eval_row("age > 1", row_nulls));
    assert_false(eval_row("age >= 1", row_nulls));
    assert_false(eval_row("age = ''", row_nulls));
    assert_false(eval_row("age in (1, '')", row_nulls));
    assert_true(eval_row("age not in (1, '')", row_nulls));
    assert_true(eval_row("age is null", row_nulls));
    assert_false(eval_row("age is not null", row_nulls));
    assert_true(eval_row("not age > 1", row_nulls));
    /* An empty text (a quoted "" in CSV) is not null. */
    assert_false(eval_row("name is null", row_nulls));
    assert_true(eval_row("name = ''", row_nulls));
    assert_true(eval_row("name is not null and country = 'NO'", row_nulls));
}

static void test_in_lists(void **state)
{
    (void)state;
    assert_true(eval_row("country in ('SE', 'NO')", row_se));
    assert_false(eval_row("country in ('se', 'NO')", row_se));
    assert_false(eval_row("country not in ('SE', 'NO')", row_se));
    assert_true(eval_row("age in (1, 2, 31)", row_se));
    assert_true(eval_row("age in (31.0)", row_se));
    assert_true(eval_row("age in ('x', 3.1e1)", row_se));
    assert_false(eval_row("age in ('31.0')", row_se)); /* quoted: text */
    assert_true(eval_row("age not in (1, 2)", row_se));
    assert_true(eval_row("`in` in ('x')", row_se));
    assert_true(eval_row("not age in (1) and country IN ('SE')", row_se));
    assert_format("age in (1,'a' , \"b\")", "(age in (1, 'a', 'b'))");
    assert_format("age NOT IN (1)", "(age not in (1))");
}

static void test_numbers_and_text(void **state)
{
    (void)state;
    /* Both numbers: numeric. */
    assert_true(eval_row("age > 4", row_se)); /* "31" > 4 numerically, not as text */
    assert_true(eval_row("age = 31.000", row_se));
    assert_true(eval_row("score = 5e-1", row_se));
    assert_true(eval_row("größe >= 180", row_se));
    /* A quoted literal compares as text. */
    assert_false(eval_row("age = '31.0'", row_se));
    assert_true(eval_row("age < '4'", row_se)); /* "31" < "4" as text */
    assert_true(eval_row("age = '31'", row_se));
    /* A field that is not a number: text against the literal as written. */
    assert_true(eval_row("age > 100", row_text_age)); /* "abc" > "100" */
    assert_false(eval_row("age = 0", row_text_age));
    assert_true(eval_row("score = 100", row_text_age)); /* "1e2" is a number */
    assert_true(eval_row("name = 'O''Brien'", row_text_age));
    assert_true(eval_row("name = \"O'Brien\"", row_text_age));
    assert_true(eval_row("country < 't' and country > 'sa'", row_text_age));
    assert_true(eval_row("`sepal length` < 5", row_text_age));
}

static void test_columns_past_the_row(void **state)
{
    (void)state;
    hops_field f[2] = {{"31", 2, 0, 0}, {"SE", 2, 0, 0}};
    hops_expr *e = parse_ok("name is null and age = 31");
    assert_int_equal(hops__expr_eval(e, f, 2), 1); /* name (index 3) reads as null */
    hops__expr_free(e);
    /* An expression that is not bound matches nothing. */
    assert_int_equal(hops__expr_parse(&e, "age = 31"), HOPS_OK);
    assert_int_equal(hops__expr_eval(e, f, 2), 0);
    hops__expr_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_precedence_eval),
        cmocka_unit_test(test_literals_and_operators),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_caret),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_null_handling),
        cmocka_unit_test(test_in_lists),
        cmocka_unit_test(test_numbers_and_text),
        cmocka_unit_test(test_columns_past_the_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
