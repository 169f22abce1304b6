/* Recording a run: its row, its directory, its buffered metrics. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_internal.h"
#include "tfevents.h"

#define FLUSH_POINTS 16384      /* auto-flush when this many points wait */
#define MAX_KEY_LEN 250

typedef struct {
    char *name;
    int64_t id;        /* metric_keys.id, 0 until resolved */
    int64_t step;      /* latest point not yet in metric_latest */
    double value, wall;
    int dirty;
} metric_key;

typedef struct {
    uint32_t key;      /* index into keys */
    int64_t step;
    double value, wall;
} metric_point;

typedef struct {
    char *key;
    double value;
} final_metric;

struct hops_run {
    hops_project *p;
    int64_t row;
    char uid[15];
    char *experiment, *dir, *params_json;
    int ended;
    int64_t next_auto_step;

    metric_key *keys;
    size_t n_keys, cap_keys;
    size_t last_key;
    metric_point *points;
    size_t n_points, cap_points;
    final_metric *finals;
    size_t n_finals, cap_finals;

    FILE *report_log;          /* report.jsonl, opened on the first line */
    hops_tfevents *tb;
    int tb_failed;
    sqlite3_stmt *ins_metric, *upsert_latest, *ins_final, *ins_key, *get_key;
};

const char *hops_run_state_name(hops_run_state s)
{
    switch (s) {
    case HOPS_RUN_RUNNING:
        return "RUNNING";
    case HOPS_RUN_FINISHED:
        return "FINISHED";
    case HOPS_RUN_FAILED:
        return "FAILED";
    case HOPS_RUN_KILLED:
        return "KILLED";
    case HOPS_RUN_EARLY_STOPPED:
        return "EARLY_STOPPED";
    }
    return "UNKNOWN";
}

/* ---- JSON helpers shared by src/run ---- */

json_t *hops__json_metric(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "Infinity" : "-Infinity");
    return json_real(v);
}

int hops__json_metric_value(const json_t *j, double *out)
{
    if (json_is_number(j)) {
        *out = json_number_value(j);
        return 0;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (strcmp(s, "NaN") == 0 || strcmp(s, "nan") == 0)
            *out = NAN;
        else if (strcmp(s, "Infinity") == 0 || strcmp(s, "inf") == 0)
            *out = INFINITY;
        else if (strcmp(s, "-Infinity") == 0 || strcmp(s, "-inf") == 0)
            *out = -INFINITY;
        else
            return -1;
        return 0;
    }
    if (json_is_null(j)) { /* JavaScript's JSON.stringify writes NaN as null */
        *out = NAN;
        return 0;
    }
    return -1;
}

json_t *hops__param_value(const char *text)
{
    char *end;
    if (strcmp(text, "true") == 0)
        return json_true();
    if (strcmp(text, "false") == 0)
        return json_false();
    if (*text && !isspace((unsigned char)*text)) {
        errno = 0;
        long long ll = strtoll(text, &end, 10);
        if (*end == '\0' && errno == 0)
            return json_integer(ll);
        double d = strtod(text, &end);
        if (*end == '\0' && isfinite(d) && strchr("0123456789+-.", *text) && !strpbrk(text, "xXpP"))
            return json_real(d);
    }
    return json_string(text);
}

/* Rewrite bare NaN / Infinity / -Infinity tokens outside strings into the
 * strings "NaN" / "Infinity" / "-Infinity". Returns a new buffer or NULL when
 * there were none. */
static char *quote_nonfinite(const char *s, size_t len, size_t *out_len)
{
    hops_buf b = HOPS_BUF_INIT;
    int in_str = 0, changed = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            hops__buf_put(&b, &c, 1);
            if (c == '\\' && i + 1 < len)
                hops__buf_put(&b, &s[++i], 1);
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        static const char *const toks[] = {"-Infinity", "Infinity", "NaN"};
        int hit = 0;
        for (size_t t = 0; t < HOPS_ARRAY_LEN(toks); t++) {
            size_t tl = strlen(toks[t]);
            if (len - i >= tl && memcmp(s + i, toks[t], tl) == 0) {
                hops__buf_printf(&b, "\"%s\"", toks[t]);
                i += tl - 1;
                hit = changed = 1;
                break;
            }
        }
        if (!hit)
            hops__buf_put(&b, &c, 1);
    }
    if (!changed) {
        hops__buf_free(&b);
        return NULL;
    }
    *out_len = b.len;
    return hops__buf_detach(&b);
}

