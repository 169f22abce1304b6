/* Reading runs back: list with filter and sort, show, metric series,
 * delete, and reaping runs whose recorder died. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_internal.h"

#define RUN_COLUMNS                                                                      \
    "r.id, r.uid, e.name, r.state, r.command, r.cwd, r.git_commit, r.git_dirty, r.host, " \
    "r.user, r.pid, r.start_time, r.end_time, r.exit_code, r.signal, r.reason, r.run_dir"

static json_t *text_or_null(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? json_string((const char *)s) : json_null();
}

static json_t *int_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? json_null()
                                                       : json_integer(sqlite3_column_int64(st, col));
}

static hops_status kv_object(sqlite3 *db, const char *sql, int64_t row, json_t *obj, int typed)
{
    sqlite3_stmt *st;
    hops_status rc = hops__db_prepare(db, sql, &st);
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, row);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        json_object_set_new(obj, k ? k : "", typed ? hops__param_value(v ? v : "")
                                                   : json_string(v ? v : ""));
    }
    sqlite3_finalize(st);
    return HOPS_OK;
}

/* Latest value per key, overridden by final values. */
static hops_status metric_summary(sqlite3 *db, int64_t row, json_t *metrics)
{
    sqlite3_stmt *st;
    hops_status rc = hops__db_prepare(db,
                                      "SELECT k.name, l.value FROM metric_latest l JOIN metric_keys k "
                                      "ON k.id = l.key_id WHERE l.run_id = ?1 "
                                      "UNION ALL SELECT key, value FROM final_metrics WHERE run_id = ?1",
                                      &st);
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, row);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_object_set_new(metrics, (const char *)sqlite3_column_text(st, 0),
                            hops__json_metric(hops__db_column_double(st, 1)));
    sqlite3_finalize(st);
    return HOPS_OK;
}

/* Build the summary object of the run at the current row of ST (RUN_COLUMNS). */
static json_t *run_summary(sqlite3 *db, sqlite3_stmt *st, int full)
{
    json_t *o = json_object(), *params = json_object(), *tags = json_object();
    json_t *metrics = json_object();
    int64_t row = sqlite3_column_int64(st, 0);
    double start = sqlite3_column_double(st, 11);
    json_object_set_new(o, "id", text_or_null(st, 1));
    json_object_set_new(o, "experiment", text_or_null(st, 2));
    json_object_set_new(o, "state", text_or_null(st, 3));
    json_object_set_new(o, "start_time", json_real(start));
    if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
        double end = sqlite3_column_double(st, 12);
        json_object_set_new(o, "end_time", json_real(end));
        json_object_set_new(o, "duration", json_real(end - start));
    } else {
        json_object_set_new(o, "end_time", json_null());
        json_object_set_new(o, "duration", json_real(hops__wall_time() - start));
    }
    json_object_set_new(o, "exit_code", int_or_null(st, 13));
    json_object_set_new(o, "signal", int_or_null(st, 14));
    json_object_set_new(o, "reason", text_or_null(st, 15));
    if (full) {
        const char *cmd = (const char *)sqlite3_column_text(st, 4);
        json_t *argv = cmd ? json_loads(cmd, 0, NULL) : NULL;
        json_object_set_new(o, "command", argv ? argv : json_array());
        json_object_set_new(o, "cwd", text_or_null(st, 5));
        json_object_set_new(o, "git_commit", text_or_null(st, 6));
        json_object_set_new(o, "git_dirty", sqlite3_column_type(st, 7) == SQLITE_NULL
                                                ? json_null()
                                                : json_boolean(sqlite3_column_int(st, 7)));
        json_object_set_new(o, "host", text_or_null(st, 8));
        json_object_set_new(o, "user", text_or_null(st, 9));
        json_object_set_new(o, "pid", int_or_null(st, 10));
        json_object_set_new(o, "run_dir", text_or_null(st, 16));
    }
    kv_object(db, "SELECT key, value FROM params WHERE run_id = ?1 ORDER BY key", row, params, 1);
    kv_object(db, "SELECT key, value FROM tags WHERE run_id = ?1 ORDER BY key", row, tags, 0);
    metric_summary(db, row, metrics);
    json_object_set_new(o, "params", params);
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "metrics", metrics);
    return o;
}

/* ---- reaping ---- */

