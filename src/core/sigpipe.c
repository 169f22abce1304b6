/* The self-pipe trick: a signal handler that writes the signal's number as
 * one byte to a pipe, so a poll loop sees signals as readable input. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

static int write_end = -1; /* the handler's only state: one sigpipe at a time */

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (write_end >= 0)
        (void)!write(write_end, &b, 1);
    errno = saved;
}

hops_status hops__sigpipe_open(hops_sigpipe *sp, const int *sigs, size_t n)
{
    struct sigaction act;
    memset(sp, 0, sizeof *sp);
    sp->fd = -1;
    if (n > HOPS_ARRAY_LEN(sp->sigs))
        return hops__error(HOPS_EINVAL, "too many signals for one sigpipe");
    if (write_end >= 0)
        return hops__error(HOPS_ESTATE, "a signal pipe is open already in this process");
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return hops__error(HOPS_ESPAWN, "cannot create a pipe: %s", strerror(errno));
    sp->fd = fds[0];
    write_end = fds[1];
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;
    sigemptyset(&act.sa_mask);
    for (size_t i = 0; i < n; i++) {
        sp->sigs[i] = sigs[i];
        sigaction(sigs[i], &act, &sp->old[i]);
    }
    sp->n = n;
    return HOPS_OK;
}

int hops__sigpipe_read(hops_sigpipe *sp, unsigned char *out, int max)
{
    ssize_t got = sp->fd >= 0 ? read(sp->fd, out, (size_t)max) : -1;
    return got > 0 ? (int)got : 0;
}

void hops__sigpipe_close(hops_sigpipe *sp)
{
    if (sp->fd < 0)
        return;
    for (size_t i = 0; i < sp->n; i++)
        sigaction(sp->sigs[i], &sp->old[i], NULL);
    close(sp->fd);
    close(write_end);
    write_end = -1;
    sp->fd = -1;
}
