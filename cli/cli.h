/* hops CLI — shared helpers. The CLI uses only the public API (include/hops). */
#ifndef HOPS_CLI_H
#define HOPS_CLI_H

#include <jansson.h>
#include <stddef.h>

#include <hops/hops.h>
#include <hops/data.h>

/* Exit codes (documented in docs/cli.md). */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,       /* the command ran and reported failure */
    EXIT_USAGE = 2,      /* bad flags or arguments */
    EXIT_NOPROJECT = 3,  /* not inside a project */
    EXIT_NOTFOUND = 4,   /* a named run/experiment does not exist */
    EXIT_CORRUPT = 5,    /* hops.db damaged, foreign, or from a newer hops */
    EXIT_BUSY = 6        /* the database stayed locked */
};

/* Print "hops CMD: MSG" to stderr; returns CODE. */
int cli_fail(int code, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Print the last library error for STATUS and return the matching exit code. */
int cli_status(const char *cmd, int status);

/* Match ARGV[*I] against --NAME / -SHORT, with the value either inline
 * (--name=v) or the next argument. Returns 1 and sets *VAL on a match
 * (advancing *I), 0 if not this option, -1 when the value is missing. */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char *shortname,
                  const char **val);

/* Match a flag without a value. */
int cli_flag(const char *arg, const char *name, const char *shortname);

int cli_wants_help(int argc, char **argv);

/* Open the project for CMD or print why not; returns an exit code (0 ok). */
int cli_open_project(const char *cmd, hops_project **out);

/* Terminal width for tables: the TTY's columns, $COLUMNS, or 0 (no limit). */
int cli_term_width(void);

/* Format a metric JSON value compactly ("0.9312", "NaN"). */
void cli_format_value(const json_t *v, char *out, size_t n);
void cli_format_duration(double secs, char *out, size_t n);
void cli_format_time(double t, char *out, size_t n);

/* ---- tables (table.c) ---- */
typedef struct cli_table cli_table;
cli_table *cli_table_new(size_t ncols, const char *const *headers);
void cli_table_add(cli_table *t, const char *const *cells); /* copies */
void cli_table_set_mark(cli_table *t, size_t row, char mark); /* a char before the row */
/* Print, shrinking the widest columns (truncated with "…") to fit WIDTH (0: no limit). */
void cli_table_print(cli_table *t, int width);
void cli_table_free(cli_table *t);

/* KEY=VALUE arguments (--param, --tag): keys copied, values borrowed from argv. */
typedef struct {
    hops_kv *items;
    size_t n;
} cli_kv_list;

/* Add "K=V" to LIST; 0 ok, -1 malformed (no '=' or an empty key) or no memory. */
int cli_kv_add(cli_kv_list *list, const char *arg);
void cli_kv_free(cli_kv_list *list);

/* The options every command that starts a run takes: -e/--experiment NAME,
 * -p/--param K=V, -t/--tag K=V. 1 when ARGV[*I] was one (consumed), 0 when
 * not, -1 after printing why it is wrong (exit EXIT_USAGE). */
int cli_run_option(const char *cmd, int argc, char **argv, int *i, const char **experiment,
                   cli_kv_list *params, cli_kv_list *tags);

/* A subcommand of a group that works on the project (`hops runs list`). */
typedef struct {
    const char *name;
    const char *alias;   /* may be NULL */
    int (*fn)(hops_project *p, int argc, char **argv);
} cli_subcommand;

/* Dispatch `hops GROUP SUB ...` to SUBS (N of them) with the project open;
 * --help anywhere prints USAGE. Returns the exit code. */
int cli_run_subcommand(const char *group, const char *usage, const cli_subcommand *subs, size_t n,
                       int argc, char **argv);

/* Commands. */
int cmd_init(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_launch(int argc, char **argv);        /* cli/launch.c */
int cmd_runs(int argc, char **argv);
int cmd_hpo(int argc, char **argv);           /* cli/hpo.c: hops hpo run|resume|show|list */
int cmd_data(int argc, char **argv);          /* cli/data.c: dispatches the data commands */
int cmd_dataset(int argc, char **argv);       /* cli/dataset.c */
int cmd_data_stats(int argc, char **argv);    /* cli/data_stats.c: hops data stats */
int cmd_data_schema(int argc, char **argv);   /* cli/data_schema.c: hops data schema */
int cmd_data_validate(int argc, char **argv); /* cli/data_schema.c: hops data validate */
int cmd_data_transform(int argc, char **argv);/* cli/data_transform.c */
int cmd_data_report(int argc, char **argv);   /* cli/data_report.c */
int cmd_train(int argc, char **argv);         /* cli/train.c */
int cmd_predict(int argc, char **argv);       /* cli/predict.c */
int cmd_model(int argc, char **argv);         /* cli/model.c: hops model list|show|... */
int cmd_serve(int argc, char **argv);         /* cli/serve.c: hops serve (TF Serving REST) */

/* Resolve a data argument: a file path, or a project dataset NAME[:VERSION].
 * *path_out is owned (free()); returns an exit code (0 ok) after printing why not.
 * For a dataset, RO (may be NULL) takes the read options it was added with,
 * where the command line left them unset. */
int cli_data_path(const char *cmd, const char *spec, char **path_out, hops_read_options *ro);

/* Parse the read options every data command shares (--delimiter C, --no-header,
 * --threads N, --format csv|jsonl) at argv[*i]; 1 if consumed, 0 if not ours,
 * -1 after printing a usage error. */
int cli_read_option(const char *cmd, int argc, char **argv, int *i, hops_read_options *o);

#endif
