/* hops data stats */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hops/stats.h>

#include <errno.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

static const char cmd[] = "data stats";

static const char usage[] =
    "usage: hops data stats FILE [--label COL] [--json] [--top N] [--bins N]\n"
    "                       [--correlation] [READ OPTIONS]\n"
    "\n"
    "Statistics of every column of FILE (CSV or JSON Lines, plain or .gz; or a dataset\n"
    "NAME[:VERSION]) in one streaming pass with bounded memory, on all CPUs:\n"
    "type (int, float, bool, string, category, timestamp), count, nulls, min, max, mean,\n"
    "std (ddof 1, like pandas), quantiles p1 p25 p50 p75 p99, a 10-bin histogram, the\n"
    "distinct count and the most frequent values; with --correlation, Pearson\n"
    "correlations of the numeric columns (pairwise complete, in --json).\n"
    "\n"
    "Exact: count, nulls, min, max, mean (from an exact sum), std (to ~1e-15); distinct\n"
    "counts and top values while a column has at most 10,000 distinct values (and at\n"
    "most 2,048 in each 4 MiB of the file).\n"
    "Sketched, with the error stated in --json: quantiles and histogram (a KLL sketch:\n"
    "\"quantile_rank_error\", a fraction of the count), distinct counts beyond that\n"
    "(HyperLogLog, \"distinct_error\" 0.8%), top values beyond that (Misra-Gries: each\n"
    "count is at most \"top_count_error\" below the true one). A column of numbers with\n"
    "more than 2,048 distinct values in 4 MiB keeps its distinct count only (no top\n"
    "values, \"top_tracked\": false), as pandas' describe does.\n"
    "Results are the same for any --threads.\n"
    "\n"
    "  --label COL       class counts of COL (exact) and the imbalance ratio\n"
    "                    (largest class / smallest class)\n"
    "  --json            print the statistics as one JSON document (the input of\n"
    "                    `hops data report --stats`)\n"
    "  --top N           most frequent values listed per column (default 10)\n"
    "  --bins N          histogram bins (default 10)\n"
    "  --correlation     also the Pearson correlation matrix of the numeric columns\n"
    "                    (the first 64; in --json; `hops data report` draws it). Off by\n"
    "                    default, as in pandas' describe: it costs about 10% more time\n"
    "  --no-correlation  without it (the default)\n"
    "  --ranks N         split FILE by byte ranges over N Open MPI ranks (mpirun, via the\n"
    "                    hops-data-rank program next to hops) and merge their sketches;\n"
    "                    same results as one process (a plain file; not .gz)\n"
    "  --executor mpi|slurm  how --ranks run: Open MPI ranks (default), or Slurm tasks\n"
    "                    (srun -n N; each leaves its partial state in $HOPS_SHARED_TMP,\n"
    "                    else $TMPDIR or /tmp, which every node must see)\n"
    "  --format csv|jsonl, --delimiter C, --no-header, --threads N\n"
    "                    how to read FILE (see `hops data --help`)\n"
    "\n"
    "Exit status: 0 done; 2 bad arguments, a --label that is not a column, or a FILE\n"
    "that is not a well-formed table (the message names file:line:column); 4 no such\n"
    "file or dataset.\n";

static void fmt(const json_t *v, char *out, size_t n)
{
    cli_format_value(v, out, n);
}

