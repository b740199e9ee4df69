/* script_lua: the Lua state scripts run in, its sandbox and the `redis`
 * API (script_lua.h). Error texts are redis-server 7.0.15's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <lauxlib.h>
#include <lualib.h>
#include <lua-cjson.h>
#include <lua-bitop.h>
#include <nettle/sha1.h>
#include "script_lua.h"
#include "script_conv.h"
#include "acl.h"
#include "client.h"
#include "command.h"
#include "server.h"
#include "reply.h"
#include "repl.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#if defined(__has_include)
#if __has_include("lua_libs.h")
#include "lua_libs.h"
#define SCRIPT_HAVE_STRUCT_CMSGPACK 1
#endif
#endif

/* Instructions between two calls of the count hook: often enough to answer
 * other clients about every millisecond once a script is busy, rare enough
 * to cost nothing measurable (Redis uses the same period). */
#define SCRIPT_HOOK_PERIOD 100000
/* The reply buffer kept between runs, at most. */
#define SCRIPT_OUT_KEEP (64 * 1024)

struct script_lua {
    lua_State *L;
    srv *srv;
    script_lua_tick_fn *tick;
    void *tick_priv;
    size_t lua_bytes;        /* the Lua heap, for INFO used_memory_lua */
    int globals_ref;         /* the real globals table (KEYS / ARGV go there) */
    int handler_ref;         /* the error handler passed to lua_pcall */
    script_run *run;         /* the script being run, NULL between runs */
    /* Reused by every redis.call so a call allocates nothing of its own. */
    resp_arg *argv;
    int argv_cap;
    char *numbuf;            /* numbers formatted as arguments */
    size_t numbuf_cap;
    kstr out;                /* a script's RESP reply, and a multi-block reply */
    /* Functions (script_lua_load_library): the environment library code
     * and its callbacks see, and the metatable whose __index switches it
     * between the load API and the full globals. LUA_NOREF until first used. */
    int fenv_ref;
    int fenv_meta_ref;
    int load_api_ref;
    script_lua_register_cb *load_cb;   /* non-NULL only while a library loads */
    void *load_priv;
    uint64_t load_deadline_ticks;      /* 0: no timeout */
};

/* The registry key under which the engine finds itself from the hook. */
static const char engine_registry_key = 'k';

/* ---- Redis' rand48 -------------------------------------------------------- */

/* The 48-bit linear congruential generator Redis' math.random uses, so a
 * script sees the numbers it would see on redis-server. Its state is
 * process-wide there (seeded once at start, kept across SCRIPT FLUSH), so
 * it is one static here too. */
static uint64_t script_rand48_state = 0x1234ABCD330EULL;

int32_t script_lua_rand48(void)
{
    script_rand48_state = (0x5DEECE66DULL * script_rand48_state + 0xB) & ((1ULL << 48) - 1);
    return (int32_t)(script_rand48_state >> 17);
}

void script_lua_srand48(int32_t seed)
{
    script_rand48_state = ((uint64_t)(uint32_t)seed << 16) | 0x330E;
}

/* math.random with Lua 5.1's argument rules, drawing from rand48. */
static int lua_math_random(lua_State *L)
{
    lua_Number r = (lua_Number)(script_lua_rand48() % INT32_MAX) / (lua_Number)INT32_MAX;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1);
        int u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int lua_math_randomseed(lua_State *L)
{
    script_lua_srand48((int32_t)luaL_checkint(L, 1));
    return 0;
}

/* ---- errors --------------------------------------------------------------- */

static script_lua *engine_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* The engine from a hook, which has no upvalues: it is in the registry. */
static script_lua *engine_from_registry(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&engine_registry_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    script_lua *e = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return e;
}

/* Push {err = msg}: how redis.pcall returns an error and what redis.call
 * raises. */
static void push_error_table(lua_State *L, const char *msg)
{
    lua_createtable(L, 0, 1);
    lua_pushstring(L, "err");
    lua_pushstring(L, msg);
    lua_rawset(L, -3);
}

static int raise_error_table(lua_State *L, const char *msg)
{
    push_error_table(L, msg);
    return lua_error(L);
}

/* The handler lua_pcall runs on any error: it turns a message into
 * {err = "ERR " .. message} and records where the script was (source and
 * line of the innermost Lua function, skipping a C function that raised
 * it, like error() or redis.call), which the reply then quotes as
 * "script: <sha>, on @user_script:<line>." */
static int lua_error_handler(lua_State *L)
{
    lua_Debug ar;
    int found = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
        found = 1;
        if (strcmp(ar.what, "C") == 0)
            found = lua_getstack(L, 2, &ar) && lua_getinfo(L, "Sl", &ar);
    }
    if (!lua_istable(L, 1)) {
        const char *msg;
        if (lua_isstring(L, 1))
            msg = lua_tostring(L, 1);
        else if (lua_isnil(L, 1))
            msg = "nil";
        else if (lua_isboolean(L, 1))
            msg = lua_toboolean(L, 1) ? "true" : "false";
        else
            msg = luaL_typename(L, 1);
        lua_pushfstring(L, "ERR %s", msg);
        push_error_table(L, lua_tostring(L, -1));
        lua_replace(L, 1);
        lua_settop(L, 1);
    }
    if (found) {
        lua_pushstring(L, "source");
        lua_pushstring(L, ar.source);
        lua_rawset(L, 1);
        lua_pushstring(L, "line");
        lua_pushinteger(L, ar.currentline);
        lua_rawset(L, 1);
    }
    lua_settop(L, 1);
    return 1;
}

/* ---- redis.call / redis.pcall --------------------------------------------- */

static void engine_reserve_argv(script_lua *e, int argc)
{
    if (argc <= e->argv_cap)
        return;
    int cap = e->argv_cap ? e->argv_cap : 16;
    while (cap < argc)
        cap *= 2;
    e->argv = mem_realloc(e->argv, sizeof(*e->argv) * (size_t)cap);
    e->argv_cap = cap;
}