json_t *hops__report_parse(const char *line, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        size_t fixed_len = 0;
        char *fixed = quote_nonfinite(line, len, &fixed_len);
        if (fixed) { /* its length, not strlen: a NUL byte must still be refused */
            j = json_loadb(fixed, fixed_len, JSON_REJECT_DUPLICATES, NULL);
            free(fixed);
        }
    }
    if (!j) {
        snprintf(err, errlen, "not JSON: %s (column %d)", je.text, je.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        snprintf(err, errlen, "a report line must be a JSON object");
        json_decref(j);
        return NULL;
    }
    return j;
}

/* ---- keys and buffers ---- */

/* Make room for one more element in *ARR (N used of *CAP, each SIZE bytes). */
static hops_status grow(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
    void **p = arr;
    if (n < *cap)
        return HOPS_OK;
    size_t ncap = *cap ? *cap * 2 : first;
    void *q = realloc(*p, ncap * size);
    if (!q)
        return hops__error(HOPS_ENOMEM, "out of memory");
    *p = q;
    *cap = ncap;
    return HOPS_OK;
}

/* Text must be UTF-8: it goes into JSON documents. */
static int utf8_valid(const char *s)
{
    json_t *j = json_string(s); /* jansson refuses invalid UTF-8 */
    json_decref(j);
    return j != NULL;
}

static int key_valid(const char *key, char *err, size_t errlen)
{
    size_t n = strlen(key);
    if (n == 0 || n > MAX_KEY_LEN) {
        snprintf(err, errlen, "metric names must have 1 to %d characters", MAX_KEY_LEN);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20) {
            snprintf(err, errlen, "metric name has a control character");
            return 0;
        }
    return 1;
}