static void print_columns(const json_t *doc)
{
    static const char *const headers[] = {"COLUMN", "TYPE", "COUNT", "NULLS",    "MIN", "MAX",
                                          "MEAN",   "STD",  "P50",   "DISTINCT", "TOP"};
    cli_table *t = cli_table_new(sizeof headers / sizeof headers[0], headers);
    const json_t *cols = json_object_get(doc, "columns");
    size_t i;
    json_t *col;
    json_array_foreach(cols, i, col)
    {
        char count[32], nulls[32], min[64] = "", max[64] = "", mean[64] = "", sd[64] = "",
                                   p50[64] = "", distinct[40], top[160] = "";
        const json_t *num = json_object_get(col, "numeric");
        fmt(json_object_get(col, "count"), count, sizeof count);
        fmt(json_object_get(col, "nulls"), nulls, sizeof nulls);
        if (num) {
            fmt(json_object_get(num, "min"), min, sizeof min);
            fmt(json_object_get(num, "max"), max, sizeof max);
            fmt(json_object_get(num, "mean"), mean, sizeof mean);
            fmt(json_object_get(num, "std"), sd, sizeof sd);
            fmt(json_object_get(json_object_get(num, "quantiles"), "p50"), p50, sizeof p50);
        }
        double derr = json_real_value(json_object_get(col, "distinct_error"));
        snprintf(distinct, sizeof distinct, "%s%lld", derr > 0 ? "~" : "",
                 (long long)json_integer_value(json_object_get(col, "distinct")));
        /* The most frequent value, when it says something: seen more than
         * once, and more often than the summary's error allows for. */
        const json_t *first = json_array_get(json_object_get(col, "top"), 0);
        json_int_t tc = json_integer_value(json_object_get(first, "count"));
        int exact = json_is_true(json_object_get(col, "top_exact"));
        if (first && tc > 1 &&
            (exact || tc > json_integer_value(json_object_get(col, "top_count_error"))))
            snprintf(top, sizeof top, "%s (%s%lld)",
                     json_string_value(json_object_get(first, "value")),
                     exact ? "" : ">=", (long long)tc);
        const char *cells[] = {json_string_value(json_object_get(col, "name")),
                               json_string_value(json_object_get(col, "type")),
                               count,
                               nulls,
                               min,
                               max,
                               mean,
                               sd,
                               p50,
                               distinct,
                               top};
        cli_table_add(t, cells);
    }
    cli_table_print(t, cli_term_width());
    cli_table_free(t);
}

static void print_label(const json_t *label)
{
    static const char *const headers[] = {"CLASS", "COUNT", "SHARE"};
    const json_t *classes = json_object_get(label, "classes");
    json_int_t total = 0;
    size_t i;
    json_t *c;
    json_array_foreach(classes, i, c) total += json_integer_value(json_object_get(c, "count"));
    printf("\nLabel %s: %zu classes", json_string_value(json_object_get(label, "column")),
           json_array_size(classes));
    const json_t *ratio = json_object_get(label, "imbalance_ratio");
    if (json_is_number(ratio))
        printf(", imbalance ratio %.4g (largest / smallest class)", json_number_value(ratio));
    if (!json_is_true(json_object_get(label, "exact")))
        printf(" (too many distinct values: the most frequent, approximately)");
    json_int_t nulls = json_integer_value(json_object_get(label, "nulls"));
    if (nulls)
        printf("; %lld rows without a label", (long long)nulls);
    printf("\n");
    cli_table *t = cli_table_new(3, headers);
    json_array_foreach(classes, i, c)
    {
        char count[32], share[32];
        json_int_t n = json_integer_value(json_object_get(c, "count"));
        snprintf(count, sizeof count, "%lld", (long long)n);
        snprintf(share, sizeof share, "%.2f%%", total ? 100.0 * (double)n / (double)total : 0.0);
        const char *cells[] = {json_string_value(json_object_get(c, "value")), count, share};
        cli_table_add(t, cells);
    }
    cli_table_print(t, cli_term_width());
    cli_table_free(t);
}

static void print_report(const json_t *doc)
{
    const json_t *cols = json_object_get(doc, "columns");
    double qerr = 0;
    int approx_distinct = 0;
    size_t i;
    json_t *col;
    print_columns(doc);
    json_array_foreach(cols, i, col)
    {
        const json_t *num = json_object_get(col, "numeric");
        double e = json_real_value(json_object_get(num, "quantile_rank_error"));
        qerr = e > qerr ? e : qerr;
        approx_distinct |= json_real_value(json_object_get(col, "distinct_error")) > 0;
    }
    const json_t *label = json_object_get(doc, "label");
    if (label)
        print_label(label);
    printf("\n%lld rows, %zu columns.", (long long)json_integer_value(json_object_get(doc, "rows")),
           json_array_size(cols));
    if (qerr > 0)
        printf(" P50 within %.2g%% of the count in rank (KLL sketch).", 100 * qerr);
    if (approx_distinct)
        printf(" ~: HyperLogLog estimate (%.2g%% standard error).", 100 * 1.04 / 128);
    printf(" Everything: --json (correlations: --correlation).\n");
}

/* The statistics options as command-line arguments for a rank (the same
 * flags hops-data-rank and `hops data stats --slurm-part` take), appended
 * to ARGV from *N; BUF holds the numbers' text. */
typedef struct {
    char top[16], bins[16], threads[16], delim[8];
} arg_text;

