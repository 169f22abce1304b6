/* Unit tests for src/data/report.c: the HTML rendering of a statistics
 * document — escaping, degenerate columns, no NaN, self-containment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "hops/report.h"
#include "hops/run.h"

static char *render(const char *doc, const char *title)
{
    char *html = NULL;
    hops_status st = hops_data_report_html(doc, title, &html);
    if (st != HOPS_OK)
        fail_msg("hops_data_report_html: %s", hops_last_error());
    assert_non_null(html);
    return html;
}

/* Not inlined: GCC 12 at -O2 takes the strstr results for dangling pointers. */
__attribute__((noinline)) static size_t count_of(const char *s, const char *needle)
{
    size_t n = 0, len = strlen(needle), off = 0;
    const char *hit;
    while ((hit = strstr(s + off, needle)) != NULL) {
        n++;
        off = (size_t)(hit - s) + len;
    }
    return n;
}

static int contains_nocase(const char *s, const char *needle)
{
    size_t len = strlen(needle);
    for (; *s; s++)
        if (strncasecmp(s, needle, len) == 0)
            return 1;
    return 0;
}

/* No "nan"/"inf" as a word of its own, in any case: what printf makes of a
 * non-finite double. */
static void assert_finite_output(const char *html)
{
    static const char *const words[] = {"nan", "inf"};
    for (size_t w = 0; w < HOPS_ARRAY_LEN(words); w++) {
        for (const char *p = html; *p; p++) {
            if (strncasecmp(p, words[w], 3) != 0)
                continue;
            int before = p > html && isalpha((unsigned char)p[-1]);
            int after = isalpha((unsigned char)p[3]);
            if (!before && !after)
                fail_msg("non-finite number in the output near: %.60s",
                         p > html + 30 ? p - 30 : html);
        }
    }
}

/* Valid UTF-8 throughout (the page declares charset=utf-8). */
static void assert_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        size_t n = *u < 0x80             ? 1
                   : (*u & 0xE0) == 0xC0 ? 2
                   : (*u & 0xF0) == 0xE0 ? 3
                   : (*u & 0xF8) == 0xF0 ? 4
                                         : 0;
        assert_true(n > 0 && (n == 1 || *u >= 0xC2));
        for (size_t i = 1; i < n; i++)
            assert_true((u[i] & 0xC0) == 0x80);
        u += n;
    }
}

/* Markup is every "<" followed by a letter (data is escaped, so its "<" are
 * "&lt;"): no tag may load anything or carry an event handler. */
static void assert_tags_inert(const char *html)
{
    for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
        const char *end = strchr(p, '>');
        if (!isalpha((unsigned char)p[1]))
            continue;
        assert_non_null(end);
        for (const char *a = p; a < end; a++) {
            if (*a != ' ')
                continue;
            if (strncasecmp(a + 1, "src=", 4) == 0 ||
                (strncasecmp(a + 1, "href=", 5) == 0 && a[7] != '#') ||
                (strncasecmp(a + 1, "on", 2) == 0 && isalpha((unsigned char)a[3])))
                fail_msg("an active attribute in: %.*s", (int)(end - p + 1), p);
        }
    }
}

/* What every page must be: one file, nothing loaded, nothing run. */
static void assert_self_contained(const char *html)
{
    assert_false(contains_nocase(html, "http:"));
    assert_false(contains_nocase(html, "https:"));
    assert_false(contains_nocase(html, "<script"));
    assert_false(contains_nocase(html, "@import"));
    assert_tags_inert(html);
    assert_non_null(strstr(html, "Content-Security-Policy"));
    assert_int_equal(strncmp(html, "<!DOCTYPE html>", 15), 0);
    assert_non_null(strstr(html, "</html>\n"));
    assert_int_equal(count_of(html, "<svg"), count_of(html, "</svg>"));
    assert_int_equal(count_of(html, "<section"), count_of(html, "</section>"));
    assert_int_equal(count_of(html, "<div"), count_of(html, "</div>"));
    assert_finite_output(html);
    assert_utf8(html);
}