static hops_status key_index(hops_run *r, const char *name, uint32_t *out)
{
    if (r->n_keys && strcmp(r->keys[r->last_key].name, name) == 0) {
        *out = (uint32_t)r->last_key;
        return HOPS_OK;
    }
    for (size_t i = 0; i < r->n_keys; i++)
        if (strcmp(r->keys[i].name, name) == 0) {
            r->last_key = i;
            *out = (uint32_t)i;
            return HOPS_OK;
        }
    if (grow(&r->keys, r->n_keys, &r->cap_keys, sizeof *r->keys, 16) != HOPS_OK)
        return HOPS_ENOMEM;
    if (!utf8_valid(name)) /* checked once per new name, not per point */
        return hops__error(HOPS_EINVAL, "bad metric name: not valid UTF-8");
    metric_key *k = &r->keys[r->n_keys];
    memset(k, 0, sizeof *k);
    if (!(k->name = hops__strdup(name)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    r->last_key = r->n_keys;
    *out = (uint32_t)r->n_keys++;
    return HOPS_OK;
}

hops_status hops_run_log_metric(hops_run *r, const char *key, int64_t step, double value)
{
    char err[128];
    uint32_t ki = 0;
    hops_status rc;
    double wall = hops__wall_time();
    if (r->ended)
        return hops__error(HOPS_ESTATE, "run %s has ended", r->uid);
    if (!key || !key_valid(key, err, sizeof err))
        return hops__error(HOPS_EINVAL, "bad metric name: %s", key ? err : "NULL");
    if ((rc = key_index(r, key, &ki)) != HOPS_OK)
        return rc;
    if (grow(&r->points, r->n_points, &r->cap_points, sizeof *r->points, 1024) != HOPS_OK)
        return HOPS_ENOMEM;
    r->points[r->n_points++] = (metric_point){ki, step, value, wall};
    metric_key *k = &r->keys[ki];
    k->step = step;
    k->value = value;
    k->wall = wall;
    k->dirty = 1;
    if (step >= r->next_auto_step)
        r->next_auto_step = step < INT64_MAX ? step + 1 : step;
    if (!r->tb && !r->tb_failed) {
        char *tbdir = hops__aprintf("%s/tb", r->dir);
        if (!tbdir || hops__tfevents_open(&r->tb, tbdir) != HOPS_OK) {
            r->tb_failed = 1;
            hops_log(HOPS_LOG_WARN, "run %s: no TensorBoard file: %s", r->uid, hops_last_error());
        }
        free(tbdir);
    }
    if (r->tb && hops__tfevents_scalar(r->tb, key, step, wall, (float)value) != HOPS_OK) {
        hops_log(HOPS_LOG_WARN, "run %s: TensorBoard write failed: %s", r->uid, hops_last_error());
        hops__tfevents_close(r->tb);
        r->tb = NULL;
        r->tb_failed = 1;
    }
    if (r->n_points >= FLUSH_POINTS)
        return hops_run_flush(r);
    return HOPS_OK;
}

hops_status hops_run_log_final(hops_run *r, const char *key, double value)
{
    char err[128];
    if (r->ended)
        return hops__error(HOPS_ESTATE, "run %s has ended", r->uid);
    if (!key || !key_valid(key, err, sizeof err))
        return hops__error(HOPS_EINVAL, "bad metric name: %s", key ? err : "NULL");
    if (!utf8_valid(key))
        return hops__error(HOPS_EINVAL, "bad metric name: not valid UTF-8");
    for (size_t i = 0; i < r->n_finals; i++)
        if (strcmp(r->finals[i].key, key) == 0) {
            r->finals[i].value = value;
            return HOPS_OK;
        }
    if (grow(&r->finals, r->n_finals, &r->cap_finals, sizeof *r->finals, 8) != HOPS_OK)
        return HOPS_ENOMEM;
    if (!(r->finals[r->n_finals].key = hops__strdup(key)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    r->finals[r->n_finals++].value = value;
    return HOPS_OK;
}

static hops_status ingest_object(hops_run *r, json_t *j, char *err, size_t errlen)
{
    json_t *step_j = json_object_get(j, "step");
    json_t *metrics = json_object_get(j, "metrics");
    json_t *final = json_object_get(j, "final");
    const char *key;
    json_t *v;
    double d;
    int64_t step;
    hops_status rc;

    if (!metrics && !final) {
        snprintf(err, errlen, "a report line needs \"metrics\" or \"final\"");
        return HOPS_EPARSE;
    }
    if (step_j && !json_is_integer(step_j)) {
        snprintf(err, errlen, "\"step\" must be an integer");
        return HOPS_EPARSE;
    }
    if (metrics && !json_is_object(metrics)) {
        snprintf(err, errlen, "\"metrics\" must be an object of name: number");
        return HOPS_EPARSE;
    }
    if (final && !json_is_object(final) && hops__json_metric_value(final, &d) != 0) {
        snprintf(err, errlen, "\"final\" must be a number or an object of name: number");
        return HOPS_EPARSE;
    }
    /* Check every value before recording any, so a line is all or nothing. */
    json_object_foreach(metrics, key, v) {
        if (hops__json_metric_value(v, &d) != 0 || !key_valid(key, err, errlen)) {
            if (hops__json_metric_value(v, &d) != 0)
                snprintf(err, errlen, "metric \"%.64s\" is not a number", key);
            return HOPS_EPARSE;
        }
    }
    if (json_is_object(final))
        json_object_foreach(final, key, v) {
            if (hops__json_metric_value(v, &d) != 0 || !key_valid(key, err, errlen)) {
                if (hops__json_metric_value(v, &d) != 0)
                    snprintf(err, errlen, "final metric \"%.64s\" is not a number", key);
                return HOPS_EPARSE;
            }
        }
    step = step_j ? (int64_t)json_integer_value(step_j) : r->next_auto_step;
    json_object_foreach(metrics, key, v) {
        hops__json_metric_value(v, &d);
        if ((rc = hops_run_log_metric(r, key, step, d)) != HOPS_OK)
            return rc;
    }
    if (json_is_object(final)) {
        json_object_foreach(final, key, v) {
            hops__json_metric_value(v, &d);
            if ((rc = hops_run_log_final(r, key, d)) != HOPS_OK)
                return rc;
        }
    } else if (final) {
        hops__json_metric_value(final, &d);
        if ((rc = hops_run_log_final(r, "metric", d)) != HOPS_OK) /* hops-util-py's name */
            return rc;
    }
    return HOPS_OK;
}

hops_status hops_run_ingest_line(hops_run *r, const char *line, size_t len)
{
    char err[256];
    json_t *j;
    hops_status rc;
    if (r->ended)
        return hops__error(HOPS_ESTATE, "run %s has ended", r->uid);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (!r->report_log) {
        char *path = hops__aprintf("%s/report.jsonl", r->dir);
        r->report_log = path ? fopen(path, "ae") : NULL;
        free(path);
    }
    if (r->report_log) {
        fwrite(line, 1, len, r->report_log);
        fputc('\n', r->report_log);
    }
    j = hops__report_parse(line, len, err, sizeof err);
    if (!j)
        return hops__error(HOPS_EPARSE, "%s", err);
    rc = ingest_object(r, j, err, sizeof err);
    json_decref(j);
    if (rc == HOPS_EPARSE)
        return hops__error(HOPS_EPARSE, "%s", err);
    return rc;
}

/* ---- flushing to SQLite ---- */

static hops_status prepare_all(hops_run *r)
{
    sqlite3 *db = r->p->db;
    hops_status rc;
    if (r->ins_metric)
        return HOPS_OK;
    if ((rc = hops__db_prepare(db, "INSERT INTO metrics(run_id, key_id, step, value, wall) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5)", &r->ins_metric)) ||
        (rc = hops__db_prepare(db, "INSERT INTO metric_latest(run_id, key_id, step, value, wall) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(run_id, key_id) DO "
                                   "UPDATE SET step = excluded.step, value = excluded.value, "
                                   "wall = excluded.wall", &r->upsert_latest)) ||
        (rc = hops__db_prepare(db, "INSERT OR REPLACE INTO final_metrics(run_id, key, value) "
                                   "VALUES (?1, ?2, ?3)", &r->ins_final)) ||
        (rc = hops__db_prepare(db, "INSERT OR IGNORE INTO metric_keys(name) VALUES (?1)",
                               &r->ins_key)) ||
        (rc = hops__db_prepare(db, "SELECT id FROM metric_keys WHERE name = ?1", &r->get_key)))
        return rc;
    return HOPS_OK;
}

static void bind_metric(sqlite3_stmt *st, int idx, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_double(st, idx, v);
}

static hops_status step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int src = sqlite3_step(st);
    sqlite3_reset(st);
    return src == SQLITE_DONE || src == SQLITE_ROW ? HOPS_OK : hops__db_error(db, src, what);
}

static hops_status resolve_keys(hops_run *r)
{
    sqlite3 *db = r->p->db;
    hops_status rc;
    for (size_t i = 0; i < r->n_keys; i++) {
        metric_key *k = &r->keys[i];
        if (k->id)
            continue;
        sqlite3_bind_text(r->ins_key, 1, k->name, -1, SQLITE_STATIC);
        if ((rc = step_done(db, r->ins_key, "metric name")) != HOPS_OK)
            return rc;
        sqlite3_bind_text(r->get_key, 1, k->name, -1, SQLITE_STATIC);
        if (sqlite3_step(r->get_key) == SQLITE_ROW)
            k->id = sqlite3_column_int64(r->get_key, 0);
        sqlite3_reset(r->get_key);
        if (!k->id)
            return hops__db_error(db, SQLITE_ERROR, "metric name");
    }
    return HOPS_OK;
}

hops_status hops_run_flush(hops_run *r)
{
    sqlite3 *db = r->p->db;
    hops_status rc;
    int any_dirty = 0;
    for (size_t i = 0; i < r->n_keys; i++)
        any_dirty |= r->keys[i].dirty;
    if (r->report_log)
        fflush(r->report_log);
    if (r->tb)
        hops__tfevents_flush(r->tb);
    if (r->n_points == 0 && r->n_finals == 0 && !any_dirty)
        return HOPS_OK;
    if ((rc = prepare_all(r)) != HOPS_OK)
        return rc;
    if ((rc = hops__db_begin(db)) != HOPS_OK)
        return rc;
    if ((rc = resolve_keys(r)) != HOPS_OK)
        goto fail;
    sqlite3_bind_int64(r->ins_metric, 1, r->row);
    for (size_t i = 0; i < r->n_points; i++) {
        metric_point *pt = &r->points[i];
        sqlite3_bind_int64(r->ins_metric, 2, r->keys[pt->key].id);
        sqlite3_bind_int64(r->ins_metric, 3, pt->step);
        bind_metric(r->ins_metric, 4, pt->value);
        sqlite3_bind_double(r->ins_metric, 5, pt->wall);
        if ((rc = step_done(db, r->ins_metric, "insert metric")) != HOPS_OK)
            goto fail;
    }
    sqlite3_bind_int64(r->upsert_latest, 1, r->row);
    for (size_t i = 0; i < r->n_keys; i++) {
        metric_key *k = &r->keys[i];
        if (!k->dirty)
            continue;
        sqlite3_bind_int64(r->upsert_latest, 2, k->id);
        sqlite3_bind_int64(r->upsert_latest, 3, k->step);
        bind_metric(r->upsert_latest, 4, k->value);
        sqlite3_bind_double(r->upsert_latest, 5, k->wall);
        if ((rc = step_done(db, r->upsert_latest, "latest metric")) != HOPS_OK)
            goto fail;
    }
    sqlite3_bind_int64(r->ins_final, 1, r->row);
    for (size_t i = 0; i < r->n_finals; i++) {
        sqlite3_bind_text(r->ins_final, 2, r->finals[i].key, -1, SQLITE_STATIC);
        bind_metric(r->ins_final, 3, r->finals[i].value);
        if ((rc = step_done(db, r->ins_final, "final metric")) != HOPS_OK)
            goto fail;
    }
    if ((rc = hops__db_commit(db)) != HOPS_OK)
        goto keep; /* points stay buffered: a later flush retries */
    r->n_points = 0;
    for (size_t i = 0; i < r->n_keys; i++)
        r->keys[i].dirty = 0;
    for (size_t i = 0; i < r->n_finals; i++)
        free(r->finals[i].key);
    r->n_finals = 0;
    return HOPS_OK;
fail:
    hops__db_rollback(db);
keep:
    /* Key ids assigned inside the rolled-back transaction are not real. */
    for (size_t i = 0; i < r->n_keys; i++)
        r->keys[i].id = 0;
    return rc;
}

/* ---- start / end ---- */

static int name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '/' || c == '\\' || c == 0x7f)
            return 0;
    }
    return 1;
}

