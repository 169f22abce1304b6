/* Parameter servers: one shard of a parameter vector and its optimizer
 * state per server, workers pushing gradients and pulling parameters over
 * TCP. The server is one poll loop over its workers' connections; a message
 * is a fixed header and N little-endian floats. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coll_internal.h"

#define PS_MAGIC 0x31535048u /* "HPS1" */
#define PS_MAX_FLOATS (1ull << 31)

enum { MSG_INIT = 1, MSG_PULL = 2, MSG_PUSH = 3, MSG_BYE = 4, MSG_PARAMS = 5 };

/* ADAM: in INIT the optimizer (1 Adam, 0 SGD); in a PARAMS reply 1 when the
 * server is synchronous. */
typedef struct {
    uint32_t magic, type, worker, adam;
    uint64_t step, n;
    double loss, lr, momentum;
} msg_hdr;

_Static_assert(sizeof(msg_hdr) == 56, "msg_hdr is sent as is");

static hops_status send_msg(int fd, msg_hdr *h, const float *x, double timeout, const char *who)
{
    h->magic = PS_MAGIC;
    double deadline = hops__mono_time() + timeout;
    hops_status rc = hops__io_full(fd, h, sizeof *h, 1, deadline, who);
    if (rc == HOPS_OK && h->n)
        rc = hops__io_full(fd, (void *)x, (size_t)h->n * sizeof(float), 1, deadline, who);
    return rc;
}

/* ---- the server ---- */

typedef struct {
    int fd;
    int worker; /* -1 until its first message */
    hops_buf in;
    int bye, pending_pull, have_grad;
    float *grad;
    double loss;
} conn;

typedef struct {
    int n_workers, sync;
    double timeout;
    conn *c;
    size_t n_conns, cap;
    size_t n;     /* shard size, from INIT */
    float *w, *m, *v;
    hops_ps_optimizer opt;
    double step;
    int inited;
} server;

static volatile sig_atomic_t ps_stop;
static void on_term(int sig)
{
    (void)sig;
    ps_stop = 1;
}

static hops_status reply_params(server *s, conn *c, double loss)
{
    msg_hdr h;
    char who[64];
    memset(&h, 0, sizeof h);
    h.type = MSG_PARAMS;
    h.adam = (uint32_t)s->sync;
    h.step = (uint64_t)s->step;
    h.n = s->n;
    h.loss = loss;
    snprintf(who, sizeof who, "worker %d", c->worker);
    return send_msg(c->fd, &h, s->w, s->timeout, who);
}

/* The mlp's update rule (src/ml/mlp.c), on the shard. */
static void apply(server *s, const float *g)
{
    s->step += 1;
    if (s->opt.adam) {
        double lr_t = s->opt.lr * sqrt(1 - pow(0.999, s->step)) / (1 - pow(0.9, s->step));
        for (size_t i = 0; i < s->n; i++) {
            s->m[i] = 0.9f * s->m[i] + 0.1f * g[i];
            s->v[i] = 0.999f * s->v[i] + 0.001f * g[i] * g[i];
            s->w[i] -= (float)(lr_t * s->m[i] / (sqrt((double)s->v[i]) + 1e-8));
        }
    } else {
        for (size_t i = 0; i < s->n; i++) {
            s->m[i] = (float)(s->opt.momentum * s->m[i] - s->opt.lr * g[i]);
            s->w[i] += s->m[i];
        }
    }
}

