/* hops — the slot scheduler and its executors.
 *
 * One event loop (poll over the trials' pidfds and report pipes, a signal
 * self-pipe and deadlines; no sleeping loops) owns a pool of slots: CPU
 * cores, GPUs and memory. A task asks for some of them; the instant a task
 * ends its slots go back to the pool and the FILL callback is asked for more
 * work, so a fast task never waits on a slow one.
 *
 * Executors: local processes (each in its own process group), Slurm steps
 * (`srun` inside one allocation) or Slurm batch jobs (`sbatch --wait`), the
 * latter two cancelled with `scancel`.
 *
 * Callback promise (libuv's): a task whose hops_sched_submit() returned an
 * error never reaches ON_LINE or ON_END; every task that was submitted gets
 * exactly one ON_END.
 */
#ifndef HOPS_SCHED_H
#define HOPS_SCHED_H

#include <stddef.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An amount of slots: whole CPU cores, whole GPUs, memory in GiB. */
typedef struct {
    unsigned cpu;
    unsigned gpu;
    double mem;  /* GiB; 0: not accounted */
} hops_slots;

/* Parse "cpu=N[,gpu=M][,mem=G]" (any order; at least one key; mem may have a
 * fraction, "mem=1.5"; a bare number N means cpu=N). HOPS_EINVAL naming the
 * bad part otherwise. Keys not given are 0. */
HOPS_EXTERN hops_status hops_slots_parse(hops_slots *out, const char *text);

typedef enum {
    HOPS_EXECUTOR_LOCAL = 0,        /* "local": child processes */
    HOPS_EXECUTOR_SLURM = 1,        /* "slurm": srun steps in one allocation */
    HOPS_EXECUTOR_SLURM_SBATCH = 2  /* "slurm:sbatch": one sbatch --wait job per task */
} hops_executor_kind;

/* Parse "local", "slurm", "slurm:srun" or "slurm:sbatch"; HOPS_EINVAL listing
 * the choices otherwise. */
HOPS_EXTERN hops_status hops_executor_parse(hops_executor_kind *out, const char *text);

/* "local", "slurm", "slurm:sbatch". */
HOPS_EXTERN const char *hops_executor_name(hops_executor_kind k);

typedef struct hops_sched hops_sched;

/* How a task ended. */
typedef struct {
    int exit_code;      /* 128+N when signal N ended it; 127: could not start */
    int term_signal;    /* 0 when it exited */
    int timed_out;      /* it ran past its timeout and was stopped */
    int stopped;        /* hops_sched_stop() stopped it */
    int start_failed;   /* it never started (the message is in REASON) */
    double start_time;  /* wall clock, seconds since the epoch */
    double end_time;
    const char *reason; /* borrowed, for the callback's duration; may be NULL */
} hops_task_end;

typedef struct {
    unsigned version;
    hops_slots slots;            /* the pool; cpu 0: the number of online cores */
    hops_executor_kind executor;
    double kill_grace;           /* seconds from SIGTERM to SIGKILL; 0: 5 */
    double tick;                 /* seconds between ON_TICK calls; 0: 0.2 */
    int handle_signals;          /* SIGINT/SIGTERM/SIGHUP stop every task and end the loop */
    const char *slurm_partition; /* NULL: the default partition */
    const char *work_dir;        /* where executors may keep files (Slurm scripts); NULL: /tmp */
    /* Called when slots may have freed up (at start and after each task
     * ends): submit tasks with hops_sched_submit() while they fit. Return 0
     * to go on, 1 when no task will ever be submitted again (the loop then
     * ends once the running ones end), or a negative hops_status to stop
     * everything and make hops_sched_run() return it. */
    int (*fill)(hops_sched *s, void *ud);
    /* Each report line a task writes to $HOPS_REPORT, without its newline. */
    void (*on_line)(hops_sched *s, int task, const char *line, size_t len, void *ud);
    /* Once per submitted task. */
    void (*on_end)(hops_sched *s, int task, const hops_task_end *end, void *ud);
    /* Every TICK seconds while the loop runs (flushes, early-stopping checks). */
    void (*on_tick)(hops_sched *s, void *ud);
    void *ud;
} hops_sched_options;

#define HOPS_SCHED_OPTIONS_VERSION 1
#define HOPS_SCHED_OPTIONS_INIT \
    {HOPS_SCHED_OPTIONS_VERSION, {0, 0, 0}, HOPS_EXECUTOR_LOCAL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL}