/* Fill e->argv from the Lua arguments: strings point into Lua (they stay
 * on the stack during the call), numbers are formatted into numbuf, which
 * is sized first so the pointers into it stay valid. Returns 0, or -1 for
 * an argument that is neither a string nor a number. */
#define SCRIPT_NUMBER_ARG_MAX 64
static int engine_collect_args(script_lua *e, lua_State *L, int argc)
{
    size_t numbers = 0;
    for (int i = 1; i <= argc; i++) {
        int t = lua_type(L, i);
        if (t == LUA_TNUMBER)
            numbers++;
        else if (t != LUA_TSTRING)
            return -1;
    }
    engine_reserve_argv(e, argc);
    if (numbers * SCRIPT_NUMBER_ARG_MAX > e->numbuf_cap) {
        e->numbuf_cap = numbers * SCRIPT_NUMBER_ARG_MAX;
        e->numbuf = mem_realloc(e->numbuf, e->numbuf_cap);
    }
    size_t used = 0;
    for (int i = 0; i < argc; i++) {
        if (lua_type(L, i + 1) == LUA_TNUMBER) {
            size_t n = script_conv_number_arg(lua_tonumber(L, i + 1), e->numbuf + used,
                                              SCRIPT_NUMBER_ARG_MAX);
            e->argv[i].ptr = e->numbuf + used;
            e->argv[i].len = n;
            used += n;
        } else {
            size_t len;
            e->argv[i].ptr = lua_tolstring(L, i + 1, &len);
            e->argv[i].len = len;
        }
    }
    return 0;
}

/* DEBUG SET-DISABLE-DENY-SCRIPTS: process-wide, as the switch is in Redis. */
static int script_lua_noscript_allowed;

void script_lua_allow_noscript_commands(int allow)
{
    script_lua_noscript_allowed = allow != 0;
}

/* The refusals Redis applies to a command called from a script, in its
 * order. Returns the error text, or NULL to run it. */
static const char *engine_check_command(script_lua *e, const cmd_def *cmd, int argc)
{
    script_run *run = e->run;
    srv *s = e->srv;
    if (cmd == NULL)
        return "ERR Unknown Redis command called from script";
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity)
        return "ERR Wrong number of args calling Redis command from script";
    if (((cmd->flags | cmd_sub_flags(cmd, argc, e->argv)) & CMD_NOSCRIPT) && !script_lua_noscript_allowed)
        return "ERR This Redis command is not allowed from script";
    /* The caller's ACL user (script.c gives it to the fake client). */
    const char *acl_err = acl_script_refusal(run->fake, cmd, argc, e->argv);
    if (acl_err != NULL)
        return acl_err;
    if (run->read_only && (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)))
        return "ERR Write commands are not allowed from read-only scripts.";
    /* A script that already wrote is not failed halfway on the server's
     * state: its effects must stay whole. */
    if ((cmd->flags & CMD_WRITE) && !run->wrote) {
        int from_master = run->caller && (run->caller->flags & CLIENT_MASTER);
        if (!from_master && s->is_replica && s->config.replica_read_only)
            return "READONLY You can't write against a read only replica.";
        if (repl_lacks_good_replicas(s))
            return "NOREPLICAS Not enough good replicas to write.";
    }
    if ((cmd->flags & CMD_DENYOOM) && s->config.maxmemory && !(run->flags & SCRIPT_FLAG_ALLOW_OOM) &&
        !(run->caller && (run->caller->flags & CLIENT_MASTER)) && srv_used_memory(s) > s->config.maxmemory)
        return ERR_OOM;
    return NULL;
}

/* Forget the fake client's output, keeping one block for the next call. */
static void engine_reset_output(client *fake)
{
    reply_block *b = fake->reply_head;
    if (b == NULL)
        return;
    reply_block *rest = b->next;
    while (rest) {
        reply_block *next = rest->next;
        mem_free(rest);
        rest = next;
    }
    b->next = NULL;
    b->used = 0;
    fake->reply_tail = b;
    fake->reply_bytes = 0;
    fake->flags &= ~(uint32_t)CLIENT_CLOSE_ASAP;
}

/* Push the reply the command left in the fake client. Returns 0, or -1
 * when there was no complete reply (nothing pushed). */
static int engine_push_reply(script_lua *e, lua_State *L, client *fake)
{
    reply_block *b = fake->reply_head;
    size_t used;
    if (b != NULL && b->next == NULL) {
        used = script_conv_resp_to_lua(L, b->buf, b->used);
    } else {
        kstr_set_len(e->out, 0);
        for (; b != NULL; b = b->next)
            e->out = kstr_cat(e->out, b->buf, b->used);
        used = script_conv_resp_to_lua(L, e->out, kstr_len(e->out));
    }
    engine_reset_output(fake);
    return used > 0 ? 0 : -1;
}

/* Run the command through the fake client: the same cmd_call a network
 * client's command goes through, so stats, dirty and propagation are the
 * usual ones (script.c captures the propagation). */
static void engine_run_command(script_lua *e, const cmd_def *cmd, int argc)
{
    script_run *run = e->run;
    client *fake = run->fake;
    srv *s = e->srv;
    if (cmd->flags & CMD_WRITE)
        run->wrote = 1;
    fake->argc = argc;
    fake->argv = e->argv;
    /* redis.set_repl: none of AOF / replicas wanted: nothing propagated. */
    srv_propagate_fn *saved_hook = s->propagate;
    int mute = (run->repl & SCRIPT_REPL_ALL) == 0;
    if (mute)
        s->propagate = NULL;
    cmd_call(fake, cmd);
    if (mute)
        s->propagate = saved_hook;
    fake->argc = 0;
    fake->argv = NULL;
}