static hops_status handle(server *s, conn *c, const msg_hdr *h, const float *x)
{
    if (h->worker >= (uint32_t)s->n_workers)
        return hops__error(HOPS_EINVAL, "a client says it is worker %u of %d", h->worker,
                           s->n_workers);
    c->worker = (int)h->worker;
    switch (h->type) {
    case MSG_INIT:
        if (s->inited) /* a chief started again: it gets the current parameters */
            return reply_params(s, c, 0);
        s->n = (size_t)h->n;
        s->w = malloc((s->n ? s->n : 1) * sizeof(float));
        s->m = calloc(s->n ? s->n : 1, sizeof(float));
        s->v = calloc(s->n ? s->n : 1, sizeof(float));
        if (!s->w || !s->m || !s->v)
            return hops__error(HOPS_ENOMEM, "out of memory");
        if (s->n)
            memcpy(s->w, x, s->n * sizeof(float));
        s->opt.adam = (int)h->adam;
        s->opt.lr = h->lr;
        s->opt.momentum = h->momentum;
        s->inited = 1;
        for (size_t i = 0; i < s->n_conns; i++)
            if (s->c[i].pending_pull || &s->c[i] == c) {
                s->c[i].pending_pull = 0;
                hops_status rc = reply_params(s, &s->c[i], 0);
                if (rc != HOPS_OK)
                    return rc;
            }
        return HOPS_OK;
    case MSG_PULL:
        if (!s->inited) {
            c->pending_pull = 1;
            return HOPS_OK;
        }
        return reply_params(s, c, 0);
    case MSG_PUSH:
        if (!s->inited || h->n != s->n)
            return hops__error(HOPS_EINVAL, "worker %u pushed %llu values to a shard of %zu", h->worker,
                               (unsigned long long)h->n, s->n);
        if (!s->sync) {
            apply(s, x);
            return reply_params(s, c, h->loss);
        }
        if (!c->grad && !(c->grad = malloc((s->n ? s->n : 1) * sizeof(float))))
            return hops__error(HOPS_ENOMEM, "out of memory");
        if (s->n)
            memcpy(c->grad, x, s->n * sizeof(float));
        c->loss = h->loss;
        c->have_grad = 1;
        /* Every worker's gradient of this step is here: sum in worker order. */
        conn *by[1024] = {0};
        int have = 0;
        for (size_t i = 0; i < s->n_conns; i++)
            if (s->c[i].have_grad && s->c[i].worker >= 0 && s->c[i].worker < 1024) {
                by[s->c[i].worker] = &s->c[i];
                have++;
            }
        if (have < s->n_workers)
            return HOPS_OK;
        double total = 0;
        float *sum = by[0]->grad;
        total += by[0]->loss;
        for (int w = 1; w < s->n_workers; w++) {
            for (size_t i = 0; i < s->n; i++)
                sum[i] += by[w]->grad[i];
            total += by[w]->loss;
        }
        apply(s, sum);
        for (int w = 0; w < s->n_workers; w++) {
            by[w]->have_grad = 0;
            hops_status rc = reply_params(s, by[w], total);
            if (rc != HOPS_OK)
                return rc;
        }
        return HOPS_OK;
    case MSG_BYE:
        c->bye = 1;
        return HOPS_OK;
    default:
        return hops__error(HOPS_EINVAL, "unknown message %u from worker %u", h->type, h->worker);
    }
}

/* Take every whole message out of C's buffer. */
static hops_status consume(server *s, conn *c)
{
    while (c->in.len >= sizeof(msg_hdr)) {
        msg_hdr h;
        memcpy(&h, c->in.data, sizeof h);
        if (h.magic != PS_MAGIC || h.n > PS_MAX_FLOATS)
            return hops__error(HOPS_EINVAL, "a client sent something that is not a parameter-server "
                                            "message");
        size_t need = sizeof h + (size_t)h.n * sizeof(float);
        if (c->in.len < need)
            return HOPS_OK;
        float *x = NULL;
        if (h.n) {
            if (!(x = malloc((size_t)h.n * sizeof(float))))
                return hops__error(HOPS_ENOMEM, "out of memory");
            memcpy(x, c->in.data + sizeof h, (size_t)h.n * sizeof(float));
        }
        memmove(c->in.data, c->in.data + need, c->in.len - need);
        c->in.len -= need;
        hops_status rc = handle(s, c, &h, x);
        free(x);
        if (rc != HOPS_OK)
            return rc;
    }
    return HOPS_OK;
}

