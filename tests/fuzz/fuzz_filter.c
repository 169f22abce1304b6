/* Fuzz the run filter language (`metrics.acc>0.9 and params.lr=0.01`).
 *
 * The input, up to its first '\n' (and first NUL), is a filter expression:
 *   - hops__filter_parse: HOPS_OK with a filter, or HOPS_EPARSE with a reason
 *     and no filter; a parsed filter is matched against fixed run summaries
 *     (0 or 1) and freed;
 *   - the same text as a parameter value (hops__param_value: NULL only when
 *     the text is not UTF-8) and as a field name (hops__run_field): the
 *     comparison hops__json_compare, which the filters and the sort use, must
 *     be antisymmetric and reflexive.
 * When the input has a '\n', what follows it is a sort key and both go
 * through hops_runs_list_json on a small project of three ended runs: a bad
 * filter must give HOPS_EPARSE, and a listing must hold exactly the runs the
 * filter matches among the unfiltered listing taken at start-up.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "hops/project.h"
#include "hops/run.h"
#include "run/run_internal.h"

#include "fuzz_util.h"

/* Run summaries as hops_runs_list_json writes them, and odder ones. */
static const char *const sample_texts[] = {
    ("{\"id\":\"x\",\"state\":\"FINISHED\",\"metrics\":{\"acc\":0.9,\"loss\":\"NaN\","
     "\"val loss\":0.3},\"params\":{\"lr\":0.1,\"opt\":\"adam\"},\"tags\":{}}"),
    ("{\"id\":\"0123456789abcd\",\"experiment\":\"default\",\"state\":\"FAILED\","
     "\"exit_code\":1,\"signal\":null,\"reason\":\"boom\",\"start_time\":1700000000.5,"
     "\"end_time\":null,\"metrics\":{\"acc\":\"-Infinity\",\"loss\":\"Infinity\","
     "\"f1\":\"0.5\",\"n\":3},\"params\":{\"lr\":\"1e-3\",\"deep\":true,\"layers\":12,"
     "\"name\":\"a b\",\"obj\":{\"k\":[1]}},\"tags\":{\"team\":\"vision\",\"empty\":\"\"}}"),
    ("{\"id\":\"y\",\"state\":\"RUNNING\",\"metrics\":{\"acc\":null,\"loss\":-0.0},"
     "\"params\":{},\"tags\":{\"note\":\"10a\",\"x\":\"9\"}}"),
};

static json_t *samples[HOPS_ARRAY_LEN(sample_texts)];
static json_t **leaves;        /* every scalar in the samples, borrowed */
static size_t n_leaves;

static char *workdir;
static hops_project *proj;
static json_t *all_runs;       /* hops_runs_list_json with no filter, parsed */

static void add_leaves(json_t *v)
{
    const char *k;
    json_t *e;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, k, e) add_leaves(e);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) add_leaves(e);
    } else {
        json_t **nl = realloc(leaves, (n_leaves + 1) * sizeof *nl);
        FUZZ_CHECK(nl, "out of memory");
        leaves = nl;
        leaves[n_leaves++] = v;
    }
}

/* One ended run: METRIC at steps 0.. with VALUES, FINAL_KEY a final metric. */
static void make_run(const char *exp, const hops_kv *params, size_t n_params, const hops_kv *tags,
                     size_t n_tags, const char *metric, const double *values, size_t n_values,
                     const char *final_key, double final_value, hops_run_state state)
{
    hops_run_options o = HOPS_RUN_OPTIONS_INIT;
    hops_run *r;
    hops_status rc;
    o.experiment = exp;
    o.params = params;
    o.n_params = n_params;
    o.tags = tags;
    o.n_tags = n_tags;
    o.cwd = workdir;
    rc = hops_run_start(&r, proj, &o);
    FUZZ_CHECK(rc == HOPS_OK, "hops_run_start: %s", hops_last_error());
    for (size_t i = 0; i < n_values; i++) {
        rc = hops_run_log_metric(r, metric, (int64_t)i, values[i]);
        FUZZ_CHECK(rc == HOPS_OK, "hops_run_log_metric: %s", hops_last_error());
    }
    if (final_key) {
        rc = hops_run_log_final(r, final_key, final_value);
        FUZZ_CHECK(rc == HOPS_OK, "hops_run_log_final: %s", hops_last_error());
    }
    rc = hops_run_end(r, state, state == HOPS_RUN_FAILED ? 1 : 0,
                      state == HOPS_RUN_KILLED ? 9 : 0, NULL);
    FUZZ_CHECK(rc == HOPS_OK, "hops_run_end: %s", hops_last_error());
    hops_run_free(r);
}