static const char hostile_doc[] =
    "{\"file\": \"<b>x</b>.csv\", \"format\": \"csv\", \"rows\": 4, \"columns\": ["
    " {\"name\": \"<script>alert(1)</script>\", \"type\": \"int\", \"count\": 4, \"nulls\": 0,"
    "  \"numeric\": {\"min\": 1, \"max\": 4, \"mean\": 2.5, \"std\": 1.29,"
    "   \"quantiles\": {\"p1\": 1, \"p25\": 1.75, \"p50\": 2.5, \"p75\": 3.25, \"p99\": 4},"
    "   \"histogram\": {\"edges\": [1, 2.5, 4], \"counts\": [2, 2]}}},"
    " {\"name\": \"\\\"quoted\\\" & 'single'\", \"type\": \"float\", \"count\": 4, \"nulls\": 0,"
    "  \"numeric\": {\"min\": 0, \"max\": 1, \"mean\": 0.5, \"std\": 0.5,"
    "   \"histogram\": {\"edges\": [0, 1], \"counts\": [4]}}},"
    " {\"name\": \"\\u00c5sa \\u65e5\\u672c \\ud83d\\ude42 nul\\u0000bell\\u0007\", \"type\": "
    "\"string\","
    "  \"count\": 3, \"nulls\": 1, \"distinct\": 2,"
    "  \"top\": [{\"value\": \"<img src=x onerror=alert(1)>\", \"count\": 2},"
    "           {\"value\": \"</svg><script>alert(2)</script>\", \"count\": 1}]}],"
    " \"label\": {\"column\": \"<i>y</i>\", \"classes\": [{\"value\": \"<b>0</b>\", \"count\": 3},"
    "            {\"value\": \"&amp;\", \"count\": 1}], \"imbalance_ratio\": 3},"
    " \"correlation\": {\"columns\": [\"<script>alert(1)</script>\", \"\\\"quoted\\\" & "
    "'single'\"],"
    "  \"matrix\": [[1, 0.5], [0.5, 1]]}}";

static void test_escaping(void **state)
{
    (void)state;
    char *html = render(hostile_doc, "<script>alert('title')</script> & \"friends\"");
    assert_self_contained(html);
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<b>x"));
    assert_null(strstr(html, "<b>0"));
    assert_null(strstr(html, "<i>"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; &amp; "
                                 "&quot;friends&quot;"));
    assert_non_null(strstr(html, "&quot;quoted&quot; &amp; &#39;single&#39;"));
    assert_non_null(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
    assert_non_null(strstr(html, "&lt;/svg&gt;&lt;script&gt;alert(2)"));
    assert_non_null(strstr(html, "&lt;b&gt;x&lt;/b&gt;.csv"));
    assert_non_null(strstr(html, "&lt;i&gt;y&lt;/i&gt;"));
    assert_non_null(strstr(html, "&amp;amp;"));
    /* UTF-8 passes through; NUL and control characters become U+FFFD. */
    assert_non_null(strstr(html, "\xC3\x85sa \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82 "
                                 "nul\xEF\xBF\xBD"
                                 "bell\xEF\xBF\xBD"));
    /* Column names are in the heatmap on both axes (the label and its title each). */
    assert_true(count_of(html, "&lt;script&gt;alert(1)&lt;/script&gt;") >= 6);
    hops_free(html);
}

static void test_title_invalid_utf8(void **state)
{
    (void)state;
    char *html =
        render("{\"rows\": 0, \"columns\": []}", "bad \xFF\xFE name \xC0\xAF \xED\xA0\x80");
    assert_self_contained(html);
    assert_non_null(strstr(html, "bad \xEF\xBF\xBD\xEF\xBF\xBD name"));
    hops_free(html);
    /* No title and no "file": a generic one. */
    html = render("{\"rows\": 0, \"columns\": []}", NULL);
    assert_non_null(strstr(html, "<h1>Data report</h1>"));
    hops_free(html);
}

static void test_long_text_is_cut(void **state)
{
    (void)state;
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "{\"rows\": 1, \"columns\": [{\"name\": \"");
    for (int i = 0; i < 5000; i++)
        hops__buf_puts(&b, "\xC3\xA4"); /* ä: cut at a code point, never inside one */
    hops__buf_puts(&b, "\", \"type\": \"string\", \"count\": 1, \"nulls\": 0, \"top\": "
                       "[{\"value\": \"v\", \"count\": 1}]}]}");
    char *html = render(b.data, NULL);
    assert_self_contained(html);
    assert_true(strlen(html) < 40000);
    assert_non_null(strstr(html, "\xC3\xA4\xE2\x80\xA6"));
    hops_free(html);
    hops__buf_free(&b);
}

