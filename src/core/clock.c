/* Wall and monotonic clocks. */
#include <stdio.h>
#include <time.h>

#include "core.h"

double hops__wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double hops__mono_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void hops__format_time(double t, char *out, size_t n, int utc)
{
    time_t secs = (time_t)t;
    struct tm tm;
    if (n == 0)
        return;
    if (t <= 0) {
        hops__strlcpy(out, "-", n);
        return;
    }
    if (utc)
        gmtime_r(&secs, &tm);
    else
        localtime_r(&secs, &tm);
    if (strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        out[0] = '\0';
}
