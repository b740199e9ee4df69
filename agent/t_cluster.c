/* t_cluster: the cluster-mode commands of a server running without
 * cluster mode, as redis-server 7.0 answers them with cluster-enabled no:
 * CLUSTER (any known subcommand, after the usual subcommand and arity
 * checks of command.c), READONLY, READWRITE and ASKING all say that
 * cluster support is disabled. The agent never runs in cluster mode; the
 * commands exist so clients probing for it, COMMAND COUNT and scripts see
 * what they see on Redis (CLUSTER RESET is refused in scripts: command.c's
 * subcommand flags). */
#include "command.h"
#include "client.h"
#include "reply.h"

static void cluster_disabled(client *c)
{
    reply_error(c, "ERR This instance has cluster support disabled");
}

const cmd_def t_cluster_commands[] = {
    {"cluster", cluster_disabled, -2, 0, 0, 0, 0, "@slow"},
    {"readonly", cluster_disabled, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "@fast @connection"},
    {"readwrite", cluster_disabled, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "@fast @connection"},
    {"asking", cluster_disabled, 1, CMD_FAST, 0, 0, 0, "@fast @connection"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