static void make_project(void)
{
    static const hops_kv p1[] = {{"lr", "0.1"}, {"opt", "adam"}};
    static const hops_kv t1[] = {{"team", "vision"}};
    static const hops_kv p2[] = {{"lr", "0.01"}, {"layers", "3"}, {"deep", "true"}};
    static const hops_kv t2[] = {{"note", "a b"}, {"x", "10a"}};
    static const double acc[] = {0.8, 0.9};
    static const double loss[] = {1.5, (double)NAN};
    static const double score[] = {(double)INFINITY};
    char *out = NULL;
    hops_status rc;

    workdir = fuzz_tempdir("filter");
    rc = hops_project_init(workdir);
    FUZZ_CHECK(rc == HOPS_OK, "hops_project_init: %s", hops_last_error());
    rc = hops_project_open_at(&proj, workdir);
    FUZZ_CHECK(rc == HOPS_OK, "hops_project_open_at: %s", hops_last_error());
    make_run("e1", p1, HOPS_ARRAY_LEN(p1), t1, HOPS_ARRAY_LEN(t1), "acc", acc,
             HOPS_ARRAY_LEN(acc), "val loss", 0.75, HOPS_RUN_FINISHED);
    make_run("e2", p2, HOPS_ARRAY_LEN(p2), t2, HOPS_ARRAY_LEN(t2), "loss", loss,
             HOPS_ARRAY_LEN(loss), "acc", 0.95, HOPS_RUN_FAILED);
    make_run(NULL, NULL, 0, NULL, 0, "score", score, HOPS_ARRAY_LEN(score), "score",
             -(double)INFINITY, HOPS_RUN_KILLED);
    rc = hops_runs_list_json(proj, NULL, &out);
    FUZZ_CHECK(rc == HOPS_OK, "hops_runs_list_json: %s", hops_last_error());
    all_runs = json_loads(out, 0, NULL);
    hops_free(out);
    FUZZ_CHECK(json_is_array(all_runs) && json_array_size(all_runs) == 3,
               "the unfiltered listing does not hold the three runs");
}

static void cleanup(void)
{
    hops_project_close(proj);
    proj = NULL;
    if (workdir)
        hops__rm_rf(workdir);
    free(workdir);
    workdir = NULL;
    json_decref(all_runs);
    for (size_t i = 0; i < HOPS_ARRAY_LEN(samples); i++)
        json_decref(samples[i]);
    free(leaves);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_default_artifact_prefix(argc, argv);
    json_object_seed(1);
    for (size_t i = 0; i < HOPS_ARRAY_LEN(sample_texts); i++) {
        json_error_t je;
        samples[i] = json_loads(sample_texts[i], JSON_REJECT_DUPLICATES, &je);
        FUZZ_CHECK(samples[i], "sample %zu: %s", i, je.text);
        add_leaves(samples[i]);
    }
    make_project();
    atexit(cleanup);
    return 0;
}

/* hops__json_compare(a, b) and (b, a) agree; (a, a) is 0 when comparable. */
static void check_compare(const json_t *a, const json_t *b)
{
    int ab = 7, ba = 7, aa = 7;
    int rab = hops__json_compare(a, b, &ab);
    int rba = hops__json_compare(b, a, &ba);
    FUZZ_CHECK(rab == rba, "comparable one way only");
    if (rab == 0)
        FUZZ_CHECK((ab > 0) == (ba < 0) && (ab < 0) == (ba > 0),
                   "not antisymmetric: cmp(a,b)=%d cmp(b,a)=%d", ab, ba);
    if (a && hops__json_compare(a, a, &aa) == 0)
        FUZZ_CHECK(aa == 0, "cmp(a,a)=%d", aa);
}

