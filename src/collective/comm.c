/* The communicator: rendezvous, backend choice, dispatch, reductions.
 *
 * Rendezvous: every rank first listens on a port of its own (for the ring).
 * Rank 0 also listens on the rendezvous port; the others connect to it (it
 * may not be up yet: they retry until the timeout) and send a hello: magic,
 * rank, size, their ring port, host name and boot id. Rank 0 checks the
 * hellos (same size, every rank once), picks the backend (shm when every
 * boot id and host name equals its own), creates the shared segment if so,
 * and answers each rank with the backend, the segment's name and every
 * rank's address. For shm the others attach and say so, and rank 0 unlinks
 * the name (the mapping stays: nothing is left in /dev/shm after a crash);
 * for tcp each rank connects to the next one's ring port and accepts the
 * previous one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coll_internal.h"

#define HELLO_MAGIC 0x484f5053434f4d31ULL /* "HOPSCOM1" */
#define HOST_LEN 64
#define BOOT_LEN 40
#define SHM_NAME_LEN 64

typedef struct {
    uint64_t magic;
    uint32_t rank, size, port, pad;
    char host[HOST_LEN];
    char boot[BOOT_LEN];
} hello_msg;

typedef struct {
    uint64_t magic;
    uint32_t backend, status; /* status 0 ok, else the rendezvous failed */
    char shm_name[SHM_NAME_LEN];
} reply_msg;

typedef struct {
    uint32_t ip; /* network order; 0: the rendezvous host */
    uint32_t port;
} peer_addr;

size_t hops__dtype_size(hops_dtype t) { return t == HOPS_FLOAT64 ? 8 : 4; }

/* Sums in blocks of 8 written out, with restrict pointers: GCC's -O2 cost
 * model vectorizes straight-line blocks but not loops that need an epilogue,
 * and the sum is most of an all-reduce's arithmetic. */
static void sum_f32(float *restrict d, const float *restrict s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        d[i + 0] += s[i + 0];
        d[i + 1] += s[i + 1];
        d[i + 2] += s[i + 2];
        d[i + 3] += s[i + 3];
        d[i + 4] += s[i + 4];
        d[i + 5] += s[i + 5];
        d[i + 6] += s[i + 6];
        d[i + 7] += s[i + 7];
    }
    for (; i < n; i++)
        d[i] += s[i];
}

static void sum_f64(double *restrict d, const double *restrict s, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        d[i + 0] += s[i + 0];
        d[i + 1] += s[i + 1];
        d[i + 2] += s[i + 2];
        d[i + 3] += s[i + 3];
    }
    for (; i < n; i++)
        d[i] += s[i];
}

void hops__reduce(void *dst, const void *src, size_t n, hops_dtype t, hops_reduce_op op)
{
    if (t == HOPS_FLOAT32) {
        float *d = dst;
        const float *s = src;
        if (op == HOPS_REDUCE_MAX) /* NaN wins, from either side */
            for (size_t i = 0; i < n; i++)
                d[i] = s[i] != s[i] || s[i] > d[i] ? s[i] : d[i];
        else
            sum_f32(d, s, n);
    } else {
        double *d = dst;
        const double *s = src;
        if (op == HOPS_REDUCE_MAX)
            for (size_t i = 0; i < n; i++)
                d[i] = s[i] != s[i] || s[i] > d[i] ? s[i] : d[i];
        else
            sum_f64(d, s, n);
    }
}

/* ---- small socket helpers ---- */

hops_status hops__io_full(int fd, void *buf, size_t n, int writing, double deadline,
                          const char *what)
{
    char *p = buf;
    while (n > 0) {
        struct pollfd pfd = {fd, writing ? POLLOUT : POLLIN, 0};
        double left = deadline - hops__mono_time();
        if (left <= 0)
            return hops__error(HOPS_ETIMEDOUT, "%s: no answer in time", what);
        int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno != EINTR)
            return hops__error(HOPS_EIO, "%s: %s", what, strerror(errno));
        if (pr <= 0)
            continue;
        ssize_t k = writing ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        } else if (k == 0) {
            return hops__error(HOPS_EIO, "%s: the peer closed the connection (it died or left)",
                               what);
        } else if (errno != EINTR && errno != EAGAIN) {
            return hops__error(HOPS_EIO, "%s: %s", what, strerror(errno));
        }
    }
    return HOPS_OK;
}

