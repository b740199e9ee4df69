/* repl: placeholder table until the module lands. */
#include <stddef.h>
#include "command.h"

const cmd_def repl_commands[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