static int redis_generic_call(lua_State *L, int raise)
{
    script_lua *e = engine_of(L);
    int argc = lua_gettop(L);
    const char *err = NULL;
    if (e->run == NULL)
        return luaL_error(L, "redis.call() can only be used inside a script");
    if (argc == 0)
        err = "ERR Please specify at least one argument for this redis lib call";
    else if (engine_collect_args(e, L, argc) != 0)
        err = "ERR Lua redis lib command arguments must be strings or integers";
    const cmd_def *cmd = NULL;
    if (err == NULL) {
        cmd = cmd_lookup(e->argv[0].ptr, e->argv[0].len);
        err = engine_check_command(e, cmd, argc);
    }
    if (err != NULL) {
        if (raise)
            return raise_error_table(L, err);
        push_error_table(L, err);
        return 1;
    }
    engine_run_command(e, cmd, argc);
    if (engine_push_reply(e, L, e->run->fake) != 0) {
        if (raise)
            return raise_error_table(L, "ERR the command produced no reply");
        push_error_table(L, "ERR the command produced no reply");
        return 1;
    }
    /* redis.call raises an error reply; redis.pcall returns it. */
    if (raise && lua_istable(L, -1) && script_conv_table_string(L, -1, "err", NULL) != NULL)
        return lua_error(L);
    return 1;
}

static int lua_redis_call(lua_State *L)
{
    return redis_generic_call(L, 1);
}

static int lua_redis_pcall(lua_State *L)
{
    return redis_generic_call(L, 0);
}

/* ---- the rest of the redis table ------------------------------------------ */

/* redis.error_reply / status_reply: a wrong argument is returned as an
 * error table, not raised, as Redis does. */
static int redis_tagged_reply(lua_State *L, const char *field)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
        push_error_table(L, "ERR wrong number or type of arguments");
        return 1;
    }
    lua_createtable(L, 0, 1);
    lua_pushstring(L, field);
    lua_pushvalue(L, 1);
    lua_rawset(L, -3);
    return 1;
}

/* 7.0's error table: the text (a leading '-' dropped) split at its first
 * space into a code and a message, or all message under the code ERR
 * without a space, the message trimmed of CR/LF at both ends; read as a C
 * string, as Redis does. */
static int lua_redis_error_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
        push_error_table(L, "ERR wrong number or type of arguments");
        return 1;
    }
    const char *text = lua_tostring(L, 1);
    if (text[0] == '-')
        text++;
    const char *space = strchr(text, ' ');
    const char *code = space ? text : "ERR";
    size_t code_len = space ? (size_t)(space - text) : 3;
    const char *msg = space ? space + 1 : text;
    size_t msg_len = strlen(msg);
    while (msg_len > 0 && (msg[0] == '\r' || msg[0] == '\n'))
        msg++, msg_len--;
    while (msg_len > 0 && (msg[msg_len - 1] == '\r' || msg[msg_len - 1] == '\n'))
        msg_len--;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, code, code_len);
    luaL_addchar(&b, ' ');
    luaL_addlstring(&b, msg, msg_len);
    luaL_pushresult(&b);                   /* the error text */
    lua_createtable(L, 0, 1);
    lua_pushstring(L, "err");
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    return 1;
}

static int lua_redis_status_reply(lua_State *L)
{
    return redis_tagged_reply(L, "ok");
}

/* redis.acl_check_cmd(command, args...): whether the script's caller may
 * run that command with those arguments, by the check cmd_process applies
 * to it (run with the caller's argv swapped for the checked one). */
static int lua_redis_acl_check_cmd(lua_State *L)
{
    script_lua *e = engine_of(L);
    int argc = lua_gettop(L);
    if (e->run == NULL || e->run->caller == NULL)
        return raise_error_table(L, "ERR redis.acl_check_cmd can only be called inside a script invocation");
    if (argc == 0)
        return raise_error_table(L, "ERR Please specify at least one argument for this redis lib call");
    if (engine_collect_args(e, L, argc) != 0)
        return raise_error_table(L, "ERR Lua redis lib command arguments must be strings or integers");
    const cmd_def *cmd = cmd_lookup(e->argv[0].ptr, e->argv[0].len);
    if (cmd == NULL)
        return raise_error_table(L, "ERR Invalid command passed to redis.acl_check_cmd()");
    /* Redis' acl_check_cmd asks without logging in ACL LOG. */
    lua_pushboolean(L, acl_check_allowed(e->run->caller, cmd, argc, e->argv));
    return 1;
}

static int lua_redis_sha1hex(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return raise_error_table(L, "ERR wrong number of arguments");
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (s == NULL)
        s = "", len = 0;
    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    char hex[2 * SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    sha1_update(&ctx, len, (const uint8_t *)s);
    sha1_digest(&ctx, sizeof(digest), digest);
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < SHA1_DIGEST_SIZE; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    lua_pushlstring(L, hex, sizeof(hex));
    return 1;
}

static int lua_redis_log(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 2)
        return raise_error_table(L, "ERR redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1))
        return raise_error_table(L, "ERR First argument must be a number (log level).");
    int level = (int)lua_tonumber(L, 1);
    if (level < LOG_DEBUG || level > LOG_WARNING)
        return raise_error_table(L, "ERR Invalid debug level.");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 2; i <= argc; i++) {
        size_t len;
        const char *s = lua_tolstring(L, i, &len);
        if (s == NULL)
            continue;
        if (i > 2)
            luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, len);
    }
    luaL_pushresult(&b);
    log_msg(level, "%s", lua_tostring(L, -1));
    return 0;
}

/* The protocol redis.call's commands reply in (the fake client's), and
 * what the script's booleans mean on return; back to 2 for every run. */
static int lua_redis_setresp(lua_State *L)
{
    script_lua *e = engine_of(L);
    if (lua_gettop(L) != 1)
        return raise_error_table(L, "ERR redis.setresp() requires one argument.");
    int v = (int)lua_tonumber(L, 1);
    if (v != 2 && v != 3)
        return raise_error_table(L, "ERR RESP version must be 2 or 3.");
    if (e->run)
        e->run->fake->resp_version = v;
    return 0;
}

