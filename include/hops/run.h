/* hops — versioned runs.
 *
 * A run is one execution of a program (or of in-process code) with its
 * parameters, tags, command, provenance (cwd, git, host, user), state, logs,
 * artifacts and metrics. Runs belong to an experiment (by name; "default" when
 * none is given). Each run has a short id, unique and sortable by time, and a
 * directory `.hops/runs/<experiment>/<id>/` holding params.json, stdout.log,
 * stderr.log, report.jsonl (every report line as received), artifacts/ and
 * tb/ (TensorBoard event files).
 *
 * Three sides of the API:
 *   - recording: hops_run_start / log / end, used by hops_run_exec and by
 *     in-process trials (the Python binding's experiment.launch);
 *   - executing: hops_run_exec runs a command under the trial protocol;
 *   - the trial: hops_report_* write JSON lines to $HOPS_REPORT.
 *   - querying: JSON documents for listing, showing and comparing runs.
 */
#ifndef HOPS_RUN_H
#define HOPS_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "project.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HOPS_RUN_RUNNING = 0,
    HOPS_RUN_FINISHED = 1,
    HOPS_RUN_FAILED = 2,
    HOPS_RUN_KILLED = 3,
    HOPS_RUN_EARLY_STOPPED = 4  /* stopped by an early-stopping rule (hops hpo) */
} hops_run_state;

/* "RUNNING", "FINISHED", "FAILED", "KILLED", "EARLY_STOPPED". */
HOPS_EXTERN const char *hops_run_state_name(hops_run_state s);

typedef struct hops_kv {
    const char *key;
    const char *value;
} hops_kv;

typedef struct hops_run hops_run;

/* What a run records about itself. Strings are copied. */
typedef struct {
    unsigned version;
    const char *experiment;   /* NULL: "default" */
    const hops_kv *params;    /* values as text; numbers/bools typed in HOPS_PARAMS */
    size_t n_params;
    const hops_kv *tags;
    size_t n_tags;
    const char *const *argv;  /* the command (recorded; run by hops_run_exec) */
    size_t argc;
    const char *cwd;          /* NULL: the current directory */
} hops_run_options;

#define HOPS_RUN_OPTIONS_VERSION 1
#define HOPS_RUN_OPTIONS_INIT {HOPS_RUN_OPTIONS_VERSION, NULL, NULL, 0, NULL, 0, NULL, 0, NULL}

/* ---- recording ---------------------------------------------------------- */

/* Create a run in state RUNNING: its row (one transaction) and its directory.
 * Parameter and tag keys must be non-empty and unique (HOPS_EINVAL otherwise).
 * The caller owns *out: end it with hops_run_end() and free it with
 * hops_run_free(). The run keeps P borrowed; P must outlive it. */
HOPS_EXTERN hops_status hops_run_start(hops_run **out, hops_project *p,
                                       const hops_run_options *opts);

/* Borrowed strings, valid until hops_run_free(). */
HOPS_EXTERN const char *hops_run_id(const hops_run *r);
HOPS_EXTERN const char *hops_run_dir(const hops_run *r);
HOPS_EXTERN const char *hops_run_experiment(const hops_run *r);

/* The JSON object given to the trial as HOPS_PARAMS. Borrowed. */
HOPS_EXTERN const char *hops_run_params_json(const hops_run *r);

/* Record one point of the time series KEY at STEP, with the current wall
 * time; also written to the run's TensorBoard file. Buffered: points reach
 * SQLite in batches (hops_run_flush, hops_run_end). NaN and +-Inf are kept. */
HOPS_EXTERN hops_status hops_run_log_metric(hops_run *r, const char *key, int64_t step,
                                            double value);

/* Record a final metric (the value the run is judged by). Buffered. */
HOPS_EXTERN hops_status hops_run_log_final(hops_run *r, const char *key, double value);

/* Take one report line of the trial protocol:
 *   {"step": 3, "metrics": {"loss": 0.2}}   {"final": {"accuracy": 0.93}}
 * Values may be numbers or the strings "NaN", "Infinity", "-Infinity" (bare
 * NaN/Infinity tokens as Python's json writes them are accepted too). Every
 * line is appended to report.jsonl. A line that is not a valid report returns
 * HOPS_EPARSE with the reason in hops_last_error(); the run is unaffected. */
HOPS_EXTERN hops_status hops_run_ingest_line(hops_run *r, const char *line, size_t len);

/* Commit buffered points to SQLite (one transaction). */
HOPS_EXTERN hops_status hops_run_flush(hops_run *r);

/* Flush, then set the final state, the exit code (-1: none, as for runs of
 * in-process code), the signal that ended it (0: none) and an optional
 * reason; one transaction. A run can be ended once. */
HOPS_EXTERN hops_status hops_run_end(hops_run *r, hops_run_state state, int exit_code,
                                     int term_signal, const char *reason);

/* Free the handle. A run never ended is ended as FAILED ("abandoned"). */
HOPS_EXTERN void hops_run_free(hops_run *r);

/* ---- executing ---------------------------------------------------------- */