static int listen_on(uint16_t port, int *out_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = htons(port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1024) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    if (out_port)
        *out_port = ntohs(a.sin_port);
    return fd;
}

static hops_status accept_one(int lfd, double deadline, int *out, struct sockaddr_in *peer,
                              const char *what)
{
    for (;;) {
        struct pollfd pfd = {lfd, POLLIN, 0};
        double left = deadline - hops__mono_time();
        if (left <= 0)
            return hops__error(HOPS_ETIMEDOUT, "%s", what);
        if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        socklen_t len = sizeof *peer;
        int fd = accept4(lfd, (struct sockaddr *)peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            *out = fd;
            return HOPS_OK;
        }
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            return hops__error(HOPS_EIO, "%s: accept: %s", what, strerror(errno));
    }
}

/* Connect to ADDR (retrying while nobody listens yet) until DEADLINE. */
hops_status hops__connect_retry(const struct sockaddr_in *addr, double deadline, int *out,
                                const char *what)
{
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        if (fd < 0)
            return hops__error(HOPS_EIO, "%s: socket: %s", what, strerror(errno));
        if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            *out = fd;
            return HOPS_OK;
        }
        int e = errno;
        close(fd);
        if (e != ECONNREFUSED && e != EINTR && e != ETIMEDOUT && e != ECONNRESET)
            return hops__error(HOPS_EIO, "%s: %s", what, strerror(e));
        if (hops__mono_time() > deadline)
            return hops__error(HOPS_ETIMEDOUT, "%s: nobody listens there", what);
        usleep(20000); /* rank 0 is not up yet: a connect retry, not a poll loop */
    }
}

static void read_boot_id(char *out, size_t n)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    out[0] = '\0';
    if (f) {
        if (!fgets(out, (int)n, f))
            out[0] = '\0';
        fclose(f);
    }
    out[strcspn(out, "\n")] = '\0';
}

hops_status hops__parse_host_port(const char *spec, const char *what, struct sockaddr_in *out,
                                  int *port)
{
    const char *colon = spec ? strrchr(spec, ':') : NULL;
    char host[256], *end;
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host)
        return hops__error(HOPS_EINVAL, "%s '%s': expected HOST:PORT", what, spec ? spec : "");
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 1 || p > 65535)
        return hops__error(HOPS_EINVAL, "%s '%s': the port must be 1 to 65535", what, spec);
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int e = getaddrinfo(host, NULL, &hints, &res);
    if (e != 0 || !res)
        return hops__error(HOPS_EINVAL, "%s host '%s': %s", what, host, gai_strerror(e));
    memcpy(out, res->ai_addr, sizeof *out);
    freeaddrinfo(res);
    out->sin_port = htons((uint16_t)p);
    if (port)
        *port = (int)p;
    return HOPS_OK;
}

static int env_int(const char *a, const char *b, int *out)
{
    const char *v = getenv(a);
    char *end;
    if (!v || !*v)
        v = getenv(b);
    if (!v || !*v)
        return -1;
    long x = strtol(v, &end, 10);
    if (*end || x < 0 || x > HOPS_COMM_MAX_RANKS)
        return -2;
    *out = (int)x;
    return 0;
}

/* ---- rendezvous ---- */