static int lua_redis_set_repl(lua_State *L)
{
    script_lua *e = engine_of(L);
    if (lua_gettop(L) != 1)
        return raise_error_table(L, "ERR redis.set_repl() requires two arguments.");
    int flags = (int)lua_tonumber(L, 1);
    if (flags & ~SCRIPT_REPL_ALL)
        return raise_error_table(L, "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    if (e->run)
        e->run->repl = flags;
    return 0;
}

/* Effects replication is the only mode since 7.0: always true. */
static int lua_redis_replicate_commands(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

/* No debugger: breakpoint() says no breakpoint was hit, debug() is mute. */
static int lua_redis_breakpoint(lua_State *L)
{
    lua_pushboolean(L, 0);
    return 1;
}

static int lua_redis_debug(lua_State *L)
{
    (void)L;
    return 0;
}

/* ---- the sandbox ------------------------------------------------------------ */

static int lua_nonexistent_global(lua_State *L)
{
    const char *name = lua_tostring(L, 2);
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                      name ? name : "?");
}

static int lua_readonly_table(lua_State *L)
{
    return luaL_error(L, "Attempt to modify a readonly table");
}

/* getmetatable() of a protected table gives its metatable, itself
 * read-only, as with 7.0's read-only tables: sets the __metatable of the
 * metatable on the top of the stack to a read-only view of it. */
static void set_readonly_metatable_view(lua_State *L)
{
    int meta = lua_gettop(L);
    lua_pushstring(L, "__metatable");
    lua_newtable(L);                       /* the view */
    lua_createtable(L, 0, 3);              /* its metatable */
    lua_pushstring(L, "__index");
    lua_pushvalue(L, meta);
    lua_rawset(L, -3);
    lua_pushstring(L, "__newindex");
    lua_pushcfunction(L, lua_readonly_table);
    lua_rawset(L, -3);
    lua_pushstring(L, "__metatable");
    lua_pushboolean(L, 0);
    lua_rawset(L, -3);
    lua_setmetatable(L, -2);
    lua_rawset(L, meta);
}

/* Replace the table at idx by a read-only proxy: reads go to the table
 * (a plain __index table, so a lookup stays inside the VM), writes raise
 * Redis' error, and the metatable cannot be changed; getmetatable() gives
 * false, or with meta_visible (the globals, which have a metatable in
 * Redis too) a read-only view of it. The proxy is left on the stack. */
static void push_readonly_proxy(lua_State *L, int idx, int meta_visible)
{
    if (idx < 0)
        idx = lua_gettop(L) + idx + 1;
    lua_newtable(L);                       /* proxy */
    lua_createtable(L, 0, 3);              /* its metatable */
    lua_pushstring(L, "__index");
    lua_pushvalue(L, idx);
    lua_rawset(L, -3);
    lua_pushstring(L, "__newindex");
    lua_pushcfunction(L, lua_readonly_table);
    lua_rawset(L, -3);
    if (meta_visible) {
        set_readonly_metatable_view(L);
    } else {
        lua_pushstring(L, "__metatable");
        lua_pushboolean(L, 0);
        lua_rawset(L, -3);
    }
    lua_setmetatable(L, -2);
}

/* 1 when the table at idx is one of our read-only proxies. */
static int is_readonly_proxy(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
        return 0;
    lua_pushstring(L, "__newindex");
    lua_rawget(L, -2);
    int ro = lua_tocfunction(L, -1) == lua_readonly_table;
    lua_pop(L, 2);
    return ro;
}

/* The error Redis raises there carries no position (it is not luaL_error). */
static int raise_readonly(lua_State *L)
{
    lua_pushstring(L, "Attempt to modify a readonly table");
    return lua_error(L);
}

/* rawset and setmetatable would bypass a proxy's protection. */
static int lua_guarded_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (is_readonly_proxy(L, 1))
        return raise_readonly(L);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* getmetatable() of a proxy whose metatable is hidden gives nil, as for
 * Redis' read-only tables, which have none; the rest as Lua does. */
static int lua_guarded_getmetatable(lua_State *L)
{
    luaL_checkany(L, 1);
    if (is_readonly_proxy(L, 1)) {
        lua_getmetatable(L, 1);
        lua_pushstring(L, "__metatable");
        lua_rawget(L, -2);
        if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
            lua_pushnil(L);
            return 1;
        }
        lua_pop(L, 2);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

static int lua_guarded_setmetatable(lua_State *L)
{
    if (is_readonly_proxy(L, 1))
        return raise_readonly(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Redis' Lua parses text only: a precompiled chunk could break the VM's
 * invariants. loadstring and load feed a chunk that starts with the
 * bytecode signature to the parser behind a leading space, so it fails as
 * the text it then is ("unexpected symbol near 'char(27)'"), as in 7.0. */
typedef struct text_only_reader {
    lua_State *L;
    int fn_idx;             /* load(): the reader function's slot; 0: a string */
    int keep_idx;           /* load(): the slot keeping the last piece alive */
    const char *str;        /* loadstring(): the whole chunk, until given */
    size_t str_len;
    const char *held;       /* the first piece, given after the space */
    size_t held_len;
    int state;              /* 0 first call, 1 a piece held, 2 passing through */
} text_only_reader;

static const char *text_only_next(text_only_reader *r, size_t *size)
{
    if (r->fn_idx == 0) {
        const char *p = r->str;
        *size = p ? r->str_len : 0;
        r->str = NULL;
        return p;
    }
    lua_State *L = r->L;
    luaL_checkstack(L, 2, "too many nested functions");
    lua_pushvalue(L, r->fn_idx);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        *size = 0;
        return NULL;
    }
    if (!lua_isstring(L, -1))
        luaL_error(L, "reader function must return a string");
    lua_replace(L, r->keep_idx);
    return lua_tolstring(L, r->keep_idx, size);
}

static const char *text_only_read(lua_State *L, void *ud, size_t *size)
{
    text_only_reader *r = ud;
    (void)L;
    if (r->state == 1) {
        r->state = 2;
        *size = r->held_len;
        return r->held;
    }
    const char *p = text_only_next(r, size);
    if (r->state == 0) {
        r->state = 2;
        if (p != NULL && *size > 0 && p[0] == LUA_SIGNATURE[0]) {
            r->held = p;
            r->held_len = *size;
            r->state = 1;
            *size = 1;
            return " ";
        }
    }
    return p;
}

/* loadstring's and load's results: the function, or nil and the error. */
static int text_only_result(lua_State *L, int status)
{
    if (status == 0)
        return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static int lua_text_loadstring(lua_State *L)
{
    size_t len;
    const char *chunk = luaL_checklstring(L, 1, &len);
    const char *chunkname = luaL_optstring(L, 2, chunk);
    text_only_reader r = {.L = L, .str = chunk, .str_len = len};
    return text_only_result(L, lua_load(L, text_only_read, &r, chunkname));
}

static int lua_text_load(lua_State *L)
{
    const char *chunkname = luaL_optstring(L, 2, "=(load)");
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 3);
    text_only_reader r = {.L = L, .fn_idx = 1, .keep_idx = 3};
    return text_only_result(L, lua_load(L, text_only_read, &r, chunkname));
}

static void open_lib(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_pushcfunction(L, fn);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (name[0] != '\0' && lua_istable(L, -1))
        lua_setglobal(L, name);
    else
        lua_pop(L, 1);
}

static void open_libraries(lua_State *L)
{
    open_lib(L, "", luaopen_base);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, "cjson", luaopen_cjson);
    open_lib(L, "bit", luaopen_bit);
    /* struct and cmsgpack (agent/lua_struct.c, agent/lua_cmsgpack.c):
     * registered here, the one place, when their header is present. */
#ifdef SCRIPT_HAVE_STRUCT_CMSGPACK
    open_lib(L, "struct", luaopen_struct);
    open_lib(L, "cmsgpack", luaopen_cmsgpack);
#endif
    /* What Redis does not expose: files, printing, environments, modules. */
    static const char *const removed[] = {
        "loadfile", "dofile", "print", "getfenv", "setfenv", "require", "module", "newproxy",
    };
    for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_pushcfunction(L, lua_guarded_rawset);
    lua_setglobal(L, "rawset");
    lua_pushcfunction(L, lua_text_loadstring);
    lua_setglobal(L, "loadstring");
    lua_pushcfunction(L, lua_text_load);
    lua_setglobal(L, "load");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, lua_guarded_setmetatable, 1);
    lua_setglobal(L, "setmetatable");
    lua_getglobal(L, "getmetatable");
    lua_pushcclosure(L, lua_guarded_getmetatable, 1);
    lua_setglobal(L, "getmetatable");
    lua_getglobal(L, "math");
    lua_pushstring(L, "random");
    lua_pushcfunction(L, lua_math_random);
    lua_rawset(L, -3);
    lua_pushstring(L, "randomseed");
    lua_pushcfunction(L, lua_math_randomseed);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* ---- script flags ----------------------------------------------------------- */

/* The flag names of 7.0's shebang and of register_function, in the order
 * FUNCTION LIST prints them. */
static const struct { const char *name; int flag; } script_flags[] = {
    {"no-writes", SCRIPT_FLAG_NO_WRITES}, {"allow-oom", SCRIPT_FLAG_ALLOW_OOM},
    {"allow-stale", SCRIPT_FLAG_ALLOW_STALE}, {"no-cluster", SCRIPT_FLAG_NO_CLUSTER},
    {"allow-cross-slot-keys", SCRIPT_FLAG_ALLOW_CROSS_SLOT},
};

int script_lua_flag_of(const char *name, size_t len, int nocase)
{
    for (size_t i = 0; i < sizeof(script_flags) / sizeof(script_flags[0]); i++) {
        if (strlen(script_flags[i].name) != len)
            continue;
        if (nocase ? strncasecmp(script_flags[i].name, name, len) == 0
                   : memcmp(script_flags[i].name, name, len) == 0)
            return script_flags[i].flag;
    }
    return -1;
}

const char *script_lua_flag_name(int index, int *flag)
{
    if (index < 0 || (size_t)index >= sizeof(script_flags) / sizeof(script_flags[0]))
        return NULL;
    *flag = script_flags[index].flag;
    return script_flags[index].name;
}

static void set_field_fn(lua_State *L, script_lua *e, const char *name, lua_CFunction fn)
{
    lua_pushstring(L, name);
    lua_pushlightuserdata(L, e);
    lua_pushcclosure(L, fn, 1);
    lua_rawset(L, -3);
}

static void set_field_int(lua_State *L, const char *name, lua_Number v)
{
    lua_pushstring(L, name);
    lua_pushnumber(L, v);
    lua_rawset(L, -3);
}

static void open_redis_table(lua_State *L, script_lua *e)
{
    lua_newtable(L);
    set_field_fn(L, e, "call", lua_redis_call);
    set_field_fn(L, e, "pcall", lua_redis_pcall);
    set_field_fn(L, e, "error_reply", lua_redis_error_reply);
    set_field_fn(L, e, "status_reply", lua_redis_status_reply);
    set_field_fn(L, e, "sha1hex", lua_redis_sha1hex);
    set_field_fn(L, e, "acl_check_cmd", lua_redis_acl_check_cmd);
    set_field_fn(L, e, "log", lua_redis_log);
    set_field_fn(L, e, "setresp", lua_redis_setresp);
    set_field_fn(L, e, "set_repl", lua_redis_set_repl);
    set_field_fn(L, e, "replicate_commands", lua_redis_replicate_commands);
    set_field_fn(L, e, "breakpoint", lua_redis_breakpoint);
    set_field_fn(L, e, "debug", lua_redis_debug);
    set_field_int(L, "LOG_DEBUG", LOG_DEBUG);
    set_field_int(L, "LOG_VERBOSE", LOG_VERBOSE);
    set_field_int(L, "LOG_NOTICE", LOG_NOTICE);
    set_field_int(L, "LOG_WARNING", LOG_WARNING);
    set_field_int(L, "REPL_NONE", 0);
    set_field_int(L, "REPL_AOF", SCRIPT_REPL_AOF);
    set_field_int(L, "REPL_SLAVE", SCRIPT_REPL_REPLICA);
    set_field_int(L, "REPL_REPLICA", SCRIPT_REPL_REPLICA);
    set_field_int(L, "REPL_ALL", SCRIPT_REPL_ALL);
    lua_pushstring(L, "REDIS_VERSION");
    lua_pushstring(L, "7.0.15");
    lua_rawset(L, -3);
    set_field_int(L, "REDIS_VERSION_NUM", 0x07000f);
    lua_setglobal(L, "redis");
}

/* Every library table and the globals become read-only proxies. The real
 * globals stay reachable from C (globals_ref) for KEYS and ARGV. */
static void protect_globals(lua_State *L, script_lua *e)
{
    static const char *const libs[] = {
        "redis", "string", "math", "table", "coroutine", "cjson", "bit", "struct", "cmsgpack",
    };
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        lua_getglobal(L, libs[i]);
        if (lua_istable(L, -1)) {
            push_readonly_proxy(L, -1, 0);
            lua_setglobal(L, libs[i]);
        }
        lua_pop(L, 1);
    }
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    e->globals_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* A missing global is an error, not nil. */
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_createtable(L, 0, 1);
    lua_pushstring(L, "__index");
    lua_pushcfunction(L, lua_nonexistent_global);
    lua_rawset(L, -3);
    lua_setmetatable(L, -2);
    push_readonly_proxy(L, -1, 1);         /* globals, proxy */
    lua_pushstring(L, "_G");
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);                     /* real._G = proxy */
    /* Code compiled from now on (scripts, loadstring) sees the proxy. */
    lua_replace(L, LUA_GLOBALSINDEX);
    lua_pop(L, 1);
}