hops_status hops_runs_reap(hops_project *p, int *n_out)
{
    sqlite3 *db = p->db;
    sqlite3_stmt *st = NULL, *up = NULL;
    char host[256] = "";
    int n = 0;
    hops_status rc;
    int64_t dead[256];
    long long dead_pid[256];
    size_t n_dead = 0;

    if (n_out)
        *n_out = 0;
    gethostname(host, sizeof host - 1);
    rc = hops__db_prepare(db, "SELECT id, pid, pid_start FROM runs WHERE state = 'RUNNING' "
                              "AND host = ?1", &st);
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && n_dead < HOPS_ARRAY_LEN(dead)) {
        pid_t pid = (pid_t)sqlite3_column_int64(st, 1);
        unsigned long long want = (unsigned long long)sqlite3_column_int64(st, 2);
        if (pid <= 0 || hops__proc_start_ticks(pid) != want) {
            dead_pid[n_dead] = (long long)pid;
            dead[n_dead++] = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    if (n_dead == 0)
        return HOPS_OK;
    if ((rc = hops__db_begin(db)) != HOPS_OK)
        return rc;
    /* The end time is the last sign of life: the latest metric, or the start. */
    rc = hops__db_prepare(db,
                          "UPDATE runs SET state = 'FAILED', reason = ?2, end_time = "
                          "max(start_time, coalesce((SELECT max(wall) FROM metric_latest WHERE "
                          "run_id = ?1), start_time)) WHERE id = ?1 AND state = 'RUNNING'",
                          &up);
    for (size_t i = 0; rc == HOPS_OK && i < n_dead; i++) {
        char reason[256];
        snprintf(reason, sizeof reason,
                 "the hops process recording it (pid %lld) died without ending it "
                 "(killed with SIGKILL or crashed)", dead_pid[i]);
        sqlite3_bind_int64(up, 1, dead[i]);
        sqlite3_bind_text(up, 2, reason, -1, SQLITE_TRANSIENT);
        int src = sqlite3_step(up);
        sqlite3_reset(up);
        if (src != SQLITE_DONE)
            rc = hops__db_error(db, src, "mark dead run");
        else
            n += sqlite3_changes(db);
    }
    sqlite3_finalize(up);
    if (rc == HOPS_OK)
        rc = hops__db_commit(db);
    else
        hops__db_rollback(db);
    if (rc == HOPS_OK && n_out)
        *n_out = n;
    return rc;
}

/* ---- listing ---- */

static hops_status parse_sort(const char *sort, char **field_out, int *desc)
{
    size_t n;
    *desc = 0;
    *field_out = NULL;
    if (!sort || !*sort)
        return HOPS_OK;
    if (sort[0] == '-') {
        *desc = 1;
        sort++;
    }
    n = strcspn(sort, " :");
    if (n == 0)
        return hops__error(HOPS_EPARSE, "bad sort key '%s': use e.g. metrics.acc, -metrics.acc "
                                        "or 'metrics.acc desc'", sort);
    if (sort[n]) {
        const char *dir = sort + n + 1;
        while (*dir == ' ')
            dir++;
        if (strcasecmp(dir, "desc") == 0)
            *desc = 1;
        else if (strcasecmp(dir, "asc") != 0)
            return hops__error(HOPS_EPARSE, "bad sort direction '%s' at column %zu: use asc or desc",
                               dir, (size_t)(dir - sort) + 1);
    }
    *field_out = hops__strndup(sort, n);
    return *field_out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

static const char *sort_field;
static int sort_desc;

/* Missing or NaN values sort last in either direction. */
static int compare_runs(const void *a, const void *b)
{
    const json_t *ra = *(const json_t *const *)a, *rb = *(const json_t *const *)b;
    const json_t *fa = hops__run_field(ra, sort_field), *fb = hops__run_field(rb, sort_field);
    int cmp;
    if (hops__json_compare(fa, fb, &cmp) != 0) {
        int ha = hops__json_compare(fa, fa, &cmp) == 0;
        int hb = hops__json_compare(fb, fb, &cmp) == 0;
        return hb - ha;
    }
    return sort_desc ? -cmp : cmp;
}

hops_status hops_runs_list_json(hops_project *p, const hops_runs_query *q, char **out)
{
    static const hops_runs_query defaults = HOPS_RUNS_QUERY_INIT;
    sqlite3_stmt *st = NULL;
    hops_filter *filter = NULL;
    json_t *arr = NULL, **rows = NULL;
    size_t n = 0, cap = 0;
    char *field = NULL;
    int desc = 0;
    hops_status rc;

    *out = NULL;
    if (!q)
        q = &defaults;
    if (q->version != HOPS_RUNS_QUERY_VERSION)
        return hops__error(HOPS_EVERSION, "hops_runs_query: unknown version");
    if (q->filter && *q->filter && (rc = hops__filter_parse(&filter, q->filter)) != HOPS_OK)
        return rc;
    if ((rc = parse_sort(q->sort, &field, &desc)) != HOPS_OK)
        goto out;
    if ((rc = hops_runs_reap(p, NULL)) != HOPS_OK)
        goto out;
    rc = hops__db_prepare(p->db,
                          "SELECT " RUN_COLUMNS " FROM runs r JOIN experiments e ON "
                          "e.id = r.experiment_id WHERE ?1 IS NULL OR e.name = ?1 "
                          "ORDER BY r.start_time DESC, r.id DESC",
                          &st);
    if (rc != HOPS_OK)
        goto out;
    hops__db_bind_text(st, 1, q->experiment);
    for (;;) {
        int src = sqlite3_step(st);
        if (src == SQLITE_DONE)
            break;
        if (src != SQLITE_ROW) {
            rc = hops__db_error(p->db, src, "list runs");
            goto out;
        }
        json_t *run = run_summary(p->db, st, 0);
        if (!hops__filter_match(filter, run)) {
            json_decref(run);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            json_t **nr = realloc(rows, cap * sizeof *nr);
            if (!nr) {
                json_decref(run);
                rc = hops__error(HOPS_ENOMEM, "out of memory");
                goto out;
            }
            rows = nr;
        }
        rows[n++] = run;
    }
    if (field && n > 1) {
        sort_field = field;
        sort_desc = desc;
        qsort(rows, n, sizeof *rows, compare_runs); /* single-threaded CLI use */
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!q->limit || i < q->limit)
            json_array_append(arr, rows[i]);
    }
    *out = hops__json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    rc = *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
out:
    for (size_t i = 0; i < n; i++)
        json_decref(rows[i]);
    free(rows);
    json_decref(arr);
    sqlite3_finalize(st);
    hops__filter_free(filter);
    free(field);
    return rc;
}

/* ---- one run ---- */

hops_status hops_run_resolve(hops_project *p, const char *ref, char **out)
{
    sqlite3_stmt *st;
    hops_buf cands = HOPS_BUF_INIT;
    char *found = NULL;
    int n = 0;
    hops_status rc;
    *out = NULL;
    if (!ref || !*ref)
        return hops__error(HOPS_EINVAL, "no run id given");
    rc = hops__db_prepare(p->db, "SELECT uid FROM runs WHERE uid = ?1 OR "
                                 "substr(uid, 1, length(?1)) = ?1 ORDER BY uid = ?1 DESC, uid LIMIT 6",
                          &st);
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *uid = (const char *)sqlite3_column_text(st, 0);
        if (n == 0 && strcmp(uid, ref) == 0) { /* exact match wins */
            found = hops__strdup(uid);
            n = 1;
            break;
        }
        if (n == 0)
            found = hops__strdup(uid);
        if (n < 5)
            hops__buf_printf(&cands, "%s%s", n ? ", " : "", uid);
        n++;
    }
    sqlite3_finalize(st);
    if (n == 0) {
        hops__buf_free(&cands);
        return hops__error(HOPS_ENOTFOUND, "no run '%s'; see `hops runs list`", ref);
    }
    if (n > 1 && strcmp(found, ref) != 0) {
        rc = hops__error(HOPS_EAMBIGUOUS, "run id '%s' is ambiguous: %s%s; give more characters",
                         ref, cands.data, n > 5 ? ", ..." : "");
        free(found);
        hops__buf_free(&cands);
        return rc;
    }
    hops__buf_free(&cands);
    *out = found;
    return found ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

static hops_status load_run(hops_project *p, const char *ref, json_t **out, int64_t *row)
{
    sqlite3_stmt *st;
    char *uid = NULL;
    hops_status rc;
    *out = NULL;
    if ((rc = hops_runs_reap(p, NULL)) != HOPS_OK || (rc = hops_run_resolve(p, ref, &uid)) != HOPS_OK)
        return rc;
    rc = hops__db_prepare(p->db, "SELECT " RUN_COLUMNS " FROM runs r JOIN experiments e ON "
                                 "e.id = r.experiment_id WHERE r.uid = ?1", &st);
    if (rc == HOPS_OK) {
        sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = run_summary(p->db, st, 1);
            if (row)
                *row = sqlite3_column_int64(st, 0);
        } else
            rc = hops__error(HOPS_ENOTFOUND, "no run '%s'", ref);
        sqlite3_finalize(st);
    }
    free(uid);
    return rc;
}

