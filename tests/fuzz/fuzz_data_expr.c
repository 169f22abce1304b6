/* Fuzz the row filter language of `hops data transform --filter`
 * (src/data/expr.c).
 *
 * The input, up to its first '\n' (and first NUL), is an expression; each
 * further line is a row of fields separated by '|' ("~" alone is a null; a
 * short row leaves the last columns out, and they read as null).
 *   - hops__expr_parse: HOPS_OK with an expression, or HOPS_EPARSE and no
 *     expression, with a message "column N: ..." where N is within the text
 *     (in characters, one past the end at most), then the text (a window of
 *     it when long) and a caret line, all within the 1 KiB message buffer;
 *   - the canonical form (hops__expr_format) parses again to itself;
 *   - binding to fixed columns succeeds or names an unknown column;
 *   - on every row, hops__expr_eval is 0 or 1, the canonical form gives the
 *     same answer, and `not (canonical)` the opposite one (unless that is
 *     nested one level too deep, which must then be the reason it fails).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/expr.h"

#include "fuzz_util.h"

static const char *const columns[] = {"a",  "b",     "c",  "age", "name with space",
                                      "in", "größe", "x.y"};
#define NCOL HOPS_ARRAY_LEN(columns)
#define MAX_ROWS 8

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_default_artifact_prefix(argc, argv);
    return 0;
}

/* Characters (UTF-8 lead bytes and ASCII) in S. */
FUZZ_NO_COVERAGE static size_t char_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* A failed parse or bind left a well-formed message. */
static void check_message(const char *text)
{
    const char *msg = hops_last_error();
    char *end;
    FUZZ_CHECK(strncmp(msg, "column ", 7) == 0, "message without a column: %s", msg);
    unsigned long col = strtoul(msg + 7, &end, 10);
    FUZZ_CHECK(*end == ':', "message without 'column N:': %s", msg);
    FUZZ_CHECK(col >= 1 && col <= char_count(text) + 1, "column %lu out of 1..%zu: %s", col,
               char_count(text) + 1, msg);
    FUZZ_CHECK(strlen(msg) < 1000, "the message may have been cut: %zu bytes", strlen(msg));
    const char *caret = strrchr(msg, '\n');
    FUZZ_CHECK(caret && strchr(msg, '\n') != caret, "no text and caret lines: %s", msg);
    /* A long text is shown from 60 characters before the place, after "...". */
    size_t want = col - 1 <= 60 ? col - 1 : 63;
    FUZZ_CHECK(strlen(caret + 1) == 2 + want + 1 && caret[strlen(caret) - 1] == '^',
               "the caret is not under column %lu: %s", col, msg);
}

static hops_expr *parse_bound(const char *text, hops_status *rc)
{
    hops_expr *e = NULL;
    *rc = hops__expr_parse(&e, text);
    if (*rc != HOPS_OK) {
        FUZZ_CHECK(e == NULL, "a failed parse left an expression");
        return NULL;
    }
    *rc = hops__expr_bind(e, columns, NCOL);
    if (*rc != HOPS_OK) {
        hops__expr_free(e);
        return NULL;
    }
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    char *rows = strchr(text, '\n');
    hops_field fields[MAX_ROWS][NCOL];
    size_t n_fields[MAX_ROWS], n_rows = 0;
    hops_expr *e = NULL;
    hops_status rc;

    if (rows)
        *rows++ = '\0';
    /* The rows: fields point into TEXT, cut at '|' and '\n'. */
    while (rows && *rows && n_rows < MAX_ROWS) {
        char *nl = strchr(rows, '\n');
        if (nl)
            *nl = '\0';
        size_t n = 0;
        char *p = rows;
        for (;;) {
            char *bar = strchr(p, '|');
            if (bar)
                *bar = '\0';
            if (n < NCOL) {
                fields[n_rows][n].ptr = p;
                fields[n_rows][n].len = strlen(p);
                fields[n_rows][n].quoted = 0;
                fields[n_rows][n].is_null = strcmp(p, "~") == 0;
                n++;
            }
            if (!bar)
                break;
            p = bar + 1;
        }
        n_fields[n_rows++] = n;
        rows = nl ? nl + 1 : NULL;
    }

    hops_error_clear();
    rc = hops__expr_parse(&e, text);
    if (rc != HOPS_OK) {
        FUZZ_CHECK(rc == HOPS_EPARSE, "hops__expr_parse: %s", hops_err_name(rc));
        FUZZ_CHECK(e == NULL, "a failed parse left an expression");
        check_message(text);
        free(text);
        return 0;
    }
    FUZZ_CHECK(e != NULL, "HOPS_OK without an expression");

    /* The canonical form is a fixed point. */
    char *canon = hops__expr_format(e);
    FUZZ_CHECK(canon, "hops__expr_format returned NULL");
    hops_expr *again = NULL;
    rc = hops__expr_parse(&again, canon);
    FUZZ_CHECK(rc == HOPS_OK, "the canonical form does not parse: %s\n  from: %s",
               hops_last_error(), text);
    char *canon2 = hops__expr_format(again);
    FUZZ_CHECK(canon2 && strcmp(canon, canon2) == 0, "canonical form not stable:\n  %s\n  %s",
               canon, canon2 ? canon2 : "(null)");
    free(canon2);
    hops__expr_free(again);

    rc = hops__expr_bind(e, columns, NCOL);
    if (rc != HOPS_OK) {
        FUZZ_CHECK(rc == HOPS_EPARSE, "hops__expr_bind: %s", hops_err_name(rc));
        FUZZ_CHECK(strstr(hops_last_error(), "unknown column"), "bind: %s", hops_last_error());
        check_message(text);
        hops__expr_free(e);
        free(canon);
        free(text);
        return 0;
    }

    hops_expr *same = parse_bound(canon, &rc);
    FUZZ_CHECK(same, "the canonical form does not bind: %s", hops_last_error());
    char *negated_text = hops__aprintf("not %s", canon);
    FUZZ_CHECK(negated_text, "out of memory");
    hops_expr *negated = parse_bound(negated_text, &rc);
    if (!negated)
        FUZZ_CHECK(rc == HOPS_EPARSE && strstr(hops_last_error(), "nested too deeply"),
                   "`not (canonical)` fails: %s", hops_last_error());

    for (size_t r = 0; r < n_rows; r++) {
        int m = hops__expr_eval(e, fields[r], n_fields[r]);
        FUZZ_CHECK(m == 0 || m == 1, "hops__expr_eval returned %d", m);
        FUZZ_CHECK(hops__expr_eval(same, fields[r], n_fields[r]) == m,
                   "the canonical form %s disagrees on row %zu", canon, r);
        if (negated)
            FUZZ_CHECK(hops__expr_eval(negated, fields[r], n_fields[r]) == !m,
                       "`not` does not negate %s on row %zu", canon, r);
    }
    hops__expr_free(negated);
    hops__expr_free(same);
    hops__expr_free(e);
    free(negated_text);
    free(canon);
    free(text);
    return 0;
}