static hops_status rank0_gather(hops_comm *c, int lfd, int ring_port, hops_comm_backend want,
                                double deadline, peer_addr **out_addrs)
{
    int n = c->size, *fds = calloc((size_t)n, sizeof *fds);
    peer_addr *addrs = calloc((size_t)n, sizeof *addrs);
    char boot[BOOT_LEN], host[HOST_LEN];
    reply_msg reply;
    hops_status rc = HOPS_OK;
    int same_host = 1;
    memset(&reply, 0, sizeof reply);
    if (!fds || !addrs) {
        free(fds);
        free(addrs);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++)
        fds[i] = -1;
    read_boot_id(boot, sizeof boot);
    gethostname(host, sizeof host);
    host[HOST_LEN - 1] = '\0';
    addrs[0].port = htonl((uint32_t)ring_port);
    for (int got = 1; got < n; got++) {
        struct sockaddr_in peer;
        hello_msg h;
        int fd;
        char what[96];
        snprintf(what, sizeof what, "rendezvous: waiting for %d more rank(s) of %d", n - got, n);
        if ((rc = accept_one(lfd, deadline, &fd, &peer, what)) != HOPS_OK)
            goto out;
        if ((rc = hops__io_full(fd, &h, sizeof h, 0, deadline, "rendezvous: a rank's hello")) != HOPS_OK) {
            close(fd);
            goto out;
        }
        if (h.magic != HELLO_MAGIC) {
            close(fd);
            got--; /* not one of us (a port scanner, a stale client): ignore it */
            continue;
        }
        if ((int)h.size != n || h.rank == 0 || (int)h.rank >= n || fds[h.rank] >= 0) {
            rc = hops__error(HOPS_ESTATE,
                             "rendezvous: a rank says it is rank %u of %u, but this is a "
                             "communicator of %d%s",
                             h.rank, h.size, n,
                             h.rank < (uint32_t)n && fds[h.rank] >= 0 ? " where that rank joined already" : "");
            close(fd);
            goto out;
        }
        fds[h.rank] = fd;
        addrs[h.rank].ip = peer.sin_addr.s_addr;
        addrs[h.rank].port = htonl(h.port);
        h.boot[BOOT_LEN - 1] = h.host[HOST_LEN - 1] = '\0';
        if (strcmp(h.boot, boot) != 0 || strcmp(h.host, host) != 0)
            same_host = 0;
    }
    if (want == HOPS_COMM_SHM && !same_host) {
        rc = hops__error(HOPS_EINVAL, "the shm backend needs every rank on one host");
        goto out;
    }
    c->backend = want == HOPS_COMM_TCP || !same_host ? HOPS_COMM_TCP : HOPS_COMM_SHM;
    memset(&reply, 0, sizeof reply);
    reply.magic = HELLO_MAGIC;
    reply.backend = (uint32_t)c->backend;
    if (c->backend == HOPS_COMM_SHM &&
        (rc = hops__shm_create(c, reply.shm_name, sizeof reply.shm_name)) != HOPS_OK)
        goto out;
    for (int r = 1; r < n; r++) {
        if ((rc = hops__io_full(fds[r], &reply, sizeof reply, 1, deadline, "rendezvous: answer")) != HOPS_OK ||
            (rc = hops__io_full(fds[r], addrs, (size_t)n * sizeof *addrs, 1, deadline,
                          "rendezvous: answer")) != HOPS_OK)
            goto out;
    }
    if (c->backend == HOPS_COMM_SHM) { /* wait until all have mapped it, then unlink */
        for (int r = 1; r < n; r++) {
            char ack;
            if ((rc = hops__io_full(fds[r], &ack, 1, 0, deadline, "rendezvous: attaching")) != HOPS_OK)
                goto out;
        }
    }
out:
    if (c->backend == HOPS_COMM_SHM && reply.shm_name[0])
        shm_unlink(reply.shm_name);
    for (int r = 0; r < n; r++)
        if (fds[r] >= 0)
            close(fds[r]);
    free(fds);
    if (rc == HOPS_OK)
        *out_addrs = addrs;
    else
        free(addrs);
    return rc;
}