hops_status hops_run_show_json(hops_project *p, const char *ref, char **out)
{
    json_t *run, *finals, *series;
    sqlite3_stmt *st;
    int64_t row;
    hops_status rc = load_run(p, ref, &run, &row);
    *out = NULL;
    if (rc != HOPS_OK)
        return rc;
    /* Final metrics apart, and per series: points, last step and value. */
    finals = json_object();
    series = json_object();
    if (hops__db_prepare(p->db, "SELECT key, value FROM final_metrics WHERE run_id = ?1 ORDER BY key",
                         &st) == HOPS_OK) {
        sqlite3_bind_int64(st, 1, row);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_object_set_new(finals, (const char *)sqlite3_column_text(st, 0),
                                hops__json_metric(hops__db_column_double(st, 1)));
        sqlite3_finalize(st);
    }
    if (hops__db_prepare(p->db,
                         "SELECT k.name, l.step, l.value, (SELECT count(*) FROM metrics m WHERE "
                         "m.run_id = l.run_id AND m.key_id = l.key_id) FROM metric_latest l JOIN "
                         "metric_keys k ON k.id = l.key_id WHERE l.run_id = ?1 ORDER BY k.name",
                         &st) == HOPS_OK) {
        sqlite3_bind_int64(st, 1, row);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *s = json_object();
            json_object_set_new(s, "points", json_integer(sqlite3_column_int64(st, 3)));
            json_object_set_new(s, "last_step", json_integer(sqlite3_column_int64(st, 1)));
            json_object_set_new(s, "last_value", hops__json_metric(hops__db_column_double(st, 2)));
            json_object_set_new(series, (const char *)sqlite3_column_text(st, 0), s);
        }
        sqlite3_finalize(st);
    }
    json_object_set_new(run, "final_metrics", finals);
    json_object_set_new(run, "series", series);
    *out = hops__json_dumps(run, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(run);
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

hops_status hops_run_metrics_json(hops_project *p, const char *ref, const char *key, char **out)
{
    json_t *run, *doc, *metrics;
    sqlite3_stmt *st;
    int64_t row;
    hops_status rc = load_run(p, ref, &run, &row);
    *out = NULL;
    if (rc != HOPS_OK)
        return rc;
    doc = json_object();
    metrics = json_object();
    json_object_set(doc, "run", json_object_get(run, "id"));
    json_decref(run);
    rc = hops__db_prepare(p->db,
                          "SELECT k.name, m.step, m.value, m.wall FROM metrics m JOIN metric_keys k "
                          "ON k.id = m.key_id WHERE m.run_id = ?1 AND (?2 IS NULL OR k.name = ?2) "
                          "ORDER BY k.name, m.step, m.rowid",
                          &st);
    if (rc == HOPS_OK) {
        sqlite3_bind_int64(st, 1, row);
        hops__db_bind_text(st, 2, key);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            json_t *arr = json_object_get(metrics, name);
            if (!arr) {
                arr = json_array();
                json_object_set_new(metrics, name, arr);
            }
            json_t *pt = json_array();
            json_array_append_new(pt, json_integer(sqlite3_column_int64(st, 1)));
            json_array_append_new(pt, hops__json_metric(hops__db_column_double(st, 2)));
            json_array_append_new(pt, json_real(sqlite3_column_double(st, 3)));
            json_array_append_new(arr, pt);
        }
        sqlite3_finalize(st);
    }
    if (rc == HOPS_OK && key && json_object_size(metrics) == 0)
        rc = hops__error(HOPS_ENOTFOUND, "run has no metric '%s'; `hops runs show RUN` lists them",
                         key);
    json_object_set_new(doc, "metrics", metrics);
    if (rc == HOPS_OK) {
        *out = hops__json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!*out)
            rc = hops__error(HOPS_ENOMEM, "out of memory");
    }
    json_decref(doc);
    return rc;
}

