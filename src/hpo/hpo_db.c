/* A search's rows in SQLite: the hpo row, its trials and their attempts.
 * Every change is one transaction. Asks and tells take the next number of
 * the search's sequence (hpo.seq), which is how a resumed search replays
 * them in the order they happened. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpo_db.h"

static hops_status step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int src = sqlite3_step(st);
    return src == SQLITE_DONE || src == SQLITE_ROW ? HOPS_OK : hops__db_error(db, src, what);
}

static void bind_value(sqlite3_stmt *st, int idx, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_double(st, idx, v);
}

/* One statement in its own transaction. BIND fills the parameters. */
static hops_status exec1(sqlite3 *db, const char *sql, const char *what,
                         void (*bind)(sqlite3_stmt *, const void *), const void *arg)
{
    sqlite3_stmt *st = NULL;
    hops_status rc = hops__db_begin(db);
    if (rc != HOPS_OK)
        return rc;
    if ((rc = hops__db_prepare(db, sql, &st)) == HOPS_OK) {
        bind(st, arg);
        rc = step_done(db, st, what);
    }
    sqlite3_finalize(st);
    if (rc == HOPS_OK)
        return hops__db_commit(db);
    hops__db_rollback(db);
    return rc;
}

int hops__hpo_driver_alive(const char *host, int64_t pid, int64_t pid_start)
{
    char me[256] = "";
    gethostname(me, sizeof me - 1);
    if (!host || strcmp(host, me) != 0)
        return 1; /* another host: we cannot tell; assume it lives */
    return pid > 0 && hops__proc_start_ticks((pid_t)pid) == (unsigned long long)pid_start;
}

hops_status hops__hpo_db_load(sqlite3 *db, const char *experiment, hops__hpo_row *row)
{
    sqlite3_stmt *st = NULL;
    hops_status rc;
    memset(row, 0, sizeof *row);
    rc = hops__db_prepare(db,
                          "SELECT h.id, h.spec, h.command, h.options, h.state, h.host, h.pid, "
                          "h.pid_start, h.seq, h.created, h.end_time, h.reason, h.sampler_state "
                          "FROM hpo h JOIN experiments e ON e.id = h.experiment_id WHERE e.name = ?1",
                          &st);
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_text(st, 1, experiment, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
#define COL_TEXT(i) (sqlite3_column_text(st, i) ? hops__strdup((const char *)sqlite3_column_text(st, i)) : NULL)
        row->id = sqlite3_column_int64(st, 0);
        row->spec = COL_TEXT(1);
        row->command = COL_TEXT(2);
        row->options = COL_TEXT(3);
        row->state = COL_TEXT(4);
        row->host = COL_TEXT(5);
        row->pid = sqlite3_column_int64(st, 6);
        row->pid_start = sqlite3_column_int64(st, 7);
        row->seq = sqlite3_column_int64(st, 8);
        row->created = sqlite3_column_double(st, 9);
        row->end_time = hops__db_column_double(st, 10);
        row->reason = COL_TEXT(11);
        row->sampler_state = COL_TEXT(12);
#undef COL_TEXT
        rc = row->spec && row->state ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
    } else if (src == SQLITE_DONE) {
        rc = hops__error(HOPS_ENOTFOUND, "experiment '%s' has no search; see `hops hpo list`",
                         experiment);
    } else {
        rc = hops__db_error(db, src, "load search");
    }
    sqlite3_finalize(st);
    if (rc != HOPS_OK)
        hops__hpo_row_free(row);
    return rc;
}

void hops__hpo_row_free(hops__hpo_row *row)
{
    free(row->spec);
    free(row->command);
    free(row->options);
    free(row->state);
    free(row->host);
    free(row->reason);
    free(row->sampler_state);
    memset(row, 0, sizeof *row);
}

