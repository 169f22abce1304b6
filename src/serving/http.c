/* The HTTP front over libmicrohttpd: bodies collected up to the limit,
 * bearer tokens checked, routes answered through the REST codec, every
 * answer counted in the metrics. MHD runs its own threads (epoll, a pool of
 * O->threads); a handler never blocks on anything but the batcher. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hops/kafka.h"
#include "serving_internal.h"

struct srv_http {
    struct MHD_Daemon *d;
    hops_serve_options o;
    srv_models *ms;
    srv_shm *shm;
    srv_slot *slot;
    srv_batcher *batcher;
    hops_kafka_producer *kafka;
    char *auth; /* "Bearer TOKEN" */
    size_t max_body;
    int port;
    int fd;
    atomic_int stopping;
};

typedef struct {
    hops_buf body;
    int too_big;
    double t0;
} conn_ctx;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

hops_status hops__listen_socket(const char *host, int port, int reuse_port, int *fd_out)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    int fd = -1, one = 1, e;
    *fd_out = -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port);
    if ((e = getaddrinfo(host && *host ? host : "0.0.0.0", portstr, &hints, &res)) != 0)
        return hops__error(HOPS_EINVAL, "cannot listen on %s: %s", host ? host : "0.0.0.0",
                           gai_strerror(e));
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return hops__error(HOPS_EIO, "cannot listen on %s:%d: %s", host ? host : "0.0.0.0", port,
                           strerror(err));
    }
    freeaddrinfo(res);
    *fd_out = fd;
    return HOPS_OK;
}

static int socket_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* Queue BODY (owned, JSON) with STATUS; counts it for MODEL/VERSION. */
static enum MHD_Result answer(srv_http *h, struct MHD_Connection *c, conn_ctx *ctx, int status,
                              char *body, const char *content_type, const char *model,
                              int64_t version)
{
    struct MHD_Response *r;
    enum MHD_Result ok;
    if (!body) {
        status = 500;
        body = hops__strdup("{\"error\": \"out of memory\"}");
        if (!body)
            return MHD_NO;
    }
    r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (atomic_load(&h->stopping) || status == 413)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    hops__metrics_request(h->slot, model ? model : "", version, status, mono() - ctx->t0);
    return ok;
}

static enum MHD_Result error(srv_http *h, struct MHD_Connection *c, conn_ctx *ctx, int status,
                             const char *msg, const char *model, int64_t version)
{
    return answer(h, c, ctx, status, hops__rest_error_body(msg), "application/json", model,
                  version);
}

/* Constant-time comparison of the Authorization header. */
static int auth_ok(const srv_http *h, struct MHD_Connection *c)
{
    const char *got =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    size_t n = strlen(h->auth), m = got ? strlen(got) : 0;
    unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(h->auth[i] ^ (i < m ? got[i] : 0));
    return got && diff == 0;
}

