/* The search driver: samplers + early stopping + the slot scheduler, with
 * every ask, attempt and tell recorded in SQLite so a search resumes. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpo_db.h"

enum { T_QUEUED, T_RUNNING, T_DONE };

typedef struct {
    int64_t trial;
    json_t *params;          /* the point (owned) */
    char *params_text;       /* sorted compact JSON, as recorded */
    int state;
    int64_t attempts;        /* attempts started, all sessions */
    int failures;            /* failed attempts this session */
    int task;                /* scheduler task while running */
    hops_run *run;
    hops__history hist;      /* heartbeats of the metric, this attempt */
    double final_value;
    int has_final, es_stop;
    double value;            /* the result told to the sampler */
    char done_state[16];
    char run_uid[32];
} trial_rec;

typedef struct {
    hops_project *p;
    const hops_hpo_options *o;
    hops_hpo_spec *spec;
    int64_t id;
    char *experiment;
    json_t *command;             /* argv (borrowed from the spec or built from o->argv) */
    hops__sampler *sampler;
    hops__asha *asha;
    trial_rec **trials;
    size_t n_trials, cap_trials;
    int64_t *queue;
    size_t n_queue, cap_queue;
    int sampler_done;
    hops__history *finished;     /* median rule: heartbeats of ended trials */
    size_t n_finished, cap_finished;
    int *task_trial;             /* scheduler task -> trial */
    size_t cap_task;
    hops_sched *sched;
    int session_failures, aborted, killed;
    char abort_msg[1024];
    double next_es_check;
    int64_t best_trial;
    double best_value;
    hops_status error;           /* a database error inside a callback */
} driver;

static void event(driver *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event(driver *d, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!d->o->on_event)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    d->o->on_event(line, d->o->event_ud);
}

static void trial_free(trial_rec *t)
{
    if (!t)
        return;
    json_decref(t->params);
    free(t->params_text);
    hops__history_free(&t->hist);
    if (t->run)
        hops_run_free(t->run);
    free(t);
}

static void driver_free(driver *d)
{
    for (size_t i = 0; i < d->n_trials; i++)
        trial_free(d->trials[i]);
    free(d->trials);
    free(d->queue);
    for (size_t i = 0; i < d->n_finished; i++)
        hops__history_free(&d->finished[i]);
    free(d->finished);
    free(d->task_trial);
    if (d->sampler)
        d->sampler->ops->free(d->sampler);
    hops__asha_free(d->asha);
    free(d->experiment);
    json_decref(d->command);
}

static hops_status push_queue(driver *d, int64_t trial)
{
    if (d->n_queue == d->cap_queue) {
        size_t nc = d->cap_queue ? d->cap_queue * 2 : 16;
        int64_t *q = realloc(d->queue, nc * sizeof *q);
        if (!q)
            return hops__error(HOPS_ENOMEM, "out of memory");
        d->queue = q;
        d->cap_queue = nc;
    }
    d->queue[d->n_queue++] = trial;
    d->trials[trial]->state = T_QUEUED;
    return HOPS_OK;
}