hops_status hops__hpo_db_create(sqlite3 *db, const char *experiment, const char *spec,
                                const char *command, const char *options, int64_t *id_out)
{
    sqlite3_stmt *st = NULL;
    int64_t exp_id;
    char host[256] = "";
    hops_status rc = hops__db_begin(db);
    if (rc != HOPS_OK)
        return rc;
    gethostname(host, sizeof host - 1);
    if ((rc = hops__experiment_id(db, experiment, &exp_id)) != HOPS_OK)
        goto fail;
    rc = hops__db_prepare(db,
                          "INSERT INTO hpo(experiment_id, spec, command, options, state, host, pid, "
                          "pid_start, created) VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?6, ?7, ?8)",
                          &st);
    if (rc != HOPS_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, exp_id);
    sqlite3_bind_text(st, 2, spec, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, command, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, options, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)getpid());
    sqlite3_bind_int64(st, 7, (sqlite3_int64)hops__proc_start_ticks(getpid()));
    sqlite3_bind_double(st, 8, hops__wall_time());
    int src = sqlite3_step(st);
    if ((src & 0xff) == SQLITE_CONSTRAINT) {
        rc = hops__error(HOPS_EEXISTS,
                         "experiment '%s' already has a search: continue it with `hops hpo resume "
                         "%s`, or give another --name",
                         experiment, experiment);
        goto fail;
    }
    if (src != SQLITE_DONE) {
        rc = hops__db_error(db, src, "create search");
        goto fail;
    }
    *id_out = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(st);
    return hops__db_commit(db);
fail:
    sqlite3_finalize(st);
    hops__db_rollback(db);
    return rc;
}

typedef struct {
    int64_t id;
    const char *options;
} claim_args;

static void bind_claim(sqlite3_stmt *st, const void *arg)
{
    const claim_args *a = arg;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)getpid());
    sqlite3_bind_int64(st, 4, (sqlite3_int64)hops__proc_start_ticks(getpid()));
    sqlite3_bind_text(st, 5, a->options, -1, SQLITE_STATIC);
}

hops_status hops__hpo_db_claim(sqlite3 *db, int64_t id, const char *options)
{
    claim_args a = {id, options};
    return exec1(db,
                 "UPDATE hpo SET state = 'RUNNING', host = ?2, pid = ?3, pid_start = ?4, "
                 "options = ?5, end_time = NULL, reason = NULL WHERE id = ?1",
                 "claim search", bind_claim, &a);
}

typedef struct {
    int64_t id;
    const char *state, *reason;
} finish_args;

static void bind_finish(sqlite3_stmt *st, const void *arg)
{
    const finish_args *a = arg;
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_text(st, 2, a->state, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, hops__wall_time());
    hops__db_bind_text(st, 4, a->reason);
}

hops_status hops__hpo_db_finish(sqlite3 *db, int64_t id, const char *state, const char *reason)
{
    finish_args a = {id, state, reason};
    return exec1(db, "UPDATE hpo SET state = ?2, end_time = ?3, reason = ?4 WHERE id = ?1",
                 "end search", bind_finish, &a);
}

/* Take the next sequence number and run SQL (?1 hpo, ?2 seq, then BIND's). */
static hops_status with_seq(sqlite3 *db, int64_t id, const char *sql, const char *what,
                            void (*bind)(sqlite3_stmt *, const void *), const void *arg,
                            const char *sampler_state)
{
    sqlite3_stmt *st = NULL, *up = NULL;
    int64_t seq = 0;
    hops_status rc = hops__db_begin(db);
    if (rc != HOPS_OK)
        return rc;
    rc = hops__db_prepare(db,
                          "UPDATE hpo SET seq = seq + 1, sampler_state = coalesce(?2, sampler_state) "
                          "WHERE id = ?1 RETURNING seq", &up);
    if (rc != HOPS_OK)
        goto fail;
    sqlite3_bind_int64(up, 1, id);
    hops__db_bind_text(up, 2, sampler_state);
    if (sqlite3_step(up) != SQLITE_ROW) {
        rc = hops__db_error(db, sqlite3_errcode(db), what);
        goto fail;
    }
    seq = sqlite3_column_int64(up, 0);
    sqlite3_reset(up);
    if ((rc = hops__db_prepare(db, sql, &st)) != HOPS_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, seq);
    bind(st, arg);
    if ((rc = step_done(db, st, what)) != HOPS_OK)
        goto fail;
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    return hops__db_commit(db);
fail:
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    hops__db_rollback(db);
    return rc;
}

typedef struct {
    int64_t trial;
    const char *params;
    const char *state;
    double value;
} trial_args;

static void bind_ask(sqlite3_stmt *st, const void *arg)
{
    const trial_args *a = arg;
    sqlite3_bind_int64(st, 3, a->trial);
    sqlite3_bind_text(st, 4, a->params, -1, SQLITE_STATIC);
}

hops_status hops__hpo_db_ask(sqlite3 *db, int64_t id, int64_t trial, const char *params)
{
    trial_args a = {trial, params, NULL, 0};
    return with_seq(db, id,
                    "INSERT INTO hpo_trials(hpo_id, trial, params, state, ask_seq) "
                    "VALUES (?1, ?3, ?4, 'PENDING', ?2)",
                    "record trial", bind_ask, &a, NULL);
}

