/* script: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD|EXISTS|FLUSH|
 * KILL|HELP as redis-server 7.0 has them: a cache of compiled scripts keyed
 * by their SHA1 (lower-case hex), the script's commands run through one
 * fake client, effects replication (the writes a script made, wrapped in
 * MULTI/EXEC when more than one; EVAL itself, SCRIPT LOAD and SCRIPT FLUSH
 * are never propagated), and the busy state: past busy-reply-threshold the
 * server answers other clients again (-BUSY, SCRIPT KILL, SHUTDOWN NOSAVE)
 * from inside the running script. The Lua side is script_lua.c. */
#ifndef KV_SCRIPT_H
#define KV_SCRIPT_H
#include <stddef.h>

struct srv;
struct client;
struct cmd_def;

#define SCRIPT_ERR_BUSY "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
#define SCRIPT_ERR_BUSY_FUNCTION "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
struct script_lua;

/* cmd_process, while srv->script_busy: NULL when the command may run
 * (CMD_ALLOW_BUSY ones, SCRIPT KILL, SHUTDOWN NOSAVE), else the -BUSY
 * error to refuse it with. */
const char *script_busy_refusal(struct client *c, const struct cmd_def *cmd);

/* INFO memory: used_memory_lua, used_memory_scripts, number_of_cached_scripts. */
size_t script_used_memory_lua(struct srv *s);
size_t script_used_memory_scripts(struct srv *s);
size_t script_cached_count(struct srv *s);

/* Functions (function.c) run in their own Lua state, made on first use
 * (NULL when out of memory), with the busy/kill machinery of scripts. */
struct script_lua *script_functions_engine(struct srv *s);
size_t script_used_memory_functions(struct srv *s);
/* FCALL / FCALL_RO of a found function: numkeys (argv[2]) checked as 7.0
 * does, then the callback `ref` run with argv[3..] as keys and args. */
void script_fcall(struct client *c, int ref, const char *name, int flags, int ro_command);
/* SCRIPT KILL (functions 0) / FUNCTION KILL (1): replies. */
void script_kill(struct client *c, int functions);
/* The running script or function, for FUNCTION STATS: 1 if one runs. */
typedef struct script_running_info {
    const char *name;
    struct client *caller;
    int is_function;
    long long duration_ms;
} script_running_info;
int script_running(struct srv *s, script_running_info *info);

/* srv_release: the Lua state, the cache and the fake client. */
void script_module_release(struct srv *s);
#endif