static hops_status add_trial(driver *d, json_t *params, trial_rec **out)
{
    trial_rec *t;
    if (d->n_trials == d->cap_trials) {
        size_t nc = d->cap_trials ? d->cap_trials * 2 : 64;
        trial_rec **tr = realloc(d->trials, nc * sizeof *tr);
        if (!tr)
            return hops__error(HOPS_ENOMEM, "out of memory");
        d->trials = tr;
        d->cap_trials = nc;
    }
    if (!(t = calloc(1, sizeof *t))) {
        json_decref(params);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    t->trial = (int64_t)d->n_trials;
    t->params = params;
    t->params_text = hops__json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
    t->task = -1;
    t->value = NAN;
    if (!t->params_text) {
        trial_free(t);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    d->trials[d->n_trials++] = t;
    *out = t;
    return HOPS_OK;
}

/* The sampler's next point as a new trial (recorded). HOPS_EBUSY: none now. */
static hops_status ask_new(driver *d, trial_rec **out)
{
    double *u;
    int done = 0;
    hops_status rc;
    *out = NULL;
    if (d->sampler_done)
        return HOPS_EBUSY;
    if (!(u = calloc(d->sampler->dims ? d->sampler->dims : 1, sizeof *u)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    rc = d->sampler->ops->ask(d->sampler, (int64_t)d->n_trials, u, &done);
    if (done)
        d->sampler_done = 1;
    if (rc == HOPS_OK) {
        json_t *params = hops__space_decode(d->spec->space, u);
        rc = params ? add_trial(d, params, out) : hops__error(HOPS_ENOMEM, "out of memory");
        if (rc == HOPS_OK)
            rc = hops__hpo_db_ask(d->p->db, d->id, (*out)->trial, (*out)->params_text);
    }
    free(u);
    return rc;
}

static hops_status next_trial(driver *d, trial_rec **out)
{
    *out = NULL;
    if (d->n_queue) {
        int64_t k = d->queue[0];
        memmove(d->queue, d->queue + 1, (d->n_queue - 1) * sizeof *d->queue);
        d->n_queue--;
        *out = d->trials[k];
        return HOPS_OK;
    }
    return ask_new(d, out);
}

static char *param_text(const json_t *v)
{
    if (json_is_string(v))
        return hops__strdup(json_string_value(v));
    if (json_is_true(v))
        return hops__strdup("true");
    if (json_is_false(v))
        return hops__strdup("false");
    return hops__json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* The trial's parameters as run params (text), plus ASHA's budget. */
static hops_status trial_params(driver *d, trial_rec *t, hops_kv **out, size_t *n_out)
{
    size_t n = json_object_size(t->params) + (d->spec->es == HOPS__ES_ASHA ? 1 : 0), k = 0;
    hops_kv *kv = calloc(n ? n : 1, sizeof *kv);
    const char *key;
    json_t *v;
    if (!kv)
        return hops__error(HOPS_ENOMEM, "out of memory");
    json_object_foreach(t->params, key, v) {
        kv[k].key = key;
        kv[k++].value = param_text(v);
    }
    if (d->spec->es == HOPS__ES_ASHA) {
        json_t *b = json_real(d->spec->max_resource);
        if (d->spec->max_resource == floor(d->spec->max_resource)) {
            json_decref(b);
            b = json_integer((json_int_t)d->spec->max_resource);
        }
        kv[k].key = d->spec->budget_param;
        kv[k++].value = param_text(b);
        json_decref(b);
    }
    for (size_t i = 0; i < k; i++)
        if (!kv[i].value) {
            for (size_t j = 0; j < k; j++)
                free((char *)kv[j].value);
            free(kv);
            return hops__error(HOPS_ENOMEM, "out of memory");
        }
    *out = kv;
    *n_out = k;
    return HOPS_OK;
}

static void free_kvs(hops_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)kv[i].value);
    free(kv);
}

static void update_best(driver *d, trial_rec *t)
{
    if (!isnan(t->value) && (d->best_trial < 0 || hops__better(t->value, d->best_value, d->spec->maximize))) {
        d->best_trial = t->trial;
        d->best_value = t->value;
    }
}

static void remember_history(driver *d, const hops__history *h)
{
    if (h->n == 0)
        return;
    if (d->n_finished == d->cap_finished) {
        size_t nc = d->cap_finished ? d->cap_finished * 2 : 16;
        hops__history *f = realloc(d->finished, nc * sizeof *f);
        if (!f)
            return;
        d->finished = f;
        d->cap_finished = nc;
    }
    hops__history *c = &d->finished[d->n_finished];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < h->n; i++)
        hops__history_push(c, h->v[i]);
    d->n_finished++;
}

/* The trial is over for the sampler: tell it and record. */
static void finish_trial(driver *d, trial_rec *t, const char *state, double value)
{
    json_t *snap;
    char *snap_text;
    hops_status rc;
    t->state = T_DONE;
    t->value = value;
    hops__strlcpy(t->done_state, state, sizeof t->done_state);
    d->sampler->ops->tell(d->sampler, t->trial, value);
    if (strcmp(state, "FAILED") != 0)
        remember_history(d, &t->hist);
    update_best(d, t);
    snap = d->sampler->ops->state(d->sampler);
    if (snap && d->asha)
        json_object_set_new(snap, "asha_rungs", hops__asha_state(d->asha));
    snap_text = snap ? hops__json_dumps(snap, JSON_COMPACT) : NULL;
    json_decref(snap);
    rc = hops__hpo_db_tell(d->p->db, d->id, t->trial, state, value, snap_text);
    free(snap_text);
    if (rc != HOPS_OK && d->error == HOPS_OK)
        d->error = rc;
}

/* The last line of a run's stderr.log, for failure messages. */
static void stderr_tail(const char *run_dir, char *out, size_t n)
{
    char *path = hops__aprintf("%s/stderr.log", run_dir), *text = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (path && hops__read_file(path, &text, &len) == HOPS_OK && len) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        char *nl = strrchr(text, '\n');
        snprintf(out, n, "%s", nl ? nl + 1 : text);
    }
    hops_error_clear();
    free(path);
    free(text);
}

static void stop_everything(driver *d)
{
    if (d->sched)
        hops_sched_shutdown(d->sched);
}

/* An attempt failed: retry it, give up on the trial, or stop the search. */
static void attempt_failed(driver *d, trial_rec *t, const char *why, const char *run_dir)
{
    char tail[300];
    stderr_tail(run_dir ? run_dir : "", tail, sizeof tail);
    d->session_failures++;
    t->failures++;
    snprintf(d->abort_msg, sizeof d->abort_msg, "trial %lld (run %s) %s%s%s",
             (long long)t->trial, t->run_uid, why, tail[0] ? "; its stderr ends: " : "", tail);
    event(d, "trial %lld FAILED (run %s): %s", (long long)t->trial, t->run_uid, why);
    if (d->session_failures >= d->spec->max_failures) {
        char last[1024];
        hops__strlcpy(last, d->abort_msg, sizeof last);
        snprintf(d->abort_msg, sizeof d->abort_msg,
                 "stopped: %d trial attempts failed (max_failures is %lld), so the search looks "
                 "hopeless; the last: %.700s",
                 d->session_failures, (long long)d->spec->max_failures, last);
        d->aborted = 1;
        t->state = T_QUEUED; /* not told: a resume runs it again */
        stop_everything(d);
        return;
    }
    if (t->failures <= d->spec->retries) {
        event(d, "trial %lld: retry %d of %lld", (long long)t->trial, t->failures,
              (long long)d->spec->retries);
        push_queue(d, t->trial);
        return;
    }
    finish_trial(d, t, "FAILED", NAN);
}

/* ---- process trials through the scheduler ---- */

static hops_status map_task(driver *d, int task, int64_t trial)
{
    if ((size_t)task >= d->cap_task) {
        size_t nc = d->cap_task ? d->cap_task * 2 : 64;
        while (nc <= (size_t)task)
            nc *= 2;
        int *m = realloc(d->task_trial, nc * sizeof *m);
        if (!m)
            return hops__error(HOPS_ENOMEM, "out of memory");
        d->task_trial = m;
        d->cap_task = nc;
    }
    d->task_trial[task] = (int)trial;
    return HOPS_OK;
}

static hops_status start_attempt(driver *d, trial_rec *t)
{
    hops_run_options ro = HOPS_RUN_OPTIONS_INIT;
    hops_task_options to = HOPS_TASK_OPTIONS_INIT;
    hops_kv *params = NULL, tags[2];
    size_t n_params = 0, argc = json_array_size(d->command), n_args = 0;
    char trial_s[32], attempt_s[32], slot[320];
    const char **argv = NULL;
    char **own = NULL, *env[6] = {0}, *out_path = NULL, *err_path = NULL, *rep_path = NULL;
    int task = -1;
    hops_status rc;

    if ((rc = trial_params(d, t, &params, &n_params)) != HOPS_OK)
        return rc;
    snprintf(trial_s, sizeof trial_s, "%lld", (long long)t->trial);
    snprintf(attempt_s, sizeof attempt_s, "%lld", (long long)t->attempts);
    tags[0] = (hops_kv){"hpo.trial", trial_s};
    tags[1] = (hops_kv){"hpo.attempt", attempt_s};
    argv = calloc(argc + n_params + 1, sizeof *argv);
    own = calloc(n_params + 1, sizeof *own);
    if (!argv || !own) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < argc; i++)
        argv[i] = json_string_value(json_array_get(d->command, i));
    if (d->spec->args)
        for (size_t i = 0; i < n_params; i++) {
            if (!(own[n_args] = hops__aprintf("--%s=%s", params[i].key, params[i].value))) {
                rc = hops__error(HOPS_ENOMEM, "out of memory");
                goto out;
            }
            argv[argc + n_args] = own[n_args];
            n_args++;
        }
    ro.experiment = d->experiment;
    ro.params = params;
    ro.n_params = n_params;
    ro.tags = tags;
    ro.n_tags = 2;
    ro.argv = argv;
    ro.argc = argc + n_args;
    ro.cwd = d->o->cwd;
    if ((rc = hops_run_start(&t->run, d->p, &ro)) != HOPS_OK)
        goto out;
    hops__strlcpy(t->run_uid, hops_run_id(t->run), sizeof t->run_uid);
    hops__history_free(&t->hist);
    t->has_final = t->es_stop = 0;
    out_path = hops__aprintf("%s/stdout.log", hops_run_dir(t->run));
    err_path = hops__aprintf("%s/stderr.log", hops_run_dir(t->run));
    rep_path = hops__aprintf("%s/report.in", hops_run_dir(t->run));
    env[0] = hops__aprintf("HOPS_PROJECT=%s", hops_project_root(d->p));
    env[1] = hops__aprintf("HOPS_RUN_ID=%s", hops_run_id(t->run));
    env[2] = hops__aprintf("HOPS_RUN_DIR=%s", hops_run_dir(t->run));
    env[3] = hops__aprintf("HOPS_PARAMS=%s", hops_run_params_json(t->run));
    env[4] = hops__aprintf("HOPS_EXPERIMENT=%s", d->experiment);
    env[5] = hops__aprintf("HOPS_TRIAL=%lld", (long long)t->trial);
    for (size_t i = 0; i < HOPS_ARRAY_LEN(env); i++)
        if (!env[i])
            rc = hops__error(HOPS_ENOMEM, "out of memory");
    if (!out_path || !err_path || !rep_path)
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    if (rc != HOPS_OK)
        goto fail_run;
    to.argv = argv;
    to.argc = argc + n_args;
    to.env = (const char *const *)env;
    to.n_env = HOPS_ARRAY_LEN(env);
    to.cwd = d->o->cwd;
    to.stdout_path = out_path;
    to.stderr_path = err_path;
    to.report_path = rep_path;
    {
        char name[48];
        snprintf(name, sizeof name, "hops-%s", t->run_uid);
        to.name = name;
        to.request = d->spec->request;
        to.timeout = d->spec->timeout;
        rc = hops_sched_submit(d->sched, &to, &task);
    }
    if (rc == HOPS_ENOTFOUND || rc == HOPS_ESPAWN) {
        /* Recorded as hops run records it: FAILED, 127 / 126. */
        char msg[512];
        int code = rc == HOPS_ENOTFOUND ? 127 : 126;
        hops__strlcpy(msg, hops_last_error(), sizeof msg);
        FILE *f = fopen(err_path, "ae");
        if (f) {
            fprintf(f, "hops: %s\n", msg);
            fclose(f);
        }
        hops_run_end(t->run, HOPS_RUN_FAILED, code, 0, msg);
        hops__hpo_db_attempt_start(d->p->db, d->id, t->trial, t->attempts, t->run_uid, NULL, 0);
        hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, t->attempts, "FAILED");
        t->attempts++;
        hops_run_free(t->run);
        t->run = NULL;
        t->state = T_RUNNING;
        attempt_failed(d, t, msg, NULL);
        rc = HOPS_OK;
        goto out;
    }
    if (rc != HOPS_OK)
        goto fail_run;
    t->task = task;
    t->state = T_RUNNING;
    if ((rc = map_task(d, task, t->trial)) != HOPS_OK)
        goto out;
    snprintf(slot, sizeof slot, "{\"cpu\":%u,\"gpus\":\"%s\",\"mem\":%g}",
             d->spec->request.cpu ? d->spec->request.cpu : 1, hops_sched_task_gpus(d->sched, task),
             d->spec->request.mem);
    rc = hops__hpo_db_attempt_start(d->p->db, d->id, t->trial, t->attempts, t->run_uid, slot,
                                    hops_sched_task_pid(d->sched, task));
    t->attempts++;
    event(d, "trial %lld started (run %s, attempt %lld): %s", (long long)t->trial, t->run_uid,
          (long long)t->attempts, t->params_text);
    goto out;
