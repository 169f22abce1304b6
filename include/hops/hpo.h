/* hops — parallel experiments: hyperparameter search.
 *
 * A search (an "hpo") belongs to one experiment. It has a spec: a search
 * space, a sampler (grid, random, or differential evolution in generational
 * or asynchronous steady-state mode), a direction and an optimization key,
 * optional early stopping (the median rule or ASHA), what each trial needs
 * (cores, GPUs, memory), a per-trial timeout, retries and a max-failures
 * guard. Each trial is one point of the space, run as a hops run (one run per
 * attempt) through the slot scheduler (sched.h); everything is in SQLite, so
 * a search whose driver was killed resumes where it was: finished trials are
 * kept, trials that were running are run again, and the sampler's state is
 * rebuilt by replaying its recorded asks and tells.
 *
 * The spec is JSON (docs/cmd-hpo.md has the reference):
 *   {"name": "mnist", "command": ["python3", "train.py"],
 *    "space": {"lr":     {"type": "float", "range": [1e-4, 1e-1], "log": true},
 *              "layers": {"type": "int", "range": [1, 8]},
 *              "opt":    {"type": "categorical", "values": ["adam", "sgd"]},
 *              "batch":  {"type": "discrete", "values": [16, 32, 64]}},
 *    "sampler": {"type": "de", "population": 8, "generations": 5,
 *                "mutation": 0.5, "crossover": 0.7, "mode": "async"},
 *    "seed": 1, "direction": "max", "metric": "accuracy",
 *    "early_stopping": {"type": "median", "min": 3, "interval": 1},
 *    "resources": {"cpu": 1, "gpu": 0, "mem": 0},
 *    "timeout": 600, "retries": 1, "max_failures": 5, "args": true}
 */
#ifndef HOPS_HPO_H
#define HOPS_HPO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "project.h"
#include "run.h"
#include "sched.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HOPS_PARAM_INT = 0,         /* integers lo..hi, both included */
    HOPS_PARAM_FLOAT = 1,       /* reals in [lo, hi], uniform or log-uniform */
    HOPS_PARAM_CATEGORICAL = 2, /* unordered choices: strings, numbers, booleans */
    HOPS_PARAM_DISCRETE = 3     /* ordered numeric choices */
} hops_param_type;

typedef struct hops_space hops_space;

/* Parse a search space: a JSON object {name: definition}. A definition is
 *   {"type": "int", "range": [lo, hi]}              lo < hi, integers
 *   {"type": "float", "range": [lo, hi], "log": b}  lo < hi; log needs lo > 0
 *   {"type": "categorical", "values": [v, ...]}     at least one value
 *   {"type": "discrete", "values": [n, ...]}        numbers, at least one
 * or one of hops-util-py's shapes: a boundary list [lo, hi] (int when both
 * are integers, else float), a list of strings (categorical), or a
 * Searchspace pair ["INTEGER"|"DOUBLE"|"DISCRETE"|"CATEGORICAL", [...]].
 * Errors are HOPS_EPARSE naming the field ("space.lr: range [0.1, 0.01]: lo
 * must be below hi"). The caller owns *out (hops_space_free). */
HOPS_EXTERN hops_status hops_space_parse(hops_space **out, const char *json, size_t len);
HOPS_EXTERN void hops_space_free(hops_space *s);

/* Number of parameters, and the name / type of parameter I (in the order
 * the space lists them). Borrowed. */
HOPS_EXTERN size_t hops_space_dims(const hops_space *s);
HOPS_EXTERN const char *hops_space_name(const hops_space *s, size_t i);
HOPS_EXTERN hops_param_type hops_space_type(const hops_space *s, size_t i);

typedef struct hops_hpo_spec hops_hpo_spec;

/* Parse a whole spec (see above); unknown keys are refused, every error
 * names its field ("sampler.population: must be at least 4"). *out owned. */
HOPS_EXTERN hops_status hops_hpo_spec_parse(hops_hpo_spec **out, const char *json, size_t len);

/* Read and parse a spec file; errors start with PATH. */
HOPS_EXTERN hops_status hops_hpo_spec_load(hops_hpo_spec **out, const char *path);

HOPS_EXTERN void hops_hpo_spec_free(hops_hpo_spec *s);

/* The spec as normalized JSON (every default filled in). Owned: hops_free. */
HOPS_EXTERN char *hops_hpo_spec_json(const hops_hpo_spec *s);