static void bind_tell(sqlite3_stmt *st, const void *arg)
{
    const trial_args *a = arg;
    sqlite3_bind_int64(st, 3, a->trial);
    sqlite3_bind_text(st, 4, a->state, -1, SQLITE_STATIC);
    bind_value(st, 5, a->value);
    sqlite3_bind_double(st, 6, hops__wall_time());
}

hops_status hops__hpo_db_tell(sqlite3 *db, int64_t id, int64_t trial, const char *state,
                              double value, const char *sampler_state)
{
    trial_args a = {trial, NULL, state, value};
    return with_seq(db, id,
                    "UPDATE hpo_trials SET state = ?4, value = ?5, tell_seq = ?2, end_time = ?6 "
                    "WHERE hpo_id = ?1 AND trial = ?3",
                    "record trial result", bind_tell, &a, sampler_state);
}

typedef struct {
    int64_t id, trial, attempt, pid;
    const char *run_uid, *slot, *state;
} attempt_args;

static void bind_attempt_start(sqlite3_stmt *st, const void *arg)
{
    const attempt_args *a = arg;
    double now = hops__wall_time();
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_int64(st, 2, a->trial);
    sqlite3_bind_int64(st, 3, a->attempt);
    sqlite3_bind_text(st, 4, a->run_uid, -1, SQLITE_STATIC);
    hops__db_bind_text(st, 5, a->slot);
    if (a->pid > 0) {
        sqlite3_bind_int64(st, 6, a->pid);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)hops__proc_start_ticks((pid_t)a->pid));
    }
    sqlite3_bind_double(st, 8, now);
}

hops_status hops__hpo_db_attempt_start(sqlite3 *db, int64_t id, int64_t trial, int64_t attempt,
                                       const char *run_uid, const char *slot, int64_t pid)
{
    attempt_args a = {id, trial, attempt, pid, run_uid, slot, NULL};
    sqlite3_stmt *st = NULL;
    hops_status rc = hops__db_begin(db);
    if (rc != HOPS_OK)
        return rc;
    rc = hops__db_prepare(db,
                          "INSERT OR REPLACE INTO hpo_attempts(hpo_id, trial, attempt, run_uid, slot, "
                          "pid, pid_start, start_time, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                          "'RUNNING')", &st);
    if (rc == HOPS_OK) {
        bind_attempt_start(st, &a);
        rc = step_done(db, st, "record attempt");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == HOPS_OK)
        rc = hops__db_prepare(db,
                              "UPDATE hpo_trials SET state = 'RUNNING', attempts = ?3 + 1, "
                              "start_time = coalesce(start_time, ?4) WHERE hpo_id = ?1 AND trial = ?2",
                              &st);
    if (rc == HOPS_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, trial);
        sqlite3_bind_int64(st, 3, attempt);
        sqlite3_bind_double(st, 4, hops__wall_time());
        rc = step_done(db, st, "record attempt");
    }
    sqlite3_finalize(st);
    if (rc == HOPS_OK)
        return hops__db_commit(db);
    hops__db_rollback(db);
    return rc;
}

static void bind_attempt_end(sqlite3_stmt *st, const void *arg)
{
    const attempt_args *a = arg;
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_int64(st, 2, a->trial);
    sqlite3_bind_int64(st, 3, a->attempt);
    sqlite3_bind_text(st, 4, a->state, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, hops__wall_time());
}

hops_status hops__hpo_db_attempt_end(sqlite3 *db, int64_t id, int64_t trial, int64_t attempt,
                                     const char *state)
{
    attempt_args a = {id, trial, attempt, 0, NULL, NULL, state};
    return exec1(db,
                 "UPDATE hpo_attempts SET state = ?4, end_time = ?5 "
                 "WHERE hpo_id = ?1 AND trial = ?2 AND attempt = ?3",
                 "end attempt", bind_attempt_end, &a);
}

static void bind_options(sqlite3_stmt *st, const void *arg)
{
    const claim_args *a = arg;
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_text(st, 2, a->options, -1, SQLITE_STATIC);
}

hops_status hops__hpo_db_set_options(sqlite3 *db, int64_t id, const char *options)
{
    claim_args a = {id, options};
    return exec1(db, "UPDATE hpo SET options = ?2 WHERE id = ?1", "record options", bind_options, &a);
}