fail_run:
    {
        char msg[512];
        hops__strlcpy(msg, hops_last_error(), sizeof msg);
        if (t->run) {
            hops_run_end(t->run, HOPS_RUN_FAILED, -1, 0, msg);
            hops_run_free(t->run);
            t->run = NULL;
        }
        hops__error(rc, "%s", msg);
    }
out:
    for (size_t i = 0; i < HOPS_ARRAY_LEN(env); i++)
        free(env[i]);
    for (size_t i = 0; own && i < n_args; i++)
        free(own[i]);
    free(own);
    free(argv);
    free(out_path);
    free(err_path);
    free(rep_path);
    free_kvs(params, n_params);
    return rc;
}

static int on_fill(hops_sched *s, void *ud)
{
    driver *d = ud;
    while (!d->aborted && d->error == HOPS_OK && hops_sched_fits(s, &d->spec->request)) {
        trial_rec *t;
        hops_status rc = next_trial(d, &t);
        if (rc == HOPS_EBUSY)
            break;
        if (rc != HOPS_OK)
            return rc;
        if ((rc = start_attempt(d, t)) != HOPS_OK)
            return rc;
    }
    if (d->error != HOPS_OK)
        return d->error;
    if (d->aborted)
        return 1;
    return d->sampler_done && d->n_queue == 0 && hops_sched_running(s) == 0 ? 1 : 0;
}

