/* The data report: a statistics document (stats.h) rendered as one
 * self-contained HTML page — inline CSS and inline SVG, no scripts, no URLs.
 *
 * Everything that comes from the data goes through put_text(), which escapes
 * it for HTML (text and attribute values alike), replaces invalid UTF-8 and
 * control characters with U+FFFD and cuts long strings at a code point. Every
 * number that reaches the page goes through fmt_num()/fmt_count() or is a
 * coordinate computed here from finite inputs, so no NaN or Inf can appear. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "hops/report.h"
#include "hops/stats.h"

/* Longest label drawn inside a plot, and longest text anywhere (code points). */
#define LABEL_CHARS 24
#define TEXT_CHARS 200
/* Beyond this many columns the heatmap shows the first ones only. */
#define HEATMAP_MAX 40

typedef struct {
    hops_buf b;
    int oom;
} page;

#define PUTF(p, ...) ((void)(hops__buf_printf(&(p)->b, __VA_ARGS__) != 0 ? ((p)->oom = 1) : 0))

static void put(page *p, const char *s)
{
    if (hops__buf_puts(&p->b, s) != 0)
        p->oom = 1;
}

static void put_n(page *p, const char *s, size_t n)
{
    if (hops__buf_put(&p->b, s, n) != 0)
        p->oom = 1;
}

/* ---- text ---- */

/* Length of the valid UTF-8 sequence at S (at most N bytes), 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

/* Append S[0..LEN) escaped for HTML text and attribute values, at most MAX
 * code points (then "…"). */
static void put_text_n(page *p, const char *s, size_t len, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, chars = 0;
    while (i < len) {
        size_t n = utf8_seq(u + i, len - i);
        if (chars == max) {
            put(p, "\xE2\x80\xA6"); /* … */
            return;
        }
        chars++;
        if (n == 0 || (n == 1 && ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r') ||
                                  u[i] == 0x7F))) {
            put(p, "\xEF\xBF\xBD"); /* U+FFFD for bad bytes and control characters */
            i += n ? n : 1;
            continue;
        }
        switch (u[i]) {
        case '&':
            put(p, "&amp;");
            break;
        case '<':
            put(p, "&lt;");
            break;
        case '>':
            put(p, "&gt;");
            break;
        case '"':
            put(p, "&quot;");
            break;
        case '\'':
            put(p, "&#39;");
            break;
        case '\t':
        case '\n':
        case '\r':
            put(p, " ");
            break;
        default:
            put_n(p, s + i, n);
        }
        i += n;
    }
}

static void put_text(page *p, const char *s, size_t max)
{
    put_text_n(p, s, strlen(s), max);
}

/* ---- numbers ---- */

