/* A progress bar drawn only on a terminal, and only for work over a second. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core.h"

void hops__progress_start(hops_progress *p, int fd, const char *label, uint64_t total)
{
    struct winsize ws;
    memset(p, 0, sizeof *p);
    p->fd = fd;
    p->label = label ? label : "";
    p->total = total;
    p->enabled = isatty(fd);
    p->width = 80;
    if (p->enabled && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        p->width = ws.ws_col;
    p->started = hops__mono_time();
}

void hops__progress_render(const hops_progress *p, char *out, size_t n)
{
    char counts[64];
    int bar, filled, used;
    double frac;
    if (p->total == 0) {
        snprintf(out, n, "%s %llu", p->label, (unsigned long long)p->done);
        return;
    }
    frac = (double)p->done / (double)p->total;
    if (frac > 1.0)
        frac = 1.0;
    snprintf(counts, sizeof counts, " %3d%% %llu/%llu", (int)(frac * 100.0),
             (unsigned long long)p->done, (unsigned long long)p->total);
    used = (int)strlen(p->label) + (int)strlen(counts) + 4;
    bar = p->width - used;
    if (bar < 10)
        bar = 10;
    if (bar > 50)
        bar = 50;
    filled = (int)(frac * bar);
    {
        char bars[64];
        for (int i = 0; i < bar; i++)
            bars[i] = i < filled ? '#' : '.';
        bars[bar] = '\0';
        snprintf(out, n, "%s [%s]%s", p->label, bars, counts);
    }
}

void hops__progress_update(hops_progress *p, uint64_t done)
{
    char line[256];
    double now;
    p->done = done;
    if (!p->enabled)
        return;
    now = hops__mono_time();
    if (now - p->started < 1.0 || now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    hops__progress_render(p, line, sizeof line);
    dprintf(p->fd, "\r%s\033[K", line);
}

void hops__progress_finish(hops_progress *p)
{
    if (p->enabled && p->last_draw > 0)
        dprintf(p->fd, "\r\033[K");
    p->enabled = 0;
}