static void stats_args(const hops_stats_options *o, const char **argv, int *n, arg_text *t)
{
    if (o->label) {
        argv[(*n)++] = "--label";
        argv[(*n)++] = o->label;
    }
    if (o->read.delimiter) {
        snprintf(t->delim, sizeof t->delim, "%s",
                 o->read.delimiter == '\t' ? "tab" : (char[]){o->read.delimiter, 0});
        argv[(*n)++] = "--delimiter";
        argv[(*n)++] = t->delim;
    }
    if (o->read.no_header)
        argv[(*n)++] = "--no-header";
    if (o->read.format != HOPS_FORMAT_AUTO) {
        argv[(*n)++] = "--format";
        argv[(*n)++] = o->read.format == HOPS_FORMAT_JSONL ? "jsonl" : "csv";
    }
    snprintf(t->threads, sizeof t->threads, "%d", o->read.threads > 0 ? o->read.threads : 1);
    argv[(*n)++] = "--threads";
    argv[(*n)++] = t->threads;
    snprintf(t->top, sizeof t->top, "%d", o->top_k);
    snprintf(t->bins, sizeof t->bins, "%d", o->histogram_bins);
    argv[(*n)++] = "--top";
    argv[(*n)++] = t->top;
    argv[(*n)++] = "--bins";
    argv[(*n)++] = t->bins;
    argv[(*n)++] = o->correlation ? "--correlation" : "--no-correlation";
}

/* Byte ranges cannot split a gzip stream. */
static int check_splittable(const char *path)
{
    unsigned char magic[2];
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_fail(EXIT_NOTFOUND, cmd, "%s: no such file", path);
    size_t got = fread(magic, 1, 2, f);
    fclose(f);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        return cli_fail(EXIT_USAGE, cmd, "%s: --ranks splits a file by byte ranges, which a gzip "
                                         "file cannot be; gunzip it first", path);
    return EXIT_OK;
}

/* This program's directory (for the tools installed next to it) into DIR. */
static void self_dir(char *dir, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", dir, n - 1);
    dir[len > 0 ? len : 0] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        dir[0] = '\0';
}

/* Run ARGV (argv[0] looked up in PATH) with stdout into *OUT (owned, may be
 * NULL) when OUT is given; the exit code of the child as an exit code of
 * ours. WHAT names the program for a failure to start it. */
static int spawn_capture(const char *const *argv, char **out, const char *what)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int fds[2], status;
    if (out)
        *out = NULL;
    if (pipe(fds) != 0)
        return cli_fail(EXIT_FAIL, cmd, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    int e = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (e != 0) {
        close(fds[0]);
        return cli_fail(EXIT_FAIL, cmd, "cannot run %s (%s): %s", argv[0], strerror(e), what);
    }
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (used + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        if (!buf)
            abort();
        ssize_t r = read(fds[0], buf + used, cap - used - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        used += (size_t)r;
    }
    buf[used] = '\0';
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(buf);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
        return code == EXIT_USAGE || code == EXIT_NOTFOUND ? code : EXIT_FAIL;
    }
    if (out)
        *out = buf;
    else
        free(buf);
    return EXIT_OK;
}

/* --ranks N: run `mpirun -n N hops-data-rank PATH ...` and take the merged
 * document it prints. Returns an exit code; *text_out owned (free()). */
static int run_ranks(const char *path, const hops_stats_options *o, int ranks, char **text_out)
{
    char dir[4096], tool[4200], nbuf[16];
    const char *argv[32];
    arg_text t;
    int n = 0, rc;
    *text_out = NULL;
    if ((rc = check_splittable(path)) != EXIT_OK)
        return rc;
    self_dir(dir, sizeof dir);
    snprintf(tool, sizeof tool, "%s/hops-data-rank", dir);
    if (!dir[0] || access(tool, X_OK) != 0)
        snprintf(tool, sizeof tool, "hops-data-rank");
    if (geteuid() == 0) { /* Open MPI refuses root unless told */
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    }
    snprintf(nbuf, sizeof nbuf, "%d", ranks);
    argv[n++] = "mpirun";
    argv[n++] = "--oversubscribe";
    argv[n++] = "-n";
    argv[n++] = nbuf;
    argv[n++] = tool;
    argv[n++] = path;
    stats_args(o, argv, &n, &t);
    argv[n] = NULL;
    return spawn_capture(argv, text_out, "install Open MPI (openmpi-bin; scripts/install-deps.sh does)");
}

/* --ranks N --executor slurm: N Slurm tasks (`srun -n N`) each run
 * `hops data stats PATH --slurm-part DIR` on the byte range of their
 * SLURM_PROCID and leave their partial state in DIR (which every node must
 * see: $HOPS_SHARED_TMP, else $TMPDIR or /tmp); here they are merged in
 * order. Returns an exit code; *text_out owned (hops_free()). */
