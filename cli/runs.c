/* hops runs list|show|metrics|compare|delete */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: hops runs list [--experiment NAME] [--filter EXPR] [--sort KEY] [--limit N] [--json]\n"
    "       hops runs show RUN [--json]\n"
    "       hops runs metrics RUN [--key K] [--json]\n"
    "       hops runs compare RUN RUN... [--json]\n"
    "       hops runs delete RUN...\n"
    "\n"
    "RUN is a run id or a unique prefix of one.\n"
    "\n"
    "list     one row per run, newest first.\n"
    "  --filter EXPR  clauses joined by `and`: FIELD OP VALUE, OP one of = != < <= > >=,\n"
    "                 FIELD metrics.K, params.K, tags.K, state, experiment, id, duration\n"
    "                 e.g. --filter 'metrics.acc>0.9 and params.opt=adam'\n"
    "  --sort KEY     sort by a field, ascending; `-KEY` or `KEY desc` for descending.\n"
    "                 Runs without the field come last.\n"
    "show     everything recorded about one run\n"
    "metrics  a run's metric time series (step, value, wall time)\n"
    "compare  params and metrics side by side; rows that differ are marked with *\n"
    "delete   remove runs and their files (a running run is refused)\n"
    "\n"
    "--json prints one JSON document on stdout.\n";

static void print_json_text(const char *text)
{
    fputs(text, stdout);
    putchar('\n');
}

