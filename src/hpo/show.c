/* Reading searches back: hops_hpo_show_json and hops_hpo_list_json. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpo_db.h"

static json_t *num_or_null(sqlite3_stmt *st, int col)
{
    double v = hops__db_column_double(st, col);
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *text_json(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    json_t *j = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    return j ? j : json_null();
}

/* RUNNING with a dead driver reads as INTERRUPTED. */
static const char *shown_state(const hops__hpo_row *row)
{
    if (strcmp(row->state, "RUNNING") == 0 &&
        !hops__hpo_driver_alive(row->host, row->pid, row->pid_start))
        return "INTERRUPTED";
    return row->state;
}

static json_t *attempts_of(sqlite3 *db, int64_t id, int64_t trial)
{
    sqlite3_stmt *st = NULL;
    json_t *arr = json_array();
    if (hops__db_prepare(db, "SELECT attempt, run_uid, state, slot, start_time, end_time FROM "
                             "hpo_attempts WHERE hpo_id = ?1 AND trial = ?2 ORDER BY attempt",
                         &st) != HOPS_OK)
        return arr;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, trial);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *a = json_object();
        json_object_set_new(a, "attempt", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(a, "run", json_string((const char *)sqlite3_column_text(st, 1)));
        json_object_set_new(a, "state", json_string((const char *)sqlite3_column_text(st, 2)));
        json_object_set_new(a, "slot", text_json(st, 3));
        json_object_set_new(a, "start_time", num_or_null(st, 4));
        json_object_set_new(a, "end_time", num_or_null(st, 5));
        json_array_append_new(arr, a);
    }
    sqlite3_finalize(st);
    return arr;
}

static hops_status build(hops_project *p, const hops__hpo_row *row, const char *experiment,
                         int with_trials, json_t **out)
{
    sqlite3_stmt *st = NULL;
    json_t *o = json_object(), *trials = json_array(), *spec = json_loads(row->spec, 0, NULL);
    json_t *best = json_null();
    int64_t n = 0, finished = 0, failed = 0, stopped = 0, running = 0;
    int maximize = 1;
    double best_v = NAN;
    hops_status rc;
    if (spec && json_is_string(json_object_get(spec, "direction")))
        maximize = strcmp(json_string_value(json_object_get(spec, "direction")), "min") != 0;
    rc = hops__db_prepare(p->db,
                          "SELECT trial, params, state, value, attempts, start_time, end_time FROM "
                          "hpo_trials WHERE hpo_id = ?1 ORDER BY trial", &st);
    if (rc != HOPS_OK) {
        json_decref(o);
        json_decref(trials);
        json_decref(spec);
        return rc;
    }
    sqlite3_bind_int64(st, 1, row->id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t trial = sqlite3_column_int64(st, 0);
        const char *state = (const char *)sqlite3_column_text(st, 2);
        double v = hops__db_column_double(st, 3);
        json_t *t = json_object();
        n++;
        if (strcmp(state, "FINISHED") == 0)
            finished++;
        else if (strcmp(state, "FAILED") == 0)
            failed++;
        else if (strcmp(state, "EARLY_STOPPED") == 0)
            stopped++;
        else
            running++;
        json_object_set_new(t, "trial", json_integer(trial));
        json_object_set_new(t, "state", json_string(state));
        json_object_set_new(t, "value", num_or_null(st, 3));
        json_object_set_new(t, "params", text_json(st, 1));
        json_object_set_new(t, "start_time", num_or_null(st, 5));
        json_object_set_new(t, "end_time", num_or_null(st, 6));
        json_object_set_new(t, "attempts", attempts_of(p->db, row->id, trial));
        if (!isnan(v) && (isnan(best_v) || hops__better(v, best_v, maximize))) {
            json_t *atts = json_object_get(t, "attempts");
            json_t *last = json_array_get(atts, json_array_size(atts) - 1);
            best_v = v;
            json_decref(best);
            best = json_pack("{s:I, s:f, s:O, s:O}", "trial", (json_int_t)trial, "value", v,
                             "params", json_object_get(t, "params"), "run",
                             last ? json_object_get(last, "run") : json_null());
        }
        if (with_trials)
            json_array_append_new(trials, t);
        else
            json_decref(t);
    }
    sqlite3_finalize(st);
    json_object_set_new(o, "experiment", json_string(experiment));
    json_object_set_new(o, "state", json_string(shown_state(row)));
    json_object_set_new(o, "reason", row->reason ? json_string(row->reason) : json_null());
    json_object_set_new(o, "created", json_real(row->created));
    json_object_set_new(o, "end_time", isnan(row->end_time) ? json_null() : json_real(row->end_time));
    json_object_set_new(o, "driver", json_pack("{s:s?, s:I}", "host", row->host, "pid",
                                               (json_int_t)row->pid));
    json_object_set_new(o, "counts", json_pack("{s:I, s:I, s:I, s:I, s:I}", "trials", (json_int_t)n,
                                               "finished", (json_int_t)finished, "failed",
                                               (json_int_t)failed, "early_stopped",
                                               (json_int_t)stopped, "pending", (json_int_t)running));
    json_object_set_new(o, "best", best);
    if (with_trials) {
        json_t *cmd = row->command ? json_loads(row->command, 0, NULL) : NULL;
        json_t *opts = row->options ? json_loads(row->options, 0, NULL) : NULL;
        json_t *ss = row->sampler_state ? json_loads(row->sampler_state, 0, NULL) : NULL;
        json_object_set_new(o, "spec", spec ? spec : json_null());
        json_object_set_new(o, "command", cmd ? cmd : json_array());
        json_object_set_new(o, "options", opts ? opts : json_object());
        json_object_set_new(o, "sampler_state", ss ? ss : json_null());
        json_object_set_new(o, "trials", trials);
    } else {
        json_t *smp = spec ? json_object_get(spec, "sampler") : NULL;
        json_object_set_new(o, "sampler", smp ? json_incref(smp) : json_null());
        json_object_set_new(o, "metric", spec && json_object_get(spec, "metric")
                                             ? json_incref(json_object_get(spec, "metric"))
                                             : json_null());
        json_object_set_new(o, "direction", spec && json_object_get(spec, "direction")
                                                ? json_incref(json_object_get(spec, "direction"))
                                                : json_null());
        json_decref(spec);
        json_decref(trials);
    }
    *out = o;
    return HOPS_OK;
}

