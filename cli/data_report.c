/* hops data report — a self-contained HTML report of a data file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hops/report.h>

#include "cli.h"

static const char usage[] =
    "usage: hops data report FILE [--label COL] -o report.html [--title T] [read options]\n"
    "       hops data report --stats STATS.json -o report.html [--title T]\n"
    "\n"
    "Compute the statistics of FILE (a CSV or JSON Lines file, plain or .gz, or a dataset\n"
    "NAME[:VERSION]) and write them as one self-contained HTML page: an overview, nulls per\n"
    "column, a histogram per numeric column, top values of the other columns, the class\n"
    "balance of the label and a correlation heatmap. Inline CSS and SVG only: no scripts,\n"
    "nothing loaded from the network; opens in any browser, offline.\n"
    "\n"
    "  -o, --output PATH   where to write the page (replaced atomically)\n"
    "  --label COL         plot the class balance of COL and its imbalance ratio\n"
    "  --title T           the page's title (default: the file's or dataset's name)\n"
    "  --stats STATS.json  render a document saved by `hops data stats --json` instead of\n"
    "                      reading FILE (give --label, and --correlation for the\n"
    "                      heatmap, to `hops data stats` then)\n"
    "\n"
    "Read options:\n"
    "  --format csv|jsonl, --delimiter C, --no-header, --threads N  (see `hops data --help`)\n";

static const char cmd[] = "data report";

/* Load the stats document at PATH, naming file:line:column when it is not JSON;
 * *text owned (free()). Returns an exit code. */
static int load_stats(const char *path, char **text)
{
    json_error_t err;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!doc) {
        if (err.line < 1)
            return cli_fail(EXIT_NOTFOUND, cmd, "cannot read '%s': %s", path, err.text);
        return cli_fail(EXIT_USAGE, cmd, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    }
    *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return *text ? EXIT_OK : cli_fail(EXIT_FAIL, cmd, "out of memory");
}

int cmd_data_report(int argc, char **argv)
{
    hops_report_options o = HOPS_REPORT_OPTIONS_INIT;
    const char *file = NULL, *out = NULL, *stats_path = NULL, *val;
    char *path = NULL, *stats = NULL;
    int m, rc;
    struct stat st;

    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if ((m = cli_read_option(cmd, argc, argv, &i, &o.read)) != 0) {
            if (m < 0)
                return EXIT_USAGE;
        } else if ((m = cli_opt_value(argc, argv, &i, "--output", "-o", &val)) > 0)
            out = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--label", NULL, &val)) > 0)
            o.label = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--title", NULL, &val)) > 0)
            o.title = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--stats", NULL, &val)) > 0)
            stats_path = val;
        else if (m < 0)
            return cli_fail(EXIT_USAGE, cmd, "option '%s' needs a value", argv[i]);
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_fail(EXIT_USAGE, cmd, "unknown option '%s'; see `hops data report --help`",
                            argv[i]);
        else if (file)
            return cli_fail(EXIT_USAGE, cmd, "one FILE only (got '%s' and '%s')", file, argv[i]);
        else
            file = argv[i];
    }
    if (!out)
        return cli_fail(EXIT_USAGE, cmd,
                        "needs -o PATH, where to write the report "
                        "(e.g. -o report.html)");
    if (stats_path && (file || o.label))
        return cli_fail(EXIT_USAGE, cmd,
                        "--stats renders a saved document: give no FILE and no "
                        "--label with it");
    if (!stats_path && !file)
        return cli_fail(EXIT_USAGE, cmd,
                        "needs a FILE (or --stats STATS.json); see "
                        "`hops data report --help`");

    if (stats_path) {
        if ((rc = load_stats(stats_path, &stats)) != EXIT_OK)
            return rc;
        rc = hops_data_report_write(stats, o.title, out);
        free(stats);
        if (rc != HOPS_OK)
            return cli_status(cmd, rc);
    } else {
        if ((rc = cli_data_path(cmd, file, &path, &o.read)) != EXIT_OK)
            return rc;
        if (!o.title && strcmp(path, file) != 0)
            o.title = file; /* a dataset: its NAME[:VERSION], not the stored file's name */
        rc = hops_data_report(path, &o, out);
        free(path);
        if (rc != HOPS_OK)
            return cli_status(cmd, rc);
    }
    if (stat(out, &st) == 0)
        printf("wrote %s (%.0f KB)\n", out, (double)st.st_size / 1024.0 + 0.5);
    return EXIT_OK;
}