/* The spec's name and search space. Borrowed. */
HOPS_EXTERN const char *hops_hpo_spec_name(const hops_hpo_spec *s);
HOPS_EXTERN const hops_space *hops_hpo_spec_space(const hops_hpo_spec *s);

/* An in-process objective (the Python binding's train functions): evaluate
 * PARAMS_JSON, record metrics into RUN if it likes (hops_run_log_metric),
 * set *VALUE to the objective and return 0. A return > 0 marks the trial
 * FAILED (retries and max_failures apply); a return < 0 stops the search as
 * a signal would (the run KILLED, the search KILLED and resumable). REASON,
 * if set, is recorded; the callee keeps that string alive until its next
 * call. The library ends and frees RUN after the call. In-process trials run
 * one at a time and are not early-stopped. */
typedef int (*hops_objective_fn)(hops_run *run, const char *params_json, double *value,
                                 const char **reason, void *ud);

/* Progress, for a CLI: one line of text about a trial or the search. */
typedef void (*hops_hpo_event_fn)(const char *line, void *ud);

typedef struct {
    unsigned version;
    const hops_hpo_spec *spec;      /* hops_hpo_run: required; resume: NULL (the stored one) */
    const char *experiment;         /* NULL: the spec's name */
    const char *const *argv;        /* the trial command; NULL: the spec's "command" */
    size_t argc;
    hops_slots slots;               /* all 0: cpu = online cores */
    hops_executor_kind executor;
    const char *slurm_partition;    /* NULL: default */
    hops_objective_fn objective;    /* in-process trials instead of a command */
    void *objective_ud;
    hops_hpo_event_fn on_event;     /* may be NULL */
    void *event_ud;
    int handle_signals;             /* SIGINT/SIGTERM stop the trials; the search can resume */
    const char *cwd;                /* the trials' directory; NULL: ours */
} hops_hpo_options;

#define HOPS_HPO_OPTIONS_VERSION 1
#define HOPS_HPO_OPTIONS_INIT                                                          \
    {HOPS_HPO_OPTIONS_VERSION, NULL, NULL, NULL, 0, {0, 0, 0}, HOPS_EXECUTOR_LOCAL, NULL, \
     NULL, NULL, NULL, NULL, 0, NULL}

typedef struct {
    char experiment[129];
    char state[16];        /* FINISHED, FAILED (max-failures guard), KILLED (signal) */
    int64_t trials;        /* trials asked so far (all sessions) */
    int64_t finished, failed, early_stopped;
    int64_t best_trial;    /* -1 when no trial has a value */
    double best_value;
    char best_run[32];     /* the run of the best trial */
    int term_signal;       /* the signal that stopped the search, 0 when none */
} hops_hpo_result;

/* Start a new search as experiment o->experiment (or the spec's name) and run
 * it to the end. HOPS_EEXISTS when that experiment already has a search (use
 * hops_hpo_resume). Returns HOPS_OK when the search ran to its end or was
 * stopped by a signal (RES says which); HOPS_ERROR with the reason when the
 * max-failures guard stopped it (RES is filled in too); other codes for
 * setup errors (bad options, no command, the executor cannot start). */
HOPS_EXTERN hops_status hops_hpo_run(hops_project *p, const hops_hpo_options *o,
                                     hops_hpo_result *res);

/* Continue the search of EXPERIMENT after its driver died or was stopped:
 * finished trials are kept, trials that were running are run again (their
 * orphaned processes are killed first), the sampler is rebuilt by replay.
 * O may override slots, executor, objective, callbacks; o->spec must be NULL.
 * HOPS_ENOTFOUND when EXPERIMENT has no search, HOPS_EBUSY when its driver
 * is alive, HOPS_ECORRUPT when the replay does not reproduce the recorded
 * trials. A search that had finished just reports its result. */
HOPS_EXTERN hops_status hops_hpo_resume(hops_project *p, const char *experiment,
                                        const hops_hpo_options *o, hops_hpo_result *res);

/* A JSON object with a search's spec, state, counts, best trial and every
 * trial (number, state, value, params, attempts with their runs, start and
 * end times). HOPS_ENOTFOUND when EXPERIMENT has no search. Owned: hops_free. */
HOPS_EXTERN hops_status hops_hpo_show_json(hops_project *p, const char *experiment, char **out);

/* A JSON array: one summary per search in the project (experiment, state,
 * sampler, trials, best value). Owned: hops_free. */
HOPS_EXTERN hops_status hops_hpo_list_json(hops_project *p, char **out);

#ifdef __cplusplus
}
#endif
#endif
