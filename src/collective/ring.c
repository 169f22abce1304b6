/* The TCP ring: all-reduce as reduce-scatter then all-gather (Patarasuk and
 * Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
 * workstations", 2009): every rank sends and receives 2 (n-1)/n of the
 * buffer, whatever n. In each step the segment to send and the one to
 * receive move at once over non-blocking sockets, and what arrives is
 * reduced as it arrives, so the arithmetic hides under the transfer. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "coll_internal.h"

#define SEND_MAX (1u << 20)  /* bytes per send() call */
#define BCAST_CHUNK (1u << 20)

typedef void (*recv_fn)(void *ud, size_t have);

/* Send SEND_LEN bytes to the next rank while receiving RECV_LEN bytes from
 * the previous one into RECV_BUF, calling ON_RECV(UD, bytes so far) after each
 * read. A peer silent for the timeout, or gone, is an error naming it. */
static hops_status exchange(hops_comm *c, const char *send_buf, size_t send_len, char *recv_buf,
                            size_t recv_len, recv_fn on_recv, void *ud)
{
    size_t sent = 0, got = 0;
    int next = (c->rank + 1) % c->size, prev = (c->rank + c->size - 1) % c->size;
    double last = hops__mono_time();
    while (sent < send_len || got < recv_len) {
        struct pollfd pfd[2];
        int n = 0, is = -1, ir = -1;
        if (sent < send_len) {
            is = n;
            pfd[n++] = (struct pollfd){c->next_fd, POLLOUT, 0};
        }
        if (got < recv_len) {
            ir = n;
            pfd[n++] = (struct pollfd){c->prev_fd, POLLIN, 0};
        }
        double left = last + c->timeout - hops__mono_time();
        if (left <= 0) {
            if (got < recv_len)
                return hops__error(HOPS_ETIMEDOUT,
                                   "rank %d sent nothing for %g s (it is stuck, or died "
                                   "without closing its connection)",
                                   prev, c->timeout);
            return hops__error(HOPS_ETIMEDOUT, "rank %d took nothing for %g s (it is stuck)",
                               next, c->timeout);
        }
        int pr = poll(pfd, (nfds_t)n, (int)(left * 1000) + 1);
        if (pr < 0 && errno != EINTR)
            return hops__error(HOPS_EIO, "poll: %s", strerror(errno));
        if (pr <= 0)
            continue;
        if (is >= 0 && pfd[is].revents) {
            size_t want = send_len - sent < SEND_MAX ? send_len - sent : SEND_MAX;
            ssize_t k = send(c->next_fd, send_buf + sent, want, MSG_NOSIGNAL);
            if (k > 0) {
                sent += (size_t)k;
                last = hops__mono_time();
            } else if (k < 0 && errno != EAGAIN && errno != EINTR) {
                return hops__error(HOPS_EIO, "rank %d is gone (%s): it died or left", next,
                                   strerror(errno));
            }
        }
        if (ir >= 0 && pfd[ir].revents) {
            ssize_t k = recv(c->prev_fd, recv_buf + got, recv_len - got, 0);
            if (k > 0) {
                got += (size_t)k;
                last = hops__mono_time();
                if (on_recv)
                    on_recv(ud, got);
            } else if (k == 0) {
                return hops__error(HOPS_EIO, "rank %d closed its connection: it died or left",
                                   prev);
            } else if (errno != EAGAIN && errno != EINTR) {
                return hops__error(HOPS_EIO, "rank %d is gone (%s): it died or left", prev,
                                   strerror(errno));
            }
        }
    }
    return HOPS_OK;
}

static int reserve_tmp(hops_comm *c, size_t n)
{
    if (n <= c->tmp_cap)
        return 0;
    char *t = realloc(c->tmp, n);
    if (!t)
        return -1;
    c->tmp = t;
    c->tmp_cap = n;
    return 0;
}

typedef struct {
    char *dst;        /* the segment being reduced into */
    const char *src;  /* what has arrived (c->tmp) */
    size_t esz, done; /* element size; elements reduced so far */
    hops_dtype t;
    hops_reduce_op op;
} reducer;