static void test_empty_columns(void **state)
{
    (void)state;
    char *html =
        render("{\"file\": \"e.csv\", \"format\": \"csv\", \"rows\": 0, \"columns\": []}", NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, "<h1>e.csv</h1>"));
    assert_non_null(strstr(html, "id=\"overview\""));
    assert_non_null(strstr(html, "no columns"));
    assert_null(strstr(html, "id=\"nulls\""));
    assert_null(strstr(html, "id=\"histograms\""));
    assert_null(strstr(html, "id=\"top-values\""));
    assert_null(strstr(html, "id=\"correlation\""));
    assert_null(strstr(html, "<svg"));
    hops_free(html);
    /* Columns but no rows (a header-only CSV). */
    html = render("{\"rows\": 0, \"columns\": [{\"name\": \"a\", \"type\": \"string\", "
                  "\"count\": 0, \"nulls\": 0, \"top\": []}]}",
                  NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, "No values: the file has no rows."));
    assert_non_null(strstr(html, "0% of all cells"));
    hops_free(html);
}

static void test_all_null_columns(void **state)
{
    (void)state;
    char *html = render(
        "{\"rows\": 5, \"columns\": ["
        " {\"name\": \"s\", \"type\": \"string\", \"count\": 0, \"nulls\": 5, \"distinct\": 0,"
        "  \"top\": []},"
        " {\"name\": \"x\", \"type\": \"float\", \"count\": 0, \"nulls\": 5,"
        "  \"numeric\": {\"min\": null, \"max\": null, \"mean\": null, \"std\": null,"
        "   \"quantiles\": {}, \"histogram\": {\"edges\": [], \"counts\": []}}}],"
        " \"correlation\": {\"columns\": [\"x\"], \"matrix\": [[null]]}}",
        "all null");
    assert_self_contained(html);
    assert_non_null(strstr(html, "every row is null"));
    assert_non_null(strstr(html, ">no values</text>"));
    assert_non_null(strstr(html, "100% \xC2\xB7 5")); /* the null bars */
    assert_non_null(strstr(html, "100% of all cells"));
    assert_null(strstr(html, "id=\"correlation\"")); /* one column: no heatmap */
    hops_free(html);
}

static void test_single_value_histogram(void **state)
{
    (void)state;
    char *html =
        render("{\"rows\": 3, \"columns\": [{\"name\": \"c\", \"type\": \"int\", \"count\": 3, "
               "\"nulls\": 0,"
               " \"numeric\": {\"min\": 7, \"max\": 7, \"mean\": 7, \"std\": 0,"
               "  \"quantiles\": {\"p1\": 7, \"p25\": 7, \"p50\": 7, \"p75\": 7, \"p99\": 7},"
               "  \"histogram\": {\"edges\": [7, 7, 7, 7], \"counts\": [3, 0, 0]}}}]}",
               NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, "id=\"histograms\""));
    /* One x label, centred, since min == max; the bar has the full height. */
    assert_non_null(strstr(html, "text-anchor=\"middle\">7</text>"));
    assert_non_null(strstr(html, "height=\"146.0\" fill=\"#4c6ef5\""));
    assert_non_null(strstr(html, "median 7"));
    hops_free(html);

    /* Histogram absent altogether: axes, no bars, still finite. */
    html = render("{\"rows\": 1, \"columns\": [{\"name\": \"c\", \"type\": \"float\", \"count\": 1,"
                  " \"nulls\": 0, \"numeric\": {\"min\": 1e308, \"max\": -1e308}}]}",
                  NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, ">no values</text>"));
    hops_free(html);
}

static void test_no_numeric_columns(void **state)
{
    (void)state;
    char *html =
        render("{\"rows\": 2, \"columns\": [{\"name\": \"s\", \"type\": \"category\", \"count\": 2,"
               " \"nulls\": 0, \"distinct\": 2, \"distinct_error\": 0.0081,"
               " \"top\": [{\"value\": \"a\", \"count\": 1}, {\"value\": \"b\", \"count\": 1}]}],"
               " \"correlation\": {\"columns\": [], \"matrix\": []}}",
               NULL);
    assert_self_contained(html);
    assert_null(strstr(html, "id=\"histograms\""));
    assert_null(strstr(html, "id=\"correlation\""));
    assert_null(strstr(html, "rdbu"));
    assert_non_null(strstr(html, "id=\"top-values\""));
    assert_non_null(strstr(html, "1 \xC2\xB7 50.0%"));
    assert_non_null(strstr(html, "\xE2\x89\x88"
                                 "2 distinct (\xC2\xB1"
                                 "0.81%)"));
    hops_free(html);
}

