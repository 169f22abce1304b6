/* Collectives over shared memory, for ranks on one host.
 *
 * A slice of an all-reduce: every rank copies its part of the buffer into
 * its slot; barrier; rank r sums the slots in rank order (so the result is
 * bitwise the serial reference x0 + x1 + ... ) over the r-th share of the
 * slice, into the result area, in cache-sized blocks; barrier; every rank
 * copies the result out. Slots and result areas come in two sets used by
 * alternate slices, so the copy-out of one slice needs no third barrier
 * before the next slice fills the other set. A small all-reduce skips the
 * split: after the first barrier each rank sums all of it.
 *
 * The barrier spins a little (a peer on another core usually arrives within
 * microseconds), then sleeps on a futex. A peer that never arrives is found
 * out: its pid is gone (HOPS_EIO, naming the rank) or the timeout passes
 * (HOPS_ETIMEDOUT, naming the ranks that did not arrive).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "coll_internal.h"

#define SHM_MAGIC 0x484f5053u
#define SLOT_BYTES (256u << 10) /* a slice stays in L2 from copy-in to copy-out */
#define HEADER_BYTES 65536 /* >= sizeof(hops_shm_header), page aligned */
#define CMA_MIN_BYTES (256u << 10) /* from here on, single copy pays for its syscalls */
#define CMA_BLOCK_BYTES (64u << 10)
#define SPINS 20000
#define BLOCK_BYTES 16384 /* reduce in blocks that stay in L1 */
#define SMALL_BYTES 65536 /* up to this, one barrier per all-reduce */

_Static_assert(sizeof(hops_shm_header) <= HEADER_BYTES, "shm header too big");

static char *result_area(hops_comm *c, unsigned set)
{
    return (char *)c->shm + HEADER_BYTES + (size_t)set * (size_t)(c->size + 1) * c->slot_bytes;
}

static char *slot(hops_comm *c, unsigned set, int rank)
{
    return result_area(c, set) + (size_t)(rank + 1) * c->slot_bytes;
}

static size_t segment_bytes(int size, size_t slot_bytes)
{
    return HEADER_BYTES + 2 * (size_t)(size + 1) * slot_bytes;
}

static hops_status map(hops_comm *c, int fd)
{
    c->slot_bytes = SLOT_BYTES;
    c->shm_len = segment_bytes(c->size, c->slot_bytes);
    void *p = mmap(NULL, c->shm_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return hops__error(HOPS_EIO, "cannot map the shared segment: %s", strerror(errno));
    c->shm = p;
    c->hdr = p;
    return HOPS_OK;
}

hops_status hops__shm_create(hops_comm *c, char *name, size_t name_len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, name_len, "/hops-comm-%d-%lx", (int)getpid(),
             (unsigned long)(ts.tv_nsec ^ ts.tv_sec));
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return hops__error(HOPS_EIO, "cannot create shared memory %s: %s", name, strerror(errno));
    hops_status rc = HOPS_OK;
    if (ftruncate(fd, (off_t)segment_bytes(c->size, SLOT_BYTES)) != 0)
        rc = hops__error(HOPS_EIO, "cannot size shared memory %s: %s (is /dev/shm full?)", name,
                         strerror(errno));
    else if ((rc = map(c, fd)) == HOPS_OK) {
        c->hdr->magic = SHM_MAGIC;
        c->hdr->size = (uint32_t)c->size;
        c->hdr->slot_bytes = c->slot_bytes;
        atomic_store(&c->hdr->pid[0], (int32_t)getpid());
    }
    close(fd);
    if (rc != HOPS_OK) {
        shm_unlink(name);
        name[0] = '\0';
    }
    return rc;
}

hops_status hops__shm_attach(hops_comm *c, const char *name)
{
    int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return hops__error(HOPS_EIO, "cannot open shared memory %s: %s", name, strerror(errno));
    hops_status rc = map(c, fd);
    close(fd);
    if (rc != HOPS_OK)
        return rc;
    if (c->hdr->magic != SHM_MAGIC || c->hdr->size != (uint32_t)c->size)
        return hops__error(HOPS_ESTATE, "shared memory %s is not this communicator's", name);
    atomic_store(&c->hdr->pid[c->rank], (int32_t)getpid());
    return HOPS_OK;
}

void hops__shm_detach(hops_comm *c)
{
    if (c->shm)
        munmap(c->shm, c->shm_len);
    c->shm = NULL;
    c->hdr = NULL;
}

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

/* Whether process PID is gone: no such process, or a zombie nobody has
 * reaped yet. */
