/* hops — a search's rows in SQLite (hpo_db.c). Private to src/hpo. */
#ifndef HOPS_HPO_DB_H
#define HOPS_HPO_DB_H

#include "hpo_internal.h"
#include "meta/meta.h"

typedef struct {
    int64_t id;
    char *spec, *command, *options, *state, *host, *reason, *sampler_state;
    int64_t pid, pid_start, seq;
    double created, end_time;
} hops__hpo_row;

/* 1 unless the driver recorded on this host is gone. */
int hops__hpo_driver_alive(const char *host, int64_t pid, int64_t pid_start);

/* HOPS_ENOTFOUND when EXPERIMENT has no search. Free ROW with hops__hpo_row_free. */
hops_status hops__hpo_db_load(sqlite3 *db, const char *experiment, hops__hpo_row *row);
void hops__hpo_row_free(hops__hpo_row *row);

/* A new search of EXPERIMENT driven by this process; HOPS_EEXISTS if it has one. */
hops_status hops__hpo_db_create(sqlite3 *db, const char *experiment, const char *spec,
                                const char *command, const char *options, int64_t *id_out);
/* This process drives search ID from now on. */
hops_status hops__hpo_db_claim(sqlite3 *db, int64_t id, const char *options);
/* Replace the recorded options (slots, executor, the Slurm allocation). */
hops_status hops__hpo_db_set_options(sqlite3 *db, int64_t id, const char *options);
hops_status hops__hpo_db_finish(sqlite3 *db, int64_t id, const char *state, const char *reason);

/* The sampler proposed TRIAL with PARAMS (JSON, sorted keys). */
hops_status hops__hpo_db_ask(sqlite3 *db, int64_t id, int64_t trial, const char *params);
/* TRIAL's result went to the sampler; SAMPLER_STATE (may be NULL) its snapshot. */
hops_status hops__hpo_db_tell(sqlite3 *db, int64_t id, int64_t trial, const char *state,
                              double value, const char *sampler_state);
hops_status hops__hpo_db_attempt_start(sqlite3 *db, int64_t id, int64_t trial, int64_t attempt,
                                       const char *run_uid, const char *slot, int64_t pid);
hops_status hops__hpo_db_attempt_end(sqlite3 *db, int64_t id, int64_t trial, int64_t attempt,
                                     const char *state);

#endif