/* Integers with thousands separators: 1,234,567. "–" when not finite. */
static void fmt_count(double v, char *out, size_t n)
{
    char digits[64];
    size_t len, o = 0;
    if (!isfinite(v) || fabs(v) >= 1e18) {
        snprintf(out, n, isfinite(v) ? "%.3g" : "\xE2\x80\x93", v);
        return;
    }
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    len = strlen(digits);
    if (v <= -0.5 && o + 1 < n)
        out[o++] = '-';
    for (size_t i = 0; i < len && o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* A value for people: 4 significant digits in fixed notation for everyday
 * magnitudes (41492, 40.3, 0.0234), scientific beyond them; "–" when not
 * finite. */
static void fmt_num(double v, char *out, size_t n)
{
    double a = fabs(v);
    if (!isfinite(v)) {
        snprintf(out, n, "\xE2\x80\x93");
        return;
    }
    if (a != 0 && (a >= 1e9 || a < 1e-4)) {
        snprintf(out, n, "%.3g", v);
        return;
    }
    int digits = a == 0 ? 1 : (int)floor(log10(a)) + 1;
    int decimals = digits >= 4 ? 0 : 4 - digits;
    snprintf(out, n, "%.*f", decimals, v);
    if (decimals > 0 && strchr(out, '.')) {
        size_t len = strlen(out);
        while (len && out[len - 1] == '0')
            out[--len] = '\0';
        if (len && out[len - 1] == '.')
            out[--len] = '\0';
    }
    if (strcmp(out, "-0") == 0)
        snprintf(out, n, "0");
}

static void put_num(page *p, double v)
{
    char s[64];
    fmt_num(v, s, sizeof s);
    put(p, s);
}

/* An error stated as a fraction, as a percentage of two significant digits. */
static void put_err_pct(page *p, double fraction)
{
    PUTF(p, "%.2g%%", isfinite(fraction) ? 100 * fraction : 0.0);
}

/* "≈" before a distinct count unless the document says it is exact. */
static int distinct_is_estimate(const json_t *col)
{
    const json_t *e = json_object_get(col, "distinct_error");
    return !json_is_number(e) || json_number_value(e) > 0;
}

static void put_count(page *p, double v)
{
    char s[64];
    fmt_count(v, s, sizeof s);
    put(p, s);
}

/* A JSON string (which may hold NUL) escaped, a number formatted; nothing
 * for other values. */
static void put_jtext(page *p, const json_t *j, size_t max)
{
    if (json_is_string(j))
        put_text_n(p, json_string_value(j), json_string_length(j), max);
    else if (json_is_number(j))
        put_num(p, json_number_value(j));
}

/* A share as a percentage with one decimal ("12.3%"); "0%" and "100%" only
 * when exact. */
static void fmt_pct(double part, double whole, char *out, size_t n)
{
    double r = whole > 0 && isfinite(part / whole) ? 100.0 * (part / whole) : 0.0;
    if (r <= 0)
        snprintf(out, n, "0%%");
    else if (r >= 100)
        snprintf(out, n, "100%%");
    else
        snprintf(out, n, "%.1f%%", r < 0.1 ? 0.1 : (r > 99.9 ? 99.9 : r));
}

static void put_pct(page *p, double part, double whole)
{
    char s[16];
    fmt_pct(part, whole, s, sizeof s);
    put(p, s);
}

/* V as a finite number, or DEF. */
static double jval(const json_t *v, double def)
{
    double d = json_is_number(v) ? json_number_value(v) : def;
    return isfinite(d) ? d : def;
}

/* A finite number from KEY of O, or DEF. */
static double jnum(const json_t *o, const char *key, double def)
{
    return jval(json_object_get(o, key), def);
}

static int is_numeric_column(const json_t *col)
{
    return json_is_object(json_object_get(col, "numeric"));
}

/* ---- page frame ---- */

static const char css[] =
    ":root{--fg:#1f2328;--mu:#656d76;--ln:#d8dee4}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\","
    "Arial,\"Noto Sans\",sans-serif;color:var(--fg);background:#f4f6f8}"
    "header{background:#fff;border-bottom:1px solid var(--ln);padding:18px 32px 10px}"
    "h1{margin:0 0 2px;font-size:22px;overflow-wrap:anywhere}"
    ".sub{color:var(--mu);margin:0 0 8px}"
    "nav a{margin-right:16px;color:#0969da;text-decoration:none;font-size:13px}"
    "main{padding:4px 32px 24px;max-width:1320px}"
    "h2{font-size:17px;margin:26px 0 10px}"
    "h3{font-size:14px;margin:0 0 6px;overflow-wrap:anywhere}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:14px}"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:14px;"
    "margin-bottom:14px}"
    ".card{background:#fff;border:1px solid var(--ln);border-radius:10px;padding:14px 16px;"
    "min-width:0}"
    ".kpi b{display:block;font-size:24px;font-weight:600}"
    ".kpi span,th{color:var(--mu);font-size:12px}"
    ".t{font-size:11px;color:var(--mu);border:1px solid var(--ln);border-radius:9px;"
    "padding:0 7px;margin-left:6px;font-weight:400;white-space:nowrap}"
    ".note{color:var(--mu);font-size:12px;margin:6px 0 0}"
    ".scroll{overflow-x:auto}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{padding:5px 8px;border-bottom:1px solid #eaeef2;text-align:right;white-space:nowrap}"
    "th:first-child,td:first-child{text-align:left;white-space:normal;overflow-wrap:anywhere}"
    "td:nth-child(2),th:nth-child(2){text-align:left;color:var(--mu)}"
    "th{font-weight:600}"
    "svg{display:block;width:100%;height:auto;font-size:11px}"
    "svg.fix{width:auto;max-width:100%}"
    "svg text{fill:#3d444d}"
    "footer{color:var(--mu);font-size:12px;padding:0 32px 24px}";

static void page_begin(page *p, const char *title, const json_t *doc, size_t ncols)
{
    const json_t *file = json_object_get(doc, "file");
    const json_t *format = json_object_get(doc, "format");
    put(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'\">\n"
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>");
    put_text(p, title, TEXT_CHARS);
    put(p, " \xE2\x80\x94 hops data report</title>\n<style>");
    put(p, css);
    put(p, "</style></head>\n<body>\n<header><h1>");
    put_text(p, title, TEXT_CHARS);
    put(p, "</h1><p class=\"sub\">");
    if (json_is_string(file)) {
        put_jtext(p, file, TEXT_CHARS);
        put(p, " \xC2\xB7 ");
    }
    if (json_is_string(format)) {
        put_jtext(p, format, 16);
        put(p, " \xC2\xB7 ");
    }
    put_count(p, jnum(doc, "rows", 0));
    put(p, " rows \xC2\xB7 ");
    put_count(p, (double)ncols);
    put(p, ncols == 1 ? " column</p>\n<nav>" : " columns</p>\n<nav>");
}

static void page_nav(page *p, const char *id, const char *text)
{
    PUTF(p, "<a href=\"#%s\">%s</a>", id, text);
}

/* ---- overview ---- */

static void section_overview(page *p, const json_t *doc, const json_t *cols)
{
    size_t i, ncols = json_array_size(cols), nnum = 0;
    double rows = jnum(doc, "rows", 0), nulls = 0;
    const json_t *col, *label = json_object_get(doc, "label");
    json_array_foreach(cols, i, col) {
        nulls += jnum(col, "nulls", 0);
        nnum += is_numeric_column(col);
    }
    put(p, "<section id=\"overview\"><h2>Overview</h2>\n<div class=\"kpis\">");
    put(p, "<div class=\"card kpi\"><span>Rows</span><b>");
    put_count(p, rows);
    put(p, "</b></div><div class=\"card kpi\"><span>Columns</span><b>");
    put_count(p, (double)ncols);
    put(p, "</b></div><div class=\"card kpi\"><span>Numeric columns</span><b>");
    put_count(p, (double)nnum);
    put(p, "</b></div><div class=\"card kpi\"><span>Null cells</span><b>");
    put_count(p, nulls);
    put(p, "</b><span>");
    put_pct(p, nulls, rows * (double)ncols);
    put(p, " of all cells</span></div>");
    if (json_is_object(label)) {
        put(p, "<div class=\"card kpi\"><span>Class imbalance</span><b>");
        put_num(p, jnum(label, "imbalance_ratio", NAN));
        put(p, "</b><span>largest / smallest class</span></div>");
    }
    put(p, "</div>\n");
    if (ncols == 0) {
        put(p, "<p class=\"note\">The file has no columns.</p></section>\n");
        return;
    }
    put(p, "<div class=\"card scroll\"><table><tr><th>column</th><th>type</th><th>non-null</th>"
           "<th>nulls</th><th>distinct</th><th>min</th><th>mean</th><th>std</th><th>max</th>"
           "</tr>\n");
    json_array_foreach(cols, i, col) {
        const json_t *num = json_object_get(col, "numeric");
        double nn = jnum(col, "nulls", 0);
        put(p, "<tr><td>");
        put_jtext(p, json_object_get(col, "name"), TEXT_CHARS);
        put(p, "</td><td>");
        put_jtext(p, json_object_get(col, "type"), 16);
        put(p, "</td><td>");
        put_count(p, jnum(col, "count", NAN));
        put(p, "</td><td>");
        put_count(p, nn);
        if (nn > 0) {
            put(p, " (");
            put_pct(p, nn, rows);
            put(p, ")");
        }
        put(p, "</td><td>");
        if (json_is_number(json_object_get(col, "distinct")) && distinct_is_estimate(col))
            put(p, "\xE2\x89\x88"); /* ≈: a HyperLogLog estimate */
        put_count(p, jnum(col, "distinct", NAN));
        put(p, "</td><td>");
        put_num(p, jnum(num, "min", NAN));
        put(p, "</td><td>");
        put_num(p, jnum(num, "mean", NAN));
        put(p, "</td><td>");
        put_num(p, jnum(num, "std", NAN));
        put(p, "</td><td>");
        put_num(p, jnum(num, "max", NAN));
        put(p, "</td></tr>\n");
    }
    put(p, "</table></div></section>\n");
}

/* ---- horizontal bar lists: nulls, top values, class balance ---- */

typedef struct {
    const json_t *label; /* a JSON string */
    double value;        /* the bar's length, against MAX */
    double of;           /* the whole the percentage is of */
} bar;

/* The width of a JSON string (numbers as they are drawn) in characters,
 * counting those of three or four UTF-8 bytes (CJK, emoji) as two. */
static size_t text_chars(const json_t *j)
{
    char num[64];
    const unsigned char *t;
    size_t len, n = 0;
    if (json_is_number(j)) {
        fmt_num(json_number_value(j), num, sizeof num);
        return strlen(num);
    }
    if (!json_is_string(j))
        return 0;
    t = (const unsigned char *)json_string_value(j);
    len = json_string_length(j);
    for (size_t i = 0; i < len; i++)
        n += (t[i] & 0xC0) != 0x80 ? (t[i] >= 0xE0 ? 2 : 1) : 0;
    return n;
}

/* How many code points of J fit in WIDTH characters (as text_chars counts
 * them), leaving one for the "…" when they do not all fit. */
static size_t chars_fitting(const json_t *j, size_t width)
{
    const unsigned char *t;
    size_t len, w = 0, n = 0;
    if (!json_is_string(j) || text_chars(j) <= width)
        return (size_t)-1;
    t = (const unsigned char *)json_string_value(j);
    len = json_string_length(j);
    for (size_t i = 0; i < len; i++) {
        if ((t[i] & 0xC0) == 0x80)
            continue;
        w += t[i] >= 0xE0 ? 2 : 1;
        if (w + 1 > width)
            break;
        n++;
    }
    return n;
}

/* The width of N characters of the plots' 11px text, generously. */
static double text_width(size_t n)
{
    return 7.0 * (double)n + 4;
}

/* Horizontal bars in a W-wide viewBox: labels (as wide as the longest one,
 * at most MAX_LW), a track with the bar, then "COUNT · PCT" (or "PCT · COUNT"
 * with PCT_FIRST). A label cut short has its whole text in the title. */
static void bar_list(page *p, const bar *bars, size_t n, double max, double w, double max_lw,
                     const char *colour, int pct_first)
{
    const double row = 22, h = (double)n * row + 4;
    char(*right)[72] = calloc(n ? n : 1, sizeof *right);
    size_t longest = 0, right_chars = 0, cap = (size_t)((max_lw - 8) / 7.0);
    double lw, x0, x1;
    if (!right) {
        p->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char c[32], pc[16];
        double v = bars[i].value;
        size_t len = text_chars(bars[i].label), rc;
        longest = len > longest ? len : longest;
        fmt_count(v, c, sizeof c);
        fmt_pct(v, bars[i].of, pc, sizeof pc);
        snprintf(right[i], sizeof right[i], "%s \xC2\xB7 %s", pct_first ? pc : c,
                 pct_first ? c : pc);
        rc = strlen(right[i]) - 1; /* the middle dot is two bytes */
        right_chars = rc > right_chars ? rc : right_chars;
    }
    if (longest > cap)
        longest = cap;
    lw = fmax(16, text_width(longest));
    x0 = lw + 8;
    x1 = w - text_width(right_chars) - 10;
    if (x1 < x0 + 40)
        x1 = x0 + 40;
    PUTF(p, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\">", w, h);
    for (size_t i = 0; i < n; i++) {
        double y = 2 + (double)i * row, v = bars[i].value;
        double len = max > 0 && v > 0 ? (x1 - x0) * fmin(v / max, 1.0) : 0;
        if (v > 0 && len < 1.5)
            len = 1.5; /* a few is still visible */
        put(p, "<g><title>");
        put_jtext(p, bars[i].label, TEXT_CHARS);
        put(p, ": ");
        put(p, right[i]);
        PUTF(p, "</title><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", lw, y + 15);
        put_jtext(p, bars[i].label, chars_fitting(bars[i].label, longest));
        PUTF(p,
             "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" rx=\"3\" "
             "fill=\"#eef1f4\"/>",
             x0, y + 4, x1 - x0);
        if (len > 0)
            PUTF(p,
                 "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" rx=\"3\" "
                 "fill=\"%s\"/>",
                 x0, y + 4, len, colour);
        PUTF(p, "<text x=\"%.1f\" y=\"%.1f\">%s</text></g>", x1 + 6, y + 15, right[i]);
    }
    put(p, "</svg>");
    free(right);
}

static void section_nulls(page *p, const json_t *doc, const json_t *cols)
{
    size_t i, n = json_array_size(cols);
    double rows = jnum(doc, "rows", 0);
    const json_t *col;
    bar *bars;
    if (n == 0)
        return;
    bars = calloc(n, sizeof *bars);
    if (!bars) {
        p->oom = 1;
        return;
    }
    json_array_foreach(cols, i, col) {
        bars[i].label = json_object_get(col, "name");
        bars[i].value = fmax(0, jnum(col, "nulls", 0));
        bars[i].of = rows;
    }
    put(p, "<section id=\"nulls\"><h2>Nulls</h2>\n<div class=\"card\"><h3>Share of null values "
           "per column</h3>");
    bar_list(p, bars, n, rows, 1000, 260, "#f08c00", 1);
    put(p, "</div></section>\n");
    free(bars);
}

/* ---- histograms ---- */

static void histogram(page *p, const json_t *col)
{
    const json_t *num = json_object_get(col, "numeric");
    const json_t *hist = json_object_get(num, "histogram");
    const json_t *edges = json_object_get(hist, "edges"), *counts = json_object_get(hist, "counts");
    const json_t *q = json_object_get(num, "quantiles");
    const double W = 360, H = 176, x0 = 56, x1 = 352, y0 = 8, y1 = 154;
    size_t nb = json_is_array(counts) ? json_array_size(counts) : 0;
    double lo = jnum(num, "min", NAN), hi = jnum(num, "max", NAN), maxc = 0, total = 0;
    size_t ne = json_is_array(edges) ? json_array_size(edges) : 0;
    for (size_t i = 0; i < nb; i++) {
        double c = jval(json_array_get(counts, i), 0);
        c = isfinite(c) && c > 0 ? c : 0;
        maxc = fmax(maxc, c);
        total += c;
    }
    if (ne >= 2) {
        double e0 = json_number_value(json_array_get(edges, 0));
        double en = json_number_value(json_array_get(edges, ne - 1));
        if (isfinite(e0) && isfinite(en))
            lo = e0, hi = en;
    }
    put(p, "<div class=\"card\"><h3>");
    put_jtext(p, json_object_get(col, "name"), TEXT_CHARS);
    put(p, " <span class=\"t\">");
    put_jtext(p, json_object_get(col, "type"), 16);
    put(p, "</span></h3>");
    PUTF(p, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\">", W, H);
    /* axes: 0, half and the largest count, with faint grid lines */
    PUTF(p, "<path d=\"M%.0f %.0fH%.0fM%.0f %.0fH%.0f\" stroke=\"#eaeef2\"/>", x0, y0, x1, x0,
         (y0 + y1) / 2, x1);
    PUTF(p, "<path d=\"M%.0f %.0fV%.0fH%.0f\" fill=\"none\" stroke=\"#8c959f\"/>", x0, y0, y1, x1);
    if (maxc > 0) {
        PUTF(p, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", x0 - 5, y0 + 4);
        put_count(p, maxc);
        PUTF(p, "</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", x0 - 5,
             (y0 + y1) / 2 + 4);
        put_num(p, maxc / 2);
        put(p, "</text>");
    }
    PUTF(p, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>", x0 - 5, y1 + 4);
    PUTF(p,
         "<text transform=\"translate(9 %.0f) rotate(-90)\" text-anchor=\"middle\">count"
         "</text>",
         (y0 + y1) / 2);
    if (total <= 0) {
        PUTF(p, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no values</text>",
             (x0 + x1) / 2, (y0 + y1) / 2);
    } else {
        double bw = (x1 - x0) / (double)nb;
        for (size_t i = 0; i < nb; i++) {
            double c = jval(json_array_get(counts, i), 0), bh;
            c = isfinite(c) && c > 0 ? c : 0;
            bh = (y1 - y0) * (c / maxc);
            if (c > 0 && bh < 1)
                bh = 1;
            put(p, "<rect");
            PUTF(p,
                 " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4c6ef5\"><title>",
                 x0 + (double)i * bw + (bw > 4 ? 1 : 0), y1 - bh, bw > 4 ? bw - 2 : bw, bh);
            if (ne == nb + 1) {
                put(p, "[");
                put_num(p, jval(json_array_get(edges, i), NAN));
                put(p, ", ");
                put_num(p, jval(json_array_get(edges, i + 1), NAN));
                put(p, i + 1 == nb ? "]: " : "): ");
            }
            put_count(p, c);
            put(p, "</title></rect>");
        }
    }
    /* the x axis: min and max (one label when they are equal) */
    if (isfinite(lo) && isfinite(hi) && lo == hi) {
        PUTF(p, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">", (x0 + x1) / 2, y1 + 16);
        put_num(p, lo);
        put(p, "</text>");
    } else if (isfinite(lo) && isfinite(hi)) {
        PUTF(p, "<text x=\"%.0f\" y=\"%.0f\">", x0, y1 + 16);
        put_num(p, lo);
        PUTF(p, "</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", x1, y1 + 16);
        put_num(p, hi);
        put(p, "</text>");
    }
    put(p, "</svg><p class=\"note\">mean ");
    put_num(p, jnum(num, "mean", NAN));
    put(p, " \xC2\xB7 std ");
    put_num(p, jnum(num, "std", NAN));
    put(p, " \xC2\xB7 median ");
    put_num(p, jnum(q, "p50", NAN));
    put(p, " \xC2\xB7 nulls ");
    put_count(p, jnum(col, "nulls", 0));
    put(p, "<br>p1 ");
    put_num(p, jnum(q, "p1", NAN));
    put(p, " \xC2\xB7 p25 ");
    put_num(p, jnum(q, "p25", NAN));
    put(p, " \xC2\xB7 p75 ");
    put_num(p, jnum(q, "p75", NAN));
    put(p, " \xC2\xB7 p99 ");
    put_num(p, jnum(q, "p99", NAN));
    if (jnum(num, "quantile_rank_error", 0) > 0) {
        put(p, " (\xC2\xB1");
        put_err_pct(p, jnum(num, "quantile_rank_error", 0));
        put(p, " rank)");
    }
    put(p, "</p></div>\n");
}

static void section_histograms(page *p, const json_t *cols)
{
    size_t i;
    const json_t *col;
    put(p, "<section id=\"histograms\"><h2>Histograms</h2>\n<div class=\"grid\">\n");
    json_array_foreach(cols, i, col) {
        if (is_numeric_column(col))
            histogram(p, col);
    }
    put(p, "</div></section>\n");
}

/* ---- top values ---- */

static void top_values(page *p, const json_t *col, double rows)
{
    const json_t *top = json_object_get(col, "top"), *t;
    size_t i, n = json_is_array(top) ? json_array_size(top) : 0;
    double count = jnum(col, "count", 0), max = 0;
    bar *bars = n ? calloc(n, sizeof *bars) : NULL;
    if (n && !bars) {
        p->oom = 1;
        return;
    }
    json_array_foreach(top, i, t) {
        bars[i].label = json_object_get(t, "value");
        bars[i].value = fmax(0, jnum(t, "count", 0));
        bars[i].of = count;
        max = fmax(max, bars[i].value);
    }
    put(p, "<div class=\"card\"><h3>");
    put_jtext(p, json_object_get(col, "name"), TEXT_CHARS);
    put(p, " <span class=\"t\">");
    put_jtext(p, json_object_get(col, "type"), 16);
    put(p, "</span></h3>");
    if (n == 0 || max <= 0) {
        put(p, count > 0  ? "<p class=\"note\">No top values were recorded.</p></div>\n"
               : rows > 0 ? "<p class=\"note\">No values: every row is null.</p></div>\n"
                          : "<p class=\"note\">No values: the file has no rows.</p></div>\n");
        free(bars);
        return;
    }
    bar_list(p, bars, n, max, 360, 130, "#0ca678", 0);
    put(p, "<p class=\"note\">");
    if (json_is_number(json_object_get(col, "distinct"))) {
        int estimate = distinct_is_estimate(col);
        if (estimate)
            put(p, "\xE2\x89\x88");
        put_count(p, jnum(col, "distinct", 0));
        put(p, " distinct");
        if (estimate && json_is_number(json_object_get(col, "distinct_error"))) {
            put(p, " (\xC2\xB1");
            put_err_pct(p, jnum(col, "distinct_error", 0));
            put(p, ")");
        }
        put(p, " \xC2\xB7 ");
    }
    put(p, "% of ");
    put_count(p, count);
    put(p, count == 1 ? " non-null value" : " non-null values");
    if (json_is_false(json_object_get(col, "top_exact"))) {
        put(p, " \xC2\xB7 counts approximate");
        if (json_is_number(json_object_get(col, "top_count_error"))) {
            put(p, " (\xC2\xB1");
            put_count(p, jnum(col, "top_count_error", 0));
            put(p, ")");
        }
    }
    put(p, "</p></div>\n");
    free(bars);
}

static void section_top(page *p, const json_t *doc, const json_t *cols)
{
    size_t i;
    const json_t *col;
    put(p, "<section id=\"top-values\"><h2>Top values</h2>\n<div class=\"grid\">\n");
    json_array_foreach(cols, i, col) {
        if (!is_numeric_column(col))
            top_values(p, col, jnum(doc, "rows", 0));
    }
    put(p, "</div></section>\n");
}

/* ---- class balance ---- */

static void section_label(page *p, const json_t *label)
{
    const json_t *classes = json_object_get(label, "classes"), *c;
    size_t i, n = json_is_array(classes) ? json_array_size(classes) : 0;
    double total = 0, max = 0;
    bar *bars = n ? calloc(n, sizeof *bars) : NULL;
    if (n && !bars) {
        p->oom = 1;
        return;
    }
    json_array_foreach(classes, i, c) {
        bars[i].label = json_object_get(c, "value");
        bars[i].value = fmax(0, jnum(c, "count", 0));
        total += bars[i].value;
        max = fmax(max, bars[i].value);
    }
    for (i = 0; i < n; i++)
        bars[i].of = total;
    put(p, "<section id=\"class-balance\"><h2>Class balance</h2>\n<div class=\"card\"><h3>");
    put_jtext(p, json_object_get(label, "column"), TEXT_CHARS);
    put(p, " <span class=\"t\">imbalance ratio ");
    put_num(p, jnum(label, "imbalance_ratio", NAN));
    put(p, "</span></h3>");
    if (n)
        bar_list(p, bars, n, max, 1000, 260, "#7950f2", 0);
    else
        put(p, "<p class=\"note\">No classes: the label column is null in every row.</p>");
    put(p, "<p class=\"note\">");
    put_count(p, (double)n);
    put(p, n == 1 ? " class" : " classes");
    put(p, " \xC2\xB7 imbalance ratio = largest class / smallest class</p></div></section>\n");
    free(bars);
}

/* ---- correlation heatmap ---- */

/* The diverging scale of the heatmap and its legend: blue (-1), near white
 * (0), red (+1), as in ColorBrewer's RdBu. */
static const struct {
    double at;
    int r, g, b;
} scale[] = {{-1, 0x21, 0x66, 0xac},
             {-0.5, 0x92, 0xc5, 0xde},
             {0, 0xf7, 0xf7, 0xf7},
             {0.5, 0xf4, 0xa5, 0x82},
             {1, 0xb2, 0x18, 0x2b}};

static void put_colour(page *p, double v)
{
    size_t i = 0;
    double t;
    v = fmax(-1, fmin(1, v));
    while (i + 2 < HOPS_ARRAY_LEN(scale) && v > scale[i + 1].at)
        i++;
    t = (v - scale[i].at) / (scale[i + 1].at - scale[i].at);
    PUTF(p, "#%02x%02x%02x", (int)lround(scale[i].r + t * (scale[i + 1].r - scale[i].r)),
         (int)lround(scale[i].g + t * (scale[i + 1].g - scale[i].g)),
         (int)lround(scale[i].b + t * (scale[i + 1].b - scale[i].b)));
}

static hops_status check_correlation(const json_t *corr, size_t *n_out)
{
    const json_t *names = json_object_get(corr, "columns"), *m = json_object_get(corr, "matrix");
    size_t i, n;
    const json_t *row;
    if (!json_is_array(names) || !json_is_array(m))
        return hops__error(HOPS_EPARSE, "stats document: \"correlation\" needs \"columns\" and "
                                        "\"matrix\" arrays");
    n = json_array_size(names);
    if (json_array_size(m) != n)
        return hops__error(HOPS_EPARSE,
                           "stats document: the correlation matrix has %zu rows for %zu columns",
                           json_array_size(m), n);
    for (i = 0; i < n; i++)
        if (!json_is_string(json_array_get(names, i)))
            return hops__error(HOPS_EPARSE,
                               "stats document: correlation column %zu is not a string",
                               i + 1);
    json_array_foreach(m, i, row) {
        size_t j;
        const json_t *v;
        if (!json_is_array(row) || json_array_size(row) != n)
            return hops__error(HOPS_EPARSE,
                               "stats document: correlation row %zu does not have %zu values",
                               i + 1, n);
        json_array_foreach(row, j, v) {
            if (!json_is_number(v) && !json_is_null(v))
                return hops__error(HOPS_EPARSE,
                                   "stats document: correlation [%zu][%zu] is not a number or null",
                                   i + 1, j + 1);
        }
    }
    *n_out = n;
    return HOPS_OK;
}

static void section_correlation(page *p, const json_t *corr, size_t total)
{
    const json_t *names = json_object_get(corr, "columns"), *m = json_object_get(corr, "matrix");
    size_t n = total > HEATMAP_MAX ? HEATMAP_MAX : total, i, j, longest = 0, undefined = 0;
    double cs, lw, th, W, H;
    for (i = 0; i < n; i++) {
        size_t len = text_chars(json_array_get(names, i));
        longest = len > longest ? len : longest;
    }
    if (longest > LABEL_CHARS)
        longest = LABEL_CHARS + 1;
    cs = floor(fmax(16, fmin(56, 600.0 / (double)n)));
    lw = ceil(12 + text_width(longest));        /* the row labels on the left */
    th = ceil(12 + 0.71 * text_width(longest)); /* the column labels on top, at -45° */
    W = lw + (double)n * cs + th + 8;
    H = th + (double)n * cs + 52;
    put(p, "<section id=\"correlation\"><h2>Correlation</h2>\n<div class=\"card scroll\"><h3>"
           "Pearson correlation of the numeric columns</h3>");
    PUTF(p,
         "<svg class=\"fix\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
         "role=\"img\">",
         W, H, W, H);
    put(p, "<defs><linearGradient id=\"rdbu\">");
    for (i = 0; i < HOPS_ARRAY_LEN(scale); i++) {
        PUTF(p, "<stop offset=\"%.0f%%\" stop-color=\"", (scale[i].at + 1) * 50);
        put_colour(p, scale[i].at);
        put(p, "\"/>");
    }
    put(p, "</linearGradient></defs>");
    for (i = 0; i < n; i++) {
        const json_t *name = json_array_get(names, i);
        double cx = lw + ((double)i + 0.5) * cs, cy = th + ((double)i + 0.5) * cs;
        PUTF(p, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\"><title>", lw - 6, cy + 4);
        put_jtext(p, name, TEXT_CHARS);
        put(p, "</title>");
        put_jtext(p, name, chars_fitting(name, longest));
        PUTF(p, "</text><text transform=\"translate(%.1f %.1f) rotate(-45)\"><title>", cx + 3,
             th - 6);
        put_jtext(p, name, TEXT_CHARS);
        put(p, "</title>");
        put_jtext(p, name, chars_fitting(name, longest));
        put(p, "</text>");
    }
    PUTF(p, "<g transform=\"translate(%.0f %.0f)\">", lw, th);
    for (i = 0; i < n; i++) {
        const json_t *row = json_array_get(m, i);
        for (j = 0; j < n; j++) {
            const json_t *v = json_array_get(row, j);
            double r = json_is_number(v) ? json_number_value(v) : NAN;
            double x = (double)j * cs, y = (double)i * cs;
            int ok = isfinite(r), text = cs >= 30;
            r = ok ? fmax(-1, fmin(1, r)) : 0;
            undefined += !ok;
            /* Compact: 1,600 cells at most, each with its title for hovering. */
            PUTF(p, "%s<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"",
                 text ? "<g>" : "", x, y, cs - 1, cs - 1);
            if (ok)
                put_colour(p, r);
            else
                put(p, "#d0d4d9");
            put(p, "\"><title>");
            put_jtext(p, json_array_get(names, i), LABEL_CHARS);
            put(p, " \xC3\x97 ");
            put_jtext(p, json_array_get(names, j), LABEL_CHARS);
            if (ok)
                PUTF(p, ": %.3f</title></rect>", r);
            else
                put(p, ": undefined</title></rect>");
            if (text) {
                PUTF(p, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\"%s>", x + cs / 2,
                     y + cs / 2 + 4, ok && fabs(r) > 0.6 ? " style=\"fill:#fff\"" : "");
                if (ok)
                    PUTF(p, "%.2f", r);
                else
                    put(p, "\xE2\x80\x93");
                put(p, "</text></g>");
            }
        }
    }
    put(p, "</g>");
    {
        double lx = lw, ly = th + (double)n * cs + 14, lwid = fmin(240, fmax(120, (double)n * cs));
        PUTF(p, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\" fill=\"url(#rdbu)\"/>",
             lx, ly, lwid);
        PUTF(p, "<text x=\"%.1f\" y=\"%.1f\">\xE2\x88\x92" /* − */ "1</text>", lx, ly + 24);
        PUTF(p, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">0</text>", lx + lwid / 2,
             ly + 24);
        PUTF(p, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">+1</text>", lx + lwid, ly + 24);
    }
    put(p, "</svg>");
    if (undefined)
        put(p, "<p class=\"note\">Grey: undefined, for a column without variance or with too "
               "few values in common.</p>");
    if (total > n) {
        put(p, "<p class=\"note\">The first ");
        put_count(p, (double)n);
        put(p, " of ");
        put_count(p, (double)total);
        put(p, " numeric columns.</p>");
    }
    put(p, "</div></section>\n");
}

/* ---- the page ---- */

static hops_status check_columns(const json_t *cols)
{
    size_t i;
    const json_t *col;
    json_array_foreach(cols, i, col) {
        if (!json_is_object(col) || !json_is_string(json_object_get(col, "name")))
            return hops__error(HOPS_EPARSE, "stats document: column %zu has no \"name\"", i + 1);
    }
    return HOPS_OK;
}

hops_status hops_data_report_html(const char *stats_json, const char *title, char **html_out)
{
    json_error_t jerr;
    json_t *doc;
    const json_t *cols, *label, *corr, *col;
    page pg = {HOPS_BUF_INIT, 0};
    size_t i, ncorr = 0, nnum = 0, ntop = 0;
    hops_status st;
    if (!html_out)
        return hops__error(HOPS_EINVAL, "hops_data_report_html: html_out is NULL");
    *html_out = NULL;
    if (!stats_json)
        return hops__error(HOPS_EINVAL, "hops_data_report_html: stats_json is NULL");
    doc = json_loads(stats_json, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!doc)
        return hops__error(HOPS_EPARSE, "stats document:%d:%d: %s", jerr.line, jerr.column,
                           jerr.text);
    cols = json_object_get(doc, "columns");
    label = json_object_get(doc, "label");
    corr = json_object_get(doc, "correlation");
    if (!json_is_object(doc) || !json_is_array(cols)) {
        st = hops__error(HOPS_EPARSE, "stats document: not a statistics document (an object with "
                                      "a \"columns\" array, as `hops data stats --json` writes)");
        goto out;
    }
    if ((st = check_columns(cols)) != HOPS_OK)
        goto out;
    if (json_is_object(corr) && (st = check_correlation(corr, &ncorr)) != HOPS_OK)
        goto out;
    json_array_foreach(cols, i, col) {
        if (is_numeric_column(col))
            nnum++;
        else
            ntop++;
    }
    if (!title || !*title)
        title = json_is_string(json_object_get(doc, "file"))
                    ? json_string_value(json_object_get(doc, "file"))
                    : "Data report";

    page_begin(&pg, title, doc, json_array_size(cols));
    page_nav(&pg, "overview", "Overview");
    if (json_array_size(cols))
        page_nav(&pg, "nulls", "Nulls");
    if (nnum)
        page_nav(&pg, "histograms", "Histograms");
    if (ntop)
        page_nav(&pg, "top-values", "Top values");
    if (json_is_object(label))
        page_nav(&pg, "class-balance", "Class balance");
    if (ncorr >= 2)
        page_nav(&pg, "correlation", "Correlation");
    put(&pg, "</nav></header>\n<main>\n");
    section_overview(&pg, doc, cols);
    section_nulls(&pg, doc, cols);
    if (nnum)
        section_histograms(&pg, cols);
    if (ntop)
        section_top(&pg, doc, cols);
    if (json_is_object(label))
        section_label(&pg, label);
    if (ncorr >= 2)
        section_correlation(&pg, corr, ncorr);
    PUTF(&pg,
         "</main>\n<footer>Written by hops %s: one self-contained file, no scripts, no "
         "network.</footer>\n</body></html>\n",
         hops_version());
    if (pg.oom) {
        st = hops__error(HOPS_ENOMEM, "out of memory rendering the report");
        goto out;
    }
    *html_out = hops__buf_detach(&pg.b);
    st = *html_out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory rendering the report");
out:
    hops__buf_free(&pg.b);
    json_decref(doc);
    return st;
}

hops_status hops_data_report_write(const char *stats_json, const char *title, const char *out_path)
{
    char *html = NULL;
    hops_status st;
    if (!out_path || !*out_path)
        return hops__error(HOPS_EINVAL, "no output path for the report");
    if ((st = hops_data_report_html(stats_json, title, &html)) != HOPS_OK)
        return st;
    st = hops__atomic_write(out_path, html, strlen(html));
    free(html);
    return st;
}

hops_status hops_data_report(const char *path, const hops_report_options *o, const char *out_path)
{
    hops_report_options defaults = HOPS_REPORT_OPTIONS_INIT;
    const char *title, *slash;
    char *stats = NULL;
    hops_status st;
    if (!path || !*path)
        return hops__error(HOPS_EINVAL, "no input file for the report");
    if (!out_path || !*out_path)
        return hops__error(HOPS_EINVAL, "no output path for the report");
    if (!o)
        o = &defaults;
    if (o->version != HOPS_REPORT_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_report_options version %u (this library knows %d)",
                           o->version, HOPS_REPORT_OPTIONS_VERSION);
    slash = strrchr(path, '/');
    title = o->title && *o->title ? o->title : (slash && slash[1] ? slash + 1 : path);
    {
        hops_stats_options so = HOPS_STATS_OPTIONS_INIT;
        so.read = o->read;
        so.label = o->label;
        so.correlation = 1;
        st = hops_data_stats_json(path, &so, &stats);
    }
    if (st != HOPS_OK)
        return st;
    st = hops_data_report_write(stats, title, out_path);
    free(stats);
    return st;
}
