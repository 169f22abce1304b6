/* The process-wide log sink. The library never prints on its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static hops_log_sink log_sink;
static void *log_ud;
static int log_level = -1; /* -1: not read from HOPS_LOG yet */

void hops_log_set_sink(hops_log_sink sink, void *ud)
{
    log_sink = sink;
    log_ud = ud;
}

void hops_log_set_level(hops_log_level level) { log_level = (int)level; }

hops_log_level hops_log_get_level(void)
{
    if (log_level < 0) {
        const char *env = getenv("HOPS_LOG");
        log_level = HOPS_LOG_INFO;
        if (env) {
            static const char *names[] = {"debug", "info", "warn", "error", "off"};
            for (int i = 0; i < (int)HOPS_ARRAY_LEN(names); i++)
                if (strcmp(env, names[i]) == 0)
                    log_level = i;
        }
    }
    return (hops_log_level)log_level;
}

void hops_log(hops_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    if (!log_sink || level < hops_log_get_level())
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_sink(level, msg, log_ud);
}