static void *script_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    script_lua *e = ud;
    if (nsize == 0) {
        free(ptr);
        e->lua_bytes -= osize;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p != NULL)
        e->lua_bytes += nsize - osize;
    return p;
}

script_lua *script_lua_new(srv *s, script_lua_tick_fn *tick, void *priv)
{
    script_lua *e = mem_calloc(sizeof(*e));
    e->srv = s;
    e->tick = tick;
    e->tick_priv = priv;
    e->out = kstr_empty(256);
    e->fenv_ref = e->fenv_meta_ref = e->load_api_ref = LUA_NOREF;
    e->L = lua_newstate(script_lua_alloc, e);
    if (e->L == NULL) {
        kstr_free(e->out);
        mem_free(e);
        return NULL;
    }
    lua_State *L = e->L;
    open_libraries(L);
    open_redis_table(L, e);
    lua_pushlightuserdata(L, (void *)&engine_registry_key);
    lua_pushlightuserdata(L, e);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, lua_error_handler);
    e->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    protect_globals(L, e);
    lua_settop(L, 0);
    return e;
}

void script_lua_free(script_lua *e)
{
    if (e == NULL)
        return;
    lua_close(e->L);
    mem_free(e->argv);
    mem_free(e->numbuf);
    kstr_free(e->out);
    mem_free(e);
}

