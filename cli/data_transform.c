/* Placeholder while the command is being written. */
#include <stdio.h>

#include "cli.h"

int cmd_data_transform(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("hops: this command is not built yet\n", stderr);
    return EXIT_FAIL;
}