static hops_status peer_join(hops_comm *c, const struct sockaddr_in *rv, int ring_port,
                             hops_comm_backend want, double deadline, peer_addr **out_addrs)
{
    hello_msg h;
    reply_msg reply;
    int fd = -1;
    hops_status rc;
    char what[300];
    snprintf(what, sizeof what, "rendezvous with rank 0 at %s:%d", inet_ntoa(rv->sin_addr),
             ntohs(rv->sin_port));
    memset(&h, 0, sizeof h);
    h.magic = HELLO_MAGIC;
    h.rank = (uint32_t)c->rank;
    h.size = (uint32_t)c->size;
    h.port = (uint32_t)ring_port;
    gethostname(h.host, sizeof h.host);
    h.host[HOST_LEN - 1] = '\0';
    read_boot_id(h.boot, sizeof h.boot);
    peer_addr *addrs = calloc((size_t)c->size, sizeof *addrs);
    if (!addrs)
        return hops__error(HOPS_ENOMEM, "out of memory");
    if ((rc = hops__connect_retry(rv, deadline, &fd, what)) != HOPS_OK ||
        (rc = hops__io_full(fd, &h, sizeof h, 1, deadline, what)) != HOPS_OK ||
        (rc = hops__io_full(fd, &reply, sizeof reply, 0, deadline, what)) != HOPS_OK ||
        (rc = hops__io_full(fd, addrs, (size_t)c->size * sizeof *addrs, 0, deadline, what)) != HOPS_OK)
        goto out;
    reply.shm_name[SHM_NAME_LEN - 1] = '\0';
    c->backend = reply.backend == HOPS_COMM_SHM ? HOPS_COMM_SHM : HOPS_COMM_TCP;
    if (want == HOPS_COMM_SHM && c->backend != HOPS_COMM_SHM) {
        rc = hops__error(HOPS_EINVAL, "the shm backend needs every rank on one host");
        goto out;
    }
    if (c->backend == HOPS_COMM_SHM) {
        char ack = 1;
        if ((rc = hops__shm_attach(c, reply.shm_name)) != HOPS_OK ||
            (rc = hops__io_full(fd, &ack, 1, 1, deadline, what)) != HOPS_OK)
            goto out;
    }
    for (int r = 0; r < c->size; r++)
        if (addrs[r].ip == 0)
            addrs[r].ip = rv->sin_addr.s_addr;
out:
    if (fd >= 0)
        close(fd);
    if (rc == HOPS_OK)
        *out_addrs = addrs;
    else
        free(addrs);
    return rc;
}

/* The ring: connect to the next rank, accept the previous one. */
static hops_status ring_connect(hops_comm *c, int ring_lfd, const peer_addr *addrs,
                                const struct sockaddr_in *rv, double deadline)
{
    int next = (c->rank + 1) % c->size, prev = (c->rank + c->size - 1) % c->size;
    struct sockaddr_in a;
    hops_status rc;
    char what[96];
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = addrs[next].ip ? addrs[next].ip : rv->sin_addr.s_addr;
    a.sin_port = htons((uint16_t)ntohl(addrs[next].port));
    snprintf(what, sizeof what, "ring: connecting to rank %d", next);
    if ((rc = hops__connect_retry(&a, deadline, &c->next_fd, what)) != HOPS_OK)
        return rc;
    uint32_t me = (uint32_t)c->rank, them = 0;
    if ((rc = hops__io_full(c->next_fd, &me, sizeof me, 1, deadline, what)) != HOPS_OK)
        return rc;
    snprintf(what, sizeof what, "ring: waiting for rank %d to connect", prev);
    struct sockaddr_in peer;
    if ((rc = accept_one(ring_lfd, deadline, &c->prev_fd, &peer, what)) != HOPS_OK ||
        (rc = hops__io_full(c->prev_fd, &them, sizeof them, 0, deadline, what)) != HOPS_OK)
        return rc;
    if ((int)them != prev)
        return hops__error(HOPS_ESTATE, "ring: rank %u connected where rank %d was expected", them,
                           prev);
    return HOPS_OK;
}