/* A heartbeat or final line: record it, and feed early stopping. */
static void on_line(hops_sched *s, int task, const char *line, size_t len, void *ud)
{
    driver *d = ud;
    trial_rec *t = d->trials[d->task_trial[task]];
    json_t *j, *m, *f, *stepj;
    double v;
    hops_status rc;
    if (!t->run)
        return;
    rc = hops_run_ingest_line(t->run, line, len);
    if (rc == HOPS_EPARSE) {
        hops_log(HOPS_LOG_WARN, "run %s: report line ignored: %s", t->run_uid, hops_last_error());
        return;
    }
    if (!(j = json_loadb(line, len, 0, NULL)))
        return; /* bare NaN tokens: recorded by the run, no heartbeat here */
    m = json_object_get(j, "metrics");
    f = json_object_get(j, "final");
    stepj = json_object_get(j, "step");
    if (json_is_object(m) && hops__hpo_metric_value(json_object_get(m, d->spec->metric), &v) == 0) {
        double step = json_is_integer(stepj) ? (double)json_integer_value(stepj) : (double)t->hist.n;
        hops__history_push(&t->hist, v);
        if (d->asha && !t->es_stop && hops__asha_on_result(d->asha, t->trial, step, v)) {
            t->es_stop = 1;
            event(d, "trial %lld: ASHA stops it at step %g (%s %g)", (long long)t->trial, step,
                  d->spec->metric, v);
            hops_sched_stop(s, task);
        }
    }
    if (f && hops__hpo_metric_value(f, &v) == 0) {
        t->final_value = v;
        t->has_final = 1;
    } else if (json_is_object(f) && hops__hpo_metric_value(json_object_get(f, d->spec->metric), &v) == 0) {
        t->final_value = v;
        t->has_final = 1;
    }
    json_decref(j);
}

static void on_tick(hops_sched *s, void *ud)
{
    driver *d = ud;
    double now = hops__mono_time();
    for (size_t i = 0; i < d->n_trials; i++)
        if (d->trials[i]->run && d->trials[i]->state == T_RUNNING)
            hops_run_flush(d->trials[i]->run);
    if (d->spec->es != HOPS__ES_MEDIAN || now < d->next_es_check)
        return;
    d->next_es_check = now + d->spec->es_interval;
    for (size_t i = 0; i < d->n_trials; i++) {
        trial_rec *t = d->trials[i];
        if (t->state != T_RUNNING || t->es_stop || t->task < 0)
            continue;
        if (hops__median_should_stop(&t->hist, d->finished, d->n_finished, d->spec->maximize,
                                     d->spec->es_min)) {
            t->es_stop = 1;
            event(d, "trial %lld: the median rule stops it after %zu heartbeats (%s %g)",
                  (long long)t->trial, t->hist.n, d->spec->metric, t->hist.v[t->hist.n - 1]);
            hops_sched_stop(s, t->task);
        }
    }
}

static void on_end(hops_sched *s, int task, const hops_task_end *e, void *ud)
{
    driver *d = ud;
    trial_rec *t = d->trials[d->task_trial[task]];
    char reason[512];
    char *run_dir = t->run ? hops__strdup(hops_run_dir(t->run)) : NULL;
    int64_t attempt = t->attempts - 1;
    (void)s;
    t->task = -1;
    if (!t->run) {
        free(run_dir);
        return;
    }
    if (t->es_stop) {
        double last = t->hist.n ? t->hist.v[t->hist.n - 1] : NAN;
        if (!isnan(last))
            hops_run_log_final(t->run, d->spec->metric, last);
        snprintf(reason, sizeof reason, "stopped early by the %s rule after %zu heartbeats",
                 d->spec->es == HOPS__ES_ASHA ? "ASHA" : "median", t->hist.n);
        hops_run_end(t->run, HOPS_RUN_EARLY_STOPPED, e->exit_code, e->term_signal, reason);
        hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, attempt, "EARLY_STOPPED");
        event(d, "trial %lld EARLY_STOPPED (run %s): %s %g", (long long)t->trial, t->run_uid,
              d->spec->metric, last);
        finish_trial(d, t, "EARLY_STOPPED", last);
    } else if (e->stopped) { /* the search is stopping: a resume runs it again */
        const char *why = d->aborted ? "the search stopped (max_failures)"
                                     : "the search was interrupted";
        hops_run_end(t->run, HOPS_RUN_KILLED, e->exit_code, e->term_signal, why);
        hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, attempt, "KILLED");
        t->state = T_QUEUED;
    } else if (e->timed_out) {
        snprintf(reason, sizeof reason, "ran past its timeout of %gs and was stopped",
                 d->spec->timeout);
        hops_run_end(t->run, HOPS_RUN_FAILED, e->exit_code, e->term_signal, reason);
        hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, attempt, "FAILED");
        attempt_failed(d, t, reason, run_dir);
    } else if (e->exit_code == 0) {
        double v = t->has_final ? t->final_value : (t->hist.n ? t->hist.v[t->hist.n - 1] : NAN);
        hops_run_end(t->run, HOPS_RUN_FINISHED, 0, 0, NULL);
        if (isnan(v)) {
            hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, attempt, "FAILED");
            snprintf(reason, sizeof reason,
                     "finished without reporting the metric '%s' (report {\"final\": {\"%s\": "
                     "VALUE}} or heartbeats of it)", d->spec->metric, d->spec->metric);
            attempt_failed(d, t, reason, run_dir);
        } else {
            hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, attempt, "FINISHED");
            event(d, "trial %lld FINISHED (run %s): %s %g", (long long)t->trial, t->run_uid,
                  d->spec->metric, v);
            finish_trial(d, t, "FINISHED", v);
        }
    } else {
        hops_run_end(t->run, HOPS_RUN_FAILED, e->exit_code, e->term_signal, e->reason);
        hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, attempt, "FAILED");
        attempt_failed(d, t, e->reason ? e->reason : "failed", run_dir);
    }
    if (t->run) {
        hops_run_free(t->run);
        t->run = NULL;
    }
    free(run_dir);
}

/* ---- in-process trials ---- */