static hops_status check_kvs(const hops_kv *kv, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (!kv[i].key || !*kv[i].key)
            return hops__error(HOPS_EINVAL, "%s %zu has an empty name", what, i + 1);
        if (!kv[i].value)
            return hops__error(HOPS_EINVAL, "%s '%s' has no value", what, kv[i].key);
        if (!utf8_valid(kv[i].key) || !utf8_valid(kv[i].value))
            return hops__error(HOPS_EINVAL, "%s %zu is not valid UTF-8", what, i + 1);
        for (size_t k = 0; k < i; k++)
            if (strcmp(kv[i].key, kv[k].key) == 0)
                return hops__error(HOPS_EINVAL, "%s '%s' is given twice", what, kv[i].key);
    }
    return HOPS_OK;
}

static void git_info(const char *cwd, char **commit, int *dirty)
{
    char *out = NULL;
    int code = -1;
    char *const rev[] = {"git", "rev-parse", "--verify", "-q", "HEAD", NULL};
    char *const st[] = {"git", "status", "--porcelain", "--untracked-files=no", NULL};
    *commit = NULL;
    *dirty = -1;
    if (hops__run_capture(rev, cwd, &out, &code) != HOPS_OK || code != 0) {
        free(out);
        hops_error_clear();
        return;
    }
    out[strcspn(out, "\r\n")] = '\0';
    if (strlen(out) >= 40)
        *commit = out;
    else
        free(out);
    out = NULL;
    if (hops__run_capture(st, cwd, &out, &code) == HOPS_OK && code == 0)
        *dirty = out[0] != '\0';
    free(out);
}