hops_status hops_run_delete(hops_project *p, const char *ref)
{
    static const char *const tables[] = {"metrics", "metric_latest", "final_metrics", "params",
                                         "tags"};
    json_t *run;
    int64_t row;
    char *dir = NULL;
    hops_status rc = load_run(p, ref, &run, &row);
    if (rc != HOPS_OK)
        return rc;
    if (strcmp(json_string_value(json_object_get(run, "state")), "RUNNING") == 0) {
        rc = hops__error(HOPS_ESTATE, "run %s is still running; stop it first",
                         json_string_value(json_object_get(run, "id")));
        json_decref(run);
        return rc;
    }
    dir = hops__strdup(json_string_value(json_object_get(run, "run_dir")));
    json_decref(run);
    if ((rc = hops__db_begin(p->db)) != HOPS_OK)
        goto out;
    for (size_t i = 0; i < HOPS_ARRAY_LEN(tables) + 1 && rc == HOPS_OK; i++) {
        char sql[96];
        sqlite3_stmt *st;
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = ?1",
                 i < HOPS_ARRAY_LEN(tables) ? tables[i] : "runs",
                 i < HOPS_ARRAY_LEN(tables) ? "run_id" : "id");
        if ((rc = hops__db_prepare(p->db, sql, &st)) != HOPS_OK)
            break;
        sqlite3_bind_int64(st, 1, row);
        int src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = hops__db_error(p->db, src, "delete run");
        sqlite3_finalize(st);
    }
    if (rc == HOPS_OK)
        rc = hops__db_commit(p->db);
    else
        hops__db_rollback(p->db);
    /* Files go after the rows: a crash in between leaves an orphan folder,
     * never a row pointing at nothing. */
    if (rc == HOPS_OK && dir && strstr(dir, "/.hops/runs/"))
        rc = hops__rm_rf(dir);