lua_State *script_lua_state(script_lua *e)
{
    return e->L;
}

size_t script_lua_memory(script_lua *e)
{
    return e ? e->lua_bytes : 0;
}

/* ---- functions: loading a library (FUNCTION LOAD) ----------------------------- */

/* A table whose missing names raise "nonexistent global variable". */
static void set_missing_is_error(lua_State *L, int idx)
{
    if (idx < 0)
        idx = lua_gettop(L) + idx + 1;
    lua_createtable(L, 0, 1);
    lua_pushstring(L, "__index");
    lua_pushcfunction(L, lua_nonexistent_global);
    lua_rawset(L, -3);
    lua_setmetatable(L, idx);
}

static const char *register_read_flags(lua_State *L, int idx, int *flags)
{
    for (int i = 1;; i++) {
        lua_rawgeti(L, idx, i);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            return NULL;
        }
        size_t len;
        const char *name = lua_isstring(L, -1) ? lua_tolstring(L, -1, &len) : NULL;
        int f = name ? script_lua_flag_of(name, len, 1) : -1;
        lua_pop(L, 1);
        if (f < 0)
            return "unknown flag given";
        *flags |= f;
    }
}

/* register_function{function_name=, callback=, flags=, description=}. The
 * callback's registry ref goes into f->ref even on error (to be released). */
static const char *register_read_named(lua_State *L, script_lua_function *f)
{
    if (!lua_istable(L, 1))
        return "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).";
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        /* A non-string key is refused before lua_tostring could turn a
         * number key into a string under lua_next. */
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            return lua_isnumber(L, -2) ? "unknown argument given to redis.register_function"
                                       : "named argument key given to redis.register_function is not a string";
        }
        const char *key = lua_tostring(L, -2);
        const char *err = NULL;
        if (strcasecmp(key, "function_name") == 0) {
            if (lua_isstring(L, -1))
                f->name = lua_tolstring(L, -1, &f->name_len);
            else
                err = "function_name argument given to redis.register_function must be a string";
        } else if (strcasecmp(key, "description") == 0) {
            if (lua_isstring(L, -1))
                f->desc = lua_tolstring(L, -1, &f->desc_len);
            else
                err = "description argument given to redis.register_function must be a string";
        } else if (strcasecmp(key, "callback") == 0) {
            if (lua_isfunction(L, -1)) {
                luaL_unref(L, LUA_REGISTRYINDEX, f->ref);
                lua_pushvalue(L, -1);
                f->ref = luaL_ref(L, LUA_REGISTRYINDEX);
            } else {
                err = "callback argument given to redis.register_function must be a function";
            }
        } else if (strcasecmp(key, "flags") == 0) {
            if (lua_istable(L, -1))
                err = register_read_flags(L, lua_gettop(L), &f->flags);
            else
                err = "flags argument to redis.register_function must be a table representing function flags";
        } else {
            err = "unknown argument given to redis.register_function";
        }
        /* The name and description strings stay valid: the table holds them. */
        lua_pop(L, 1);
        if (err != NULL) {
            lua_pop(L, 1);
            return err;
        }
    }
    if (f->name == NULL)
        return "redis.register_function must get a function name argument";
    if (f->ref == LUA_NOREF)
        return "redis.register_function must get a callback argument";
    return NULL;
}

