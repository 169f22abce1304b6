/* hops CLI — plain-text tables that fit the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cli_table {
    size_t ncols, nrows, cap;
    char **cells;      /* (nrows + 1) * ncols, row 0 the headers */
    char *marks;       /* per data row; 0: none */
    int any_mark;
};

/* Display width: UTF-8 code points (continuation bytes do not count). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

/* Byte length of the first W code points of S. */
static size_t prefix_bytes(const char *s, size_t w)
{
    size_t i = 0, seen = 0;
    while (s[i]) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (seen == w)
                break;
            seen++;
        }
        i++;
    }
    return i;
}

static char *copy_cell(const char *s)
{
    const char *src = s ? s : "";
    size_t n = strlen(src);
    char *c = malloc(n + 1);
    if (!c)
        abort();
    memcpy(c, src, n + 1);
    for (size_t i = 0; i < n; i++) /* tables are one line per row */
        if (c[i] == '\n' || c[i] == '\t' || c[i] == '\r')
            c[i] = ' ';
    return c;
}

cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
    cli_table *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->ncols = ncols;
    cli_table_add(t, headers);
    t->nrows = 0; /* the header row is row 0 of cells, not a data row */
    return t;
}

void cli_table_add(cli_table *t, const char *const *cells)
{
    size_t rows = t->cells ? t->nrows + 1 : 0;
    if (rows + 1 > t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = realloc(t->cells, t->cap * t->ncols * sizeof *t->cells);
        t->marks = realloc(t->marks, t->cap);
        if (!t->cells || !t->marks)
            abort();
    }
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[rows * t->ncols + c] = copy_cell(cells[c]);
    if (rows > 0) {
        t->marks[rows - 1] = 0;
        t->nrows = rows;
    }
}

void cli_table_set_mark(cli_table *t, size_t row, char mark)
{
    if (row < t->nrows) {
        t->marks[row] = mark;
        t->any_mark = 1;
    }
}

void cli_table_print(cli_table *t, int width)
{
    size_t *w = calloc(t->ncols, sizeof *w);
    size_t total;
    if (!w)
        abort();
    for (size_t r = 0; r <= t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = text_width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    /* Shrink the widest column one step at a time until the row fits. */
    for (;;) {
        size_t widest = 0;
        total = (t->any_mark ? 2 : 0) + (t->ncols - 1) * 2;
        for (size_t c = 0; c < t->ncols; c++) {
            total += w[c];
            if (w[c] > w[widest])
                widest = c;
        }
        if (width <= 0 || total <= (size_t)width || w[widest] <= 6)
            break;
        w[widest]--;
    }
    for (size_t r = 0; r <= t->nrows; r++) {
        if (t->any_mark)
            printf("%c ", r > 0 && t->marks[r - 1] ? t->marks[r - 1] : ' ');
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t sw = text_width(s);
            int last = c + 1 == t->ncols;
            if (sw > w[c]) {
                fwrite(s, 1, prefix_bytes(s, w[c] - 1), stdout);
                fputs("\xe2\x80\xa6", stdout); /* … */
                sw = w[c];
            } else
                fputs(s, stdout);
            if (!last)
                printf("%*s", (int)(w[c] - sw + 2), "");
        }
        putchar('\n');
    }
    free(w);
}

void cli_table_free(cli_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->marks);
    free(t);
}