hops_status hops_ps_serve(int port, int n_workers, int sync, double timeout)
{
    server s;
    struct sigaction act, old_term, old_int;
    int lfd, one = 1;
    hops_status rc = HOPS_OK;
    memset(&s, 0, sizeof s);
    if (n_workers < 1 || n_workers > 1024 || port < 1 || port > 65535)
        return hops__error(HOPS_EINVAL, "a parameter server needs 1 to 1024 workers and a port");
    s.n_workers = n_workers;
    s.sync = sync;
    s.timeout = timeout > 0 ? timeout : 60;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = htons((uint16_t)port);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1024) != 0) {
        if (lfd >= 0)
            close(lfd);
        return hops__error(HOPS_EIO, "parameter server: cannot listen on port %d: %s", port,
                           strerror(errno));
    }
    ps_stop = 0;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_term;
    sigemptyset(&act.sa_mask);
    sigaction(SIGTERM, &act, &old_term);
    sigaction(SIGINT, &act, &old_int);
    double last = hops__mono_time();
    for (;;) {
        if (ps_stop)
            break;
        struct pollfd pfd[1025];
        size_t np = 0;
        pfd[np++] = (struct pollfd){lfd, POLLIN, 0};
        if (s.n_conns > 1024) {
            rc = hops__error(HOPS_EINVAL, "more than 1024 connections to one parameter server");
            break;
        }
        for (size_t i = 0; i < s.n_conns; i++)
            pfd[np++] = (struct pollfd){s.c[i].fd, POLLIN, 0};
        int pr = poll(pfd, (nfds_t)np, 1000);
        if (pr < 0 && errno != EINTR) {
            rc = hops__error(HOPS_EIO, "poll: %s", strerror(errno));
            break;
        }
        int waiting = 0; /* a synchronous step some worker has pushed to */
        for (size_t i = 0; i < s.n_conns; i++)
            waiting |= s.c[i].have_grad;
        if (pr == 0) {
            if (waiting && hops__mono_time() - last > s.timeout) {
                rc = hops__error(HOPS_ETIMEDOUT, "a synchronous step waited %g s for a worker's "
                                                 "gradient", s.timeout);
                break;
            }
            continue;
        }
        last = hops__mono_time();
        if (pfd[0].revents) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                if (s.n_conns == s.cap) {
                    size_t cap = s.cap ? 2 * s.cap : 8;
                    conn *c = realloc(s.c, cap * sizeof *c);
                    if (!c) {
                        close(fd);
                        rc = hops__error(HOPS_ENOMEM, "out of memory");
                        break;
                    }
                    s.c = c;
                    s.cap = cap;
                }
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                s.c[s.n_conns++] = (conn){fd, -1, HOPS_BUF_INIT, 0, 0, 0, NULL, 0};
            }
        }
        for (size_t k = 1; k < np && rc == HOPS_OK; k++) {
            if (!pfd[k].revents)
                continue;
            conn *c = &s.c[k - 1];
            char buf[65536];
            ssize_t got = recv(c->fd, buf, sizeof buf, 0);
            if (got > 0) {
                hops__buf_put(&c->in, buf, (size_t)got);
                rc = consume(&s, c);
            } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (!c->bye && c->worker >= 0)
                    rc = hops__error(HOPS_EIO, "worker %d left without saying goodbye (it died?)",
                                     c->worker);
                close(c->fd);
                c->fd = -1; /* the slot stays (its goodbye counts); poll skips fd -1 */
            }
        }
        if (rc != HOPS_OK)
            break;
    }
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    for (size_t i = 0; i < s.n_conns; i++) {
        if (s.c[i].fd >= 0)
            close(s.c[i].fd);
        hops__buf_free(&s.c[i].in);
        free(s.c[i].grad);
    }
    free(s.c);
    free(s.w);
    free(s.m);
    free(s.v);
    close(lfd);
    return rc;
}

hops_status hops__ps_feed(const unsigned char *data, size_t n)
{
    server s;
    conn c = {open("/dev/null", O_WRONLY | O_CLOEXEC), -1, HOPS_BUF_INIT, 0, 0, 0, NULL, 0};
    memset(&s, 0, sizeof s);
    s.n_workers = 2;
    s.sync = 1;
    s.timeout = 0.01;
    s.c = &c;
    s.n_conns = s.cap = 1;
    hops__buf_put(&c.in, data, n);
    hops_status rc = consume(&s, &c);
    if (c.fd >= 0)
        close(c.fd);
    hops__buf_free(&c.in);
    free(c.grad);
    free(s.w);
    free(s.m);
    free(s.v);
    return rc;
}

/* ---- the worker side ---- */

struct hops_ps {
    int worker, n_workers;
    int sync; /* what the servers said */
    size_t n_servers, n_params;
    int *fd;
    double timeout;
};

static size_t shard_lo(const hops_ps *ps, size_t s) { return ps->n_params * s / ps->n_servers; }

int hops_ps_worker(const hops_ps *ps) { return ps->worker; }
int hops_ps_workers(const hops_ps *ps) { return ps->n_workers; }
int hops_ps_sync(const hops_ps *ps) { return ps->sync; }

static hops_status connect_addr(const char *addr, double timeout, int *out)
{
    struct sockaddr_in a;
    char what[300];
    hops_status rc = hops__parse_host_port(addr, "parameter server", &a, NULL);
    if (rc != HOPS_OK)
        return rc;
    snprintf(what, sizeof what, "parameter server %s", addr);
    return hops__connect_retry(&a, hops__mono_time() + timeout, out, what);
}