static const char *register_read_positional(lua_State *L, script_lua_function *f)
{
    if (!lua_isstring(L, 1))
        return "first argument to redis.register_function must be a string";
    if (!lua_isfunction(L, 2))
        return "second argument to redis.register_function must be a function";
    f->name = lua_tolstring(L, 1, &f->name_len);
    lua_pushvalue(L, 2);
    f->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return NULL;
}

/* redis.register_function, only in the load environment. The receiver
 * (function.c) validates the name and keeps the callback's ref. */
static int lua_register_function(lua_State *L)
{
    script_lua *e = engine_of(L);
    if (e->load_cb == NULL)
        return raise_error_table(L, "ERR redis.register_function can only be called on FUNCTION LOAD command");
    int argc = lua_gettop(L);
    if (argc < 1 || argc > 2)
        return raise_error_table(L, "ERR wrong number of arguments to redis.register_function");
    script_lua_function f;
    memset(&f, 0, sizeof(f));
    f.ref = LUA_NOREF;
    const char *err = argc == 1 ? register_read_named(L, &f) : register_read_positional(L, &f);
    if (err == NULL)
        err = e->load_cb(e->load_priv, &f);
    if (err != NULL) {
        luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
        lua_pushfstring(L, "ERR %s", err);
        return raise_error_table(L, lua_tostring(L, -1));
    }
    return 0;
}

/* The tables library code runs in, made once per engine:
 * - the load API: only `redis` with register_function, log, the LOG_*
 *   constants and the version (what 7.0 offers while loading); every other
 *   name is a "nonexistent global";
 * - the functions' environment: an empty read-only table whose __index is
 *   switched to the load API while a library loads and back to the full
 *   globals after. Callbacks are closures of the library chunk, so they
 *   share this environment and see the full globals when they run. */
static void functions_env_init(script_lua *e)
{
    if (e->fenv_ref != LUA_NOREF)
        return;
    lua_State *L = e->L;
    lua_newtable(L);                               /* api */
    lua_pushstring(L, "redis");
    lua_newtable(L);                               /* api, "redis", redis */
    set_field_fn(L, e, "register_function", lua_register_function);
    set_field_fn(L, e, "log", lua_redis_log);
    set_field_int(L, "LOG_DEBUG", LOG_DEBUG);
    set_field_int(L, "LOG_VERBOSE", LOG_VERBOSE);
    set_field_int(L, "LOG_NOTICE", LOG_NOTICE);
    set_field_int(L, "LOG_WARNING", LOG_WARNING);
    lua_pushstring(L, "REDIS_VERSION");
    lua_pushstring(L, "7.0.15");
    lua_rawset(L, -3);
    set_field_int(L, "REDIS_VERSION_NUM", 0x07000f);
    set_missing_is_error(L, -1);
    push_readonly_proxy(L, -1, 0);                 /* api, "redis", redis, proxy */
    lua_remove(L, -2);
    lua_rawset(L, -3);                             /* api.redis = proxy */
    set_missing_is_error(L, -1);
    push_readonly_proxy(L, -1, 0);                 /* api, api proxy */
    e->load_api_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);

    lua_newtable(L);                               /* env */
    lua_createtable(L, 0, 3);                      /* env, meta */
    lua_pushstring(L, "__index");
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_rawset(L, -3);
    lua_pushstring(L, "__newindex");
    lua_pushcfunction(L, lua_readonly_table);
    lua_rawset(L, -3);
    set_readonly_metatable_view(L);
    lua_pushvalue(L, -1);
    e->fenv_meta_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_setmetatable(L, -2);
    e->fenv_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Point the functions' environment at the load API (loading) or at the
 * full globals (running). */
static void functions_env_switch(script_lua *e, int loading)
{
    lua_State *L = e->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->fenv_meta_ref);
    lua_pushstring(L, "__index");
    if (loading)
        lua_rawgeti(L, LUA_REGISTRYINDEX, e->load_api_ref);
    else
        lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* FUNCTION LOAD's time limit: a library should only register functions. */
static void load_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    script_lua *e = engine_from_registry(L);
    if (e == NULL || e->load_deadline_ticks == 0 || util_ticks() < e->load_deadline_ticks)
        return;
    lua_sethook(L, load_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
    raise_error_table(L, "ERR FUNCTION LOAD timeout");
}

int script_lua_load_library(script_lua *e, const char *code, size_t len, long long timeout_ms,
                            script_lua_register_cb *cb, void *priv, kstr *err)
{
    lua_State *L = e->L;
    functions_env_init(e);
    lua_settop(L, 0);
    if (luaL_loadbuffer(L, code, len, "@user_function") != 0) {
        const char *msg = lua_tostring(L, -1);
        *err = kstr_catfmt(kstr_empty(64), "ERR Error compiling function: %s", msg ? msg : "?");
        lua_settop(L, 0);
        return -1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->fenv_ref);
    lua_setfenv(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->handler_ref);
    lua_insert(L, 1);                              /* handler, chunk */
    functions_env_switch(e, 1);
    e->load_cb = cb;
    e->load_priv = priv;
    e->load_deadline_ticks = timeout_ms > 0 ? util_ticks() + util_us_to_ticks(timeout_ms * 1000) : 0;
    lua_sethook(L, load_hook, LUA_MASKCOUNT, SCRIPT_HOOK_PERIOD);
    int rc = lua_pcall(L, 0, 0, 1);
    lua_sethook(L, NULL, 0, 0);
    e->load_cb = NULL;
    e->load_priv = NULL;
    e->load_deadline_ticks = 0;
    functions_env_switch(e, 0);
    if (rc != 0) {
        size_t mlen = 0;
        const char *msg = script_conv_table_string(L, -1, "err", &mlen);
        if (msg == NULL) {
            msg = lua_isstring(L, -1) ? lua_tolstring(L, -1, &mlen) : "ERR unknown error";
            mlen = strlen(msg);
        }
        *err = kstr_catfmt(kstr_empty(64), "ERR Error registering functions: %.*s", (int)mlen, msg);
        lua_settop(L, 0);
        return -1;
    }
    lua_settop(L, 0);
    return 0;
}

