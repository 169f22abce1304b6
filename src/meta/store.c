/* Schema, migrations and transaction helpers over SQLite. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta.h"

/* Each entry moves the schema from version i to i+1. Never edit a shipped
 * entry: add a new one. */
static const char *const migrations[] = {
    /* 0 -> 1: experiments, runs, params, tags, metrics */
    "CREATE TABLE experiments("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created REAL NOT NULL);"
    "CREATE TABLE runs("
    "  id INTEGER PRIMARY KEY,"
    "  uid TEXT NOT NULL UNIQUE,"
    "  experiment_id INTEGER NOT NULL REFERENCES experiments(id),"
    "  state TEXT NOT NULL CHECK (state IN ('RUNNING','FINISHED','FAILED','KILLED')),"
    "  command TEXT NOT NULL DEFAULT '[]',"
    "  cwd TEXT, git_commit TEXT, git_dirty INTEGER,"
    "  host TEXT, user TEXT, pid INTEGER, pid_start INTEGER,"
    "  start_time REAL NOT NULL, end_time REAL,"
    "  exit_code INTEGER, signal INTEGER, reason TEXT,"
    "  run_dir TEXT NOT NULL);"
    "CREATE INDEX runs_experiment ON runs(experiment_id);"
    "CREATE INDEX runs_state ON runs(state);"
    "CREATE TABLE params("
    "  run_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, key)) WITHOUT ROWID;"
    "CREATE TABLE tags("
    "  run_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, key)) WITHOUT ROWID;"
    "CREATE TABLE metric_keys("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE);"
    /* value NULL means NaN: SQLite cannot store NaN. */
    "CREATE TABLE metrics("
    "  run_id INTEGER NOT NULL, key_id INTEGER NOT NULL, step INTEGER NOT NULL,"
    "  value REAL, wall REAL NOT NULL);"
    "CREATE INDEX metrics_run_key_step ON metrics(run_id, key_id, step);"
    "CREATE TABLE metric_latest("
    "  run_id INTEGER NOT NULL, key_id INTEGER NOT NULL, step INTEGER NOT NULL,"
    "  value REAL, wall REAL NOT NULL,"
    "  PRIMARY KEY (run_id, key_id)) WITHOUT ROWID;"
    "CREATE TABLE final_metrics("
    "  run_id INTEGER NOT NULL, key TEXT NOT NULL, value REAL,"
    "  PRIMARY KEY (run_id, key)) WITHOUT ROWID;",
    /* 1 -> 2: datasets and their immutable versions (src/data/dataset.c).
     * A version's files live in .hops/datasets/NAME/VERSION/FILE_NAME; its
     * row is committed only once they are in place. */
    "CREATE TABLE datasets("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created REAL NOT NULL);"
    "CREATE TABLE dataset_versions("
    "  id INTEGER PRIMARY KEY,"
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  file_name TEXT NOT NULL,"
    "  source_path TEXT,"
    "  description TEXT,"
    "  sha256 TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  rows INTEGER NOT NULL,"
    "  columns TEXT NOT NULL DEFAULT '[]',"   /* JSON array of names */
    "  format TEXT NOT NULL,"                  /* csv | jsonl */
    "  read_options TEXT NOT NULL DEFAULT '{}',"
    "  schema TEXT,"                           /* JSON, NULL when unknown */
    "  created REAL NOT NULL,"
    "  source_version_id INTEGER REFERENCES dataset_versions(id),"  /* lineage */
    "  transform TEXT,"                        /* JSON transform spec */
    "  UNIQUE (dataset_id, version));"
    "CREATE INDEX dataset_versions_source ON dataset_versions(source_version_id);",
    /* 2 -> 3: parallel experiments (src/hpo, src/sched). Runs gain the state
     * EARLY_STOPPED: SQLite cannot change a CHECK in place, so the runs table
     * is rebuilt with the same columns and ids (nothing references it by key).
     * An hpo row holds a search's spec and driver; each trial is one point of
     * the search space, run as one run per attempt (hpo_attempts). ask_seq and
     * tell_seq order the sampler's asks and tells (one counter per search) so
     * a resumed search replays them into a fresh sampler and gets its state
     * (DE population, random stream position) back exactly. */
    "CREATE TABLE runs_v3("
    "  id INTEGER PRIMARY KEY,"
    "  uid TEXT NOT NULL UNIQUE,"
    "  experiment_id INTEGER NOT NULL REFERENCES experiments(id),"
    "  state TEXT NOT NULL CHECK (state IN ('RUNNING','FINISHED','FAILED','KILLED',"
    "                                       'EARLY_STOPPED')),"
    "  command TEXT NOT NULL DEFAULT '[]',"
    "  cwd TEXT, git_commit TEXT, git_dirty INTEGER,"
    "  host TEXT, user TEXT, pid INTEGER, pid_start INTEGER,"
    "  start_time REAL NOT NULL, end_time REAL,"
    "  exit_code INTEGER, signal INTEGER, reason TEXT,"
    "  run_dir TEXT NOT NULL);"
    "INSERT INTO runs_v3 SELECT * FROM runs;"
    "DROP TABLE runs;"
    "ALTER TABLE runs_v3 RENAME TO runs;"
    "CREATE INDEX runs_experiment ON runs(experiment_id);"
    "CREATE INDEX runs_state ON runs(state);"
    "CREATE TABLE hpo("
    "  id INTEGER PRIMARY KEY,"
    "  experiment_id INTEGER NOT NULL UNIQUE REFERENCES experiments(id),"
    "  spec TEXT NOT NULL,"                    /* normalized JSON spec */
    "  command TEXT NOT NULL DEFAULT '[]',"     /* JSON argv of the trial */
    "  options TEXT NOT NULL DEFAULT '{}',"     /* slots, executor ... as run */
    "  state TEXT NOT NULL CHECK (state IN ('RUNNING','FINISHED','FAILED','KILLED')),"
    "  host TEXT, pid INTEGER, pid_start INTEGER,"  /* the driver */
    "  seq INTEGER NOT NULL DEFAULT 0,"         /* last ask/tell sequence number */
    "  created REAL NOT NULL, end_time REAL, reason TEXT,"
    "  sampler_state TEXT);"                    /* JSON snapshot, for display */
    "CREATE TABLE hpo_trials("
    "  hpo_id INTEGER NOT NULL REFERENCES hpo(id),"
    "  trial INTEGER NOT NULL,"                 /* 0, 1, ... in ask order */
    "  params TEXT NOT NULL,"                   /* JSON object */
    "  state TEXT NOT NULL,"                    /* RUNNING, FINISHED, FAILED, EARLY_STOPPED */
    "  value REAL,"                             /* the objective; NULL: none */
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  ask_seq INTEGER NOT NULL, tell_seq INTEGER,"
    "  start_time REAL, end_time REAL,"
    "  PRIMARY KEY (hpo_id, trial)) WITHOUT ROWID;"
    "CREATE TABLE hpo_attempts("
    "  hpo_id INTEGER NOT NULL, trial INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    "  run_uid TEXT NOT NULL,"                  /* runs.uid; no key: runs may be deleted */
    "  slot TEXT,"                              /* e.g. {"cpu":1,"gpus":[0]} */
    "  pid INTEGER, pid_start INTEGER,"         /* the trial's process group leader */
    "  start_time REAL NOT NULL, end_time REAL, state TEXT NOT NULL,"
    "  PRIMARY KEY (hpo_id, trial, attempt)) WITHOUT ROWID;",
    /* 3 -> 4: the model registry (src/ml/registry.c). A version's file lives
     * in .hops/models/NAME/VERSION/model.hops (path is relative to .hops);
     * its row is committed, under the write lock, once the file is in place. */
    "CREATE TABLE models("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created REAL NOT NULL);"
    "CREATE TABLE model_versions("
    "  id INTEGER PRIMARY KEY,"
    "  model_id INTEGER NOT NULL REFERENCES models(id),"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  type TEXT NOT NULL,"                    /* linear, logistic, softmax, mlp, gbdt */
    "  run_uid TEXT,"                          /* the training run (runs.uid); no key */
    "  path TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  metrics TEXT NOT NULL DEFAULT '{}',"    /* JSON: the test metrics */
    "  created REAL NOT NULL,"
    "  UNIQUE (model_id, version));",
    /* 4 -> 5: model labels for serving (src/ml/labels.c): `stable`, `canary`
     * ... each point at one version of a model; `hops serve` answers
     * /v1/models/NAME/labels/LABEL with it. */
    "CREATE TABLE model_labels("
    "  model_id INTEGER NOT NULL REFERENCES models(id),"
    "  label TEXT NOT NULL,"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  updated REAL NOT NULL,"
    "  PRIMARY KEY (model_id, label)) WITHOUT ROWID;",
};