hops_status hops_hpo_show_json(hops_project *p, const char *experiment, char **out)
{
    hops__hpo_row row;
    json_t *o = NULL;
    hops_status rc;
    *out = NULL;
    if (!experiment || !*experiment)
        return hops__error(HOPS_EINVAL, "which search? give its experiment name");
    hops_runs_reap(p, NULL);
    if ((rc = hops__hpo_db_load(p->db, experiment, &row)) != HOPS_OK)
        return rc;
    rc = build(p, &row, experiment, 1, &o);
    hops__hpo_row_free(&row);
    if (rc != HOPS_OK)
        return rc;
    *out = hops__json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

hops_status hops_hpo_list_json(hops_project *p, char **out)
{
    sqlite3_stmt *st = NULL;
    json_t *arr = json_array();
    char **names = NULL;
    size_t n = 0;
    hops_status rc;
    *out = NULL;
    rc = hops__db_prepare(p->db, "SELECT e.name FROM hpo h JOIN experiments e ON e.id = "
                                 "h.experiment_id ORDER BY h.created", &st);
    if (rc != HOPS_OK) {
        json_decref(arr);
        return rc;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn)
            break;
        names = nn;
        names[n++] = hops__strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        hops__hpo_row row;
        json_t *o = NULL;
        if (names[i] && hops__hpo_db_load(p->db, names[i], &row) == HOPS_OK) {
            if (build(p, &row, names[i], 0, &o) == HOPS_OK)
                json_array_append_new(arr, o);
            hops__hpo_row_free(&row);
        }
        free(names[i]);
    }
    free(names);
    *out = hops__json_dumps(arr, JSON_INDENT(2));
    json_decref(arr);
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}
