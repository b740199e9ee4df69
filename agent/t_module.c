/* t_module: MODULE without module support. The agent loads no Redis
 * modules (they are shared objects built against redis-server's internals),
 * so MODULE LIST is empty and LOAD / LOADEX fail the way a failed load
 * fails on redis-server, with the reason in the log; UNLOAD finds nothing.
 * enable-module-command (default no) guards LOAD, LOADEX and UNLOAD as in
 * 7.0. */
#include <string.h>
#include "command.h"
#include "client.h"
#include "server.h"
#include "config.h"
#include "reply.h"
#include "log.h"
#include "util.h"

enum { MODULE_CMD_NO, MODULE_CMD_YES, MODULE_CMD_LOCAL };

/* The value lives only during the callback: it is classified there. */
static void module_cfg_value(void *priv, const char *name, const char *value)
{
    (void)name;
    int *mode = priv;
    if (value && strcmp(value, "yes") == 0)
        *mode = MODULE_CMD_YES;
    else if (value && strcmp(value, "local") == 0)
        *mode = MODULE_CMD_LOCAL;
}

/* enable-module-command: yes, or local for a loopback client. */
static int module_command_allowed(client *c)
{
    int mode = MODULE_CMD_NO;
    cfg_get(&c->srv->config, "enable-module-command", 21, module_cfg_value, &mode);
    if (mode == MODULE_CMD_YES)
        return 1;
    if (mode == MODULE_CMD_LOCAL)
        return strncmp(c->addr, "127.", 4) == 0 || strncmp(c->addr, "::1:", 4) == 0;
    return 0;
}

static int module_arg_is(const resp_arg *a, const char *word)
{
    return util_strcasecmp_len(a->ptr, a->len, word) == 0;
}

static void cmd_module(client *c)
{
    /* LOAD, LOADEX and UNLOAD are the protected subcommands. */
    const resp_arg *s1 = &c->argv[1];
    int protected = module_arg_is(s1, "load") || module_arg_is(s1, "loadex") || module_arg_is(s1, "unload");
    if (protected && !module_command_allowed(c)) {
        reply_error(c, "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", "
                       "you can run it from a local connection, otherwise you need to set this option in the "
                       "configuration file, and then restart the server.");
        return;
    }
    const resp_arg *sub = &c->argv[1];
    if (c->argc == 2 && module_arg_is(sub, "help")) {
        static const char *help[] = {
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
            NULL,
        };
        reply_help(c, "MODULE", help);
    } else if ((module_arg_is(sub, "load") || module_arg_is(sub, "loadex")) && c->argc >= 3) {
        log_msg(LOG_WARNING, "Module %.*s failed to load: kvfleet-agent does not load Redis modules",
                (int)(c->argv[2].len > 256 ? 256 : c->argv[2].len), c->argv[2].ptr);
        reply_error(c, "ERR Error loading the extension. Please check the server logs.");
    } else if (module_arg_is(sub, "unload") && c->argc == 3) {
        reply_error(c, "ERR Error unloading module: no such module with that name");
    } else if (module_arg_is(sub, "list") && c->argc == 2) {
        reply_array(c, 0);
    } else {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try MODULE HELP.",
                     (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
    }
}

const cmd_def t_module_commands[] = {
    {"module", cmd_module, -2, CMD_ADMIN | CMD_NOSCRIPT, 0, 0, 0, "@admin @slow @dangerous"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