/* "k=v k2=v2" from a JSON object, for table cells. */
static void join_object(const json_t *obj, char *out, size_t n)
{
    const char *k;
    json_t *v;
    size_t used = 0;
    out[0] = '\0';
    json_object_foreach((json_t *)obj, k, v) {
        char val[128];
        cli_format_value(v, val, sizeof val);
        int w = snprintf(out + used, n - used, "%s%s=%s", used ? " " : "", k, val);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

static int parse_doc(const char *text, json_t **out)
{
    json_error_t err;
    *out = json_loads(text, 0, &err);
    return *out ? 0 : cli_fail(EXIT_FAIL, "runs", "internal error: bad JSON from libhops: %s", err.text);
}

/* Take TEXT (owned, from libhops): with --json print it as it is and set
 * *DOC to NULL; otherwise parse it into *DOC for a table. Frees TEXT. */
static int json_or_doc(char *text, int json, json_t **doc)
{
    int rc = EXIT_OK;
    *doc = NULL;
    if (json)
        print_json_text(text);
    else
        rc = parse_doc(text, doc);
    hops_free(text);
    return rc;
}

static int runs_list(hops_project *p, int argc, char **argv)
{
    hops_runs_query q = HOPS_RUNS_QUERY_INIT;
    const char *val;
    char *text = NULL;
    int json = 0, m, rc;
    for (int i = 2; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--experiment", "-e", &val)) > 0)
            q.experiment = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--filter", "-f", &val)) > 0)
            q.filter = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--sort", "-s", &val)) > 0)
            q.sort = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--limit", "-n", &val)) > 0) {
            char *end;
            long n = strtol(val, &end, 10);
            if (*end || n < 0)
                return cli_fail(EXIT_USAGE, "runs list", "--limit needs a number, got '%s'", val);
            q.limit = (size_t)n;
        } else if (m < 0)
            return cli_fail(EXIT_USAGE, "runs list", "option '%s' needs a value", argv[i]);
        else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else
            return cli_fail(EXIT_USAGE, "runs list", "unknown argument '%s'; see `hops runs --help`",
                            argv[i]);
    }
    if ((rc = hops_runs_list_json(p, &q, &text)) != HOPS_OK)
        return cli_status("runs list", rc);
    json_t *arr;
    if ((rc = json_or_doc(text, json, &arr)) != EXIT_OK || !arr)
        return rc;
    if (json_array_size(arr) == 0) {
        printf("No runs%s. Record one with `hops run -- CMD`.\n",
               q.filter || q.experiment ? " match" : " yet");
        json_decref(arr);
        return EXIT_OK;
    }
    static const char *const headers[] = {"ID", "EXPERIMENT", "STATE", "STARTED", "DURATION",
                                          "METRICS", "PARAMS"};
    cli_table *t = cli_table_new(7, headers);
    size_t i;
    json_t *run;
    json_array_foreach(arr, i, run) {
        char started[32], dur[32], metrics[1024], params[1024];
        cli_format_time(json_number_value(json_object_get(run, "start_time")), started, sizeof started);
        cli_format_duration(json_number_value(json_object_get(run, "duration")), dur, sizeof dur);
        join_object(json_object_get(run, "metrics"), metrics, sizeof metrics);
        join_object(json_object_get(run, "params"), params, sizeof params);
        const char *cells[] = {json_string_value(json_object_get(run, "id")),
                               json_string_value(json_object_get(run, "experiment")),
                               json_string_value(json_object_get(run, "state")),
                               started, dur, metrics, params};
        cli_table_add(t, cells);
    }
    cli_table_print(t, cli_term_width());
    cli_table_free(t);
    json_decref(arr);
    return EXIT_OK;
}

static void print_kv_block(const char *title, const json_t *obj)
{
    const char *k;
    json_t *v;
    if (json_object_size(obj) == 0)
        return;
    printf("\n%s:\n", title);
    json_object_foreach((json_t *)obj, k, v) {
        char val[512];
        cli_format_value(v, val, sizeof val);
        printf("  %-24s %s\n", k, val);
    }
}

static int runs_show(hops_project *p, int argc, char **argv)
{
    const char *ref = NULL;
    char *text = NULL;
    int json = 0, rc;
    for (int i = 2; i < argc; i++) {
        if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' || ref)
            return cli_fail(EXIT_USAGE, "runs show", "unexpected argument '%s'", argv[i]);
        else
            ref = argv[i];
    }
    if (!ref)
        return cli_fail(EXIT_USAGE, "runs show", "which run? usage: hops runs show RUN");
    if ((rc = hops_run_show_json(p, ref, &text)) != HOPS_OK)
        return cli_status("runs show", rc);
    json_t *run;
    if ((rc = json_or_doc(text, json, &run)) != EXIT_OK || !run)
        return rc;
    char started[32], ended[32], dur[32], cmd[2048] = "";
    const json_t *end = json_object_get(run, "end_time");
    cli_format_time(json_number_value(json_object_get(run, "start_time")), started, sizeof started);
    cli_format_time(json_is_number(end) ? json_number_value(end) : 0, ended, sizeof ended);
    cli_format_duration(json_number_value(json_object_get(run, "duration")), dur, sizeof dur);
    size_t i, used = 0;
    json_t *arg;
    json_array_foreach(json_object_get(run, "command"), i, arg) {
        int w = snprintf(cmd + used, sizeof cmd - used, "%s%s", i ? " " : "", json_string_value(arg));
        if (w < 0 || (size_t)w >= sizeof cmd - used)
            break;
        used += (size_t)w;
    }
    const json_t *commit = json_object_get(run, "git_commit");
    const json_t *dirty = json_object_get(run, "git_dirty");
    const json_t *reason = json_object_get(run, "reason");
    printf("run         %s\n", json_string_value(json_object_get(run, "id")));
    printf("experiment  %s\n", json_string_value(json_object_get(run, "experiment")));
    printf("state       %s", json_string_value(json_object_get(run, "state")));
    if (json_is_integer(json_object_get(run, "exit_code")))
        printf(" (exit %lld)", (long long)json_integer_value(json_object_get(run, "exit_code")));
    putchar('\n');
    if (json_is_string(reason))
        printf("reason      %s\n", json_string_value(reason));
    printf("started     %s\nended       %s\nduration    %s\n", started, ended, dur);
    printf("command     %s\ncwd         %s\n", cmd, json_string_value(json_object_get(run, "cwd")));
    if (json_is_string(commit))
        printf("git         %s%s\n", json_string_value(commit), json_is_true(dirty) ? " (dirty)" : "");
    printf("host        %s\nuser        %s\n", json_string_value(json_object_get(run, "host")),
           json_string_value(json_object_get(run, "user")));
    const char *dir = json_string_value(json_object_get(run, "run_dir"));
    printf("directory   %s\n", dir);
    print_kv_block("params", json_object_get(run, "params"));
    print_kv_block("tags", json_object_get(run, "tags"));
    print_kv_block("final metrics", json_object_get(run, "final_metrics"));
    const json_t *series = json_object_get(run, "series");
    if (json_object_size(series)) {
        const char *k;
        json_t *s;
        printf("\nmetric series:\n");
        json_object_foreach((json_t *)series, k, s) {
            char val[64];
            cli_format_value(json_object_get(s, "last_value"), val, sizeof val);
            printf("  %-24s %lld points, last step %lld = %s\n", k,
                   (long long)json_integer_value(json_object_get(s, "points")),
                   (long long)json_integer_value(json_object_get(s, "last_step")), val);
        }
    }
    printf("\nlogs        %s/stdout.log, %s/stderr.log\nartifacts   %s/artifacts\n"
           "tensorboard tensorboard --logdir %s/tb\n", dir, dir, dir, dir);
    json_decref(run);
    return EXIT_OK;
}

static int runs_metrics(hops_project *p, int argc, char **argv)
{
    const char *ref = NULL, *key = NULL, *val;
    char *text = NULL;
    int json = 0, rc, m;
    for (int i = 2; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--key", "-k", &val)) > 0)
            key = val;
        else if (m < 0)
            return cli_fail(EXIT_USAGE, "runs metrics", "--key needs a metric name");
        else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' || ref)
            return cli_fail(EXIT_USAGE, "runs metrics", "unexpected argument '%s'", argv[i]);
        else
            ref = argv[i];
    }
    if (!ref)
        return cli_fail(EXIT_USAGE, "runs metrics", "which run? usage: hops runs metrics RUN [--key K]");
    if ((rc = hops_run_metrics_json(p, ref, key, &text)) != HOPS_OK)
        return cli_status("runs metrics", rc);
    json_t *doc;
    if ((rc = json_or_doc(text, json, &doc)) != EXIT_OK || !doc)
        return rc;
    static const char *const headers[] = {"KEY", "STEP", "VALUE", "TIME"};
    cli_table *t = cli_table_new(4, headers);
    const char *k;
    json_t *points;
    json_object_foreach(json_object_get(doc, "metrics"), k, points) {
        size_t i;
        json_t *pt;
        json_array_foreach(points, i, pt) {
            char step[32], value[64], when[32];
            snprintf(step, sizeof step, "%lld", (long long)json_integer_value(json_array_get(pt, 0)));
            cli_format_value(json_array_get(pt, 1), value, sizeof value);
            cli_format_time(json_number_value(json_array_get(pt, 2)), when, sizeof when);
            const char *cells[] = {k, step, value, when};
            cli_table_add(t, cells);
        }
    }
    cli_table_print(t, cli_term_width());
    cli_table_free(t);
    json_decref(doc);
    return EXIT_OK;
}

static int runs_compare(hops_project *p, int argc, char **argv)
{
    const char **refs = calloc((size_t)argc, sizeof *refs);
    char *text = NULL;
    json_t *doc = NULL;
    size_t n = 0;
    int json = 0, rc;
    if (!refs)
        abort();
    for (int i = 2; i < argc; i++) {
        if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-') {
            free(refs);
            return cli_fail(EXIT_USAGE, "runs compare", "unknown option '%s'", argv[i]);
        } else
            refs[n++] = argv[i];
    }
    if (n < 2) {
        free(refs);
        return cli_fail(EXIT_USAGE, "runs compare", "give two or more runs: hops runs compare RUN RUN...");
    }
    rc = hops_runs_compare_json(p, refs, n, &text);
    free(refs);
    if (rc != HOPS_OK)
        return cli_status("runs compare", rc);
    if ((rc = json_or_doc(text, json, &doc)) != EXIT_OK || !doc)
        return rc;
    json_t *ids = json_object_get(doc, "runs"), *rows = json_object_get(doc, "rows");
    size_t nruns = json_array_size(ids), i;
    const char **headers = calloc(nruns + 1, sizeof *headers);
    const char **cells = calloc(nruns + 1, sizeof *cells);
    char (*buf)[128] = calloc(nruns, sizeof *buf);
    if (!headers || !cells || !buf)
        abort();
    headers[0] = "FIELD";
    for (i = 0; i < nruns; i++)
        headers[i + 1] = json_string_value(json_array_get(ids, i));
    cli_table *t = cli_table_new(nruns + 1, headers);
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *field = json_string_value(json_object_get(row, "field"));
        cells[0] = field;
        for (size_t r = 0; r < nruns; r++) {
            const json_t *v = json_array_get(json_object_get(row, "values"), r);
            if (strcmp(field, "duration") == 0 && json_is_number(v))
                cli_format_duration(json_number_value(v), buf[r], sizeof buf[r]);
            else
                cli_format_value(v, buf[r], sizeof buf[r]);
            cells[r + 1] = buf[r];
        }
        cli_table_add(t, cells);
        if (json_is_true(json_object_get(row, "differs")) && strcmp(field, "duration") != 0)
            cli_table_set_mark(t, i, '*');
    }
    cli_table_print(t, cli_term_width());
    printf("(* marks values that differ)\n");
    cli_table_free(t);
    free(headers);
    free(cells);
    free(buf);
    json_decref(doc);
    return EXIT_OK;
}

static int runs_delete(hops_project *p, int argc, char **argv)
{
    int rc = EXIT_OK, n = 0;
    for (int i = 2; i < argc; i++) {
        char *id = NULL;
        int src;
        if (argv[i][0] == '-')
            return cli_fail(EXIT_USAGE, "runs delete", "unknown option '%s'", argv[i]);
        if ((src = hops_run_resolve(p, argv[i], &id)) != HOPS_OK ||
            (src = hops_run_delete(p, id)) != HOPS_OK) {
            rc = cli_status("runs delete", src);
        } else {
            printf("deleted run %s\n", id);
            n++;
        }
        hops_free(id);
    }
    if (argc <= 2)
        return cli_fail(EXIT_USAGE, "runs delete", "which run? usage: hops runs delete RUN...");
    return rc;
}

int cmd_runs(int argc, char **argv)
{
    static const cli_subcommand subs[] = {
        {"list", "ls", runs_list},         {"show", NULL, runs_show},
        {"metrics", NULL, runs_metrics},   {"compare", NULL, runs_compare},
        {"delete", "rm", runs_delete},
    };
    return cli_run_subcommand("runs", usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}
