/* The row filter language of `hops data transform --filter`: a hand-written
 * lexer and recursive-descent parser into a small tree, bound to column
 * indexes once, then evaluated per row on several threads (read-only).
 * The grammar and the semantics are in expr.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr.h"

typedef enum { N_CMP, N_IN, N_ISNULL, N_NOT, N_AND, N_OR } node_kind;
typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } cmp_op;

static const char *const op_names[] = {"==", "!=", "<", "<=", ">", ">="};

typedef struct {
    char *text; /* quoted: the unescaped text; number: as written */
    size_t len;
    int is_number;
    double num;
} literal;

typedef struct node node;
struct node {
    node_kind kind;
    cmp_op op;         /* N_CMP */
    int negate;        /* N_ISNULL: `is not null`; N_IN: `not in` */
    char *column;      /* N_CMP, N_IN, N_ISNULL */
    size_t column_pos; /* byte offset of the name in the text */
    size_t index;      /* the column's index once bound */
    literal *lits;     /* N_CMP: one; N_IN: the list */
    size_t n_lits;
    node **kids; /* N_NOT: one; N_AND, N_OR: two or more */
    size_t n_kids;
};

struct hops_expr {
    node *root;
    char *text; /* a copy of the source, for messages */
    int bound;
};

/* ---- messages ---- */