static char *current_user(void)
{
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res)
        return hops__strdup(res->pw_name);
    const char *u = getenv("USER");
    return hops__strdup(u ? u : "unknown");
}

static hops_status insert_kvs(sqlite3 *db, const char *table, int64_t row, const hops_kv *kv,
                              size_t n)
{
    char sql[128];
    sqlite3_stmt *st;
    hops_status rc;
    snprintf(sql, sizeof sql, "INSERT INTO %s(run_id, key, value) VALUES (?1, ?2, ?3)", table);
    if ((rc = hops__db_prepare(db, sql, &st)) != HOPS_OK)
        return rc;
    for (size_t i = 0; i < n && rc == HOPS_OK; i++) {
        sqlite3_bind_int64(st, 1, row);
        sqlite3_bind_text(st, 2, kv[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, kv[i].value, -1, SQLITE_STATIC);
        rc = step_done(db, st, table);
    }
    sqlite3_finalize(st);
    return rc;
}

static hops_status insert_run(hops_run *r, const hops_run_options *o, const char *cwd)
{
    sqlite3 *db = r->p->db;
    sqlite3_stmt *st = NULL;
    char host[256] = "";
    char *commit = NULL, *user = current_user(), *cmd = NULL;
    int dirty = -1, src;
    int64_t exp_id;
    json_t *argv = json_array();
    hops_status rc;

    for (size_t i = 0; i < o->argc; i++)
        json_array_append_new(argv, json_string(o->argv[i] ? o->argv[i] : ""));
    cmd = json_dumps(argv, JSON_COMPACT);
    json_decref(argv);
    gethostname(host, sizeof host - 1);
    git_info(cwd, &commit, &dirty);

    if ((rc = hops__db_begin(db)) != HOPS_OK)
        goto out;
    if ((rc = hops__experiment_id(db, r->experiment, &exp_id)) != HOPS_OK)
        goto fail;
    rc = hops__db_prepare(db,
                          "INSERT INTO runs(uid, experiment_id, state, command, cwd, git_commit, "
                          "git_dirty, host, user, pid, pid_start, start_time, run_dir) VALUES "
                          "(?1, ?2, 'RUNNING', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                          &st);
    if (rc != HOPS_OK)
        goto fail;
    sqlite3_bind_text(st, 1, r->uid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, exp_id);
    hops__db_bind_text(st, 3, cmd ? cmd : "[]");
    hops__db_bind_text(st, 4, cwd);
    hops__db_bind_text(st, 5, commit);
    if (dirty >= 0)
        sqlite3_bind_int(st, 6, dirty);
    hops__db_bind_text(st, 7, host);
    hops__db_bind_text(st, 8, user);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)getpid());
    sqlite3_bind_int64(st, 10, (sqlite3_int64)hops__proc_start_ticks(getpid()));
    sqlite3_bind_double(st, 11, hops__wall_time());
    hops__db_bind_text(st, 12, r->dir);
    src = sqlite3_step(st);
    if (src == SQLITE_CONSTRAINT_UNIQUE) { /* another process made the same id */
        rc = hops__error(HOPS_EEXISTS, "run id %s is taken", r->uid);
        goto fail;
    }
    if (src != SQLITE_DONE) {
        rc = hops__db_error(db, src, "insert run");
        goto fail;
    }
    r->row = sqlite3_last_insert_rowid(db);
    if ((rc = insert_kvs(db, "params", r->row, o->params, o->n_params)) != HOPS_OK ||
        (rc = insert_kvs(db, "tags", r->row, o->tags, o->n_tags)) != HOPS_OK)
        goto fail;
    rc = hops__db_commit(db);
    goto out;
fail:
    hops__db_rollback(db);
out:
    sqlite3_finalize(st);
    free(commit);
    free(user);
    free(cmd);
    return rc;
}