static void test_heatmap(void **state)
{
    (void)state;
    char *html = render(
        "{\"rows\": 3, \"columns\": ["
        " {\"name\": \"a\", \"type\": \"float\", \"count\": 3, \"nulls\": 0, \"numeric\": {}},"
        " {\"name\": \"b\", \"type\": \"float\", \"count\": 3, \"nulls\": 0, \"numeric\": {}},"
        " {\"name\": \"k\", \"type\": \"int\", \"count\": 3, \"nulls\": 0, \"numeric\": {}}],"
        " \"correlation\": {\"columns\": [\"a\", \"b\", \"k\"],"
        "  \"matrix\": [[1, -0.3, null], [-0.3, 1, null], [null, null, 1.5]]}}",
        NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, "id=\"correlation\""));
    assert_non_null(strstr(html, "<title>a \xC3\x97 b: -0.300</title>"));
    assert_non_null(strstr(html, "<title>k \xC3\x97 k: 1.000</title>")); /* clamped */
    assert_non_null(strstr(html, "<title>a \xC3\x97 k: undefined"));
    assert_int_equal(count_of(html, "<g><rect"), 9);
    /* Colours: +1 the scale's red end, -1 its blue end. */
    assert_non_null(strstr(html, "fill=\"#b2182b\""));
    assert_non_null(strstr(html, "stop-color=\"#2166ac\""));
    hops_free(html);
}

static void test_heatmap_is_capped(void **state)
{
    (void)state;
    hops_buf b = HOPS_BUF_INIT;
    const int n = 50;
    hops__buf_puts(&b, "{\"rows\": 1, \"columns\": [], \"correlation\": {\"columns\": [");
    for (int i = 0; i < n; i++)
        hops__buf_printf(&b, "%s\"c%d\"", i ? "," : "", i);
    hops__buf_puts(&b, "], \"matrix\": [");
    for (int i = 0; i < n; i++) {
        hops__buf_puts(&b, i ? ",[" : "[");
        for (int j = 0; j < n; j++)
            hops__buf_printf(&b, "%s%g", j ? "," : "", i == j ? 1.0 : 0.01 * (i - j));
        hops__buf_puts(&b, "]");
    }
    hops__buf_puts(&b, "]}}");
    char *html = render(b.data, NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, "The first 40 of 50 numeric columns."));
    assert_null(strstr(html, ">c40<"));
    assert_int_equal(count_of(html, " \xC3\x97 "), 40 * 40); /* a title per cell */
    hops_free(html);
    hops__buf_free(&b);
}

static void test_class_balance(void **state)
{
    (void)state;
    char *html = render(
        "{\"rows\": 1000, \"columns\": [{\"name\": \"y\", \"type\": \"int\", \"count\": 1000,"
        " \"nulls\": 0, \"numeric\": {\"min\": 0, \"max\": 1}}],"
        " \"label\": {\"column\": \"y\", \"classes\": [{\"value\": \"0\", \"count\": 900},"
        "  {\"value\": \"1\", \"count\": 100}], \"imbalance_ratio\": 9.0}}",
        NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, "id=\"class-balance\""));
    assert_non_null(strstr(html, "imbalance ratio 9</span>"));
    assert_non_null(strstr(html, "900 \xC2\xB7 90.0%"));
    assert_non_null(strstr(html, "100 \xC2\xB7 10.0%"));
    assert_non_null(strstr(html, "1,000"));
    hops_free(html);
    /* Without "label", no such section. */
    html = render("{\"rows\": 0, \"columns\": [{\"name\": \"y\"}]}", NULL);
    assert_self_contained(html);
    assert_null(strstr(html, "id=\"class-balance\""));
    hops_free(html);
}

static void test_extreme_numbers(void **state)
{
    (void)state;
    char *html = render(
        "{\"rows\": 1e300, \"columns\": [{\"name\": \"x\", \"type\": \"float\", \"count\": 1e19,"
        " \"nulls\": -5, \"distinct\": 1e40,"
        " \"numeric\": {\"min\": -1.7976931348623157e308, \"max\": 1.7976931348623157e308,"
        "  \"mean\": 1e-320, \"std\": 5e-324,"
        "  \"histogram\": {\"edges\": [-1.7976931348623157e308, 0, 1.7976931348623157e308],"
        "                 \"counts\": [1e308, 1e308]}}}]}",
        NULL);
    assert_self_contained(html);
    hops_free(html);
}