int hops_project_schema_version(void) { return (int)HOPS_ARRAY_LEN(migrations); }

hops_status hops__db_error(sqlite3 *db, int rc, const char *what)
{
    int primary = rc & 0xff;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
        return hops__error(HOPS_ECORRUPT, "%s: the database is corrupt or not a hops database (%s)",
                           what, msg);
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return hops__error(HOPS_EBUSY, "%s: the database stayed locked by another process (%s)",
                           what, msg);
    if (primary == SQLITE_NOMEM)
        return hops__error(HOPS_ENOMEM, "%s: out of memory", what);
    if (primary == SQLITE_FULL)
        return hops__error(HOPS_EIO, "%s: disk full (%s)", what, msg);
    if (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)
        return hops__error(HOPS_EIO, "%s: %s", what, msg);
    return hops__error(HOPS_EDB, "%s: %s", what, msg);
}

hops_status hops__db_exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? HOPS_OK : hops__db_error(db, rc, "database");
}

hops_status hops__db_begin(sqlite3 *db)
{
    /* The busy handler already waits up to the busy timeout; keep trying
     * beyond it so a long writer elsewhere delays us instead of failing us. */
    for (int attempt = 0;; attempt++) {
        int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return HOPS_OK;
        if ((rc & 0xff) != SQLITE_BUSY || attempt >= 30)
            return hops__db_error(db, rc, "begin transaction");
        usleep(100000);
    }
}

