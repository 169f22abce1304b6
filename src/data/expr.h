/* hops — private interface of the row filter language of `hops data transform
 * --filter` (src/data/expr.c).
 *
 *   expr       := or
 *   or         := and ('or' and)*
 *   and        := not ('and' not)*
 *   not        := 'not' not | '(' expr ')' | predicate
 *   predicate  := COLUMN OP LITERAL                 OP: = == != < <= > >=
 *               | COLUMN 'is' ['not'] 'null'
 *               | COLUMN ['not'] 'in' '(' LITERAL (',' LITERAL)* ')'
 *   COLUMN     := a bare name ([A-Za-z_] or any non-ASCII byte, then also
 *                 digits and '.'), or any name in backticks (`sepal length`,
 *                 a backtick inside doubled: ``)
 *   LITERAL    := a decimal number (-1, 2.5, 1e3) | 'text' | "text"
 *                 (a quote inside a quoted text is doubled: 'it''s')
 *
 * Keywords (and, or, not, is, null, in) are case-insensitive; a column with
 * such a name goes in backticks. Precedence: not > and > or.
 *
 * Semantics, per row, on the field texts as read:
 *   - a number literal compares numerically with a field that reads as a
 *     number (so 1 == "1.0"), and as text otherwise; a quoted literal always
 *     compares as text (bytewise, like strcmp);
 *   - a null field (empty unquoted CSV field, JSON null, missing key) is
 *     like NaN in pandas: = < <= > >= and `in` are false, != and `not in`
 *     are true; `is null` / `is not null` test it.
 */
#ifndef HOPS_DATA_EXPR_H
#define HOPS_DATA_EXPR_H

#include <stddef.h>

#include "data_internal.h"

typedef struct hops_expr hops_expr;

/* Deepest nesting of parentheses and `not` accepted (a bound on recursion). */
#define HOPS_EXPR_MAX_DEPTH 200

/* Parse TEXT. *out (owned; hops__expr_free) on success; NULL on failure with
 * HOPS_EPARSE and a message naming the 1-based character column, the text and
 * a caret under the place:
 *   column 7: expected a value after '>'
 *     age > and x = 1
 *           ^
 * HOPS_ENOMEM when out of memory. The expression must be valid UTF-8. */
hops_status hops__expr_parse(hops_expr **out, const char *text);

/* Resolve the column names of E against COLUMNS (N of them, as in the data's
 * header). HOPS_EPARSE for a name that is not there, with its column
 * position and the list of columns:
 *   column 1: unknown column 'agee'; the columns are: age, country, score */
hops_status hops__expr_bind(hops_expr *e, const char *const *columns, size_t n);

/* 1 when the row FIELDS[0..N) matches the bound E, else 0. A column past N
 * reads as null. Safe to call from several threads at once. */
int hops__expr_eval(const hops_expr *e, const hops_field *fields, size_t n);

/* The expression fully parenthesized, with canonical operators and quoting,
 * e.g. "((age > 30) and (country == 'SE'))"; parsing it again gives the same
 * text. Owned by the caller (free()); NULL when out of memory. */
char *hops__expr_format(const hops_expr *e);

void hops__expr_free(hops_expr *e);

#endif
