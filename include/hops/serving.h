/* hops — serving: TensorFlow Serving's REST API over native models.
 *
 * `hops serve` answers TF Serving's REST contract (api_rest.md):
 *   POST /v1/models/NAME[/versions/V|/labels/L]:predict   instances | inputs
 *   POST /v1/models/NAME[/versions/V|/labels/L]:classify  examples [+ context]
 *   POST /v1/models/NAME[/versions/V|/labels/L]:regress   examples [+ context]
 *   GET  /v1/models/NAME[/versions/V|/labels/L]           model_version_status
 *   GET  /v1/models/NAME[/versions/V|/labels/L]/metadata  signature of the model
 * plus GET /metrics (Prometheus text), /healthz (alive) and /readyz (every
 * model has a version loaded). Errors are {"error": "..."} with 400 for a bad
 * request, 401 for a wrong bearer token, 404 for an unknown model, version
 * or label, 405 for a method, 413 for a body over the limit.
 *
 * Models come either from one base path (tensorflow_model_server's
 * --model_base_path: DIR/1/model.hops, DIR/2/model.hops, ...) or from the
 * project's registry by name. A watcher notices new versions (a new
 * registration, a new version folder) and label moves, loads them in the
 * background and switches atomically: a request holds the set of versions it
 * started with until it answers.
 *
 * With workers > 1 (or autoscale) the server forks worker processes that
 * accept on one listening socket (with reuse_port, SO_REUSEPORT lets further
 * servers bind the port too); a supervisor restarts dead workers and, with
 * autoscale, adds workers while requests queue or CPU is busy and retires
 * idle ones. Metrics are kept in shared memory and summed over workers.
 */
#ifndef HOPS_SERVING_H
#define HOPS_SERVING_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HOPS_VERSION_POLICY_LATEST = 0,  /* the newest version only */
    HOPS_VERSION_POLICY_ALL = 1,     /* every version */
    HOPS_VERSION_POLICY_SPECIFIC = 2 /* the versions listed */
} hops_version_policy;

typedef struct {
    unsigned version;
    const char *host; /* bind address; NULL: "0.0.0.0" */
    int port;         /* REST port; 0: any free port (see hops_server_port) */
    /* Either one model from a base path ... */
    const char *model_name;      /* tensorflow_model_server's --model_name */
    const char *model_base_path; /* DIR holding version folders 1/, 2/ ... */
    /* ... or models from the registry of the project at PROJECT. */
    const char *project;       /* project root; NULL: found from the cwd */
    const char *const *models; /* registry names */
    size_t n_models;
    hops_version_policy policy;
    const int64_t *versions; /* SPECIFIC: the versions to serve */
    size_t n_versions;
    const char *const *labels; /* base path models: "LABEL=VERSION" pairs */
    size_t n_labels;
    int workers;       /* processes; <= 1: this process only */
    int autoscale_min; /* autoscale between min and max workers; 0: off */
    int autoscale_max;
    double autoscale_latency_ms;     /* grow when the mean latency passes this; 0: 50 */
    int autoscale_interval_ms;       /* how often the supervisor looks; 0: 500 */
    int threads;                     /* HTTP threads per worker; 0: 2 */
    size_t batch_max;                /* server-side batching of rows; <= 1: off */
    long batch_timeout_us;           /* wait for a batch to fill; 0: 1000 */
    size_t max_body_bytes;           /* request bodies over this get 413; 0: 4 MiB */
    int request_timeout_s;           /* idle connection timeout; 0: 30 */
    int poll_ms;                     /* how often the watcher looks for new versions; 0: 1000 */
    const char *auth_token;          /* bearer token required on every request but
                                        health checks; NULL: none */
    const char *kafka_brokers;       /* inference log: request + prediction JSON */
    const char *kafka_topic;         /* to this topic; NULL: no log */
    const char *const *kafka_config; /* more librdkafka "key=value" settings */
    size_t n_kafka_config;
    int grace_s;    /* on stop, wait this long for requests in flight; 0: 10 */
    int reuse_port; /* 1: SO_REUSEPORT, so other servers may bind the same
                       port (a rolling restart); 0: a port in use is an error */
} hops_serve_options;

#define HOPS_SERVE_OPTIONS_VERSION 1
#define HOPS_SERVE_OPTIONS_INIT                                                                    \
    {                                                                                              \
        .version = HOPS_SERVE_OPTIONS_VERSION                                                      \
    }

typedef struct hops_server hops_server;

/* Start serving in this process (worker settings are ignored): models are
 * loaded before it returns (HOPS_ENOTFOUND naming a model that has no
 * version, HOPS_EINVAL for bad options, HOPS_EIO when the port cannot be
 * bound). *OUT owned: hops_server_stop. */
HOPS_EXTERN hops_status hops_server_start(hops_server **out, const hops_serve_options *o);

/* The port the server listens on. */
HOPS_EXTERN int hops_server_port(const hops_server *s);

/* Stop accepting, let requests in flight finish (up to the grace period),
 * stop the watcher and free S. NULL is fine. */
HOPS_EXTERN void hops_server_stop(hops_server *s);

/* Serve until hops_serve_request_stop is called (from a signal handler, say):
 * in this process, or with O's workers / autoscale as a supervisor of worker
 * processes, each stopped gracefully at the end. ON_READY (may be NULL) is
 * called once with the port when the first worker answers. */
HOPS_EXTERN hops_status hops_serve_run(const hops_serve_options *o,
                                       void (*on_ready)(int port, void *ud), void *ud);

/* Ask hops_serve_run to stop. Async-signal-safe. */
HOPS_EXTERN void hops_serve_request_stop(void);

#ifdef __cplusplus
}
#endif
#endif
