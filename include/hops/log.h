/* hops — logging.
 *
 * The library never prints. It hands log lines to one process-wide sink set
 * with hops_log_set_sink(); with no sink, log lines are dropped.
 */
#ifndef HOPS_LOG_H
#define HOPS_LOG_H

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HOPS_LOG_DEBUG = 0,
    HOPS_LOG_INFO = 1,
    HOPS_LOG_WARN = 2,
    HOPS_LOG_ERROR = 3,
    HOPS_LOG_OFF = 4
} hops_log_level;

typedef void (*hops_log_sink)(hops_log_level level, const char *msg, void *ud);

/* Set the sink (NULL drops everything) and its user data. Not thread-safe:
 * call it once at start-up, before other threads use the library. */
HOPS_EXTERN void hops_log_set_sink(hops_log_sink sink, void *ud);

/* Lines below this level are dropped. Default HOPS_LOG_INFO; the environment
 * variable HOPS_LOG=debug|info|warn|error|off overrides it at first use. */
HOPS_EXTERN void hops_log_set_level(hops_log_level level);
HOPS_EXTERN hops_log_level hops_log_get_level(void);

/* Hand a printf-style line to the sink. */
HOPS_EXTERN void hops_log(hops_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
