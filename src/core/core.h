/* hops — private helpers shared by every src/ folder. Not installed. */
#ifndef HOPS_CORE_H
#define HOPS_CORE_H

#include <stdarg.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "hops/error.h"
#include "hops/log.h"

#define HOPS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors (error.c) ---- */

/* Set this thread's last error and return STATUS, so callers can write
 * `return hops__error(HOPS_EINVAL, "bad key '%s'", key);`. */
hops_status hops__error(hops_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepend "PREFIX: " to the current last error; returns STATUS. */
hops_status hops__error_prefix(hops_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- memory and strings (str.c) ---- */

/* A growable byte buffer; always NUL-terminated when len > 0. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} hops_buf;

#define HOPS_BUF_INIT {NULL, 0, 0}

int hops__buf_grow(hops_buf *b, size_t extra);            /* 0 ok, -1 no memory */
int hops__buf_put(hops_buf *b, const void *data, size_t n);
int hops__buf_puts(hops_buf *b, const char *s);
int hops__buf_printf(hops_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hops__buf_free(hops_buf *b);
/* Hand the buffer's string to the caller (never NULL on success); the buffer is reset. */
char *hops__buf_detach(hops_buf *b);

char *hops__strdup(const char *s);                        /* NULL on NULL or no memory */
char *hops__strndup(const char *s, size_t n);
char *hops__aprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copy SRC into DST of size N, always terminated; returns 0, or -1 when truncated. */
int hops__strlcpy(char *dst, const char *src, size_t n);

/* ---- stored names (name.c) ---- */

/* HOPS_EINVAL unless NAME is 1 to 100 letters, digits, '.', '_' and '-',
 * not starting with '.' or '-'; the message calls it WHAT ("dataset name",
 * "label"). */
hops_status hops__check_name(const char *what, const char *name);
/* Split SPEC, "NAME" or "NAME:VERSION", of a KIND ("dataset", "model") into
 * *NAME_OUT (owned) and *VERSION_OUT (0: the latest). */
hops_status hops__parse_name_spec(const char *kind, const char *spec, char **name_out,
                                  int64_t *version_out);

/* ---- JSON (json.c) ---- */

struct json_t;
/* json_dumps, with every real in its shortest form that reads back to the
 * same double (0.1, not 0.10000000000000001). Free with free(). */
char *hops__json_dumps(const struct json_t *j, size_t flags);

/* ---- files and paths (fs.c) ---- */

/* mkdir -p with MODE; HOPS_EIO on failure. */
hops_status hops__mkdir_p(const char *path, mode_t mode);

/* Write DATA to PATH atomically: a temp file beside it, fsync, rename, fsync
 * of the directory. A crash leaves either the old file or the new one. */
hops_status hops__atomic_write(const char *path, const void *data, size_t len);

/* An output file written atomically: a temp file beside PATH that commit
 * fsyncs and renames into place (then fsyncs the directory), so a reader
 * sees the old file or the whole new one. A target that is a link, a device
 * or a FIFO (hops__is_special_file) is written in place instead. */
typedef struct {
    FILE *f;    /* write here (buffered) */
    char *path; /* the target (owned) */
    char *tmp;  /* the temp file; NULL when written in place */
} hops_outfile;

/* Open OF for PATH (mode 0644). Errors name PATH. */
hops_status hops__outfile_open(hops_outfile *of, const char *path);
/* Flush, fsync, close and rename into place. On failure the temp file is
 * removed and the target left as it was. */
hops_status hops__outfile_commit(hops_outfile *of);
/* Close and remove the temp file; the target is untouched. Safe to call on a
 * zeroed, committed or aborted OF, and it frees OF's strings. */
void hops__outfile_abort(hops_outfile *of);

/* Read a whole file; *out owned by the caller, NUL-terminated. */
hops_status hops__read_file(const char *path, char **out, size_t *len_out);

/* Remove PATH and everything under it (like rm -rf); missing is fine. */
hops_status hops__rm_rf(const char *path);

/* An absolute, normalized copy of PATH (no symlink resolution needed). */
char *hops__abspath(const char *path);

int hops__is_dir(const char *path);

/* 1 when PATH exists and is not itself a regular file or a directory: a
 * symbolic link (/dev/stdout), a device (/dev/null), a FIFO. Such a target is
 * written in place (through the link), never replaced by a rename, which
 * would put a file where the link or device was. */
int hops__is_special_file(const char *path);
int hops__is_file(const char *path);

/* ---- time (clock.c) ---- */

double hops__wall_time(void);       /* seconds since the epoch, sub-ms precision */
double hops__mono_time(void);       /* seconds, monotonic */
/* "2026-11-25 19:12:03" in local time (or UTC when UTC != 0). */
void hops__format_time(double t, char *out, size_t n, int utc);

/* ---- ids (id.c) ---- */

/* A run id: 10 Crockford base32 chars of the ms time + 4 random chars
 * (lowercase), sortable by time. OUT must hold 15 bytes. */
void hops__make_id(char out[15]);

/* ---- processes (spawn.c) ---- */

typedef struct {
    char *const *argv;        /* argv[0] searched in PATH */
    char *const *envp;        /* NULL: inherit */
    const char *cwd;          /* NULL: inherit */
    const char *stdout_path;  /* NULL: inherit (or a pipe when tee/capture) */
    const char *stderr_path;
    int stdin_null;           /* stdin from /dev/null */
    int stdout_pipe;          /* give the parent a pipe of the child's stdout */
    int stderr_pipe;
    const int *keep_fds;      /* fds that stay open in the child (same numbers) */
    size_t n_keep_fds;
} hops_spawn_opts;

typedef struct {
    pid_t pid;                /* also the process group id */
    int pidfd;                /* -1 when the kernel has no pidfd_open */
    int stdout_fd;            /* read end, when stdout_pipe; else -1 */
    int stderr_fd;
} hops_child;

/* Start a child in its own process group with default signal dispositions and
 * an empty signal mask. HOPS_ENOTFOUND when argv[0] cannot be found or run
 * (the message says which), HOPS_ESPAWN for other failures. */
hops_status hops__spawn(hops_child *out, const hops_spawn_opts *opts);

/* Wait for the child; *exit_code gets its exit status (or 128+signal), and
 * *term_signal the signal that ended it (0 if none). Retries on EINTR. */
hops_status hops__child_wait(hops_child *c, int *exit_code, int *term_signal);

/* Close the child's pipes and pidfd (does not wait). */
void hops__child_close(hops_child *c);

/* Run ARGV in CWD, capture its stdout (at most 1 MiB) into *out (owned);
 * *exit_code its status. stderr goes to /dev/null. */
hops_status hops__run_capture(char *const *argv, const char *cwd, char **out, int *exit_code);

/* Write all of BUF to FD, retrying on EINTR and short writes. 0 or -1. */
int hops__write_all(int fd, const void *buf, size_t n);

/* Start time of process PID in clock ticks since boot (field 22 of
 * /proc/PID/stat), 0 when the process does not exist. */
unsigned long long hops__proc_start_ticks(pid_t pid);

/* ---- signals as poll input (sigpipe.c) ---- */

/* While open, SIGS[0..n) (at most 8) no longer do their default: each is
 * written as one byte to a pipe whose read end FD a poll loop watches (the
 * self-pipe trick). One open at a time per process. Close restores the old
 * handlers. */
typedef struct {
    int fd; /* read end, non-blocking; -1 when closed */
    int sigs[8];
    struct sigaction old[8];
    size_t n;
} hops_sigpipe;

hops_status hops__sigpipe_open(hops_sigpipe *sp, const int *sigs, size_t n);
/* The signals that came since the last call (up to MAX); their count. */
int hops__sigpipe_read(hops_sigpipe *sp, unsigned char *out, int max);
void hops__sigpipe_close(hops_sigpipe *sp); /* safe on a closed or zeroed-then-opened one */

/* ---- progress bar (progress.c) ---- */

typedef struct {
    int fd;                   /* where to draw; only drawn when it is a TTY */
    int enabled;
    const char *label;
    uint64_t total;           /* 0: unknown (spinner with a count) */
    uint64_t done;
    double started, last_draw;
    int width;                /* terminal columns */
} hops_progress;

/* Start a bar on FD. Draws nothing unless FD is a TTY and the work has lasted
 * over a second (so quick jobs stay silent). */
void hops__progress_start(hops_progress *p, int fd, const char *label, uint64_t total);
void hops__progress_update(hops_progress *p, uint64_t done);
void hops__progress_finish(hops_progress *p);
/* Render the bar line for DONE/TOTAL into OUT (for tests and drawing). */
void hops__progress_render(const hops_progress *p, char *out, size_t n);

#endif
