/* hops — errors.
 *
 * Every fallible function returns a hops_status: HOPS_OK (0) on success, a
 * negative code otherwise. The detail of the last failure on this thread is
 * readable with hops_last_error() until the next failing call.
 * Codes are never renumbered; new ones are added at the end.
 */
#ifndef HOPS_ERROR_H
#define HOPS_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HOPS_EXTERN __attribute__((visibility("default")))
#else
#define HOPS_EXTERN
#endif

/* X(name, number, description) */
#define HOPS_STATUS_MAP(X)                                                  \
    X(HOPS_OK, 0, "success")                                                \
    X(HOPS_ERROR, -1, "generic error")                                      \
    X(HOPS_ENOMEM, -2, "out of memory")                                     \
    X(HOPS_EINVAL, -3, "invalid argument")                                  \
    X(HOPS_ENOTFOUND, -4, "not found")                                      \
    X(HOPS_EEXISTS, -5, "already exists")                                   \
    X(HOPS_EIO, -6, "input/output error")                                   \
    X(HOPS_EDB, -7, "database error")                                       \
    X(HOPS_ENOPROJECT, -8, "not inside a hops project")                     \
    X(HOPS_ECORRUPT, -9, "corrupt or foreign data")                         \
    X(HOPS_EPARSE, -10, "parse error")                                      \
    X(HOPS_ESPAWN, -11, "could not start process")                          \
    X(HOPS_EAMBIGUOUS, -12, "ambiguous name")                               \
    X(HOPS_EVERSION, -13, "unsupported version")                            \
    X(HOPS_EBUSY, -14, "resource busy")                                     \
    X(HOPS_ESTATE, -15, "invalid state for this operation")                 \
    X(HOPS_ETIMEDOUT, -16, "timed out")

typedef enum {
#define HOPS__ENUM(name, num, desc) name = num,
    HOPS_STATUS_MAP(HOPS__ENUM)
#undef HOPS__ENUM
} hops_status;

/* A short English description of a status ("not found"). Never NULL. */
HOPS_EXTERN const char *hops_strerror(int status);

/* The enum's name as a string ("HOPS_ENOTFOUND"). Never NULL. */
HOPS_EXTERN const char *hops_err_name(int status);

/* The message of the last failed call on this thread; "" when none.
 * Borrowed: valid until the next hops call on this thread. */
HOPS_EXTERN const char *hops_last_error(void);

/* Forget the last error on this thread. */
HOPS_EXTERN void hops_error_clear(void);

/* The library version, "MAJOR.MINOR.PATCH". */
HOPS_EXTERN const char *hops_version(void);

#ifdef __cplusplus
}
#endif
#endif