static void test_bad_documents(void **state)
{
    (void)state;
    char *html = (char *)"untouched";
    assert_int_equal(hops_data_report_html("{\"rows\": 1,\n \"columns\": [}", NULL, &html),
                     HOPS_EPARSE);
    assert_null(html);
    assert_non_null(strstr(hops_last_error(), "stats document:2:"));
    assert_int_equal(hops_data_report_html("", NULL, &html), HOPS_EPARSE);
    assert_int_equal(hops_data_report_html("[1, 2]", NULL, &html), HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "not a statistics document"));
    assert_int_equal(hops_data_report_html("{\"columns\": {}}", NULL, &html), HOPS_EPARSE);
    assert_int_equal(hops_data_report_html(
                         "{\"columns\": [{\"name\": \"a\"}, {\"type\": \"int\"}]}", NULL, &html),
                     HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "column 2 has no \"name\""));
    assert_int_equal(hops_data_report_html("{\"columns\": [], \"correlation\": {\"columns\": "
                                           "[\"a\", \"b\"], \"matrix\": [[1, 0], [0]]}}",
                                           NULL, &html),
                     HOPS_EPARSE);
    assert_non_null(strstr(hops_last_error(), "correlation row 2"));
    assert_int_equal(hops_data_report_html("{\"columns\": [], \"correlation\": {\"columns\": "
                                           "[\"a\"], \"matrix\": [[\"x\"]]}}",
                                           NULL, &html),
                     HOPS_EPARSE);
    assert_int_equal(hops_data_report_html("{\"a\": 1, \"a\": 2, \"columns\": []}", NULL, &html),
                     HOPS_EPARSE);
    assert_int_equal(hops_data_report_html(NULL, NULL, &html), HOPS_EINVAL);
    assert_int_equal(hops_data_report_html("{}", NULL, NULL), HOPS_EINVAL);
    assert_null(html);
}

static void test_numbers_formatting(void **state)
{
    (void)state;
    char *html = render(
        "{\"rows\": 1234567, \"columns\": [{\"name\": \"x\", \"type\": \"float\","
        " \"count\": 1234567, \"nulls\": 0, \"numeric\": {\"min\": -0.00001, \"max\": 41491.55,"
        " \"mean\": 40.30071, \"std\": 0.02340, \"quantiles\": {\"p50\": 2e10}}}]}",
        NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, "1,234,567 rows"));
    assert_non_null(strstr(html, "<td>41492</td>"));
    assert_non_null(strstr(html, "<td>40.3</td>"));
    assert_non_null(strstr(html, "<td>0.0234</td>"));
    assert_non_null(strstr(html, "<td>-1e-05</td>"));
    assert_non_null(strstr(html, "median 2e+10"));
    hops_free(html);
}

static char *read_text(const char *path)
{
    char *text = NULL;
    size_t len;
    if (hops__read_file(path, &text, &len) != HOPS_OK)
        fail_msg("%s", hops_last_error());
    return text;
}

static void test_sample_document(void **state)
{
    (void)state;
    char path[4096];
    const char *slash = strrchr(__FILE__, '/');
    assert_non_null(slash);
    snprintf(path, sizeof path, "%.*s/../e2e/data_report_sample.json", (int)(slash - __FILE__),
             __FILE__);
    char *doc = read_text(path), *html = render(doc, NULL);
    assert_self_contained(html);
    static const char *const ids[] = {"overview",   "nulls",         "histograms",
                                      "top-values", "class-balance", "correlation"};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(ids); i++) {
        char want[64];
        snprintf(want, sizeof want, "<section id=\"%s\">", ids[i]);
        assert_non_null(strstr(html, want));
    }
    /* A histogram per numeric column, a top-values chart per other one with
     * values, nulls, class balance, heatmap. */
    assert_int_equal(count_of(html, "<svg"), 5 + 4 + 1 + 1 + 1);
    assert_true(strlen(html) < 64 * 1024);
    hops_free(html);
    free(doc);
}