static int run_slurm(const char *path, const hops_stats_options *o, int ranks, char **text_out)
{
    char dir[4096], self[4200], nbuf[16], tmpl[4200], abs_path[4096];
    const char *argv[40], *base = getenv("HOPS_SHARED_TMP");
    arg_text t;
    int n = 0, rc;
    *text_out = NULL;
    if ((rc = check_splittable(path)) != EXIT_OK)
        return rc;
    if (!realpath(path, abs_path))
        return cli_fail(EXIT_NOTFOUND, cmd, "%s: %s", path, strerror(errno));
    self_dir(dir, sizeof dir);
    snprintf(self, sizeof self, "%s/hops", dir);
    if (!base || !*base)
        base = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/hops-stats-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return cli_fail(EXIT_FAIL, cmd, "cannot make a directory for the partial states (%s): %s",
                        tmpl, strerror(errno));
    snprintf(nbuf, sizeof nbuf, "%d", ranks);
    argv[n++] = "srun";
    argv[n++] = "--ntasks";
    argv[n++] = nbuf;
    argv[n++] = "--kill-on-bad-exit=1";
    argv[n++] = "--job-name=hops-data-stats";
    argv[n++] = "--quiet";
    argv[n++] = self;
    argv[n++] = "data";
    argv[n++] = "stats";
    argv[n++] = abs_path;
    argv[n++] = "--slurm-part";
    argv[n++] = tmpl;
    stats_args(o, argv, &n, &t);
    argv[n] = NULL;
    rc = spawn_capture(argv, NULL, "the Slurm executor needs srun (slurm-wlm; scripts/install-deps.sh installs it)");
    char **states = calloc((size_t)ranks, sizeof *states);
    size_t *lens = calloc((size_t)ranks, sizeof *lens);
    if (!states || !lens)
        abort();
    for (int r = 0; r < ranks; r++) {
        char part[4300];
        snprintf(part, sizeof part, "%s/part.%d", tmpl, r);
        if (rc == EXIT_OK) {
            FILE *f = fopen(part, "rb");
            long len = -1;
            if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
                (states[r] = malloc((size_t)len + 1)) && fread(states[r], 1, (size_t)len, f) == (size_t)len)
                lens[r] = (size_t)len;
            else
                rc = cli_fail(EXIT_FAIL, cmd, "Slurm task %d left no partial state in %s", r, tmpl);
            if (f)
                fclose(f);
        }
        unlink(part);
    }
    rmdir(tmpl);
    if (rc == EXIT_OK) {
        hops_status st = hops_data_stats_merge_json((const char *const *)states, lens,
                                                    (size_t)ranks, o, text_out);
        if (st != HOPS_OK)
            rc = cli_status(cmd, st);
    }
    for (int r = 0; r < ranks; r++)
        free(states[r]);
    free(states);
    free(lens);
    return rc;
}

/* One Slurm task of run_slurm: the partial state of this task's byte range
 * into DIR/part.<SLURM_PROCID>, written whole or not at all. */
static int slurm_part(const char *path, const hops_stats_options *o, const char *dir)
{
    const char *id = getenv("SLURM_PROCID"), *ntasks = getenv("SLURM_NTASKS");
    char part[4300], tmp[4400], *state = NULL;
    size_t len = 0;
    struct stat st;
    int rank = id ? atoi(id) : -1, size = ntasks ? atoi(ntasks) : 0;
    if (rank < 0 || size < 1 || rank >= size)
        return cli_fail(EXIT_USAGE, cmd, "--slurm-part runs as a Slurm task (SLURM_PROCID and "
                                         "SLURM_NTASKS set by srun)");
    if (stat(path, &st) != 0)
        return cli_fail(EXIT_NOTFOUND, cmd, "%s: no such file", path);
    uint64_t total = (uint64_t)st.st_size;
    uint64_t begin = total * (uint64_t)rank / (uint64_t)size;
    uint64_t end = total * (uint64_t)(rank + 1) / (uint64_t)size;
    hops_status rc = hops_data_stats_partial(path, o, begin, end, &state, &len);
    if (rc != HOPS_OK)
        return cli_status(cmd, rc);
    snprintf(part, sizeof part, "%s/part.%d", dir, rank);
    snprintf(tmp, sizeof tmp, "%s.tmp", part);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(state, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0)
        ok = 0;
    hops_free(state);
    if (!ok || rename(tmp, part) != 0) {
        unlink(tmp);
        return cli_fail(EXIT_FAIL, cmd, "cannot write %s: %s", part, strerror(errno));
    }
    return EXIT_OK;
}