hops_status hops_run_start(hops_run **out, hops_project *p, const hops_run_options *o)
{
    hops_run *r;
    hops_status rc;
    char cwdbuf[4096];
    const char *cwd;
    json_t *params;
    char *artifacts = NULL, *params_path = NULL;

    *out = NULL;
    if (!o || o->version != HOPS_RUN_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_run_options: unknown version");
    const char *exp = o->experiment && *o->experiment ? o->experiment : "default";
    if (!name_valid(exp) || !utf8_valid(exp))
        return hops__error(HOPS_EINVAL,
                           "bad experiment name '%s': use 1-128 characters without '/' or "
                           "control characters", exp);
    if ((rc = check_kvs(o->params, o->n_params, "parameter")) != HOPS_OK ||
        (rc = check_kvs(o->tags, o->n_tags, "tag")) != HOPS_OK)
        return rc;
    cwd = o->cwd ? o->cwd : getcwd(cwdbuf, sizeof cwdbuf);

    if (!(r = calloc(1, sizeof *r)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    r->p = p;
    r->experiment = hops__strdup(exp);
    params = json_object();
    for (size_t i = 0; i < o->n_params; i++)
        json_object_set_new(params, o->params[i].key, hops__param_value(o->params[i].value));
    /* Shortest form: the decimal a user typed (0.1) comes back as typed. */
    r->params_json = hops__json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(params);
    if (!r->experiment || !r->params_json) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto fail;
    }
    /* Ids are unique within a process; across processes a clash is a one in
     * a million event per millisecond: take a new id and try again. */
    for (int attempt = 0; attempt < 5; attempt++) {
        hops__make_id(r->uid);
        free(r->dir);
        free(artifacts);
        free(params_path);
        r->dir = hops__aprintf("%s/runs/%s/%s", p->hops_dir, exp, r->uid);
        artifacts = hops__aprintf("%s/artifacts", r->dir);
        params_path = hops__aprintf("%s/params.json", r->dir);
        if (!r->dir || !artifacts || !params_path) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto fail;
        }
        if ((rc = hops__mkdir_p(artifacts, 0755)) != HOPS_OK ||
            (rc = hops__atomic_write(params_path, r->params_json, strlen(r->params_json))) != HOPS_OK)
            goto fail;
        rc = insert_run(r, o, cwd);
        if (rc == HOPS_OK)
            break;
        hops__rm_rf(r->dir);
        if (rc != HOPS_EEXISTS)
            goto fail;
    }
    if (rc != HOPS_OK)
        goto fail;
    free(artifacts);
    free(params_path);
    *out = r;
    return HOPS_OK;
fail:
    free(artifacts);
    free(params_path);
    r->ended = 1;
    hops_run_free(r);
    return rc;
}

const char *hops_run_id(const hops_run *r) { return r->uid; }
const char *hops_run_dir(const hops_run *r) { return r->dir; }
const char *hops_run_experiment(const hops_run *r) { return r->experiment; }
const char *hops_run_params_json(const hops_run *r) { return r->params_json; }

hops_status hops_run_end(hops_run *r, hops_run_state state, int exit_code, int term_signal,
                         const char *reason)
{
    sqlite3 *db = r->p->db;
    sqlite3_stmt *st = NULL;
    hops_status rc, flush_rc;
    int src;
    if (r->ended)
        return hops__error(HOPS_ESTATE, "run %s has already ended", r->uid);
    if (state == HOPS_RUN_RUNNING)
        return hops__error(HOPS_EINVAL, "a run cannot end in state RUNNING");
    flush_rc = hops_run_flush(r);
    if (flush_rc != HOPS_OK) /* try again once: a busy database may have freed up */
        flush_rc = hops_run_flush(r);
    if ((rc = hops__db_begin(db)) != HOPS_OK)
        return rc;
    rc = hops__db_prepare(db, "UPDATE runs SET state = ?1, end_time = ?2, exit_code = ?3, "
                              "signal = ?4, reason = ?5 WHERE id = ?6", &st);
    if (rc == HOPS_OK) {
        sqlite3_bind_text(st, 1, hops_run_state_name(state), -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 2, hops__wall_time());
        if (exit_code >= 0) /* in-process runs have no exit code */
            sqlite3_bind_int(st, 3, exit_code);
        sqlite3_bind_int(st, 4, term_signal);
        hops__db_bind_text(st, 5, reason);
        sqlite3_bind_int64(st, 6, r->row);
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = hops__db_error(db, src, "end run");
        sqlite3_finalize(st);
    }
    if (rc == HOPS_OK)
        rc = hops__db_commit(db);
    else
        hops__db_rollback(db);
    if (rc == HOPS_OK) {
        r->ended = 1;
        if (r->tb) {
            hops__tfevents_close(r->tb);
            r->tb = NULL;
        }
        if (r->report_log) {
            fclose(r->report_log);
            r->report_log = NULL;
        }
    }
    return rc != HOPS_OK ? rc : flush_rc;
}

hops_status hops__run_fail(hops_run *r, hops_status rc)
{
    char msg[1024];
    hops__strlcpy(msg, hops_last_error(), sizeof msg);
    hops_run_end(r, HOPS_RUN_FAILED, 1, 0, msg);
    return hops__error(rc, "%s", msg);
}

void hops_run_free(hops_run *r)
{
    if (!r)
        return;
    if (!r->ended)
        hops_run_end(r, HOPS_RUN_FAILED, -1, 0, "abandoned: the run handle was freed before it ended");
    sqlite3_finalize(r->ins_metric);
    sqlite3_finalize(r->upsert_latest);
    sqlite3_finalize(r->ins_final);
    sqlite3_finalize(r->ins_key);
    sqlite3_finalize(r->get_key);
    hops__tfevents_close(r->tb);
    if (r->report_log)
        fclose(r->report_log);
    for (size_t i = 0; i < r->n_keys; i++)
        free(r->keys[i].name);
    for (size_t i = 0; i < r->n_finals; i++)
        free(r->finals[i].key);
    free(r->keys);
    free(r->points);
    free(r->finals);
    free(r->experiment);
    free(r->dir);
    free(r->params_json);
    free(r);
}
