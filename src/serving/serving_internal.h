/* hops — private interface of src/serving: the REST codec, the loaded
 * models, the batcher, the metrics in shared memory and the HTTP front. */
#ifndef HOPS_SERVING_INTERNAL_H
#define HOPS_SERVING_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/core.h"
#include "hops/model.h"
#include "hops/project.h"
#include "hops/serving.h"

#define SRV_NAME_MAX 100

/* ---- the REST codec (rest.c) ---- */

typedef enum {
    REST_PREDICT = 0,
    REST_CLASSIFY = 1,
    REST_REGRESS = 2,
    REST_STATUS = 3,   /* GET /v1/models/NAME[/versions/V] */
    REST_METADATA = 4, /* GET .../metadata */
    REST_METRICS = 5,  /* GET /metrics */
    REST_HEALTH = 6,   /* GET /healthz */
    REST_READY = 7     /* GET /readyz */
} rest_kind;

typedef struct {
    rest_kind kind;
    char name[SRV_NAME_MAX + 1];
    int64_t version;              /* 0: none given */
    char label[SRV_NAME_MAX + 1]; /* "": none given */
} rest_route;

/* Map METHOD and the (unescaped) URL path to a route. Returns 0, or the HTTP
 * status to answer with (400 bad name or verb, 404 no such resource, 405
 * method not allowed), with a message in ERR. */
int hops__rest_route(const char *method, const char *url, rest_route *r, char *err, size_t errlen);

typedef struct {
    size_t n;     /* rows */
    size_t d;     /* inputs per row */
    float *x;     /* n x d, owned (free) */
    int columnar; /* the request used "inputs": answer "outputs" */
} rest_input;

/* Decode a :predict / :classify / :regress body for model M into rows of
 * encoded inputs. Returns 0, or 400 with the reason in ERR; IN is then
 * empty. Never reads past BODY[LEN) (BODY need not be terminated). */
int hops__rest_decode(const char *body, size_t len, rest_kind kind, const hops_model *m,
                      rest_input *in, char *err, size_t errlen);
void hops__rest_input_free(rest_input *in);

/* The answer to KIND for N rows of predictions PRED (hops_model_predict_matrix
 * layout) as JSON text (owned; NULL when out of memory). */
char *hops__rest_encode(rest_kind kind, int columnar, const hops_model *m, const double *pred,
                        size_t n);

/* {"error": MSG} as JSON text (owned). */
char *hops__rest_error_body(const char *msg);

/* Model and label names: letters, digits, '.', '_', '-', not starting with
 * '.' or '-', at most SRV_NAME_MAX bytes. 1 when S is one. */
int hops__rest_name_ok(const char *s);

/* ---- the loaded models (models.c) ---- */

typedef struct {
    atomic_int refs;
    int64_t version;
    hops_model *m;
} srv_loaded;

/* An immutable set of loaded versions of one model: what a request uses
 * from start to end. */
typedef struct {
    atomic_int refs;
    size_t n;
    srv_loaded **v; /* ascending versions */
    size_t n_labels;
    char **label_names;
    int64_t *label_versions;
} srv_snapshot;

typedef struct srv_models srv_models;

hops_status hops__models_open(srv_models **out, const hops_serve_options *o);
/* Start the watcher thread (after fork, in the process that serves). */
hops_status hops__models_watch(srv_models *ms);
void hops__models_close(srv_models *ms);
/* The current snapshot of NAME (a reference: release it), NULL when no
 * such model is served. */
srv_snapshot *hops__models_acquire(srv_models *ms, const char *name);
void hops__snapshot_release(srv_snapshot *s);
/* Pick the version a route asks for: its version, its label's version, or
 * the newest. NULL with an HTTP status (404) and message when none. */
srv_loaded *hops__snapshot_pick(const srv_snapshot *s, const rest_route *r, int *status, char *err,
                                size_t errlen);
/* 1 when every model has a version loaded. */
int hops__models_ready(srv_models *ms);
/* Count swaps into SWAPS (a metrics counter). */
void hops__models_set_swap_counter(srv_models *ms, atomic_ullong *swaps);
size_t hops__models_count(const srv_models *ms);
const char *hops__models_name(const srv_models *ms, size_t i);

/* ---- metrics in shared memory (metrics.c) ---- */

#define SRV_MAX_WORKERS 64
#define SRV_MAX_SERIES 512
#define SRV_LAT_BUCKETS 15
#define SRV_BATCH_BUCKETS 10

typedef struct {
    atomic_uint state; /* 0 free, 1 being filled, 2 ready */
    char model[SRV_NAME_MAX + 1];
    int64_t version;
    int code;
    atomic_ullong count;
} srv_series;

typedef struct {
    atomic_int pid; /* the worker in this slot; 0: none */
    atomic_llong in_flight;
    atomic_ullong lat_buckets[SRV_LAT_BUCKETS + 1]; /* last: +Inf */
    atomic_ullong lat_count, lat_sum_ns;
    atomic_ullong batch_buckets[SRV_BATCH_BUCKETS + 1];
    atomic_ullong batch_count, batch_rows;
    atomic_ullong swaps; /* model switches */
    srv_series series[SRV_MAX_SERIES];
} srv_slot;

typedef struct {
    atomic_int workers; /* live worker processes (1 in process) */
    atomic_ullong autoscale_up, autoscale_down;
    srv_slot slots[SRV_MAX_WORKERS];
} srv_shm;

/* Shared anonymous memory, inherited by forked workers. */
srv_shm *hops__shm_new(void);
void hops__shm_free(srv_shm *shm);
void hops__metrics_request(srv_slot *slot, const char *model, int64_t version, int code,
                           double seconds);
void hops__metrics_batch(srv_slot *slot, size_t rows);
/* Prometheus text exposition of every slot, summed. *OUT owned. */
char *hops__metrics_text(const srv_shm *shm);

/* ---- server-side batching (batch.c) ---- */

typedef struct srv_batcher srv_batcher;
/* CALLERS: how many threads may call at once (0: unknown); a batch stops
 * waiting when that many requests are queued. */
hops_status hops__batcher_new(srv_batcher **out, size_t max_rows, long timeout_us, size_t callers,
                              srv_slot *slot);
void hops__batcher_free(srv_batcher *b);
/* Predict N rows of X with M through the batcher: queued with other
 * requests for the same model until MAX rows or the timeout, predicted in
 * one call. Blocks until done. */
hops_status hops__batcher_predict(srv_batcher *b, const hops_model *m, const float *x, size_t n,
                                  double *out);

/* ---- the HTTP front (http.c) ---- */

typedef struct srv_http srv_http;
/* Serve on listening socket FD (-1: bind O's host and port) with models MS,
 * metrics slot SLOT of SHM. */
hops_status hops__http_start(srv_http **out, const hops_serve_options *o, int fd, srv_models *ms,
                             srv_shm *shm, srv_slot *slot);
int hops__http_port(const srv_http *h);
/* Stop accepting, wait for requests in flight (at most GRACE_S), stop. */
void hops__http_stop(srv_http *h, int grace_s);

/* A bound, listening TCP socket for HOST:PORT with SO_REUSEADDR (and
 * SO_REUSEPORT with REUSE_PORT). */
hops_status hops__listen_socket(const char *host, int port, int reuse_port, int *fd_out);

#endif
