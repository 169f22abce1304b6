/* hops init [DIR] */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: hops init [--json] [DIR]\n"
    "\n"
    "Make DIR (default: the current directory; created if missing) a hops project:\n"
    "DIR/.hops/ with hops.db (SQLite) and the runs/ folder. Running it again on a\n"
    "project changes nothing.\n"
    "\n"
    "  --json   print {\"project\": ..., \"created\": true|false}\n";

int cmd_init(int argc, char **argv)
{
    const char *dir = ".";
    int json = 0, rc;
    hops_project *p = NULL;
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_fail(EXIT_USAGE, "init", "unknown option '%s'; see `hops init --help`", argv[i]);
        else
            dir = argv[i];
    }
    rc = hops_project_init(dir);
    if (rc != HOPS_OK && rc != HOPS_EEXISTS)
        return cli_status("init", rc);
    int orc = hops_project_open_at(&p, dir);
    if (orc != HOPS_OK)
        return cli_status("init", orc);
    if (json) {
        json_t *doc = json_pack("{s:s, s:b}", "project", hops_project_root(p), "created",
                                rc != HOPS_EEXISTS);
        json_dumpf(doc, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(doc);
    } else if (rc == HOPS_EEXISTS)
        printf("%s is already a hops project (nothing changed)\n", hops_project_root(p));
    else
        printf("Initialized an empty hops project in %s\n"
               "Next: hops run -- python3 train.py   (records a run)\n",
               hops_project_hops_dir(p));
    hops_project_close(p);
    return EXIT_OK;
}