static hops_status run_in_process(driver *d)
{
    for (;;) {
        trial_rec *t;
        hops_run_options ro = HOPS_RUN_OPTIONS_INIT;
        hops_kv *params = NULL, tags[2];
        size_t n_params = 0;
        char trial_s[32], attempt_s[32], *run_dir;
        const char *reason = NULL;
        double value = NAN;
        hops_status rc;
        if (d->aborted || d->killed)
            return HOPS_OK;
        rc = next_trial(d, &t);
        if (rc == HOPS_EBUSY) {
            if (d->sampler_done)
                return HOPS_OK;
            return hops__error(HOPS_ESTATE, "the sampler is waiting for results that never come");
        }
        if (rc != HOPS_OK || (rc = trial_params(d, t, &params, &n_params)) != HOPS_OK)
            return rc;
        snprintf(trial_s, sizeof trial_s, "%lld", (long long)t->trial);
        snprintf(attempt_s, sizeof attempt_s, "%lld", (long long)t->attempts);
        tags[0] = (hops_kv){"hpo.trial", trial_s};
        tags[1] = (hops_kv){"hpo.attempt", attempt_s};
        ro.experiment = d->experiment;
        ro.params = params;
        ro.n_params = n_params;
        ro.tags = tags;
        ro.n_tags = 2;
        ro.cwd = d->o->cwd;
        rc = hops_run_start(&t->run, d->p, &ro);
        free_kvs(params, n_params);
        if (rc != HOPS_OK)
            return rc;
        hops__strlcpy(t->run_uid, hops_run_id(t->run), sizeof t->run_uid);
        hops__hpo_db_attempt_start(d->p->db, d->id, t->trial, t->attempts, t->run_uid, NULL, getpid());
        t->attempts++;
        t->state = T_RUNNING;
        event(d, "trial %lld started (run %s): %s", (long long)t->trial, t->run_uid, t->params_text);
        int r = d->o->objective(t->run, hops_run_params_json(t->run), &value, &reason,
                                d->o->objective_ud);
        run_dir = hops__strdup(hops_run_dir(t->run));
        if (r == 0 && !isnan(value)) {
            hops_run_log_final(t->run, d->spec->metric, value);
            hops_run_end(t->run, HOPS_RUN_FINISHED, -1, 0, NULL);
            hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, t->attempts - 1, "FINISHED");
            event(d, "trial %lld FINISHED (run %s): %s %g", (long long)t->trial, t->run_uid,
                  d->spec->metric, value);
            finish_trial(d, t, "FINISHED", value);
        } else if (r < 0) {
            hops_run_end(t->run, HOPS_RUN_KILLED, -1, SIGINT, reason ? reason : "interrupted");
            hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, t->attempts - 1, "KILLED");
            t->state = T_QUEUED;
            d->killed = SIGINT;
        } else {
            const char *why = r == 0 ? "returned no value (NaN)" : reason ? reason : "failed";
            hops_run_end(t->run, HOPS_RUN_FAILED, -1, 0, why);
            hops__hpo_db_attempt_end(d->p->db, d->id, t->trial, t->attempts - 1, "FAILED");
            attempt_failed(d, t, why, run_dir);
        }
        free(run_dir);
        hops_run_free(t->run);
        t->run = NULL;
        if (d->error != HOPS_OK)
            return d->error;
    }
}

/* ---- the session ---- */

static json_t *options_json(const hops_hpo_options *o)
{
    return json_pack("{s:{s:i, s:i, s:f}, s:s}", "slots", "cpu", (int)o->slots.cpu, "gpu",
                     (int)o->slots.gpu, "mem", o->slots.mem, "executor",
                     o->objective ? "in-process" : hops_executor_name(o->executor));
}

/* The rule hops_run_start applies to experiment names, checked before the
 * search is recorded. */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    json_t *j;
    if (n == 0 || n > 128 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '/' || s[i] == '\\' || s[i] == 0x7f)
            return 0;
    j = json_string(s); /* UTF-8 */
    json_decref(j);
    return j != NULL;
}

static hops_status check_fits(const hops_hpo_spec *spec, hops_slots slots)
{
    if (slots.cpu == 0 && slots.gpu == 0 && slots.mem == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        slots.cpu = n > 0 ? (unsigned)n : 1;
    }
    unsigned cpu = spec->request.cpu ? spec->request.cpu : 1;
    if (cpu > slots.cpu || spec->request.gpu > slots.gpu ||
        (slots.mem > 0 && spec->request.mem > slots.mem))
        return hops__error(HOPS_EINVAL,
                           "each trial asks for cpu=%u,gpu=%u,mem=%g (the spec's \"resources\") but "
                           "the slots are cpu=%u,gpu=%u,mem=%g: no trial could ever run",
                           cpu, spec->request.gpu, spec->request.mem, slots.cpu, slots.gpu, slots.mem);
    return HOPS_OK;
}

static void fill_result(const driver *d, hops_hpo_result *res, const char *state)
{
    if (!res)
        return;
    hops__strlcpy(res->experiment, d->experiment, sizeof res->experiment);
    hops__strlcpy(res->state, state, sizeof res->state);
    res->trials = (int64_t)d->n_trials;
    res->finished = res->failed = res->early_stopped = 0;
    for (size_t i = 0; i < d->n_trials; i++) {
        const trial_rec *t = d->trials[i];
        if (t->state != T_DONE)
            continue;
        if (strcmp(t->done_state, "FINISHED") == 0)
            res->finished++;
        else if (strcmp(t->done_state, "FAILED") == 0)
            res->failed++;
        else
            res->early_stopped++;
    }
    res->best_trial = d->best_trial;
    res->best_value = d->best_trial >= 0 ? d->best_value : NAN;
    if (d->best_trial >= 0)
        hops__strlcpy(res->best_run, d->trials[d->best_trial]->run_uid, sizeof res->best_run);
    res->term_signal = d->killed;
}