static int parse_count(const char *opt, const char *val, int lo, int hi, int *out)
{
    char *end;
    long n = val ? strtol(val, &end, 10) : 0;
    if (!val || !*val || *end || n < lo || n > hi)
        return cli_fail(EXIT_USAGE, cmd, "%s needs a number from %d to %d", opt, lo, hi);
    *out = (int)n;
    return EXIT_OK;
}

int cmd_data_stats(int argc, char **argv)
{
    hops_stats_options o = HOPS_STATS_OPTIONS_INIT;
    const char *file = NULL, *val, *executor = NULL, *part_dir = NULL;
    char *path = NULL, *text = NULL;
    int json = 0, m, rc, ranks = 0;
    o.correlation = 0; /* on request (--correlation); `hops data report` asks for it */
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if ((m = cli_read_option(cmd, argc, argv, &i, &o.read)) != 0) {
            if (m < 0)
                return EXIT_USAGE;
        } else if ((m = cli_opt_value(argc, argv, &i, "--label", "-l", &val)) != 0) {
            if (m < 0)
                return cli_fail(EXIT_USAGE, cmd, "--label needs a column name");
            o.label = val;
        } else if ((m = cli_opt_value(argc, argv, &i, "--top", NULL, &val)) != 0) {
            if ((rc = parse_count("--top", m > 0 ? val : NULL, 1, 1000, &o.top_k)) != EXIT_OK)
                return rc;
        } else if ((m = cli_opt_value(argc, argv, &i, "--bins", NULL, &val)) != 0) {
            if ((rc = parse_count("--bins", m > 0 ? val : NULL, 1, 10000, &o.histogram_bins)) !=
                EXIT_OK)
                return rc;
        } else if ((m = cli_opt_value(argc, argv, &i, "--ranks", NULL, &val)) != 0) {
            if ((rc = parse_count("--ranks", m > 0 ? val : NULL, 1, 4096, &ranks)) != EXIT_OK)
                return rc;
        } else if ((m = cli_opt_value(argc, argv, &i, "--executor", NULL, &val)) != 0) {
            if (m < 0 || (strcmp(val, "mpi") != 0 && strcmp(val, "slurm") != 0))
                return cli_fail(EXIT_USAGE, cmd, "--executor takes mpi or slurm");
            executor = val;
        } else if ((m = cli_opt_value(argc, argv, &i, "--slurm-part", NULL, &val)) != 0) {
            if (m < 0)
                return cli_fail(EXIT_USAGE, cmd, "--slurm-part needs a directory");
            part_dir = val;
        } else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (cli_flag(argv[i], "--no-correlation", NULL))
            o.correlation = 0;
        else if (cli_flag(argv[i], "--correlation", NULL))
            o.correlation = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_fail(EXIT_USAGE, cmd, "unknown option '%s'; see `hops data stats --help`",
                            argv[i]);
        else if (file)
            return cli_fail(EXIT_USAGE, cmd, "one FILE only (got '%s' and '%s')", file, argv[i]);
        else
            file = argv[i];
    }
    if (!file)
        return cli_fail(EXIT_USAGE, cmd, "needs a FILE; see `hops data stats --help`");
    if (executor && ranks == 0)
        return cli_fail(EXIT_USAGE, cmd, "--executor goes with --ranks N");
    if (part_dir)
        return slurm_part(file, &o, part_dir);
    if ((rc = cli_data_path(cmd, file, &path, &o.read)) != EXIT_OK)
        return rc;
    if (ranks > 0) {
        rc = executor && strcmp(executor, "slurm") == 0 ? run_slurm(path, &o, ranks, &text)
                                                         : run_ranks(path, &o, ranks, &text);
        free(path);
        if (rc != EXIT_OK)
            return rc;
    } else {
        rc = hops_data_stats_json(path, &o, &text);
        free(path);
        if (rc != HOPS_OK)
            return cli_status(cmd, rc);
    }
    if (json) {
        fputs(text, stdout);
        putchar('\n');
    } else {
        json_t *doc = json_loads(text, 0, NULL);
        if (!doc) {
            hops_free(text);
            return cli_fail(EXIT_FAIL, cmd, "internal error: bad JSON from libhops");
        }
        print_report(doc);
        json_decref(doc);
    }
    hops_free(text);
    return EXIT_OK;
}