hops_status hops__db_commit(sqlite3 *db)
{
    for (int attempt = 0;; attempt++) {
        int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return HOPS_OK;
        if ((rc & 0xff) != SQLITE_BUSY || attempt >= 30) {
            hops_status s = hops__db_error(db, rc, "commit");
            hops__db_rollback(db);
            return s;
        }
        usleep(100000);
    }
}

void hops__db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

hops_status hops__db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return hops__db_error(db, rc, "prepare statement");
    }
    return HOPS_OK;
}

int hops__db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    return s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx);
}

double hops__db_column_double(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(st, col);
}

hops_status hops__experiment_id(sqlite3 *db, const char *name, int64_t *id_out)
{
    sqlite3_stmt *st = NULL;
    hops_status rc;
    int src;
    rc = hops__db_prepare(db,
                          "INSERT INTO experiments(name, created) VALUES (?1, ?2) "
                          "ON CONFLICT(name) DO UPDATE SET name = excluded.name RETURNING id",
                          &st);
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, hops__wall_time());
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *id_out = sqlite3_column_int64(st, 0);
        rc = HOPS_OK;
    } else
        rc = hops__db_error(db, src, "experiment");
    sqlite3_finalize(st);
    return rc;
}

/* Bring the schema from FROM to the current version, one transaction. */
static hops_status migrate(sqlite3 *db, int from)
{
    char sql[64];
    hops_status rc = hops__db_begin(db);
    if (rc != HOPS_OK)
        return rc;
    for (int v = from; v < (int)HOPS_ARRAY_LEN(migrations); v++) {
        rc = hops__db_exec(db, migrations[v]);
        if (rc != HOPS_OK)
            goto fail;
    }
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", (int)HOPS_ARRAY_LEN(migrations));
    if ((rc = hops__db_exec(db, sql)) != HOPS_OK)
        goto fail;
    return hops__db_commit(db);
fail:
    hops__db_rollback(db);
    return hops__error_prefix(rc, "schema migration from version %d failed", from);
}

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Open the project database. With CREATE, make a new one (it must not exist).
 * Without, refuse anything that is not a hops database before writing a byte. */
