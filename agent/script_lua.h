/* script_lua: the Lua engine scripts run in. One lua_State per server,
 * with Redis' sandbox (base without loadfile/dofile/print/getfenv/setfenv/
 * require/module/newproxy, table, string, math, cjson, bit, struct,
 * cmsgpack; no os, io, debug; globals read-only through a proxy), the
 * `redis` table (call, pcall, error_reply, status_reply, sha1hex, log,
 * setresp, set_repl, replicate_commands, breakpoint, debug, LOG_* and
 * REPL_* constants, REDIS_VERSION*), and math.random seeded as Redis'.
 *
 * The engine knows nothing of EVAL: script.c compiles bodies and runs the
 * compiled functions with script_lua_run, which sets KEYS / ARGV, runs the
 * function under the count hook (the busy/kill seam: script_lua_tick_fn)
 * and replies to the caller. A later FUNCTION slice runs its functions
 * through the same call. */
#ifndef KV_SCRIPT_LUA_H
#define KV_SCRIPT_LUA_H
#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include "kstr.h"
#include "resp.h"

struct srv;
struct client;
struct cmd_def;

enum {
    SCRIPT_FLAG_NO_WRITES   = 1 << 0,
    SCRIPT_FLAG_ALLOW_OOM   = 1 << 1,
    SCRIPT_FLAG_ALLOW_STALE = 1 << 2,
    SCRIPT_FLAG_NO_CLUSTER  = 1 << 3,
    SCRIPT_FLAG_ALLOW_CROSS_SLOT = 1 << 4,
    /* no shebang: Redis' pre-7.0 rules (writes checked command by command) */
    SCRIPT_FLAG_COMPAT      = 1 << 5,
};

/* redis.set_repl flags */
enum { SCRIPT_REPL_AOF = 1, SCRIPT_REPL_REPLICA = 2, SCRIPT_REPL_ALL = 3 };

/* One running script (the caller's view). script.c fills it, the engine
 * updates wrote/killed. */
typedef struct script_run {
    struct client *caller;
    struct client *fake;      /* runs the script's redis.call commands */
    const char *name;         /* sha1 hex: "script: <name>" in errors */
    int flags;                /* SCRIPT_FLAG_* */
    int read_only;            /* EVAL_RO / no-writes */
    int repl;                 /* redis.set_repl */
    int wrote;                /* a write command ran: SCRIPT KILL refused */
    int killed;               /* SCRIPT KILL / SHUTDOWN NOSAVE asked to stop */
    int is_function;          /* FCALL (FUNCTION KILL stops it), else EVAL */
    uint64_t start_ticks;
} script_run;

typedef struct script_lua script_lua;

/* Called from the count hook while a script runs. Returns NULL to go on,
 * or the error to stop the script with (e.g. after SCRIPT KILL). */
typedef const char *script_lua_tick_fn(void *priv, script_run *run);

script_lua *script_lua_new(struct srv *s, script_lua_tick_fn *tick, void *priv);
void script_lua_free(script_lua *e);
lua_State *script_lua_state(script_lua *e);
/* Bytes the Lua heap uses (INFO used_memory_lua). */
size_t script_lua_memory(script_lua *e);

/* Compile body (chunk name "@user_script"); returns a registry reference
 * to the function, or LUA_NOREF with Redis' error text in *err ("Error
 * compiling script (new function): user_script:1: ..."), a new kstr. */
int script_lua_compile(script_lua *e, const char *body, size_t len, kstr *err);
void script_lua_release(script_lua *e, int ref);

/* Run the function `ref` with KEYS = keys[0..nkeys) and ARGV =
 * args[0..nargs), replying the result (or the error) to run->caller. */
void script_lua_run(script_lua *e, int ref, script_run *run, int nkeys, const resp_arg *keys,
                    int nargs, const resp_arg *args);

/* Run a function of a library (FCALL): keys and args are its two
 * parameters (tables), not KEYS / ARGV. Replies as script_lua_run. */
void script_lua_run_function(script_lua *e, int ref, script_run *run, int nkeys, const resp_arg *keys,
                             int nargs, const resp_arg *args);

/* A script flag by name, or -1 (7.0 matches a shebang's flags= exactly and
 * register_function's flags case-insensitively); and the flags by index in 7.0's order (NULL past the
 * last), as FUNCTION LIST prints them. */
int script_lua_flag_of(const char *name, size_t len, int nocase);
const char *script_lua_flag_name(int index, int *flag);

/* One redis.register_function call while a library loads. name and desc
 * point into Lua strings valid during the callback only; ref is the
 * callback's registry reference, the receiver's once accepted. */
typedef struct script_lua_function {
    const char *name;
    size_t name_len;
    const char *desc;         /* NULL: no description */
    size_t desc_len;
    int flags;                /* SCRIPT_FLAG_* */
    int ref;
} script_lua_function;

/* Accept a registration (NULL) or refuse it with a message without the
 * "ERR " prefix (static, or kept by priv until the load returns). */
typedef const char *script_lua_register_cb(void *priv, const script_lua_function *f);

/* FUNCTION LOAD: compile a library's code (chunk "@user_function") and run
 * it once in the load environment, where `redis` has only register_function,
 * log, LOG_* and the version. cb receives each registration. Past
 * timeout_ms the load stops. 0, or -1 with Redis' error in *err (a new
 * kstr: "ERR Error compiling function: ..." / "ERR Error registering
 * functions: ..."); on -1 the refs cb accepted are still the receiver's. */
int script_lua_load_library(script_lua *e, const char *code, size_t len, long long timeout_ms,
                            script_lua_register_cb *cb, void *priv, kstr *err);

/* The rand48 generator Redis' math.random draws from (process-wide in
 * Redis: neither SCRIPT FLUSH nor a new script reseeds it). */
int32_t script_lua_rand48(void);
void script_lua_srand48(int32_t seed);

/* DEBUG SET-DISABLE-DENY-SCRIPTS: 1 lets scripts call the commands flagged
 * noscript (Redis' test suite uses it to call DEBUG from a script). */
void script_lua_allow_noscript_commands(int allow);
#endif