/* The 1-based character column of byte offset POS (UTF-8 aware). */
static size_t char_column(const char *s, size_t pos)
{
    size_t col = 1;
    for (size_t i = 0; i < pos && s[i]; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            col++;
    return col;
}

/* Names and values quoted in messages: at most CLIP_CHARS characters of
 * S[0..N), cut on a character boundary, "..." when cut. Returns BUF. */
#define CLIP_CHARS 40
#define CLIP_BUF (CLIP_CHARS * 4 + 4)
static const char *clip(char *buf, const char *s, size_t n)
{
    size_t i = 0, chars = 0;
    while (i < n && s[i]) {
        if (((unsigned char)s[i] & 0xc0) != 0x80 && ++chars > CLIP_CHARS)
            break;
        i++;
    }
    memcpy(buf, s, i);
    if (i < n && s[i]) {
        memcpy(buf + i, "...", 4);
    } else
        buf[i] = '\0';
    return buf;
}

/* Characters of context shown before and after the place of an error: the
 * whole message must fit the last-error buffer (1 KiB). */
#define ECHO_BEFORE 60
#define ECHO_AFTER 30

/* HOPS_EPARSE "column N: WHAT", then the text (a window of it around POS
 * when it is long) and a caret under byte POS. */
static hops_status fail_at(const char *text, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static hops_status fail_at(const char *text, size_t pos, const char *fmt, ...)
{
    char what[600];
    va_list ap;
    size_t col = char_column(text, pos), len = strlen(text), start = pos, end = pos, n, caret;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    for (n = 0; start > 0 && n < ECHO_BEFORE;) /* back ECHO_BEFORE characters */
        if (((unsigned char)text[--start] & 0xc0) != 0x80)
            n++;
    caret = n + (start > 0 ? 3 : 0);
    for (n = 0; end < len && n <= ECHO_AFTER; end++) /* on ECHO_AFTER characters */
        if (((unsigned char)text[end] & 0xc0) != 0x80 && ++n > ECHO_AFTER)
            break;
    char *echo = hops__aprintf("%s%.*s%s", start > 0 ? "..." : "", (int)(end - start), text + start,
                               end < len ? "..." : "");
    if (!echo)
        return hops__error(HOPS_EPARSE, "column %zu: %s", col, what);
    for (char *c = echo; *c; c++) /* tabs and newlines would move the caret */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    hops__error(HOPS_EPARSE, "column %zu: %s\n  %s\n  %*s^", col, what, echo, (int)caret, "");
    free(echo);
    return HOPS_EPARSE;
}

/* Byte offset of the first byte that is not well-formed UTF-8, or (size_t)-1. */
static size_t utf8_bad_at(const unsigned char *s)
{
    size_t i = 0;
    while (s[i]) {
        unsigned c = s[i], cp, n;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4;
            cp = c & 0x07;
        } else
            return i;
        for (unsigned k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return i;
        i += n;
    }
    return (size_t)-1;
}

/* ---- the lexer ---- */

typedef enum {
    T_END,
    T_NAME,  /* a bare word: a column or a keyword */
    T_QNAME, /* `a column in backticks` */
    T_NUMBER,
    T_STRING,
    T_OP,
    T_LPAREN,
    T_RPAREN,
    T_COMMA
} tok_type;

typedef struct {
    tok_type type;
    size_t start, end; /* byte offsets of the token in the text */
    char *value;       /* T_QNAME, T_STRING: unescaped (owned); T_NUMBER: as written */
    size_t value_len;
    cmp_op op;
    double num;
} token;

typedef struct {
    const char *s;
    size_t pos; /* where the lexer goes on */
    token tok;  /* the lookahead */
    int have_tok;
    size_t prev_start, prev_end; /* the token consumed last, for "after 'X'" */
} parser;

static int is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Text quoted with Q from S[*I] (the opening quote), the quote doubled inside.
 * *I ends past the closing quote. */
static hops_status lex_quoted(parser *p, char q, token *t)
{
    const char *s = p->s;
    size_t i = p->pos + 1;
    hops_buf b = HOPS_BUF_INIT;
    for (;;) {
        const char *e = strchr(s + i, q);
        if (!e) {
            hops__buf_free(&b);
            return fail_at(s, p->pos,
                           q == '`' ? "unterminated `name` (the backtick opens here)"
                                    : "unterminated text (the quote opens here)");
        }
        if (hops__buf_put(&b, s + i, (size_t)(e - (s + i))) != 0) {
            hops__buf_free(&b);
            return hops__error(HOPS_ENOMEM, "out of memory");
        }
        i = (size_t)(e - s) + 1;
        if (s[i] == q) { /* a doubled quote stands for itself */
            if (hops__buf_put(&b, &q, 1) != 0) {
                hops__buf_free(&b);
                return hops__error(HOPS_ENOMEM, "out of memory");
            }
            i++;
            continue;
        }
        break;
    }
    t->value_len = b.len;
    t->value = hops__buf_detach(&b);
    if (!t->value)
        return hops__error(HOPS_ENOMEM, "out of memory");
    t->end = i;
    return HOPS_OK;
}

static hops_status lex_number(parser *p, token *t)
{
    const char *s = p->s;
    size_t i = p->pos, digits = 0;
    char *end;
    if (s[i] == '-' || s[i] == '+')
        i++;
    while (is_digit(s[i])) {
        i++;
        digits++;
    }
    if (s[i] == '.') {
        i++;
        while (is_digit(s[i])) {
            i++;
            digits++;
        }
    }
    if (digits && (s[i] == 'e' || s[i] == 'E')) {
        size_t k = i + 1;
        if (s[k] == '-' || s[k] == '+')
            k++;
        if (is_digit(s[k])) {
            while (is_digit(s[k]))
                k++;
            i = k;
        }
    }
    if (!digits || is_name_char((unsigned char)s[i])) {
        size_t k = i;
        while (is_name_char((unsigned char)s[k]) || s[k] == '-' || s[k] == '+')
            k++;
        char cb[CLIP_BUF];
        return fail_at(s, p->pos, "'%s' is not a number", clip(cb, s + p->pos, k - p->pos));
    }
    t->value = hops__strndup(s + p->pos, i - p->pos);
    if (!t->value)
        return hops__error(HOPS_ENOMEM, "out of memory");
    t->value_len = i - p->pos;
    t->num = strtod(t->value, &end);
    if (*end || !isfinite(t->num)) {
        char cb[CLIP_BUF];
        hops_status rc =
            fail_at(s, p->pos, "the number '%s' is out of range", clip(cb, t->value, t->value_len));
        free(t->value);
        t->value = NULL;
        return rc;
    }
    t->end = i;
    return HOPS_OK;
}

/* Lex the token at p->pos into p->tok. */
static hops_status lex(parser *p)
{
    const char *s = p->s;
    token *t = &p->tok;
    char c;
    memset(t, 0, sizeof *t);
    while (is_space(s[p->pos]))
        p->pos++;
    t->start = p->pos;
    c = s[p->pos];
    t->end = p->pos + 1;
    if (c == '\0') {
        t->type = T_END;
        t->end = p->pos;
    } else if (c == '(') {
        t->type = T_LPAREN;
    } else if (c == ')') {
        t->type = T_RPAREN;
    } else if (c == ',') {
        t->type = T_COMMA;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        char d = s[p->pos + 1];
        t->type = T_OP;
        if (c == '!' && d != '=')
            return fail_at(s, p->pos, "unexpected '!' (write != or not)");
        if (d == '=')
            t->end = p->pos + 2;
        t->op = c == '='   ? OP_EQ
                : c == '!' ? OP_NE
                : c == '<' ? (d == '=' ? OP_LE : OP_LT)
                           : (d == '=' ? OP_GE : OP_GT);
    } else if (c == '\'' || c == '"') {
        t->type = T_STRING;
        hops_status rc = lex_quoted(p, c, t);
        if (rc != HOPS_OK)
            return rc;
    } else if (c == '`') {
        t->type = T_QNAME;
        hops_status rc = lex_quoted(p, '`', t);
        if (rc != HOPS_OK)
            return rc;
        if (t->value_len == 0) {
            free(t->value);
            t->value = NULL;
            return fail_at(s, p->pos, "empty column name ``");
        }
    } else if (is_digit(c) || (c == '.' && is_digit(s[p->pos + 1])) ||
               ((c == '-' || c == '+') &&
                (is_digit(s[p->pos + 1]) || (s[p->pos + 1] == '.' && is_digit(s[p->pos + 2]))))) {
        t->type = T_NUMBER;
        hops_status rc = lex_number(p, t);
        if (rc != HOPS_OK)
            return rc;
    } else if (is_name_start((unsigned char)c)) {
        size_t i = p->pos;
        while (is_name_char((unsigned char)s[i]))
            i++;
        t->type = T_NAME;
        t->end = i;
    } else if ((unsigned char)c > 0x20 && (unsigned char)c < 0x7f) {
        return fail_at(s, p->pos, "unexpected character '%c'", c);
    } else {
        return fail_at(s, p->pos, "unexpected byte 0x%02x", (unsigned char)c);
    }
    p->pos = t->end;
    return HOPS_OK;
}

static hops_status peek(parser *p, token **t)
{
    if (!p->have_tok) {
        hops_status rc = lex(p);
        if (rc != HOPS_OK)
            return rc;
        p->have_tok = 1;
    }
    *t = &p->tok;
    return HOPS_OK;
}

/* Consume the lookahead (its value is the caller's now, or freed here). */
static void advance(parser *p, int keep_value)
{
    p->prev_start = p->tok.start;
    p->prev_end = p->tok.end;
    if (!keep_value)
        free(p->tok.value);
    p->tok.value = NULL;
    p->have_tok = 0;
}

static int is_keyword(const parser *p, const token *t, const char *kw)
{
    size_t n = strlen(kw);
    return t->type == T_NAME && t->end - t->start == n && strncasecmp(p->s + t->start, kw, n) == 0;
}

static int is_any_keyword(const parser *p, const token *t)
{
    static const char *const kws[] = {"and", "or", "not", "is", "null", "in"};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(kws); i++)
        if (is_keyword(p, t, kws[i]))
            return 1;
    return 0;
}

/* "after 'X'" for the token consumed last, or "" at the start. */
static void after_prev(const parser *p, char *out, size_t n)
{
    char cb[CLIP_BUF];
    size_t len = p->prev_end - p->prev_start;
    if (len == 0) {
        out[0] = '\0';
        return;
    }
    snprintf(out, n, " after '%s'", clip(cb, p->s + p->prev_start, len));
}

/* ---- the tree ---- */

static void node_free(node *n)
{
    if (!n)
        return;
    free(n->column);
    for (size_t i = 0; i < n->n_lits; i++)
        free(n->lits[i].text);
    free(n->lits);
    for (size_t i = 0; i < n->n_kids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n);
}

static node *node_new(node_kind kind)
{
    node *n = calloc(1, sizeof *n);
    if (n)
        n->kind = kind;
    return n;
}

/* Arrays of N items have room for the next power of two, so long `or` chains
 * and lists cost linear time: they are full when N is 0 or a power of two. */
static int is_full(size_t n)
{
    return (n & (n - 1)) == 0;
}
static size_t next_room(size_t n)
{
    return n ? 2 * n : 1;
}

static hops_status add_kid(node *n, node *kid)
{
    if (is_full(n->n_kids)) {
        node **k = realloc(n->kids, next_room(n->n_kids) * sizeof *k);
        if (!k) {
            node_free(kid);
            return hops__error(HOPS_ENOMEM, "out of memory");
        }
        n->kids = k;
    }
    n->kids[n->n_kids++] = kid;
    return HOPS_OK;
}

/* Take the lookahead, a T_NUMBER or T_STRING, as a literal of N. */
static hops_status add_literal(parser *p, node *n)
{
    literal *l;
    if (is_full(n->n_lits)) {
        if (!(l = realloc(n->lits, next_room(n->n_lits) * sizeof *l)))
            return hops__error(HOPS_ENOMEM, "out of memory");
        n->lits = l;
    }
    l = &n->lits[n->n_lits++];
    l->text = p->tok.value;
    l->len = p->tok.value_len;
    l->is_number = p->tok.type == T_NUMBER;
    l->num = p->tok.num;
    advance(p, 1);
    return HOPS_OK;
}

/* ---- the parser ---- */

static hops_status parse_or(parser *p, int depth, node **out);

/* A value after an operator or in a list: explain what is wrong otherwise. */
static hops_status expect_literal(parser *p, node *n, const char *where)
{
    token *t;
    hops_status rc = peek(p, &t);
    char after[CLIP_BUF + 16], cb[CLIP_BUF];
    if (rc != HOPS_OK)
        return rc;
    if (t->type == T_NUMBER || t->type == T_STRING)
        return add_literal(p, n);
    after_prev(p, after, sizeof after);
    if (is_keyword(p, t, "null"))
        return fail_at(p->s, t->start, "expected a value%s%s; test for null with `%s is null`",
                       where, after, clip(cb, n->column, strlen(n->column)));
    if (t->type == T_NAME && !is_any_keyword(p, t))
        return fail_at(p->s, t->start, "expected a value%s%s (quote text: '%s')", where, after,
                       clip(cb, p->s + t->start, t->end - t->start));
    return fail_at(p->s, t->start, "expected a value%s%s", where, after);
}

/* COLUMN OP LITERAL | COLUMN is [not] null | COLUMN [not] in (LITERAL, ...) */
static hops_status parse_predicate(parser *p, node **out)
{
    token *t;
    node *n = NULL;
    hops_status rc = peek(p, &t);
    char *column;
    size_t column_pos;
    char after[CLIP_BUF + 16];
    if (rc != HOPS_OK)
        return rc;
    if (t->type != T_NAME && t->type != T_QNAME) {
        after_prev(p, after, sizeof after);
        if (t->type == T_END && p->prev_end == 0)
            return fail_at(p->s, t->start, "the expression is empty");
        if (t->type == T_NUMBER || t->type == T_STRING)
            return fail_at(
                p->s, t->start,
                "expected a column name%s, not a value (the column goes on the left: age > 30)",
                after);
        return fail_at(p->s, t->start, "expected a column name, 'not' or '('%s", after);
    }
    if (is_any_keyword(p, t)) {
        int kw = (int)(t->end - t->start); /* a keyword: short */
        after_prev(p, after, sizeof after);
        return fail_at(p->s, t->start,
                       "expected a column name, 'not' or '('%s, not '%.*s' (a column of that name "
                       "goes in backticks: `%.*s`)",
                       after, kw, p->s + t->start, kw, p->s + t->start);
    }
    column = t->type == T_QNAME ? t->value : hops__strndup(p->s + t->start, t->end - t->start);
    column_pos = t->start;
    advance(p, 1);
    if (!column)
        return hops__error(HOPS_ENOMEM, "out of memory");

    if ((rc = peek(p, &t)) != HOPS_OK) {
        free(column);
        return rc;
    }
    int not_in = 0;
    if (is_keyword(p, t, "not")) { /* COLUMN not in (...) */
        advance(p, 0);
        if ((rc = peek(p, &t)) == HOPS_OK && !is_keyword(p, t, "in"))
            rc = fail_at(p->s, t->start, "expected 'in' after 'not'");
        if (rc != HOPS_OK) {
            free(column);
            return rc;
        }
        not_in = 1;
    }
    if (t->type == T_OP) {
        n = node_new(N_CMP);
        if (n)
            n->op = t->op;
    } else if (is_keyword(p, t, "is")) {
        n = node_new(N_ISNULL);
    } else if (is_keyword(p, t, "in")) {
        n = node_new(N_IN);
        if (n)
            n->negate = not_in;
    } else {
        char cb[CLIP_BUF];
        rc = fail_at(p->s, t->start,
                     "expected an operator (= == != < <= > >=), 'is' or 'in' after '%s'",
                     clip(cb, column, strlen(column)));
        free(column);
        return rc;
    }
    if (!n) {
        free(column);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    n->column = column;
    n->column_pos = column_pos;
    advance(p, 0);

    switch (n->kind) {
    case N_CMP:
        rc = expect_literal(p, n, "");
        break;
    case N_ISNULL:
        if ((rc = peek(p, &t)) != HOPS_OK)
            break;
        if (is_keyword(p, t, "not")) {
            n->negate = 1;
            advance(p, 0);
            if ((rc = peek(p, &t)) != HOPS_OK)
                break;
        }
        if (!is_keyword(p, t, "null"))
            rc = fail_at(p->s, t->start,
                         n->negate ? "expected 'null' after 'is not'"
                                   : "expected 'null' or 'not null' after 'is'");
        else
            advance(p, 0);
        break;
    default: /* N_IN */
        if ((rc = peek(p, &t)) != HOPS_OK)
            break;
        if (t->type != T_LPAREN) {
            char cb[CLIP_BUF];
            rc = fail_at(p->s, t->start, "expected '(' after 'in', as in %s in (1, 2)",
                         clip(cb, n->column, strlen(n->column)));
            break;
        }
        advance(p, 0);
        for (;;) {
            if ((rc = expect_literal(p, n, " in the list")) != HOPS_OK)
                break;
            if ((rc = peek(p, &t)) != HOPS_OK)
                break;
            if (t->type == T_RPAREN) {
                advance(p, 0);
                break;
            }
            if (t->type != T_COMMA) {
                rc = fail_at(p->s, t->start, "expected ',' or ')' in the list");
                break;
            }
            advance(p, 0);
        }
        break;
    }
    if (rc != HOPS_OK) {
        node_free(n);
        return rc;
    }
    *out = n;
    return HOPS_OK;
}

/* not X | ( expr ) | predicate */
static hops_status parse_not(parser *p, int depth, node **out)
{
    token *t;
    hops_status rc = peek(p, &t);
    if (rc != HOPS_OK)
        return rc;
    if (depth > HOPS_EXPR_MAX_DEPTH)
        return fail_at(p->s, t->start,
                       "nested too deeply (more than %d levels of parentheses and 'not')",
                       HOPS_EXPR_MAX_DEPTH);
    if (is_keyword(p, t, "not")) {
        node *n = node_new(N_NOT), *kid = NULL;
        if (!n)
            return hops__error(HOPS_ENOMEM, "out of memory");
        advance(p, 0);
        if ((rc = parse_not(p, depth + 1, &kid)) == HOPS_OK)
            rc = add_kid(n, kid);
        if (rc != HOPS_OK) {
            node_free(n);
            return rc;
        }
        *out = n;
        return HOPS_OK;
    }
    if (t->type == T_LPAREN) {
        size_t open = t->start;
        node *n = NULL;
        advance(p, 0);
        if ((rc = parse_or(p, depth + 1, &n)) != HOPS_OK)
            return rc;
        if ((rc = peek(p, &t)) == HOPS_OK && t->type != T_RPAREN)
            rc = fail_at(p->s, t->start, "expected ')' to close the '(' at column %zu",
                         char_column(p->s, open));
        if (rc != HOPS_OK) {
            node_free(n);
            return rc;
        }
        advance(p, 0);
        *out = n;
        return HOPS_OK;
    }
    return parse_predicate(p, out);
}

/* KID (KW KID)*, one node of KIND when there are several. */
static hops_status parse_chain(parser *p, int depth, node_kind kind, node **out)
{
    const char *kw = kind == N_OR ? "or" : "and";
    node *first = NULL, *n = NULL;
    token *t;
    hops_status rc =
        kind == N_OR ? parse_chain(p, depth, N_AND, &first) : parse_not(p, depth, &first);
    if (rc != HOPS_OK)
        return rc;
    for (;;) {
        node *kid = NULL;
        if ((rc = peek(p, &t)) != HOPS_OK || !is_keyword(p, t, kw))
            break;
        advance(p, 0);
        if (!n) {
            if (!(n = node_new(kind))) {
                rc = hops__error(HOPS_ENOMEM, "out of memory");
                break;
            }
            if ((rc = add_kid(n, first)) != HOPS_OK) {
                first = NULL;
                break;
            }
            first = NULL;
        }
        rc = kind == N_OR ? parse_chain(p, depth, N_AND, &kid) : parse_not(p, depth, &kid);
        if (rc == HOPS_OK)
            rc = add_kid(n, kid);
        if (rc != HOPS_OK)
            break;
    }
    if (rc != HOPS_OK) {
        node_free(first);
        node_free(n);
        return rc;
    }
    *out = n ? n : first;
    return HOPS_OK;
}

static hops_status parse_or(parser *p, int depth, node **out)
{
    return parse_chain(p, depth, N_OR, out);
}

hops_status hops__expr_parse(hops_expr **out, const char *text)
{
    parser p;
    hops_expr *e;
    node *root = NULL;
    token *t;
    hops_status rc;
    size_t bad;
    *out = NULL;
    if ((bad = utf8_bad_at((const unsigned char *)text)) != (size_t)-1)
        return fail_at(text, bad, "not valid UTF-8");
    memset(&p, 0, sizeof p);
    p.s = text;
    rc = parse_or(&p, 0, &root);
    if (rc == HOPS_OK && (rc = peek(&p, &t)) == HOPS_OK && t->type != T_END) {
        if (t->type == T_RPAREN)
            rc = fail_at(text, t->start, "a ')' without its '('");
        else
            rc = fail_at(text, t->start, "expected 'and', 'or' or the end of the expression");
    }
    if (p.have_tok)
        free(p.tok.value);
    if (rc != HOPS_OK) {
        node_free(root);
        return rc;
    }
    e = calloc(1, sizeof *e);
    if (!e || !(e->text = hops__strdup(text))) {
        free(e);
        node_free(root);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    e->root = root;
    *out = e;
    return HOPS_OK;
}

void hops__expr_free(hops_expr *e)
{
    if (!e)
        return;
    node_free(e->root);
    free(e->text);
    free(e);
}

/* ---- binding ---- */

static hops_status unknown_column(const hops_expr *e, const node *n, const char *const *columns,
                                  size_t count)
{
    hops_buf list = HOPS_BUF_INIT;
    const char *hint = NULL;
    char cb[CLIP_BUF], hb[CLIP_BUF];
    hops_status rc;
    for (size_t i = 0; i < count; i++)
        if (!hint && strcasecmp(columns[i], n->column) == 0)
            hint = columns[i];
    for (size_t i = 0; i < count; i++) {
        if (list.len > 200) { /* the message must stay short */
            hops__buf_printf(&list, ", ... (%zu more)", count - i);
            break;
        }
        hops__buf_printf(&list, "%s%s", i ? ", " : "", clip(cb, columns[i], strlen(columns[i])));
    }
    if (hint)
        rc = fail_at(e->text, n->column_pos,
                     "unknown column '%s' (did you mean '%s'?); the columns are: %s",
                     clip(cb, n->column, strlen(n->column)), clip(hb, hint, strlen(hint)),
                     list.data ? list.data : "(none)");
    else
        rc = fail_at(e->text, n->column_pos, "unknown column '%s'; the columns are: %s",
                     clip(cb, n->column, strlen(n->column)), list.data ? list.data : "(none)");
    hops__buf_free(&list);
    return rc;
}

static hops_status bind_node(const hops_expr *e, node *n, const char *const *columns, size_t count)
{
    if (n->column) {
        size_t i;
        for (i = 0; i < count; i++)
            if (strcmp(columns[i], n->column) == 0)
                break;
        if (i == count)
            return unknown_column(e, n, columns, count);
        n->index = i;
    }
    for (size_t k = 0; k < n->n_kids; k++) {
        hops_status rc = bind_node(e, n->kids[k], columns, count);
        if (rc != HOPS_OK)
            return rc;
    }
    return HOPS_OK;
}

hops_status hops__expr_bind(hops_expr *e, const char *const *columns, size_t n)
{
    hops_status rc = bind_node(e, e->root, columns, n);
    e->bound = rc == HOPS_OK;
    return rc;
}

/* ---- evaluation ---- */

/* -1, 0, 1 comparing the field F (not null) with L: numerically when L is a
 * number and F reads as one, else as bytes. *FNUM caches F's number:
 * *HAVE 0 unknown, 1 a number, -1 not one. */
static int compare(const hops_field *f, const literal *l, int *have, double *fnum)
{
    if (l->is_number) {
        if (*have == 0)
            *have = hops__field_double(f, fnum) ? 1 : -1;
        if (*have > 0)
            return *fnum < l->num ? -1 : *fnum > l->num ? 1 : 0;
    }
    size_t n = f->len < l->len ? f->len : l->len;
    int c = n ? memcmp(f->ptr, l->text, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return f->len < l->len ? -1 : f->len > l->len ? 1 : 0;
}

static int eval_node(const node *n, const hops_field *fields, size_t count)
{
    const hops_field *f = NULL;
    int have = 0, c;
    double fnum = 0;
    if (n->column && n->index < count && !fields[n->index].is_null)
        f = &fields[n->index];
    switch (n->kind) {
    case N_ISNULL:
        return (f == NULL) != n->negate;
    case N_CMP:
        if (!f)
            return n->op == OP_NE;
        c = compare(f, &n->lits[0], &have, &fnum);
        switch (n->op) {
        case OP_EQ:
            return c == 0;
        case OP_NE:
            return c != 0;
        case OP_LT:
            return c < 0;
        case OP_LE:
            return c <= 0;
        case OP_GT:
            return c > 0;
        default:
            return c >= 0;
        }
    case N_IN:
        if (f)
            for (size_t i = 0; i < n->n_lits; i++)
                if (compare(f, &n->lits[i], &have, &fnum) == 0)
                    return !n->negate;
        return n->negate;
    case N_NOT:
        return !eval_node(n->kids[0], fields, count);
    case N_AND:
        for (size_t i = 0; i < n->n_kids; i++)
            if (!eval_node(n->kids[i], fields, count))
                return 0;
        return 1;
    default: /* N_OR */
        for (size_t i = 0; i < n->n_kids; i++)
            if (eval_node(n->kids[i], fields, count))
                return 1;
        return 0;
    }
}

int hops__expr_eval(const hops_expr *e, const hops_field *fields, size_t n)
{
    return e && e->bound ? eval_node(e->root, fields, n) : 0;
}

/* ---- formatting ---- */

static int bare_name_ok(const char *s)
{
    static const char *const kws[] = {"and", "or", "not", "is", "null", "in"};
    if (!is_name_start((unsigned char)s[0]))
        return 0;
    for (const char *c = s; *c; c++)
        if (!is_name_char((unsigned char)*c))
            return 0;
    for (size_t i = 0; i < HOPS_ARRAY_LEN(kws); i++)
        if (strcasecmp(s, kws[i]) == 0)
            return 0;
    return 1;
}

/* The hops__buf_* calls below return -1 when out of memory: OR them into a
 * result that the caller checks once. */
static int put_quoted(hops_buf *b, const char *s, size_t len, char q)
{
    int bad = hops__buf_put(b, &q, 1);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == q)
            bad |= hops__buf_put(b, &q, 1);
        bad |= hops__buf_put(b, s + i, 1);
    }
    return bad | hops__buf_put(b, &q, 1);
}

static int put_literal(hops_buf *b, const literal *l)
{
    if (l->is_number)
        return hops__buf_put(b, l->text, l->len);
    return put_quoted(b, l->text, l->len, '\'');
}

static int format_node(hops_buf *b, const node *n)
{
    int bad = hops__buf_puts(b, "(");
    if (n->column) {
        if (bare_name_ok(n->column))
            bad |= hops__buf_puts(b, n->column);
        else
            bad |= put_quoted(b, n->column, strlen(n->column), '`');
    }
    switch (n->kind) {
    case N_CMP:
        bad |= hops__buf_printf(b, " %s ", op_names[n->op]);
        bad |= put_literal(b, &n->lits[0]);
        break;
    case N_ISNULL:
        bad |= hops__buf_puts(b, n->negate ? " is not null" : " is null");
        break;
    case N_IN:
        bad |= hops__buf_puts(b, n->negate ? " not in (" : " in (");
        for (size_t i = 0; i < n->n_lits; i++) {
            if (i)
                bad |= hops__buf_puts(b, ", ");
            bad |= put_literal(b, &n->lits[i]);
        }
        bad |= hops__buf_puts(b, ")");
        break;
    case N_NOT:
        bad |= hops__buf_puts(b, "not ");
        bad |= format_node(b, n->kids[0]);
        break;
    default:
        for (size_t i = 0; i < n->n_kids; i++) {
            if (i)
                bad |= hops__buf_puts(b, n->kind == N_AND ? " and " : " or ");
            bad |= format_node(b, n->kids[i]);
        }
        break;
    }
    return bad | hops__buf_puts(b, ")");
}

char *hops__expr_format(const hops_expr *e)
{
    hops_buf b = HOPS_BUF_INIT;
    if (!e)
        return NULL;
    if (format_node(&b, e->root) != 0) {
        hops__buf_free(&b);
        return NULL;
    }
    return hops__buf_detach(&b);
}
