/* rdb_save: persistence commands and process integration (in progress). */
#include <stddef.h>
#include "command.h"
#include "rdb.h"

const cmd_def rdb_commands[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