static hops_status db_open(hops_project *p, int create)
{
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc, app_id = 0, version = 0;
    hops_status s;

    rc = sqlite3_open_v2(p->db_path, &p->db, flags, NULL);
    if (rc != SQLITE_OK)
        return hops__db_error(p->db, rc, p->db_path);
    sqlite3_busy_timeout(p->db, 10000);
    sqlite3_extended_result_codes(p->db, 1);

    rc = pragma_int(p->db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = pragma_int(p->db, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK)
        return hops__error(HOPS_ECORRUPT,
                           "%s is not a usable hops database (%s); it was left untouched. "
                           "Restore it from a backup, or move it aside and run `hops init`",
                           p->db_path, sqlite3_errmsg(p->db));
    if (create) {
        if ((s = hops__db_exec(p->db, "PRAGMA journal_mode = WAL")) != HOPS_OK)
            return s;
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d", HOPS_APPLICATION_ID);
        if ((s = hops__db_exec(p->db, sql)) != HOPS_OK)
            return s;
    } else if (app_id != HOPS_APPLICATION_ID) {
        return hops__error(HOPS_ECORRUPT,
                           "%s is an SQLite database but not a hops one (application id %#x); "
                           "it was left untouched. Move it aside and run `hops init`",
                           p->db_path, (unsigned)app_id);
    }
    if (version > hops_project_schema_version())
        return hops__error(HOPS_EVERSION,
                           "%s has schema version %d but this hops knows up to %d; upgrade hops",
                           p->db_path, version, hops_project_schema_version());
    if ((s = hops__db_exec(p->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                                  "PRAGMA foreign_keys = ON;")) != HOPS_OK)
        return s;
    if (version < hops_project_schema_version())
        return migrate(p->db, version);
    return HOPS_OK;
}

static hops_status project_alloc(hops_project **out, const char *root)
{
    hops_project *p = calloc(1, sizeof *p);
    if (!p)
        return hops__error(HOPS_ENOMEM, "out of memory");
    p->root = hops__abspath(root);
    p->hops_dir = p->root ? hops__aprintf("%s/.hops", p->root) : NULL;
    p->db_path = p->root ? hops__aprintf("%s/.hops/hops.db", p->root) : NULL;
    if (!p->root || !p->hops_dir || !p->db_path) {
        hops_project_close(p);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    *out = p;
    return HOPS_OK;
}

hops_status hops_project_init(const char *dir)
{
    hops_project *p = NULL;
    hops_status rc;
    if (!dir || !*dir)
        dir = ".";
    if ((rc = project_alloc(&p, dir)) != HOPS_OK)
        return rc;
    if (hops__is_file(p->db_path) || access(p->db_path, F_OK) == 0) {
        rc = hops__error(HOPS_EEXISTS, "%s is already a hops project", p->root);
        goto out;
    }
    if ((rc = hops__mkdir_p(p->hops_dir, 0755)) != HOPS_OK)
        goto out;
    rc = db_open(p, 1);
    if (rc != HOPS_OK) {
        sqlite3_close(p->db);
        p->db = NULL;
        unlink(p->db_path);
        goto out;
    }
    {
        char *runs = hops__aprintf("%s/runs", p->hops_dir);
        rc = runs ? hops__mkdir_p(runs, 0755) : hops__error(HOPS_ENOMEM, "out of memory");
        free(runs);
    }
out:
    hops_project_close(p);
    return rc;
}

hops_status hops_project_open_at(hops_project **out, const char *root)
{
    hops_project *p = NULL;
    hops_status rc;
    *out = NULL;
    if ((rc = project_alloc(&p, root)) != HOPS_OK)
        return rc;
    if (!hops__is_dir(p->hops_dir)) {
        rc = hops__error(HOPS_ENOPROJECT, "%s is not a hops project (no .hops directory); "
                                          "run `hops init` there first", p->root);
        goto fail;
    }
    if (access(p->db_path, F_OK) != 0) {
        rc = hops__error(HOPS_ECORRUPT, "%s has no hops.db; run `hops init %s` to recreate it",
                         p->hops_dir, p->root);
        goto fail;
    }
    if ((rc = db_open(p, 0)) != HOPS_OK)
        goto fail;
    *out = p;
    return HOPS_OK;
fail:
    hops_project_close(p);
    return rc;
}

hops_status hops_project_open(hops_project **out, const char *start)
{
    const char *env = getenv("HOPS_PROJECT");
    char *dir;
    hops_status rc;
    *out = NULL;
    if (env && *env)
        return hops_project_open_at(out, env);
    dir = hops__abspath(start ? start : ".");
    if (!dir)
        return hops__error(HOPS_ENOMEM, "cannot resolve the current directory");
    for (;;) {
        char *hd = hops__aprintf("%s/.hops", dir);
        int found = hd && hops__is_dir(hd);
        free(hd);
        if (found) {
            rc = hops_project_open_at(out, dir);
            free(dir);
            return rc;
        }
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir) {
            if (strcmp(dir, "/") == 0 || !slash)
                break;
            dir[1] = '\0'; /* try "/" last */
            continue;
        }
        *slash = '\0';
    }
    free(dir);
    return hops__error(HOPS_ENOPROJECT,
                       "not inside a hops project (no .hops here or in any parent directory); "
                       "run `hops init` to make one, or set HOPS_PROJECT");
}

void hops_project_close(hops_project *p)
{
    if (!p)
        return;
    if (p->db)
        sqlite3_close_v2(p->db);
    free(p->root);
    free(p->hops_dir);
    free(p->db_path);
    free(p);
}

const char *hops_project_root(const hops_project *p) { return p->root; }
const char *hops_project_hops_dir(const hops_project *p) { return p->hops_dir; }