hops_status hops_ps_connect(hops_ps **out, const char *const *addrs, size_t n_servers, int worker,
                            int n_workers, double timeout)
{
    *out = NULL;
    if (n_servers < 1 || n_servers > 1024 || worker < 0 || worker >= n_workers)
        return hops__error(HOPS_EINVAL, "parameter servers: %zu servers, worker %d of %d",
                           n_servers, worker, n_workers);
    hops_ps *ps = calloc(1, sizeof *ps);
    if (!ps || !(ps->fd = malloc(n_servers * sizeof *ps->fd))) {
        free(ps);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    ps->worker = worker;
    ps->n_workers = n_workers;
    ps->n_servers = n_servers;
    ps->timeout = timeout > 0 ? timeout : 60;
    for (size_t s = 0; s < n_servers; s++)
        ps->fd[s] = -1;
    for (size_t s = 0; s < n_servers; s++) {
        hops_status rc = connect_addr(addrs[s], ps->timeout, &ps->fd[s]);
        if (rc != HOPS_OK) {
            hops_ps_close(ps);
            return rc;
        }
    }
    *out = ps;
    return HOPS_OK;
}

/* Every server's PARAMS reply into PARAMS; the first server's loss. */
static hops_status receive_params(hops_ps *ps, float *params, double *loss)
{
    for (size_t s = 0; s < ps->n_servers; s++) {
        msg_hdr h;
        char who[64];
        snprintf(who, sizeof who, "parameter server %zu", s);
        size_t lo = shard_lo(ps, s), n = shard_lo(ps, s + 1) - lo;
        double deadline = hops__mono_time() + ps->timeout;
        hops_status rc = hops__io_full(ps->fd[s], &h, sizeof h, 0, deadline, who);
        if (rc != HOPS_OK)
            return rc;
        if (h.magic != PS_MAGIC || h.type != MSG_PARAMS || h.n != n)
            return hops__error(HOPS_EIO, "%s answered with something unexpected", who);
        if ((rc = hops__io_full(ps->fd[s], params + lo, n * sizeof(float), 0, deadline, who)) !=
            HOPS_OK)
            return rc;
        if (s == 0 && loss)
            *loss = h.loss;
        ps->sync = (int)h.adam;
    }
    return HOPS_OK;
}

hops_status hops_ps_start(hops_ps *ps, float *params, size_t n_params,
                          const hops_ps_optimizer *opt)
{
    if (n_params < ps->n_servers)
        return hops__error(HOPS_EINVAL, "%zu parameters cannot be sharded over %zu servers",
                           n_params, ps->n_servers);
    ps->n_params = n_params;
    for (size_t s = 0; s < ps->n_servers; s++) {
        msg_hdr h;
        char who[64];
        size_t lo = shard_lo(ps, s), n = shard_lo(ps, s + 1) - lo;
        memset(&h, 0, sizeof h);
        h.worker = (uint32_t)ps->worker;
        snprintf(who, sizeof who, "parameter server %zu", s);
        if (ps->worker == 0) {
            h.type = MSG_INIT;
            h.n = n;
            h.adam = (uint32_t)(opt && opt->adam);
            h.lr = opt ? opt->lr : 0.001;
            h.momentum = opt ? opt->momentum : 0;
        } else {
            h.type = MSG_PULL;
        }
        hops_status rc = send_msg(ps->fd[s], &h, params + lo, ps->timeout, who);
        if (rc != HOPS_OK)
            return rc;
    }
    return receive_params(ps, params, NULL);
}

hops_status hops_ps_step(hops_ps *ps, const float *grad, double loss, float *params,
                         double *total_loss)
{
    for (size_t s = 0; s < ps->n_servers; s++) {
        msg_hdr h;
        char who[64];
        size_t lo = shard_lo(ps, s), n = shard_lo(ps, s + 1) - lo;
        memset(&h, 0, sizeof h);
        h.type = MSG_PUSH;
        h.worker = (uint32_t)ps->worker;
        h.n = n;
        h.loss = loss;
        snprintf(who, sizeof who, "parameter server %zu", s);
        hops_status rc = send_msg(ps->fd[s], &h, grad + lo, ps->timeout, who);
        if (rc != HOPS_OK)
            return rc;
    }
    return receive_params(ps, params, total_loss);
}

void hops_ps_close(hops_ps *ps)
{
    if (!ps)
        return;
    for (size_t s = 0; s < ps->n_servers; s++) {
        if (ps->fd[s] < 0)
            continue;
        msg_hdr h;
        memset(&h, 0, sizeof h);
        h.type = MSG_BYE;
        h.worker = (uint32_t)ps->worker;
        send_msg(ps->fd[s], &h, NULL, 1.0, "parameter server");
        close(ps->fd[s]);
    }
    free(ps->fd);
    free(ps);
}