static void reduce_arrived(void *ud, size_t have)
{
    reducer *r = ud;
    size_t whole = have / r->esz;
    if (whole > r->done) {
        hops__reduce(r->dst + r->done * r->esz, r->src + r->done * r->esz, whole - r->done, r->t,
                     r->op);
        r->done = whole;
    }
}

/* Segment I of N over COUNT elements: [off, off + len). */
static size_t seg_off(size_t count, int i, int n)
{
    size_t q = count / (size_t)n, rem = count % (size_t)n;
    return q * (size_t)i + rem * (size_t)i / (size_t)n; /* count * i / n without overflow */
}

hops_status hops__ring_allreduce(hops_comm *c, void *buf, size_t count, hops_dtype t,
                                 hops_reduce_op op)
{
    const int n = c->size, r = c->rank;
    const size_t esz = hops__dtype_size(t);
    char *b = buf;
    hops_status rc;
    if (reserve_tmp(c, (count / (size_t)n + 1) * esz) != 0)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (int s = 0; s < n - 1; s++) { /* reduce-scatter */
        int si = ((r - s) % n + n) % n, ri = ((r - s - 1) % n + n) % n;
        size_t so = seg_off(count, si, n), sl = seg_off(count, si + 1, n) - so;
        size_t ro = seg_off(count, ri, n), rl = seg_off(count, ri + 1, n) - ro;
        reducer red = {b + ro * esz, c->tmp, esz, 0, t, op};
        if ((rc = exchange(c, b + so * esz, sl * esz, c->tmp, rl * esz, reduce_arrived, &red)) != HOPS_OK)
            return rc;
    }
    for (int s = 0; s < n - 1; s++) { /* all-gather */
        int si = ((r + 1 - s) % n + n) % n, ri = ((r - s) % n + n) % n;
        size_t so = seg_off(count, si, n), sl = seg_off(count, si + 1, n) - so;
        size_t ro = seg_off(count, ri, n), rl = seg_off(count, ri + 1, n) - ro;
        if ((rc = exchange(c, b + so * esz, sl * esz, b + ro * esz, rl * esz, NULL, NULL)) != HOPS_OK)
            return rc;
    }
    return HOPS_OK;
}

hops_status hops__ring_broadcast(hops_comm *c, void *buf, size_t bytes, int root)
{
    const int r = c->rank, next = (r + 1) % c->size;
    const size_t chunks = (bytes + BCAST_CHUNK - 1) / BCAST_CHUNK;
    char *b = buf;
    hops_status rc;
    /* Step i: the root sends chunk i; the others receive chunk i and pass
     * chunk i - 1 on (unless the next rank is the root). */
    for (size_t i = 0; i <= chunks; i++) {
        const char *sp = NULL;
        size_t sl = 0, rl = 0;
        char *rp = NULL;
        if (r == root) {
            if (i < chunks) {
                sp = b + i * BCAST_CHUNK;
                sl = i + 1 < chunks ? BCAST_CHUNK : bytes - i * BCAST_CHUNK;
            }
        } else {
            if (i >= 1 && next != root) {
                sp = b + (i - 1) * BCAST_CHUNK;
                sl = i < chunks ? BCAST_CHUNK : bytes - (i - 1) * BCAST_CHUNK;
            }
            if (i < chunks) {
                rp = b + i * BCAST_CHUNK;
                rl = i + 1 < chunks ? BCAST_CHUNK : bytes - i * BCAST_CHUNK;
            }
        }
        if ((sl || rl) && (rc = exchange(c, sp, sl, rp, rl, NULL, NULL)) != HOPS_OK)
            return rc;
    }
    return HOPS_OK;
}

hops_status hops__ring_allgather(hops_comm *c, const void *mine, size_t bytes, void *all)
{
    const int n = c->size, r = c->rank;
    char *out = all;
    hops_status rc;
    memmove(out + (size_t)r * bytes, mine, bytes);
    for (int s = 0; s < n - 1; s++) {
        int si = ((r - s) % n + n) % n, ri = ((r - s - 1) % n + n) % n;
        if ((rc = exchange(c, out + (size_t)si * bytes, bytes, out + (size_t)ri * bytes, bytes,
                           NULL, NULL)) != HOPS_OK)
            return rc;
    }
    return HOPS_OK;
}