/* One task: a command and what it needs. Strings are copied. */
typedef struct {
    unsigned version;
    const char *const *argv;     /* argv[0] searched in PATH */
    size_t argc;
    const char *const *env;      /* NAME=VALUE added to (or replacing in) ours; may be NULL */
    size_t n_env;
    const char *cwd;             /* NULL: ours */
    const char *stdout_path;     /* NULL: /dev/null */
    const char *stderr_path;
    const char *report_path;     /* Slurm: the file the task appends reports to
                                    (must be visible to the node); local: unused */
    const char *name;            /* job/step name for Slurm; may be NULL */
    hops_slots request;          /* cpu 0 counts as 1 */
    double timeout;              /* seconds; 0: none */
} hops_task_options;

#define HOPS_TASK_OPTIONS_VERSION 1
#define HOPS_TASK_OPTIONS_INIT \
    {HOPS_TASK_OPTIONS_VERSION, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL, {1, 0, 0}, 0}

/* Make a scheduler. For the Slurm executor this checks that srun (or sbatch)
 * and scancel exist (HOPS_ENOTFOUND otherwise) and, for srun steps, gets one
 * allocation of the pool's cores (salloc --no-shell), or uses the one this
 * process runs in ($SLURM_JOB_ID). Free with hops_sched_free(). */
HOPS_EXTERN hops_status hops_sched_new(hops_sched **out, const hops_sched_options *o);

/* Stop every task still running (SIGKILL), give back a Slurm allocation made
 * by hops_sched_new, and free S. */
HOPS_EXTERN void hops_sched_free(hops_sched *s);

/* 1 when REQ fits in the free slots now, else 0. */
HOPS_EXTERN int hops_sched_fits(const hops_sched *s, const hops_slots *req);

/* Start a task now. The child gets $HOPS_REPORT (a pipe for local tasks, the
 * report file for Slurm), $CUDA_VISIBLE_DEVICES naming the GPUs it was given
 * (empty when none), and runs in its own process group. *task_out (may be
 * NULL) gets its id (>= 0). HOPS_EBUSY when it does not fit in the free
 * slots now, HOPS_EINVAL when it never could (asks for more than the pool),
 * HOPS_ENOTFOUND / HOPS_ESPAWN when it cannot start: then no callback fires. */
HOPS_EXTERN hops_status hops_sched_submit(hops_sched *s, const hops_task_options *t, int *task_out);

/* Stop TASK: SIGTERM to its process group (scancel for Slurm), SIGKILL after
 * the grace period. Its ON_END says stopped=1. HOPS_ENOTFOUND for a task
 * that is not running. */
HOPS_EXTERN hops_status hops_sched_stop(hops_sched *s, int task);

/* The GPUs TASK was given, as "0,1" (empty when none). Borrowed. */
HOPS_EXTERN const char *hops_sched_task_gpus(const hops_sched *s, int task);

/* The process (group) id of TASK's local child (for Slurm, of srun/sbatch). */
HOPS_EXTERN int hops_sched_task_pid(const hops_sched *s, int task);

/* Ask the loop to stop: every running task is stopped as by hops_sched_stop,
 * FILL is not called again, and hops_sched_run() returns once they ended. */
HOPS_EXTERN void hops_sched_shutdown(hops_sched *s);

/* Run the loop until FILL said it is done and every task ended, or until a
 * shutdown (hops_sched_shutdown, a signal when handle_signals) took effect.
 * Returns HOPS_OK, FILL's error, or HOPS_EIO when poll fails. */
HOPS_EXTERN hops_status hops_sched_run(hops_sched *s);

/* The signal that stopped the loop (handle_signals), 0 when none. */
HOPS_EXTERN int hops_sched_signal(const hops_sched *s);

/* The Slurm job id of the allocation hops_sched_new made for srun steps
 * (which hops_sched_free gives back), NULL when it made none. Borrowed. */
HOPS_EXTERN const char *hops_sched_slurm_job(const hops_sched *s);

/* Tasks running now, and slots in use now. */
HOPS_EXTERN size_t hops_sched_running(const hops_sched *s);
HOPS_EXTERN hops_slots hops_sched_pool(const hops_sched *s);

#ifdef __cplusplus
}
#endif
#endif