static hops_status session(driver *d, hops_hpo_result *res)
{
    hops_status rc = HOPS_OK;
    const char *final_state = "FINISHED";
    if (d->o->objective) {
        rc = run_in_process(d);
    } else {
        hops_sched_options so = HOPS_SCHED_OPTIONS_INIT;
        char *work = hops__aprintf("%s/hpo", hops_project_hops_dir(d->p));
        so.slots = d->o->slots;
        so.executor = d->o->executor;
        so.kill_grace = d->spec->kill_grace;
        so.handle_signals = d->o->handle_signals;
        so.slurm_partition = d->o->slurm_partition;
        so.work_dir = work;
        so.fill = on_fill;
        so.on_line = on_line;
        so.on_end = on_end;
        so.on_tick = on_tick;
        so.ud = d;
        if (work)
            hops__mkdir_p(work, 0755);
        d->next_es_check = hops__mono_time() + d->spec->es_interval;
        rc = hops_sched_new(&d->sched, &so);
        if (rc == HOPS_OK && hops_sched_slurm_job(d->sched)) {
            /* So that a resume after kill -9 can give the allocation back. */
            json_t *opts = options_json(d->o);
            char *text;
            json_object_set_new(opts, "slurm_job", json_string(hops_sched_slurm_job(d->sched)));
            text = hops__json_dumps(opts, JSON_COMPACT);
            json_decref(opts);
            if (text)
                hops__hpo_db_set_options(d->p->db, d->id, text);
            free(text);
        }
        if (rc == HOPS_OK) {
            rc = hops_sched_run(d->sched);
            d->killed = hops_sched_signal(d->sched);
            hops_sched_free(d->sched);
            d->sched = NULL;
        }
        free(work);
    }
    if (rc == HOPS_OK && d->error != HOPS_OK)
        rc = d->error;
    char reason[1100] = "";
    if (d->aborted) {
        final_state = "FAILED";
        hops__strlcpy(reason, d->abort_msg, sizeof reason);
    } else if (d->killed) {
        final_state = "KILLED";
        snprintf(reason, sizeof reason, "stopped by %s; `hops hpo resume %s` continues it",
                 strsignal(d->killed), d->experiment);
    } else if (rc != HOPS_OK) {
        final_state = "FAILED";
        hops__strlcpy(reason, hops_last_error(), sizeof reason);
    }
    {
        char saved[1100];
        hops__strlcpy(saved, hops_last_error(), sizeof saved);
        hops__hpo_db_finish(d->p->db, d->id, final_state, reason[0] ? reason : NULL);
        if (rc != HOPS_OK)
            hops__error(rc, "%s", saved);
    }
    fill_result(d, res, final_state);
    if (rc == HOPS_OK && d->aborted)
        rc = hops__error(HOPS_ERROR, "%s", d->abort_msg);
    return rc;
}