out:
    free(dir);
    return rc;
}

/* ---- comparing ---- */

static void compare_row(json_t *rows, const char *field, json_t *runs)
{
    json_t *row = json_object(), *values = json_array();
    const json_t *first = NULL;
    int differs = 0;
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run) {
        const json_t *v = hops__run_field(run, field);
        if (i == 0)
            first = v;
        else if (!(first && v ? json_equal((json_t *)first, (json_t *)v) : first == v))
            differs = 1;
        json_array_append_new(values, v ? json_deep_copy(v) : json_null());
    }
    json_object_set_new(row, "field", json_string(field));
    json_object_set_new(row, "values", values);
    json_object_set_new(row, "differs", json_boolean(differs));
    json_array_append_new(rows, row);
}

static int compare_str_ptrs(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One row per key of GROUP that any run has, sorted by key. */
static void compare_group(json_t *rows, const char *group, json_t *runs)
{
    json_t *keys = json_object(), *run, *v;
    const char *k;
    size_t i, n, j = 0;
    json_array_foreach(runs, i, run) json_object_foreach(json_object_get(run, group), k, v)
        json_object_set_new(keys, k, json_true());
    n = json_object_size(keys);
    const char **sorted = calloc(n ? n : 1, sizeof *sorted);
    if (!sorted) {
        json_decref(keys);
        return;
    }
    json_object_foreach(keys, k, v) sorted[j++] = k;
    qsort(sorted, n, sizeof *sorted, compare_str_ptrs);
    for (j = 0; j < n; j++) {
        char *field = hops__aprintf("%s.%s", group, sorted[j]);
        if (field)
            compare_row(rows, field, runs);
        free(field);
    }
    free(sorted);
    json_decref(keys);
}

hops_status hops_runs_compare_json(hops_project *p, const char *const *refs, size_t n, char **out)
{
    static const char *const plain[] = {"experiment", "state", "duration", "exit_code", "git_commit"};
    json_t *runs = json_array(), *ids = json_array(), *rows = json_array(), *doc;
    hops_status rc = HOPS_OK;
    *out = NULL;
    if (n < 2)
        return hops__error(HOPS_EINVAL, "give two or more runs to compare");
    for (size_t i = 0; i < n && rc == HOPS_OK; i++) {
        json_t *run;
        if ((rc = load_run(p, refs[i], &run, NULL)) == HOPS_OK) {
            json_array_append(ids, json_object_get(run, "id"));
            json_array_append_new(runs, run);
        }
    }
    if (rc == HOPS_OK) {
        for (size_t i = 0; i < HOPS_ARRAY_LEN(plain); i++)
            compare_row(rows, plain[i], runs);
        compare_group(rows, "params", runs);
        compare_group(rows, "metrics", runs);
        compare_group(rows, "tags", runs);
        doc = json_pack("{s:O, s:O}", "runs", ids, "rows", rows);
        *out = hops__json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(doc);
        if (!*out)
            rc = hops__error(HOPS_ENOMEM, "out of memory");
    }
    json_decref(runs);
    json_decref(ids);
    json_decref(rows);
    return rc;
}