typedef struct {
    unsigned version;
    hops_run_options run;      /* run.argv is the command; argc >= 1 */
    int tee;                   /* also copy the child's stdout/stderr to ours */
    int forward_signals;       /* while running, SIGINT/SIGTERM/SIGHUP go to the child's
                                  process group; the run is then KILLED */
    /* Called once the run exists, before the child starts. May be NULL. */
    void (*on_start)(const char *run_id, const char *run_dir, void *ud);
    void *ud;
} hops_exec_options;

#define HOPS_EXEC_OPTIONS_VERSION 1
#define HOPS_EXEC_OPTIONS_INIT {HOPS_EXEC_OPTIONS_VERSION, HOPS_RUN_OPTIONS_INIT, 0, 0, NULL, NULL}

typedef struct {
    char run_id[32];
    hops_run_state state;
    int exit_code;      /* the child's exit status; 127 when it could not start */
    int term_signal;    /* the signal that ended it, 0 if none */
    long bad_lines;     /* report lines that were not valid reports */
} hops_exec_result;

/* Run OPTS->run.argv as a new run under the trial protocol: the child gets
 * HOPS_PROJECT, HOPS_RUN_ID, HOPS_RUN_DIR, HOPS_PARAMS and HOPS_REPORT (a
 * path to write report lines to), runs in its own process group with stdout
 * and stderr captured to the run's log files, and its reports are recorded as
 * they arrive. Returns HOPS_OK once the run is recorded, whatever the child's
 * fate (see RES); a command that cannot be started is recorded FAILED with
 * exit code 127 and returns HOPS_OK too. */
HOPS_EXTERN hops_status hops_run_exec(hops_project *p, const hops_exec_options *opts,
                                      hops_exec_result *res);

/* ---- the trial side ----------------------------------------------------- */

/* Report from inside a trial: one JSON line appended atomically to the file
 * named by $HOPS_REPORT. HOPS_ENOTFOUND when HOPS_REPORT is not set (the
 * program is not running under hops). Safe from several threads. */
HOPS_EXTERN hops_status hops_report_metric(const char *key, int64_t step, double value);
HOPS_EXTERN hops_status hops_report_step(int64_t step, size_t n, const char *const *keys,
                                         const double *values);
HOPS_EXTERN hops_status hops_report_final(const char *key, double value);
HOPS_EXTERN hops_status hops_report_finals(size_t n, const char *const *keys,
                                           const double *values);

/* ---- querying ----------------------------------------------------------- */

typedef struct {
    unsigned version;
    const char *experiment;  /* NULL: all */
    const char *filter;      /* e.g. "metrics.acc>0.9 and params.lr=0.01"; NULL: none */
    const char *sort;        /* e.g. "metrics.acc", "-start_time"; NULL: newest first */
    size_t limit;            /* 0: no limit */
} hops_runs_query;

#define HOPS_RUNS_QUERY_VERSION 1
#define HOPS_RUNS_QUERY_INIT {HOPS_RUNS_QUERY_VERSION, NULL, NULL, NULL, 0}

/* Mark runs whose driver process died (kill -9, power loss) as FAILED with a
 * reason. Done by every query; exposed for tools. *n_out (may be NULL) gets
 * how many were marked. */
HOPS_EXTERN hops_status hops_runs_reap(hops_project *p, int *n_out);

/* A JSON array of run summaries (id, experiment, state, times, params, tags,
 * metrics: final value or else the latest reported value per key).
 * HOPS_EPARSE for a bad filter or sort, with the position in the message.
 * *out is owned by the caller: free with hops_free(). */
HOPS_EXTERN hops_status hops_runs_list_json(hops_project *p, const hops_runs_query *q,
                                            char **out);

/* Resolve REF (a full id or a unique prefix) to a full run id (hops_free).
 * HOPS_ENOTFOUND, or HOPS_EAMBIGUOUS naming the candidates. */
HOPS_EXTERN hops_status hops_run_resolve(hops_project *p, const char *ref, char **out);

/* A JSON object with everything about one run. */
HOPS_EXTERN hops_status hops_run_show_json(hops_project *p, const char *ref, char **out);

/* A JSON object {"run": id, "metrics": {KEY: [[step, value, wall_time]...]}};
 * KEY NULL: every key. */
HOPS_EXTERN hops_status hops_run_metrics_json(hops_project *p, const char *ref,
                                              const char *key, char **out);

/* A JSON object comparing N >= 2 runs side by side:
 *   {"runs": [id...], "rows": [{"field": "params.lr", "values": [...],
 *                               "differs": true}, ...]}
 * Rows: experiment, state, duration, exit_code, git_commit, then every
 * params.*, metrics.* and tags.* key any of the runs has, sorted. */
HOPS_EXTERN hops_status hops_runs_compare_json(hops_project *p, const char *const *refs, size_t n,
                                               char **out);

/* Delete a run: its rows (one transaction) and then its directory. A RUNNING
 * run whose driver is alive is refused with HOPS_ESTATE. */
HOPS_EXTERN hops_status hops_run_delete(hops_project *p, const char *ref);

/* Free memory the library handed out. */
HOPS_EXTERN void hops_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