static hops_status command_of(driver *d, const hops_hpo_options *o, const json_t *stored)
{
    if (o->argv && o->argc) {
        d->command = json_array();
        for (size_t i = 0; i < o->argc; i++)
            json_array_append_new(d->command, json_string(o->argv[i] ? o->argv[i] : ""));
    } else if (stored && json_array_size(stored)) {
        d->command = json_deep_copy(stored);
    } else if (d->spec->command) {
        d->command = json_deep_copy(d->spec->command);
    } else if (!o->objective) {
        return hops__error(HOPS_EINVAL, "no trial command: put it after `--` or give \"command\" "
                                        "in the spec");
    } else {
        d->command = json_array();
    }
    return d->command ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

static hops_status driver_init(driver *d, hops_project *p, const hops_hpo_options *o)
{
    hops_status rc;
    d->p = p;
    d->o = o;
    d->best_trial = -1;
    d->best_value = NAN;
    if ((rc = hops__sampler_new(&d->sampler, d->spec)) != HOPS_OK)
        return rc;
    if (d->spec->es == HOPS__ES_ASHA && !o->objective)
        return hops__asha_new(&d->asha, d->spec->rf, d->spec->min_resource, d->spec->max_resource,
                              d->spec->maximize);
    return HOPS_OK;
}

hops_status hops_hpo_run(hops_project *p, const hops_hpo_options *o, hops_hpo_result *res)
{
    driver d;
    char *spec_text = NULL, *cmd_text = NULL, *opt_text = NULL;
    json_t *opts;
    hops_status rc;
    memset(&d, 0, sizeof d);
    if (res) {
        memset(res, 0, sizeof *res);
        res->best_trial = -1;
        res->best_value = NAN;
    }
    if (!o || o->version != HOPS_HPO_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_hpo_options: unknown version");
    if (!o->spec)
        return hops__error(HOPS_EINVAL, "no spec given");
    d.spec = (hops_hpo_spec *)o->spec;
    const char *name = o->experiment && *o->experiment ? o->experiment : d.spec->name;
    if (!name)
        return hops__error(HOPS_EINVAL, "no experiment name: give --name or \"name\" in the spec");
    if (!name_ok(name))
        return hops__error(HOPS_EINVAL,
                           "bad experiment name '%s': use 1-128 characters without '/' or control "
                           "characters", name);
    if (!o->objective && (rc = check_fits(d.spec, o->slots)) != HOPS_OK)
        return rc;
    if (!(d.experiment = hops__strdup(name)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    if ((rc = command_of(&d, o, NULL)) != HOPS_OK || (rc = driver_init(&d, p, o)) != HOPS_OK)
        goto out;
    spec_text = hops_hpo_spec_json(d.spec);
    cmd_text = hops__json_dumps(d.command, JSON_COMPACT);
    opts = options_json(o);
    opt_text = opts ? hops__json_dumps(opts, JSON_COMPACT) : NULL;
    json_decref(opts);
    if (!spec_text || !cmd_text || !opt_text) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = hops__hpo_db_create(p->db, d.experiment, spec_text, cmd_text, opt_text, &d.id)) != HOPS_OK)
        goto out;
    rc = session(&d, res);
out:
    free(spec_text);
    free(cmd_text);
    free(opt_text);
    d.spec = NULL; /* borrowed */
    driver_free(&d);
    return rc;
}

/* ---- resume ---- */

typedef struct {
    int64_t seq;
    int tell;
    int64_t trial;
} replay_event;

static int cmp_event(const void *a, const void *b)
{
    const replay_event *x = a, *y = b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Run ARGV, ignoring its output and fate (scancel of what may be gone). */
static void run_quietly(char *const *argv)
{
    char *out = NULL;
    int code;
    if (hops__run_capture(argv, NULL, &out, &code) != HOPS_OK)
        hops_error_clear();
    free(out);
}

/* Kill what is left of the attempts that were running when the driver died:
 * local process groups (when the pid still names the same process), sbatch
 * jobs (by their name, hops-RUN), and the srun allocation the dead driver
 * held (PREV_OPTIONS' "slurm_job"). */
static void kill_orphans(driver *d, const char *prev_options)
{
    sqlite3_stmt *st = NULL;
    json_t *prev = prev_options ? json_loads(prev_options, 0, NULL) : NULL;
    const char *ex = json_string_value(json_object_get(prev, "executor"));
    const char *job = json_string_value(json_object_get(prev, "slurm_job"));
    int slurm = ex && strncmp(ex, "slurm", 5) == 0;
    if (hops__db_prepare(d->p->db, "SELECT pid, pid_start, run_uid FROM hpo_attempts WHERE "
                                   "hpo_id = ?1 AND state = 'RUNNING'", &st) == HOPS_OK) {
        sqlite3_bind_int64(st, 1, d->id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            pid_t pid = (pid_t)sqlite3_column_int64(st, 0);
            unsigned long long start = (unsigned long long)sqlite3_column_int64(st, 1);
            const char *uid = (const char *)sqlite3_column_text(st, 2);
            if (pid > 1 && pid != getpid() && start && hops__proc_start_ticks(pid) == start)
                kill(-pid, SIGKILL);
            if (slurm && uid) {
                char name[64];
                snprintf(name, sizeof name, "--name=hops-%s", uid);
                char *argv[] = {"scancel", name, NULL};
                run_quietly(argv);
            }
        }
        sqlite3_finalize(st);
    }
    if (slurm && job) {
        char *argv[] = {"scancel", (char *)job, NULL};
        run_quietly(argv);
    }
    json_decref(prev);
    if (hops__db_prepare(d->p->db, "UPDATE hpo_attempts SET state = 'LOST', end_time = "
                                   "coalesce(end_time, start_time) WHERE hpo_id = ?1 AND "
                                   "state = 'RUNNING'", &st) == HOPS_OK) {
        hops__db_begin(d->p->db);
        sqlite3_bind_int64(st, 1, d->id);
        if (sqlite3_step(st) == SQLITE_DONE)
            hops__db_commit(d->p->db);
        else
            hops__db_rollback(d->p->db);
        sqlite3_finalize(st);
    }
}

/* The metric's heartbeats of RUN_UID: *H (and, for ASHA, steps/walls). */
static void load_series(driver *d, const char *run_uid, int64_t trial, hops__history *h)
{
    sqlite3_stmt *st = NULL;
    if (hops__db_prepare(d->p->db,
                         "SELECT m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id "
                         "JOIN metric_keys k ON k.id = m.key_id WHERE r.uid = ?1 AND k.name = ?2 "
                         "ORDER BY m.wall, m.rowid", &st) != HOPS_OK)
        return;
    sqlite3_bind_text(st, 1, run_uid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->spec->metric, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        double v = hops__db_column_double(st, 1);
        hops__history_push(h, v);
        if (d->asha) /* rebuild the rungs; decisions taken then stay taken */
            hops__asha_on_result(d->asha, trial, (double)sqlite3_column_int64(st, 0), v);
    }
    sqlite3_finalize(st);
}

static hops_status replay(driver *d)
{
    sqlite3_stmt *st = NULL;
    replay_event *ev = NULL;
    size_t n_ev = 0, cap = 0;
    hops_status rc;
    typedef struct {
        char *params, *state, *run;
        double value;
        int64_t attempts;
        int told;
    } row;
    row *rows = NULL;
    size_t n_rows = 0;

    rc = hops__db_prepare(d->p->db,
                          "SELECT t.trial, t.params, t.state, t.value, t.attempts, t.ask_seq, "
                          "t.tell_seq, (SELECT run_uid FROM hpo_attempts a WHERE a.hpo_id = t.hpo_id "
                          "AND a.trial = t.trial ORDER BY attempt DESC LIMIT 1) FROM hpo_trials t "
                          "WHERE t.hpo_id = ?1 ORDER BY t.trial", &st);
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, d->id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t trial = sqlite3_column_int64(st, 0);
        if (trial != (int64_t)n_rows) {
            rc = hops__error(HOPS_ECORRUPT, "search '%s': trial %lld is missing", d->experiment,
                             (long long)n_rows);
            break;
        }
        row *nr = realloc(rows, (n_rows + 1) * sizeof *nr);
        replay_event *ne = n_ev + 2 > cap ? realloc(ev, (cap = cap * 2 + 16) * sizeof *ne) : ev;
        if (!nr || !ne) {
            if (nr)
                rows = nr;
            if (ne)
                ev = ne;
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            break;
        }
        rows = nr;
        ev = ne;
        row *r = &rows[n_rows++];
        memset(r, 0, sizeof *r);
        r->params = hops__strdup((const char *)sqlite3_column_text(st, 1));
        r->state = hops__strdup((const char *)sqlite3_column_text(st, 2));
        r->value = hops__db_column_double(st, 3);
        r->attempts = sqlite3_column_int64(st, 4);
        r->run = sqlite3_column_text(st, 7) ? hops__strdup((const char *)sqlite3_column_text(st, 7)) : NULL;
        ev[n_ev++] = (replay_event){sqlite3_column_int64(st, 5), 0, trial};
        if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
            r->told = 1;
            ev[n_ev++] = (replay_event){sqlite3_column_int64(st, 6), 1, trial};
        }
    }
    sqlite3_finalize(st);
    if (rc == HOPS_OK)
        qsort(ev, n_ev, sizeof *ev, cmp_event);
    for (size_t k = 0; rc == HOPS_OK && k < n_ev; k++) {
        row *r = &rows[ev[k].trial];
        if (!ev[k].tell) {
            double *u = calloc(d->sampler->dims ? d->sampler->dims : 1, sizeof *u);
            int done = 0;
            trial_rec *t;
            if (!u) {
                rc = hops__error(HOPS_ENOMEM, "out of memory");
                break;
            }
            hops_status ar = d->sampler->ops->ask(d->sampler, ev[k].trial, u, &done);
            json_t *params = ar == HOPS_OK ? hops__space_decode(d->spec->space, u) : NULL;
            free(u);
            if (!params || (rc = add_trial(d, params, &t)) != HOPS_OK) {
                if (rc == HOPS_OK)
                    rc = hops__error(HOPS_ECORRUPT,
                                     "search '%s': the sampler does not propose trial %lld again on "
                                     "replay; the spec or the hops version changed",
                                     d->experiment, (long long)ev[k].trial);
                break;
            }
            if (!r->params || strcmp(t->params_text, r->params) != 0) {
                rc = hops__error(HOPS_ECORRUPT,
                                 "search '%s': on replay trial %lld comes out as %s, not the "
                                 "recorded %s; the spec or the hops version changed",
                                 d->experiment, (long long)ev[k].trial, t->params_text,
                                 r->params ? r->params : "?");
                break;
            }
            t->attempts = r->attempts;
            if (r->run)
                hops__strlcpy(t->run_uid, r->run, sizeof t->run_uid);
            t->state = T_QUEUED;
        } else {
            trial_rec *t = d->trials[ev[k].trial];
            if (t->run_uid[0] && d->spec->es != HOPS__ES_NONE)
                load_series(d, t->run_uid, t->trial, &t->hist);
            t->state = T_DONE;
            t->value = r->value;
            hops__strlcpy(t->done_state, r->state, sizeof t->done_state);
            d->sampler->ops->tell(d->sampler, t->trial, r->value);
            if (strcmp(r->state, "FAILED") != 0)
                remember_history(d, &t->hist);
            hops__history_free(&t->hist);
            update_best(d, t);
        }
    }
    /* The trials asked but never told were running: they run first. */
    for (size_t i = 0; rc == HOPS_OK && i < d->n_trials; i++)
        if (d->trials[i]->state == T_QUEUED)
            rc = push_queue(d, (int64_t)i);
    for (size_t i = 0; i < n_rows; i++) {
        free(rows[i].params);
        free(rows[i].state);
        free(rows[i].run);
    }
    free(rows);
    free(ev);
    return rc;
}

hops_status hops_hpo_resume(hops_project *p, const char *experiment, const hops_hpo_options *o,
                            hops_hpo_result *res)
{
    driver d;
    hops__hpo_row row;
    hops_hpo_options copy;
    json_t *stored_cmd = NULL, *opts = NULL;
    char *opt_text = NULL;
    hops_status rc;
    memset(&d, 0, sizeof d);
    if (res) {
        memset(res, 0, sizeof *res);
        res->best_trial = -1;
        res->best_value = NAN;
    }
    if (!o || o->version != HOPS_HPO_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_hpo_options: unknown version");
    if (o->spec)
        return hops__error(HOPS_EINVAL, "a resumed search keeps its spec: pass none");
    if (!experiment || !*experiment)
        return hops__error(HOPS_EINVAL, "which search? give its experiment name");
    if ((rc = hops__hpo_db_load(p->db, experiment, &row)) != HOPS_OK)
        return rc;
    if (strcmp(row.state, "RUNNING") == 0 && row.pid != getpid() &&
        hops__hpo_driver_alive(row.host, row.pid, row.pid_start)) {
        rc = hops__error(HOPS_EBUSY, "search '%s' is running now (driver pid %lld on %s)",
                         experiment, (long long)row.pid, row.host ? row.host : "?");
        goto out;
    }
    if ((rc = hops_hpo_spec_parse(&d.spec, row.spec, strlen(row.spec))) != HOPS_OK) {
        rc = hops__error_prefix(HOPS_ECORRUPT, "search '%s': its stored spec", experiment);
        goto out;
    }
    if (!(d.experiment = hops__strdup(experiment))) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    d.id = row.id;
    stored_cmd = row.command ? json_loads(row.command, 0, NULL) : NULL;
    if (o->slots.cpu == 0 && o->slots.gpu == 0 && o->slots.mem == 0 && row.options) {
        /* No slots given: the pool and executor the search last ran with. */
        json_t *prev = json_loads(row.options, 0, NULL), *sl = json_object_get(prev, "slots");
        const char *ex = json_string_value(json_object_get(prev, "executor"));
        copy = *o;
        copy.slots.cpu = (unsigned)json_integer_value(json_object_get(sl, "cpu"));
        copy.slots.gpu = (unsigned)json_integer_value(json_object_get(sl, "gpu"));
        copy.slots.mem = json_number_value(json_object_get(sl, "mem"));
        if (ex && strcmp(ex, "in-process") != 0)
            hops_executor_parse(&copy.executor, ex);
        json_decref(prev);
        o = &copy;
    }
    if ((rc = command_of(&d, o, stored_cmd)) != HOPS_OK || (rc = driver_init(&d, p, o)) != HOPS_OK)
        goto out;
    if (!o->objective && (rc = check_fits(d.spec, o->slots)) != HOPS_OK)
        goto out;
    hops_runs_reap(p, NULL);
    kill_orphans(&d, row.options);
    if ((rc = replay(&d)) != HOPS_OK)
        goto out;
    if (strcmp(row.state, "FINISHED") == 0 && d.n_queue == 0) {
        event(&d, "search '%s' had finished: nothing to run", experiment);
        fill_result(&d, res, "FINISHED");
        goto out;
    }
    opts = options_json(o);
    opt_text = opts ? hops__json_dumps(opts, JSON_COMPACT) : NULL;
    if ((rc = hops__hpo_db_claim(p->db, d.id, opt_text ? opt_text : "{}")) != HOPS_OK)
        goto out;
    event(&d, "resuming search '%s': %zu trials recorded, %zu to run again", experiment,
          d.n_trials, d.n_queue);
    rc = session(&d, res);
out:
    json_decref(stored_cmd);
    json_decref(opts);
    free(opt_text);
    hops__hpo_row_free(&row);
    hops_hpo_spec_free(d.spec);
    d.spec = NULL;
    driver_free(&d);
    return rc;
}