static int process_gone(int32_t pid)
{
    char path[64], buf[256];
    if (kill(pid, 0) != 0)
        return errno == ESRCH;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* Why the barrier waits: a rank whose process is gone, or the ranks that
 * have not arrived. */
static hops_status stuck(hops_comm *c, uint32_t gen, int timed_out)
{
    hops_shm_header *h = c->hdr;
    char late[256] = "";
    size_t len = 0;
    for (int r = 0; r < c->size; r++) {
        if (atomic_load(&h->seen[r]) == gen + 1)
            continue;
        int32_t pid = atomic_load(&h->pid[r]);
        if (pid > 0 && process_gone(pid))
            return hops__error(HOPS_EIO, "rank %d (pid %d) is gone: it died or left", r, (int)pid);
        if (len < sizeof late - 16)
            len += (size_t)snprintf(late + len, sizeof late - len, "%s%d", len ? ", " : "", r);
    }
    if (!timed_out)
        return HOPS_OK;
    return hops__error(HOPS_ETIMEDOUT, "rank(s) %s did not arrive within %g s (stuck?)", late,
                       c->timeout);
}

hops_status hops__shm_barrier(hops_comm *c)
{
    hops_shm_header *h = c->hdr;
    uint32_t gen = atomic_load_explicit(&h->gen, memory_order_acquire);
    atomic_store_explicit(&h->seen[c->rank], gen + 1, memory_order_relaxed);
    if (atomic_fetch_add_explicit(&h->arrived, 1, memory_order_acq_rel) == (uint32_t)c->size - 1) {
        atomic_store_explicit(&h->arrived, 0, memory_order_relaxed);
        atomic_store_explicit(&h->gen, gen + 1, memory_order_release);
        futex(&h->gen, FUTEX_WAKE, INT_MAX, NULL);
        return HOPS_OK;
    }
    for (int i = 0; i < SPINS; i++) {
        if (atomic_load_explicit(&h->gen, memory_order_acquire) != gen)
            return HOPS_OK;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    double deadline = hops__mono_time() + c->timeout;
    while (atomic_load_explicit(&h->gen, memory_order_acquire) == gen) {
        struct timespec ts = {0, 100 * 1000 * 1000}; /* wake now and then to look for the dead */
        futex(&h->gen, FUTEX_WAIT, gen, &ts);
        if (atomic_load_explicit(&h->gen, memory_order_acquire) != gen)
            break;
        int timed_out = hops__mono_time() > deadline;
        hops_status rc = stuck(c, gen, timed_out);
        if (rc != HOPS_OK)
            return rc;
    }
    return HOPS_OK;
}

/* Read N bytes at REMOTE in rank R's memory into LOCAL. */
static hops_status cma_read(hops_comm *c, int r, void *local, uint64_t remote, size_t n)
{
    pid_t pid = (pid_t)atomic_load(&c->hdr->pid[r]);
    char *dst = local;
    while (n > 0) {
        struct iovec l = {dst, n}, rv = {(void *)(uintptr_t)remote, n};
        ssize_t got = process_vm_readv(pid, &l, 1, &rv, 1, 0);
        if (got <= 0) {
            if (got < 0 && errno == EINTR)
                continue;
            return hops__error(HOPS_EIO, "cannot read rank %d's buffer (pid %d): %s", r, (int)pid,
                               got < 0 ? strerror(errno) : "nothing read");
        }
        dst += got;
        remote += (uint64_t)got;
        n -= (size_t)got;
    }
    return HOPS_OK;
}

hops_status hops__shm_setup(hops_comm *c)
{
    hops_shm_header *h = c->hdr;
    hops_status rc;
    c->probe = 0x5eed000000000000ULL + (uint64_t)c->rank;
    atomic_store(&h->pid[c->rank], (int32_t)getpid());
    atomic_store(&h->probe_addr[c->rank], (uint64_t)(uintptr_t)&c->probe);
    if ((rc = hops__shm_barrier(c)) != HOPS_OK)
        return rc;
    int ok = 1;
    for (int r = 0; r < c->size && ok; r++) {
        uint64_t v = 0;
        if (r != c->rank)
            ok = cma_read(c, r, &v, atomic_load(&h->probe_addr[r]), sizeof v) == HOPS_OK &&
                 v == 0x5eed000000000000ULL + (uint64_t)r;
    }
    atomic_store(&h->cma_ok[c->rank], ok);
    if ((rc = hops__shm_barrier(c)) != HOPS_OK)
        return rc;
    c->cma = 1;
    for (int r = 0; r < c->size; r++)
        c->cma &= atomic_load(&h->cma_ok[r]) != 0;
    return hops__shm_barrier(c); /* nobody reads a probe after this */
}

/* All-reduce with one copy: rank r sums its share of everybody's buffers,
 * read straight from their memory in blocks that stay in cache, in rank
 * order (the serial reference's bits), into its own buffer; then reads the
 * other shares, reduced, from their owners' buffers. */
static hops_status cma_allreduce(hops_comm *c, void *buf, size_t count, hops_dtype t,
                                 hops_reduce_op op)
{
    const size_t esz = hops__dtype_size(t), block = CMA_BLOCK_BYTES / esz;
    const int n = c->size, r = c->rank;
    char *b = buf;
    hops_status rc;
    if (!c->tmp || c->tmp_cap < 2 * CMA_BLOCK_BYTES) {
        char *tmp = realloc(c->tmp, 2 * CMA_BLOCK_BYTES);
        if (!tmp)
            return hops__error(HOPS_ENOMEM, "out of memory");
        c->tmp = tmp;
        c->tmp_cap = 2 * CMA_BLOCK_BYTES;
    }
    char *acc = c->tmp, *in = c->tmp + CMA_BLOCK_BYTES;
    atomic_store(&c->hdr->addr[r], (uint64_t)(uintptr_t)buf);
    if ((rc = hops__shm_barrier(c)) != HOPS_OK)
        return rc;
    size_t lo = count * (size_t)r / (size_t)n, hi = count * (size_t)(r + 1) / (size_t)n;
    for (size_t off = lo; off < hi; off += block) {
        size_t m = hi - off < block ? hi - off : block;
        for (int k = 0; k < n; k++) {
            char *src = k == r ? b + off * esz : in;
            if (k != r &&
                (rc = cma_read(c, k, in, atomic_load(&c->hdr->addr[k]) + off * esz, m * esz)) != HOPS_OK)
                return rc;
            if (k == 0)
                memcpy(acc, src, m * esz);
            else
                hops__reduce(acc, src, m, t, op);
        }
        memcpy(b + off * esz, acc, m * esz);
    }
    if ((rc = hops__shm_barrier(c)) != HOPS_OK)
        return rc;
    for (int k = 0; k < n; k++) {
        size_t klo = count * (size_t)k / (size_t)n, khi = count * (size_t)(k + 1) / (size_t)n;
        if (k != r && khi > klo &&
            (rc = cma_read(c, k, b + klo * esz, atomic_load(&c->hdr->addr[k]) + klo * esz,
                           (khi - klo) * esz)) != HOPS_OK)
            return rc;
    }
    return hops__shm_barrier(c); /* the others may still be reading our share */
}

hops_status hops__shm_allreduce(hops_comm *c, void *buf, size_t count, hops_dtype t,
                                hops_reduce_op op)
{
    if (c->cma && count * hops__dtype_size(t) >= CMA_MIN_BYTES)
        return cma_allreduce(c, buf, count, t, op);
    const size_t esz = hops__dtype_size(t), per_slice = c->slot_bytes / esz;
    const int n = c->size, r = c->rank;
    char *b = buf;
    hops_status rc;
    for (size_t off = 0; off < count; off += per_slice) {
        size_t len = count - off < per_slice ? count - off : per_slice;
        unsigned set = c->parity;
        c->parity ^= 1;
        memcpy(slot(c, set, r), b + off * esz, len * esz);
        if ((rc = hops__shm_barrier(c)) != HOPS_OK)
            return rc;
        if (len * esz <= SMALL_BYTES) {
            /* Small: every rank sums all of it itself (same order, same
             * bits) and saves the second barrier, which is most of the
             * latency here. */
            memcpy(b + off * esz, slot(c, set, 0), len * esz);
            for (int k = 1; k < n; k++)
                hops__reduce(b + off * esz, slot(c, set, k), len, t, op);
            continue;
        }
        size_t lo = len * (size_t)r / (size_t)n, hi = len * (size_t)(r + 1) / (size_t)n;
        char *res = result_area(c, set);
        for (size_t i = lo; i < hi; i += BLOCK_BYTES / esz) {
            size_t m = hi - i < BLOCK_BYTES / esz ? hi - i : BLOCK_BYTES / esz;
            memcpy(res + i * esz, slot(c, set, 0) + i * esz, m * esz);
            for (int k = 1; k < n; k++)
                hops__reduce(res + i * esz, slot(c, set, k) + i * esz, m, t, op);
        }
        if ((rc = hops__shm_barrier(c)) != HOPS_OK)
            return rc;
        memcpy(b + off * esz, res, len * esz);
    }
    return HOPS_OK;
}

hops_status hops__shm_broadcast(hops_comm *c, void *buf, size_t bytes, int root)
{
    char *b = buf;
    hops_status rc;
    for (size_t off = 0; off < bytes; off += c->slot_bytes) {
        size_t len = bytes - off < c->slot_bytes ? bytes - off : c->slot_bytes;
        unsigned set = c->parity;
        c->parity ^= 1;
        if (c->rank == root)
            memcpy(result_area(c, set), b + off, len);
        if ((rc = hops__shm_barrier(c)) != HOPS_OK)
            return rc;
        if (c->rank != root)
            memcpy(b + off, result_area(c, set), len);
    }
    return HOPS_OK;
}

hops_status hops__shm_allgather(hops_comm *c, const void *send, size_t bytes, void *recv)
{
    const char *s = send;
    char *out = recv;
    hops_status rc;
    for (size_t off = 0; off < bytes; off += c->slot_bytes) {
        size_t len = bytes - off < c->slot_bytes ? bytes - off : c->slot_bytes;
        unsigned set = c->parity;
        c->parity ^= 1;
        memcpy(slot(c, set, c->rank), s + off, len);
        if ((rc = hops__shm_barrier(c)) != HOPS_OK)
            return rc;
        for (int k = 0; k < c->size; k++)
            memcpy(out + (size_t)k * bytes + off, slot(c, set, k), len);
    }
    return HOPS_OK;
}