static void test_write_atomically(void **state)
{
    (void)state;
    char dir[] = "/tmp/hops-unit-report.XXXXXX", path[256], *html, *back;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r.html", dir);
    const char *doc = "{\"file\": \"f.csv\", \"rows\": 0, \"columns\": []}";
    assert_int_equal(hops_data_report_write(doc, "T", path), HOPS_OK);
    html = render(doc, "T");
    back = read_text(path);
    assert_string_equal(back, html);
    free(back);
    hops_free(html);
    /* A bad document leaves the old file alone. */
    assert_int_equal(hops_data_report_write("{", "T", path), HOPS_EPARSE);
    back = read_text(path);
    assert_non_null(strstr(back, "<h1>T</h1>"));
    free(back);
    /* A directory that does not exist: an I/O error naming the path. */
    snprintf(path, sizeof path, "%s/no/such/dir/r.html", dir);
    assert_int_equal(hops_data_report_write(doc, NULL, path), HOPS_EIO);
    assert_non_null(strstr(hops_last_error(), "no/such/dir"));
    assert_int_equal(hops_data_report_write(doc, NULL, ""), HOPS_EINVAL);
    assert_int_equal(hops__rm_rf(dir), HOPS_OK);
}

static void test_report_options(void **state)
{
    (void)state;
    hops_report_options o = HOPS_REPORT_OPTIONS_INIT;
    o.version = 99;
    assert_int_equal(hops_data_report("x.csv", &o, "/tmp/x.html"), HOPS_EVERSION);
    assert_int_equal(hops_data_report(NULL, NULL, "/tmp/x.html"), HOPS_EINVAL);
    assert_int_equal(hops_data_report("x.csv", NULL, NULL), HOPS_EINVAL);
}

/* The whole path: a CSV file, its statistics, the page on disk. */
static void test_report_from_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/hops-unit-report.XXXXXX", csv[256], out[256], *html;
    FILE *f;
    assert_non_null(mkdtemp(dir));
    snprintf(csv, sizeof csv, "%s/d.csv", dir);
    snprintf(out, sizeof out, "%s/r.html", dir);
    f = fopen(csv, "w");
    assert_non_null(f);
    fputs("x,y,c\n", f);
    for (int i = 0; i < 50; i++)
        fprintf(f, "%d,%s,%s\n", i, i % 5 ? "0" : "1", i % 3 ? "a" : "");
    fclose(f);

    hops_report_options o = HOPS_REPORT_OPTIONS_INIT;
    o.label = "y";
    o.read.threads = 2;
    assert_int_equal(hops_data_report(csv, &o, out), HOPS_OK);
    html = read_text(out);
    assert_self_contained(html);
    assert_non_null(strstr(html, "<h1>d.csv</h1>"));
    assert_non_null(strstr(html, "<section id=\"class-balance\">"));
    assert_non_null(strstr(html, "imbalance ratio 4</span>"));
    assert_non_null(strstr(html, "<section id=\"correlation\">"));
    assert_non_null(strstr(html, "<title>x \xC3\x97 y: "));
    free(html);

    /* A label that is not a column: refused, and the old page stays. */
    o.label = "nope";
    o.title = "T";
    assert_int_equal(hops_data_report(csv, &o, out), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "nope"));
    html = read_text(out);
    assert_non_null(strstr(html, "<h1>d.csv</h1>"));
    free(html);
    /* A file that does not exist: named, and nothing written. */
    snprintf(csv, sizeof csv, "%s/missing.csv", dir);
    snprintf(out, sizeof out, "%s/none.html", dir);
    assert_int_equal(hops_data_report(csv, NULL, out), HOPS_ENOTFOUND);
    assert_non_null(strstr(hops_last_error(), "missing.csv"));
    assert_false(hops__is_file(out));
    assert_int_equal(hops__rm_rf(dir), HOPS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),           cmocka_unit_test(test_title_invalid_utf8),
        cmocka_unit_test(test_long_text_is_cut),   cmocka_unit_test(test_empty_columns),
        cmocka_unit_test(test_all_null_columns),   cmocka_unit_test(test_single_value_histogram),
        cmocka_unit_test(test_no_numeric_columns), cmocka_unit_test(test_heatmap),
        cmocka_unit_test(test_heatmap_is_capped),  cmocka_unit_test(test_class_balance),
        cmocka_unit_test(test_extreme_numbers),    cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_numbers_formatting), cmocka_unit_test(test_sample_document),
        cmocka_unit_test(test_write_atomically),   cmocka_unit_test(test_report_options),
        cmocka_unit_test(test_report_from_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
