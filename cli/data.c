/* hops data — the data commands, and what they share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char usage[] =
    "usage: hops data COMMAND [ARGS]\n"
    "\n"
    "Look at, check and reshape tabular data: CSV (RFC 4180) or JSON Lines, plain or .gz.\n"
    "Wherever a command takes FILE it also takes a project dataset NAME[:VERSION].\n"
    "\n"
    "  schema FILE [-o schema.json]            infer column types, nulls, ranges, value sets\n"
    "  validate FILE --schema S [--quarantine BAD]\n"
    "                                          check FILE against a schema, line by line\n"
    "  stats FILE [--label COL]                per-column statistics and class balance\n"
    "  transform IN -o OUT [OPS]               select, drop, filter, cast, encode, split\n"
    "  report FILE [--label COL] -o report.html\n"
    "                                          a self-contained HTML report with plots\n"
    "\n"
    "Read options every command takes:\n"
    "  --format csv|jsonl   default: by extension (.jsonl, .ndjson → JSON Lines)\n"
    "  --delimiter C        CSV field separator (default ','; 'tab' for a tab)\n"
    "  --no-header          the CSV's first row is data; columns are c1, c2, ...\n"
    "  --threads N          parser threads (default: all CPUs); results never depend on it\n"
    "\n"
    "Run `hops data COMMAND --help` for a command's options.\n";

int cli_read_option(const char *cmd, int argc, char **argv, int *i, hops_read_options *o)
{
    const char *val;
    int m;
    if ((m = cli_opt_value(argc, argv, i, "--delimiter", "-d", &val)) != 0) {
        if (m < 0)
        {
            cli_fail(EXIT_USAGE, cmd, "--delimiter needs a character");
            return -1;
        }
        if (strcmp(val, "tab") == 0 || strcmp(val, "\\t") == 0)
            o->delimiter = '\t';
        else if (strlen(val) == 1 && val[0] != '"' && val[0] != '\n' && val[0] != '\r')
            o->delimiter = val[0];
        else {
            cli_fail(EXIT_USAGE, cmd, "--delimiter takes one character (or 'tab'), got '%s'", val);
            return -1;
        }
        return 1;
    }
    if ((m = cli_opt_value(argc, argv, i, "--threads", "-j", &val)) != 0) {
        char *end;
        long n = m > 0 ? strtol(val, &end, 10) : -1;
        if (m < 0 || *end || n < 0 || n > 1024) {
            cli_fail(EXIT_USAGE, cmd, "--threads needs a number from 0 (all CPUs) to 1024");
            return -1;
        }
        o->threads = (int)n;
        return 1;
    }
    if ((m = cli_opt_value(argc, argv, i, "--format", NULL, &val)) != 0) {
        if (m > 0 && strcmp(val, "csv") == 0)
            o->format = HOPS_FORMAT_CSV;
        else if (m > 0 && (strcmp(val, "jsonl") == 0 || strcmp(val, "ndjson") == 0))
            o->format = HOPS_FORMAT_JSONL;
        else {
            cli_fail(EXIT_USAGE, cmd, "--format is csv or jsonl");
            return -1;
        }
        return 1;
    }
    if (cli_flag(argv[*i], "--no-header", NULL)) {
        o->no_header = 1;
        return 1;
    }
    return 0;
}

/* A dataset is read the way it was added (its delimiter, header, format),
 * unless the command line says otherwise. */
static void apply_stored_read_options(hops_project *p, const char *spec, hops_read_options *ro)
{
    char *text = NULL;
    if (!ro || hops_dataset_show_json(p, spec, &text) != HOPS_OK)
        return;
    json_t *doc = json_loads(text, 0, NULL);
    json_t *stored = json_object_get(doc, "read_options");
    const char *delim = json_string_value(json_object_get(stored, "delimiter"));
    const char *format = json_string_value(json_object_get(doc, "format"));
    if (!ro->delimiter && delim && strlen(delim) == 1)
        ro->delimiter = delim[0];
    if (!ro->no_header && json_is_true(json_object_get(stored, "no_header")))
        ro->no_header = 1;
    if (ro->format == HOPS_FORMAT_AUTO && format)
        ro->format = strcmp(format, "jsonl") == 0 ? HOPS_FORMAT_JSONL : HOPS_FORMAT_CSV;
    json_decref(doc);
    hops_free(text);
}

int cli_data_path(const char *cmd, const char *spec, char **path_out, hops_read_options *ro)
{
    struct stat st;
    hops_project *p = NULL;
    char *path = NULL;
    int rc;
    *path_out = NULL;
    if (stat(spec, &st) == 0 || strchr(spec, '/')) {
        /* A path (even a missing one: the reader says so with the name). */
        *path_out = strdup(spec);
        return *path_out ? 0 : cli_fail(EXIT_FAIL, cmd, "out of memory");
    }
    if (hops_project_open(&p, NULL) != HOPS_OK)
        return cli_fail(EXIT_NOTFOUND, cmd, "no file '%s' (and no project to look for a dataset of "
                                            "that name in)", spec);
    rc = hops_dataset_resolve(p, spec, &path);
    if (rc == HOPS_OK)
        apply_stored_read_options(p, spec, ro);
    hops_project_close(p);
    if (rc != HOPS_OK)
        return cli_fail(EXIT_NOTFOUND, cmd, "no file or dataset '%s': %s", spec, hops_last_error());
    *path_out = strdup(path);
    hops_free(path);
    return *path_out ? 0 : cli_fail(EXIT_FAIL, cmd, "out of memory");
}

int cmd_data(int argc, char **argv)
{
    if (argc < 2 || cli_flag(argv[1], "--help", "-h") || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "stats") == 0)
        return cmd_data_stats(argc - 1, argv + 1);
    if (strcmp(sub, "schema") == 0)
        return cmd_data_schema(argc - 1, argv + 1);
    if (strcmp(sub, "validate") == 0)
        return cmd_data_validate(argc - 1, argv + 1);
    if (strcmp(sub, "transform") == 0)
        return cmd_data_transform(argc - 1, argv + 1);
    if (strcmp(sub, "report") == 0)
        return cmd_data_report(argc - 1, argv + 1);
    return cli_fail(EXIT_USAGE, "data", "unknown command '%s'; see `hops data --help`", sub);
}