hops_status hops_comm_open(hops_comm **out, const hops_comm_options *o)
{
    static const hops_comm_options defaults = HOPS_COMM_OPTIONS_INIT;
    hops_comm *c;
    struct sockaddr_in rv;
    peer_addr *addrs = NULL;
    int rv_port = 0, ring_port = 0, ring_lfd = -1, rv_lfd = -1;
    hops_status rc;
    *out = NULL;
    if (!o)
        o = &defaults;
    if (o->version != HOPS_COMM_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_comm_options: unknown version");
    if (!(c = calloc(1, sizeof *c)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    c->next_fd = c->prev_fd = -1;
    c->rank = o->rank;
    c->size = o->size;
    c->timeout = o->timeout > 0 ? o->timeout : 60;
    if ((int)o->backend < HOPS_COMM_AUTO || o->backend > HOPS_COMM_MPI) {
        rc = hops__error(HOPS_EINVAL, "unknown collective backend %d", (int)o->backend);
        goto fail;
    }
    if (o->backend == HOPS_COMM_MPI) { /* MPI knows the rank and size */
        if ((rc = hops__mpi_open(c)) != HOPS_OK)
            goto fail;
        *out = c;
        return HOPS_OK;
    }
    if (c->rank < 0 && env_int("HOPS_RANK", "RANK", &c->rank) != 0) {
        rc = hops__error(HOPS_EINVAL, "no rank: set HOPS_RANK (hops launch does) or pass one");
        goto fail;
    }
    if (c->size <= 0 && env_int("HOPS_WORLD_SIZE", "WORLD_SIZE", &c->size) != 0) {
        rc = hops__error(HOPS_EINVAL, "no size: set HOPS_WORLD_SIZE (hops launch does) or pass one");
        goto fail;
    }
    if (c->size < 1 || c->size > HOPS_COMM_MAX_RANKS || c->rank >= c->size) {
        rc = hops__error(HOPS_EINVAL, "rank %d of %d: the rank must be below the size, the size "
                                      "1 to %d", c->rank, c->size, HOPS_COMM_MAX_RANKS);
        goto fail;
    }
    if (c->size == 1) {
        c->backend = HOPS_COMM_AUTO; /* "self" */
        *out = c;
        return HOPS_OK;
    }
    const char *spec = o->rendezvous ? o->rendezvous : getenv("HOPS_RENDEZVOUS");
    if ((rc = hops__parse_host_port(spec, "rendezvous (HOPS_RENDEZVOUS)", &rv, &rv_port)) != HOPS_OK)
        goto fail;
    double deadline = hops__mono_time() + c->timeout;
    if ((ring_lfd = listen_on(0, &ring_port)) < 0) {
        rc = hops__error(HOPS_EIO, "cannot listen for the ring: %s", strerror(errno));
        goto fail;
    }
    if (c->rank == 0) {
        if ((rv_lfd = listen_on((uint16_t)rv_port, NULL)) < 0) {
            rc = hops__error(HOPS_EIO, "rendezvous: cannot listen on port %d: %s", rv_port,
                             strerror(errno));
            goto fail;
        }
        rc = rank0_gather(c, rv_lfd, ring_port, o->backend, deadline, &addrs);
    } else {
        rc = peer_join(c, &rv, ring_port, o->backend, deadline, &addrs);
    }
    if (rc != HOPS_OK)
        goto fail;
    if (c->backend == HOPS_COMM_TCP) {
        rc = ring_connect(c, ring_lfd, addrs, &rv, deadline);
        if (rc != HOPS_OK)
            goto fail;
    }
    close(ring_lfd);
    if (rv_lfd >= 0)
        close(rv_lfd);
    free(addrs);
    *out = c;
    return HOPS_OK;
fail:
    if (ring_lfd >= 0)
        close(ring_lfd);
    if (rv_lfd >= 0)
        close(rv_lfd);
    free(addrs);
    hops_comm_close(c);
    return rc;
}

/* ---- the calls ---- */

int hops_comm_rank(const hops_comm *c) { return c->rank; }
int hops_comm_size(const hops_comm *c) { return c->size; }

const char *hops_comm_backend_name(const hops_comm *c)
{
    if (c->backend == HOPS_COMM_MPI)
        return "mpi";
    return c->size == 1 ? "self" : c->backend == HOPS_COMM_SHM ? "shm" : "tcp";
}

static hops_status usable(hops_comm *c)
{
    if (!c)
        return hops__error(HOPS_EINVAL, "no communicator");
    if (c->failed)
        return hops__error(HOPS_ESTATE, "the communicator failed earlier; close it and open a new one");
    return HOPS_OK;
}

static hops_status done(hops_comm *c, hops_status rc)
{
    if (rc != HOPS_OK)
        c->failed = 1;
    return rc;
}

hops_status hops_comm_allreduce(hops_comm *c, void *buf, size_t count, hops_dtype t,
                                hops_reduce_op op)
{
    hops_status rc = usable(c);
    if (rc != HOPS_OK)
        return rc;
    if ((t != HOPS_FLOAT32 && t != HOPS_FLOAT64) || (int)op < 0 || op > HOPS_REDUCE_MAX)
        return hops__error(HOPS_EINVAL, "allreduce: unknown type %d or operation %d", (int)t,
                           (int)op);
    if (count == 0 || c->size == 1)
        return HOPS_OK;
    if (!buf)
        return hops__error(HOPS_EINVAL, "allreduce: no buffer");
    rc = c->backend == HOPS_COMM_SHM   ? hops__shm_allreduce(c, buf, count, t, op)
         : c->backend == HOPS_COMM_MPI ? hops__mpi_allreduce(c, buf, count, t, op)
                                       : hops__ring_allreduce(c, buf, count, t, op);
    if (rc == HOPS_OK && op == HOPS_REDUCE_MEAN) {
        if (t == HOPS_FLOAT32)
            for (size_t i = 0; i < count; i++)
                ((float *)buf)[i] /= (float)c->size;
        else
            for (size_t i = 0; i < count; i++)
                ((double *)buf)[i] /= (double)c->size;
    }
    return done(c, rc);
}

hops_status hops_comm_broadcast(hops_comm *c, void *buf, size_t bytes, int root)
{
    hops_status rc = usable(c);
    if (rc != HOPS_OK)
        return rc;
    if (root < 0 || root >= c->size)
        return hops__error(HOPS_EINVAL, "broadcast: root %d is not a rank of %d", root, c->size);
    if (bytes == 0 || c->size == 1)
        return HOPS_OK;
    if (!buf)
        return hops__error(HOPS_EINVAL, "broadcast: no buffer");
    rc = c->backend == HOPS_COMM_SHM   ? hops__shm_broadcast(c, buf, bytes, root)
         : c->backend == HOPS_COMM_MPI ? hops__mpi_broadcast(c, buf, bytes, root)
                                       : hops__ring_broadcast(c, buf, bytes, root);
    return done(c, rc);
}

hops_status hops_comm_allgather(hops_comm *c, const void *send, size_t bytes, void *recv)
{
    hops_status rc = usable(c);
    if (rc != HOPS_OK)
        return rc;
    if (bytes == 0)
        return HOPS_OK;
    if (!send || !recv)
        return hops__error(HOPS_EINVAL, "allgather: no buffer");
    if (c->size == 1) {
        memmove(recv, send, bytes);
        return HOPS_OK;
    }
    rc = c->backend == HOPS_COMM_SHM   ? hops__shm_allgather(c, send, bytes, recv)
         : c->backend == HOPS_COMM_MPI ? hops__mpi_allgather(c, send, bytes, recv)
                                       : hops__ring_allgather(c, send, bytes, recv);
    return done(c, rc);
}

hops_status hops_comm_barrier(hops_comm *c)
{
    hops_status rc = usable(c);
    if (rc != HOPS_OK || c->size == 1)
        return rc;
    if (c->backend == HOPS_COMM_SHM)
        return done(c, hops__shm_barrier(c));
    if (c->backend == HOPS_COMM_MPI)
        return done(c, hops__mpi_barrier(c));
    unsigned char me = 1, all[HOPS_COMM_MAX_RANKS];
    return done(c, hops__ring_allgather(c, &me, 1, all));
}

void hops_comm_close(hops_comm *c)
{
    if (!c)
        return;
    if (c->next_fd >= 0)
        close(c->next_fd);
    if (c->prev_fd >= 0)
        close(c->prev_fd);
    hops__shm_detach(c);
    hops__mpi_close(c);
    free(c->tmp);
    free(c);
}