static size_t count_matches(const hops_filter *f, const json_t *runs)
{
    size_t i, n = 0;
    json_t *r;
    json_array_foreach(runs, i, r) {
        int m = hops__filter_match(f, r);
        FUZZ_CHECK(m == 0 || m == 1, "hops__filter_match returned %d", m);
        n += (size_t)m;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *expr = fuzz_cstr(data, size);
    char *nl = strchr(expr, '\n');
    const char *sort = NULL;
    hops_filter *f = (hops_filter *)&f; /* must be overwritten */
    hops_status rc;
    json_t *pv;
    size_t expected = 0;
    int parsed;

    if (nl) {
        *nl = '\0';
        sort = nl + 1;
    }

    /* The parser and the matcher. */
    hops_error_clear();
    rc = hops__filter_parse(&f, expr);
    parsed = rc == HOPS_OK;
    if (parsed) {
        FUZZ_CHECK(f != NULL, "HOPS_OK without a filter");
        for (size_t i = 0; i < HOPS_ARRAY_LEN(samples); i++) {
            int m = hops__filter_match(f, samples[i]);
            FUZZ_CHECK(m == 0 || m == 1, "hops__filter_match returned %d", m);
        }
        expected = count_matches(f, all_runs);
        hops__filter_free(f);
    } else {
        FUZZ_CHECK(rc == HOPS_EPARSE, "hops__filter_parse: %s", hops_err_name(rc));
        FUZZ_CHECK(f == NULL, "a failed parse left a filter");
        FUZZ_CHECK(hops_last_error()[0] != '\0', "HOPS_EPARSE without a reason");
    }

    /* The text as a typed parameter value and as a field name. */
    /* NULL only for text that is not UTF-8, which jansson refuses as a string
     * (so such a parameter is left out of HOPS_PARAMS and of summaries). */
    pv = hops__param_value(expr);
    FUZZ_CHECK(pv != NULL || !utf8_ok((const unsigned char *)expr, strlen(expr)),
               "hops__param_value returned NULL for UTF-8 text");
    for (size_t i = 0; i < n_leaves; i++)
        check_compare(pv, leaves[i]);
    for (size_t i = 0; i < HOPS_ARRAY_LEN(samples); i++) {
        const json_t *fv = hops__run_field(samples[i], expr);
        check_compare(fv, pv);
    }
    json_decref(pv);

    /* The whole query, when a sort key is given. */
    if (sort) {
        hops_runs_query q = HOPS_RUNS_QUERY_INIT;
        char *out = NULL;
        q.filter = expr;
        q.sort = sort;
        hops_error_clear();
        rc = hops_runs_list_json(proj, &q, &out);
        if (rc == HOPS_OK) {
            json_error_t je;
            json_t *arr = json_loads(out, 0, &je);
            FUZZ_CHECK(arr, "hops_runs_list_json gave bad JSON: %s", je.text);
            FUZZ_CHECK(expr[0] == '\0' || parsed, "a listing with a filter that does not parse");
            if (expr[0] == '\0')
                expected = json_array_size(all_runs);
            FUZZ_CHECK(json_array_size(arr) == expected,
                       "the listing has %zu runs, the filter matches %zu", json_array_size(arr),
                       expected);
            json_decref(arr);
            hops_free(out);
        } else {
            FUZZ_CHECK(rc == HOPS_EPARSE, "hops_runs_list_json: %s: %s", hops_err_name(rc),
                       hops_last_error());
            FUZZ_CHECK(out == NULL, "a failed listing left output");
            FUZZ_CHECK(hops_last_error()[0] != '\0', "HOPS_EPARSE without a reason");
        }
    }
    free(expr);
    return 0;
}
