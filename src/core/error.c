/* Status codes, their names, and the thread-local last error. */
#include <stdio.h>
#include <string.h>

#include "core.h"

static _Thread_local char last_error[1024];

const char *hops_strerror(int status)
{
    switch (status) {
#define HOPS__DESC(name, num, desc) \
    case num:                      \
        return desc;
        HOPS_STATUS_MAP(HOPS__DESC)
#undef HOPS__DESC
    }
    return "unknown error";
}

const char *hops_err_name(int status)
{
    switch (status) {
#define HOPS__NAME(name, num, desc) \
    case num:                      \
        return #name;
        HOPS_STATUS_MAP(HOPS__NAME)
#undef HOPS__NAME
    }
    return "HOPS_UNKNOWN";
}

const char *hops_last_error(void) { return last_error; }

void hops_error_clear(void) { last_error[0] = '\0'; }

const char *hops_version(void) { return HOPS_VERSION_STRING; }

hops_status hops__error(hops_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

hops_status hops__error_prefix(hops_status status, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    hops__strlcpy(last_error, prefix, sizeof last_error);
    if (old[0]) {
        size_t n = strlen(last_error);
        if (n + 2 < sizeof last_error) {
            memcpy(last_error + n, ": ", 3);
            hops__strlcpy(last_error + n + 2, old, sizeof last_error - n - 2);
        }
    }
    return status;
}
