/* Fuzz the trial protocol's report lines.
 *
 * Each input goes
 *   1. to the parser alone, hops__report_parse (bare NaN / Infinity tokens
 *      accepted): never a crash or leak; NULL comes with a reason; an object
 *      it returns, written with hops__json_dumps (reals in their shortest
 *      form), reads back equal, compact and indented;
 *   2. line by line (split at '\n', as exec.c does) to hops_run_ingest_line
 *      on a real run in a temporary project: HOPS_OK or HOPS_EPARSE with a
 *      reason, nothing else.
 * The run is flushed to SQLite every FLUSH_EVERY inputs, and ended, freed and
 * replaced along with its project every INPUTS_PER_RUN inputs, so the work per
 * input stays small and the files stay small. A finding that depends on that
 * state may need the inputs before it to reproduce; most will not.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "hops/project.h"
#include "hops/run.h"
#include "run/run_internal.h"

#include "fuzz_util.h"

#define FLUSH_EVERY 64
#define INPUTS_PER_RUN 4096

static char *workdir;          /* $TMPDIR/hops-fuzz-report-XXXXXX */
static char *projdir;          /* workdir/pN: this run's project */
static hops_project *proj;
static hops_run *run;
static unsigned long n_inputs, n_projects;

static void run_begin(void)
{
    static const hops_kv params[] = {{"lr", "0.1"}, {"opt", "adam"}};
    static const hops_kv tags[] = {{"fuzz", "report_line"}};
    hops_run_options o = HOPS_RUN_OPTIONS_INIT;
    hops_status rc;

    projdir = hops__aprintf("%s/p%lu", workdir, n_projects++);
    FUZZ_CHECK(projdir, "out of memory");
    rc = hops_project_init(projdir);
    FUZZ_CHECK(rc == HOPS_OK, "hops_project_init: %s", hops_last_error());
    rc = hops_project_open_at(&proj, projdir);
    FUZZ_CHECK(rc == HOPS_OK, "hops_project_open_at: %s", hops_last_error());
    o.experiment = "fuzz";
    o.params = params;
    o.n_params = HOPS_ARRAY_LEN(params);
    o.tags = tags;
    o.n_tags = HOPS_ARRAY_LEN(tags);
    o.cwd = workdir;
    rc = hops_run_start(&run, proj, &o);
    FUZZ_CHECK(rc == HOPS_OK, "hops_run_start: %s", hops_last_error());
}

static void run_finish(void)
{
    hops_status rc = hops_run_end(run, HOPS_RUN_FINISHED, 0, 0, NULL);
    FUZZ_CHECK(rc == HOPS_OK, "hops_run_end: %s: %s", hops_err_name(rc), hops_last_error());
    hops_run_free(run);
    run = NULL;
    hops_project_close(proj);
    proj = NULL;
    hops__rm_rf(projdir);
    free(projdir);
    projdir = NULL;
}

static void cleanup(void)
{
    if (run)
        run_finish();
    if (workdir)
        hops__rm_rf(workdir);
    free(workdir);
    workdir = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_default_artifact_prefix(argc, argv);
    json_object_seed(1); /* the same key order on every run: reproducible */
    workdir = fuzz_tempdir("report");
    run_begin();
    atexit(cleanup);
    return 0;
}

/* hops__json_dumps(J) reads back as J. */
static void check_dumps(const json_t *j, size_t flags)
{
    json_error_t je;
    char *s = hops__json_dumps(j, flags);
    json_t *back;
    FUZZ_CHECK(s, "hops__json_dumps returned NULL");
    back = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    FUZZ_CHECK(back, "hops__json_dumps wrote bad JSON (%s): %.200s", je.text, s);
    FUZZ_CHECK(json_equal(back, j), "hops__json_dumps changed a value: %.200s", s);
    json_decref(back);
    free(s);
}

static void check_parse(const char *line, size_t len)
{
    char err[256];
    json_t *j;
    memset(err, 0, sizeof err);
    j = hops__report_parse(line, len, err, sizeof err);
    if (j) {
        FUZZ_CHECK(json_is_object(j), "hops__report_parse returned a non-object");
        check_dumps(j, JSON_COMPACT);
        check_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(j);
    } else {
        FUZZ_CHECK(err[0] != '\0', "hops__report_parse failed without a reason");
        FUZZ_CHECK(memchr(err, '\0', sizeof err), "unterminated error message");
    }
}

static void ingest(const char *line, size_t len)
{
    hops_status rc;
    if (len == 0 || (len == 1 && line[0] == '\r')) /* exec.c skips these */
        return;
    hops_error_clear();
    rc = hops_run_ingest_line(run, line, len);
    FUZZ_CHECK(rc == HOPS_OK || rc == HOPS_EPARSE, "hops_run_ingest_line: %s: %s",
               hops_err_name(rc), hops_last_error());
    if (rc == HOPS_EPARSE)
        FUZZ_CHECK(hops_last_error()[0] != '\0', "HOPS_EPARSE without a reason");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    hops_status rc;

    check_parse(s, size);

    while (size > 0) {
        const char *nl = memchr(s, '\n', size);
        size_t take = nl ? (size_t)(nl - s) : size;
        ingest(s, take);
        if (!nl)
            break;
        s = nl + 1;
        size -= take + 1;
    }

    n_inputs++;
    if (n_inputs % FLUSH_EVERY == 0) {
        rc = hops_run_flush(run);
        FUZZ_CHECK(rc == HOPS_OK, "hops_run_flush: %s: %s", hops_err_name(rc), hops_last_error());
    }
    if (n_inputs % INPUTS_PER_RUN == 0) {
        run_finish();
        run_begin();
    }
    return 0;
}