/* ---- compile and run -------------------------------------------------------- */

int script_lua_compile(script_lua *e, const char *body, size_t len, kstr *err)
{
    lua_State *L = e->L;
    if (luaL_loadbuffer(L, body, len, "@user_script") != 0) {
        const char *msg = lua_tostring(L, -1);
        *err = kstr_catfmt(kstr_empty(64), "ERR Error compiling script (new function): %s",
                           msg ? msg : "?");
        lua_pop(L, 1);
        return LUA_NOREF;
    }
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

void script_lua_release(script_lua *e, int ref)
{
    luaL_unref(e->L, LUA_REGISTRYINDEX, ref);
}

static void engine_set_array(lua_State *L, int globals, const char *name, int n, const resp_arg *a)
{
    lua_pushstring(L, name);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, a[i].ptr, a[i].len);
        lua_rawseti(L, -2, i + 1);
    }
    lua_rawset(L, globals);
}

/* The count hook: script.c decides (busy processing, SCRIPT KILL). Once a
 * stop was asked, the hook fires on every line too, so a script catching
 * the error with pcall is stopped again at once. */
static void engine_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    script_lua *e = engine_from_registry(L);
    if (e == NULL || e->run == NULL || e->tick == NULL)
        return;
    const char *err = e->tick(e->tick_priv, e->run);
    if (err != NULL) {
        lua_sethook(L, engine_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
        raise_error_table(L, err);
    }
}

/* The error reply of a failed run: the handler's table gives the message
 * and where it happened. */
static void engine_reply_error(script_lua *e, script_run *run)
{
    lua_State *L = e->L;
    kstr_set_len(e->out, 0);
    size_t len = 0;
    const char *msg = script_conv_table_string(L, -1, "err", &len);
    if (msg == NULL) {
        msg = lua_isstring(L, -1) ? lua_tolstring(L, -1, &len) : "ERR unknown error";
        len = strlen(msg);
    }
    e->out = script_conv_cat_line(e->out, msg, len);
    const char *source = script_conv_table_string(L, -1, "source", NULL);
    int line = -1;
    if (source != NULL && lua_istable(L, -1)) {
        lua_pushstring(L, "line");
        lua_rawget(L, -2);
        if (lua_isnumber(L, -1))
            line = (int)lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    if (source != NULL && line >= 0)
        e->out = kstr_catfmt(e->out, " script: %s, on %s:%d.", run->name, source, line);
    reply_error(run->caller, e->out);
}

static void engine_push_array(lua_State *L, int n, const resp_arg *a)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, a[i].ptr, a[i].len);
        lua_rawseti(L, -2, i + 1);
    }
}

/* Runs `ref` and replies. A script (EVAL) finds its keys and arguments in
 * the globals KEYS and ARGV; a function (FCALL) gets them as its two
 * parameters, as 7.0 calls them. */
static void engine_run(script_lua *e, int ref, script_run *run, int nkeys, const resp_arg *keys,
                       int nargs, const resp_arg *args, int as_params)
{
    lua_State *L = e->L;
    lua_settop(L, 0);
    if (!as_params) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, e->globals_ref);
        engine_set_array(L, 1, "KEYS", nkeys, keys);
        engine_set_array(L, 1, "ARGV", nargs, args);
        lua_pop(L, 1);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->handler_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    if (as_params) {
        engine_push_array(L, nkeys, keys);
        engine_push_array(L, nargs, args);
    }
    script_run *outer = e->run;
    e->run = run;
    lua_sethook(L, engine_hook, LUA_MASKCOUNT, SCRIPT_HOOK_PERIOD);
    int rc = lua_pcall(L, as_params ? 2 : 0, 1, 1);
    lua_sethook(L, NULL, 0, 0);
    e->run = outer;
    if (rc != 0) {
        engine_reply_error(e, run);
    } else if (lua_istable(L, -1) && script_conv_table_string(L, -1, "err", NULL) != NULL) {
        /* {err=...} returned: an error reply, counted as one. */
        size_t len;
        const char *msg = script_conv_table_string(L, -1, "err", &len);
        kstr_set_len(e->out, 0);
        e->out = script_conv_cat_line(e->out, msg, len);
        reply_error(run->caller, e->out);
    } else {
        kstr_set_len(e->out, 0);
        e->out = script_conv_lua_to_resp_proto(L, -1, e->out, run->caller->resp_version,
                                               run->fake->resp_version);
        reply_raw(run->caller, e->out, kstr_len(e->out));
    }
    lua_settop(L, 0);
    /* Keep the reused buffer small once a big reply went through it. */
    if (kstr_cap(e->out) > SCRIPT_OUT_KEEP) {
        kstr_free(e->out);
        e->out = kstr_empty(256);
    }
}

void script_lua_run(script_lua *e, int ref, script_run *run, int nkeys, const resp_arg *keys,
                    int nargs, const resp_arg *args)
{
    engine_run(e, ref, run, nkeys, keys, nargs, args, 0);
}

void script_lua_run_function(script_lua *e, int ref, script_run *run, int nkeys, const resp_arg *keys,
                             int nargs, const resp_arg *args)
{
    engine_run(e, ref, run, nkeys, keys, nargs, args, 1);
}
