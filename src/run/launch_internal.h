/* hops — private: the pieces of `hops launch` shared by the local driver
 * (launch.c) and the Slurm / MPI one with its per-task wrapper
 * (launch_cluster.c). */
#ifndef HOPS_LAUNCH_INTERNAL_H
#define HOPS_LAUNCH_INTERNAL_H

#include "hops/launch.h"
#include "run_internal.h"

typedef struct {
    int fd;           /* pipe read end, -1 once closed */
    int task_log;     /* tasks/<type>-<index>.<stream>.log */
    int run_log;      /* the run's stdout.log or stderr.log (borrowed) */
    int tee_fd;       /* 1 or 2, or -1 */
    const char *name; /* the task's "type:index" (borrowed) */
    hops_buf partial; /* a line not finished yet */
} tstream;

typedef struct {
    const char *type; /* "chief", "worker", "ps", "evaluator" */
    int index;
    int rank; /* trainers 0..N-1, else -1 */
    char name[32];
    char host_port[300];
    hops_child child;
    tstream s[2];
    int running, exit_code, term_signal;
} task;


/* What a task's environment is made of: the same for every task of a job. */
typedef struct {
    json_t *cluster;         /* {"chief": ["host:port"], "worker": [...], ...} */
    const char *master_host; /* the chief's host */
    int master_port, rendezvous_port;
    int trainers;
    const char *project, *run_id, *run_dir, *params, *experiment;
    char chief_report[4200]; /* HOPS_REPORT of the chief: "/dev/fd/N" or a file */
} layout;

/* Task output: kept whole in the task log, prefixed by line in the run's. */
void hops__launch_stream_bytes(tstream *s, const char *data, size_t n);
void hops__launch_stream_close(tstream *s);
/* N free TCP ports on HOST (all distinct). */
hops_status hops__launch_ports(const char *host, int n, int *ports);
/* The environment (owned, NULL-terminated) of task T in a job laid out as L. */
char **hops__launch_env(const layout *L, const task *t);
void hops__launch_env_free(char **env);
/* Type, index and rank of task I of a job with WORKERS trainers, PS servers
 * (and an evaluator after them). */
void hops__launch_task_role(int i, int workers, int ps, task *t);

/* What became of the job: who failed first, who ended first, the deadlines.
 * SIGNAL(UD, SIG, PS_ONLY) stops tasks (the local driver signals process
 * groups; the cluster one, srun or mpirun). */
typedef struct {
    task *t;
    int n;
    double timeout, fail_grace;
    task *failed, *first_done;
    int got_signal, timed_out, hung, stopping_ps;
    double job_deadline, fail_deadline, kill_deadline;
    void (*signal)(void *ud, int sig, int ps_only);
    void *ud;
} job_state;

void hops__launch_state_init(job_state *js, task *t, int n, const hops_launch_options *o,
                             void (*sig)(void *ud, int signo, int ps_only), void *ud);
/* Task T ended (not running any more) with EXIT_CODE (128+N for signal N). */
void hops__launch_ended(job_state *js, task *t, int exit_code, int term_signal, double now);
/* SIG reached hops launch: pass it on; a second one kills. */
void hops__launch_signal(job_state *js, int sig, double now);
/* Stop the parameter servers once the trainers are done, act on the
 * deadlines; 0 once no task runs. */
int hops__launch_tick(job_state *js, double now);
/* Milliseconds to wait in poll: AT_MOST seconds, or less to the next deadline. */
int hops__launch_wait_ms(const job_state *js, double now, double at_most);
/* State, exit code, failed task and *REASON (owned, may be NULL) of the run. */
void hops__launch_outcome(const job_state *js, hops_launch_result *res, char **reason);

/* launch_cluster.c: the job through srun or mpirun. */
hops_status hops__launch_cluster(hops_project *p, const hops_launch_options *o,
                                 hops_launch_result *res);

#endif