static char *status_body(const srv_snapshot *s, const srv_loaded *only)
{
    json_t *list = json_array();
    for (size_t i = 0; i < s->n; i++) {
        if (only && s->v[i] != only)
            continue;
        char v[24];
        snprintf(v, sizeof v, "%" PRId64, s->v[i]->version);
        json_array_append_new(list, json_pack("{s:s, s:s, s:{s:s, s:s}}", "version", v, "state",
                                              "AVAILABLE", "status", "error_code", "OK",
                                              "error_message", ""));
    }
    json_t *doc = json_pack("{s:o}", "model_version_status", list);
    char *text = doc ? hops__json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

static char *metadata_body(const char *name, const srv_loaded *l, const srv_snapshot *s)
{
    const hops_model *m = l->m;
    json_t *inputs = json_object(), *outputs = json_object(), *labels = json_object();
    char v[24], *header = NULL;
    size_t k = hops_model_n_classes(m);
    snprintf(v, sizeof v, "%" PRId64, l->version);
    for (size_t f = 0; f < hops_model_n_features(m); f++) {
        const char *fname = hops_model_feature_name(m, f);
        json_object_set_new(
            inputs, fname,
            json_pack("{s:s, s:s, s:{s:[{s:s}]}}", "name", fname, "dtype",
                      hops_model_feature_is_categorical(m, f) ? "DT_STRING" : "DT_FLOAT",
                      "tensor_shape", "dim", "size", "-1"));
    }
    if (k) {
        json_t *classes = json_array();
        for (size_t i = 0; i < k; i++)
            json_array_append_new(classes, json_string(hops_model_class_name(m, i)));
        json_object_set_new(outputs, "classes",
                            json_pack("{s:s, s:s, s:o}", "name", "classes", "dtype", "DT_STRING",
                                      "values", classes));
        json_object_set_new(outputs, "scores",
                            json_pack("{s:s, s:s, s:{s:[{s:s},{s:I}]}}", "name", "scores", "dtype",
                                      "DT_FLOAT", "tensor_shape", "dim", "size", "-1", "size",
                                      (json_int_t)k));
    } else {
        json_object_set_new(outputs, "outputs",
                            json_pack("{s:s, s:s}", "name", "outputs", "dtype", "DT_FLOAT"));
    }
    for (size_t i = 0; i < s->n_labels; i++)
        json_object_set_new(labels, s->label_names[i],
                            json_integer((json_int_t)s->label_versions[i]));
    hops_model_header_json(m, &header);
    json_t *hdr = header ? json_loads(header, 0, NULL) : NULL;
    hops_free(header);
    json_t *doc = json_pack(
        "{s:{s:s, s:s, s:s}, s:{s:{s:{s:{s:o, s:o, s:s}}}, s:I, s:o, s:o}}", "model_spec", "name",
        name, "signature_name", "", "version", v, "metadata", "signature_def", "signature_def",
        "serving_default", "inputs", inputs, "outputs", outputs, "method_name",
        k ? "tensorflow/serving/classify" : "tensorflow/serving/regress", "inputs_encoded",
        (json_int_t)hops_model_n_inputs(m), "labels", labels, "model", hdr ? hdr : json_null());
    char *text = doc ? hops__json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

/* Log the inference to Kafka: {"model", "version", "verb", "time",
 * "request", "response"}, request and response as they were sent. */
static void log_inference(srv_http *h, const rest_route *r, int64_t version, const conn_ctx *ctx,
                          const char *response)
{
    static const char *const verbs[] = {"predict", "classify", "regress"};
    json_t *head =
        json_pack("{s:s, s:I, s:s, s:f}", "model", r->name, "version", (json_int_t)version, "verb",
                  verbs[r->kind], "time", hops__wall_time());
    char *text = head ? hops__json_dumps(head, JSON_COMPACT) : NULL;
    json_decref(head);
    if (!text)
        return;
    hops_buf b = HOPS_BUF_INIT;
    /* The head without its closing brace, then the two documents (both
     * well-formed JSON: the request parsed, the response we made). */
    hops__buf_put(&b, text, strlen(text) - 1);
    hops__buf_puts(&b, ",\"request\":");
    hops__buf_put(&b, ctx->body.data, ctx->body.len);
    hops__buf_puts(&b, ",\"response\":");
    hops__buf_puts(&b, response);
    hops__buf_puts(&b, "}");
    if (b.data && hops_kafka_produce(h->kafka, r->name, b.data, b.len) != HOPS_OK)
        hops_error_clear();
    hops__buf_free(&b);
    free(text);
}

static int batched_type(const hops_model *m)
{
    hops_model_type t = hops_model_get_type(m);
    return t == HOPS_MODEL_MLP || t == HOPS_MODEL_GBDT;
}

static enum MHD_Result handle(srv_http *h, struct MHD_Connection *c, conn_ctx *ctx, const char *url,
                              const char *method)
{
    rest_route r;
    char err[1024];
    int st;
    if ((st = hops__rest_route(method, url, &r, err, sizeof err)) != 0)
        return error(h, c, ctx, st, err, NULL, 0);
    if (h->auth && r.kind != REST_HEALTH && r.kind != REST_READY && !auth_ok(h, c))
        return error(h, c, ctx, 401, "missing or wrong bearer token (Authorization: Bearer ...)",
                     NULL, 0);
    if (ctx->too_big) {
        snprintf(err, sizeof err, "the body is over the limit of %zu bytes", h->max_body);
        return error(h, c, ctx, 413, err, NULL, 0);
    }
    switch (r.kind) {
    case REST_HEALTH:
        return answer(h, c, ctx, 200, hops__strdup("{\"status\":\"ok\"}"), "application/json", NULL,
                      0);
    case REST_READY:
        if (atomic_load(&h->stopping) || !hops__models_ready(h->ms))
            return error(h, c, ctx, 503, "not ready", NULL, 0);
        return answer(h, c, ctx, 200, hops__strdup("{\"status\":\"ready\"}"), "application/json",
                      NULL, 0);
    case REST_METRICS:
        return answer(h, c, ctx, 200, hops__metrics_text(h->shm),
                      "text/plain; version=0.0.4; charset=utf-8", NULL, 0);
    default:
        break;
    }
    srv_snapshot *s = hops__models_acquire(h->ms, r.name);
    if (!s) {
        snprintf(err, sizeof err, "model '%s' is not served here", r.name);
        return error(h, c, ctx, 404, err, NULL, 0);
    }
    enum MHD_Result ok;
    srv_loaded *l = hops__snapshot_pick(s, &r, &st, err, sizeof err);
    if (!l) {
        ok = error(h, c, ctx, st, err, r.name, 0);
    } else if (r.kind == REST_STATUS) {
        ok = answer(h, c, ctx, 200, status_body(s, r.version || r.label[0] ? l : NULL),
                    "application/json", r.name, 0);
    } else if (r.kind == REST_METADATA) {
        ok = answer(h, c, ctx, 200, metadata_body(r.name, l, s), "application/json", r.name,
                    l->version);
    } else {
        rest_input in;
        st = hops__rest_decode(ctx->body.data, ctx->body.len, r.kind, l->m, &in, err, sizeof err);
        if (st) {
            ok = error(h, c, ctx, st, err, r.name, l->version);
        } else {
            size_t k = hops_model_n_classes(l->m);
            double *pred = malloc(in.n * (k ? k : 1) * sizeof *pred);
            hops_status rc = !pred ? hops__error(HOPS_ENOMEM, "out of memory")
                             : h->batcher && batched_type(l->m)
                                 ? hops__batcher_predict(h->batcher, l->m, in.x, in.n, pred)
                                 : hops_model_predict_matrix(l->m, in.x, in.n, 1, pred);
            if (rc == HOPS_OK && !h->batcher)
                hops__metrics_batch(h->slot, in.n);
            if (rc != HOPS_OK) {
                ok = error(h, c, ctx, rc == HOPS_EINVAL ? 400 : 500, hops_last_error(), r.name,
                           l->version);
            } else {
                char *body = hops__rest_encode(r.kind, in.columnar, l->m, pred, in.n);
                if (body && h->kafka)
                    log_inference(h, &r, l->version, ctx, body);
                ok = answer(h, c, ctx, 200, body, "application/json", r.name, l->version);
            }
            free(pred);
            hops__rest_input_free(&in);
        }
    }
    hops__snapshot_release(s);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    srv_http *h = cls;
    conn_ctx *ctx = *con_cls;
    (void)version;
    if (!ctx) {
        if (!(ctx = calloc(1, sizeof *ctx)))
            return MHD_NO;
        ctx->t0 = mono();
        *con_cls = ctx;
        atomic_fetch_add(&h->slot->in_flight, 1);
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > h->max_body) {
            ctx->too_big = 1; /* answered at once: no need to read it */
            return handle(h, c, ctx, url, method);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!ctx->too_big && ctx->body.len + *upload_data_size > h->max_body) {
            ctx->too_big = 1;
            hops__buf_free(&ctx->body);
        }
        if (!ctx->too_big && hops__buf_put(&ctx->body, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return handle(h, c, ctx, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    srv_http *h = cls;
    conn_ctx *ctx = *con_cls;
    (void)c;
    (void)toe;
    if (!ctx)
        return;
    atomic_fetch_sub(&h->slot->in_flight, 1);
    hops__buf_free(&ctx->body);
    free(ctx);
    *con_cls = NULL;
}

hops_status hops__http_start(srv_http **out, const hops_serve_options *o, int fd, srv_models *ms,
                             srv_shm *shm, srv_slot *slot)
{
    srv_http *h = calloc(1, sizeof *h);
    hops_status rc = HOPS_OK;
    *out = NULL;
    if (!h)
        return hops__error(HOPS_ENOMEM, "out of memory");
    h->o = *o;
    h->ms = ms;
    h->shm = shm;
    h->slot = slot;
    h->fd = fd;
    h->max_body = o->max_body_bytes ? o->max_body_bytes : 4u << 20;
    if (o->auth_token && !(h->auth = hops__aprintf("Bearer %s", o->auth_token)))
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    if (rc == HOPS_OK && o->batch_max > 1)
        rc = hops__batcher_new(&h->batcher, o->batch_max, o->batch_timeout_us,
                               o->threads > 0 ? (size_t)o->threads : 2, slot);
    if (rc == HOPS_OK && o->kafka_topic)
        rc = hops_kafka_producer_new(&h->kafka, o->kafka_brokers, o->kafka_topic, o->kafka_config,
                                     o->n_kafka_config);
    if (rc == HOPS_OK && h->fd < 0)
        rc = hops__listen_socket(o->host, o->port, o->reuse_port, &h->fd);
    if (rc != HOPS_OK)
        goto fail;
    h->port = socket_port(h->fd);
    unsigned threads = o->threads > 0 ? (unsigned)o->threads : 2;
    /* TURBO: fewer system calls per connection (MHD's fast path on epoll).
     * A 16 KiB memory pool per connection (MHD's default is 32): headers of
     * REST clients are small, bodies stream through on_request in chunks,
     * and MHD clears the pool between requests. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO;
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(o->request_timeout_s > 0 ? o->request_timeout_s : 30),
        MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
    if (!h->d) {
        rc = hops__error(HOPS_EIO, "the HTTP server did not start on port %d", h->port);
        goto fail;
    }
    *out = h;
    return HOPS_OK;
fail:
    if (h->fd >= 0 && fd < 0)
        close(h->fd);
    hops__batcher_free(h->batcher);
    hops_kafka_producer_free(h->kafka);
    free(h->auth);
    free(h);
    return rc;
}

int hops__http_port(const srv_http *h)
{
    return h->port;
}

void hops__http_stop(srv_http *h, int grace_s)
{
    if (!h)
        return;
    atomic_store(&h->stopping, 1);
    MHD_socket lfd = MHD_quiesce_daemon(h->d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    double until = mono() + (grace_s > 0 ? grace_s : 10);
    while (atomic_load(&h->slot->in_flight) > 0 && mono() < until) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(h->d);
    hops__batcher_free(h->batcher);
    hops_kafka_producer_free(h->kafka);
    free(h->auth);
    free(h);
}
