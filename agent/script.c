/* script: the EVAL family and SCRIPT, the script cache and the busy/kill
 * state (script.h). Error texts are redis-server 7.0.15's. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <nettle/sha1.h>
#include "script.h"
#include "script_lua.h"
#include "client.h"
#include "command.h"
#include "server.h"
#include "reply.h"
#include "dict.h"
#include "multi.h"
#include "monitor.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#include "repl.h"

#define SCRIPT_SHA_LEN 40

typedef struct script_entry {
    int ref;                  /* the compiled function (Lua registry) */
    int flags;                /* SCRIPT_FLAG_* from the shebang */
    size_t body_len;
} script_entry;

typedef struct script_state {
    srv *srv;
    script_lua *engine;
    script_lua *functions;    /* the functions' own Lua state (FCALL), made on first use */
    dict *cache;              /* sha1 hex -> script_entry */
    size_t cache_bytes;       /* bodies held, for INFO used_memory_scripts */
    client *fake;             /* every script's commands run through it */
    script_run *running;      /* NULL between scripts */
    int busy;                 /* the running script passed busy-reply-threshold */
    int paused_caller;        /* we stopped the caller's reads while busy */
} script_state;

static void script_entry_free(void *p)
{
    mem_free(p);
}

static const dict_type script_cache_type = { script_entry_free };

static const char *script_tick(void *priv, script_run *run);

static script_state *script_state_of(srv *s)
{
    if (s->scripting != NULL)
        return s->scripting;
    script_state *st = mem_calloc(sizeof(*st));
    st->srv = s;
    st->engine = script_lua_new(s, script_tick, st);
    if (st->engine == NULL) {
        mem_free(st);
        return NULL;
    }
    st->cache = dict_create(&script_cache_type);
    st->fake = client_create(s);
    /* One reply per command, never blocking (as inside EXEC). */
    st->fake->flags |= CLIENT_SCRIPT | CLIENT_IN_EXEC | CLIENT_AUTHENTICATED;
    snprintf(st->fake->addr, sizeof(st->fake->addr), "lua");
    s->scripting = st;
    return st;
}

void script_module_release(srv *s)
{
    script_state *st = s->scripting;
    if (st == NULL)
        return;
    script_lua_free(st->engine);
    script_lua_free(st->functions);
    dict_free(st->cache);
    client_free(st->fake);
    mem_free(st);
    s->scripting = NULL;
}

size_t script_used_memory_lua(srv *s)
{
    script_state *st = s->scripting;
    return st ? script_lua_memory(st->engine) : 0;
}

size_t script_used_memory_functions(srv *s)
{
    script_state *st = s->scripting;
    return st ? script_lua_memory(st->functions) : 0;
}

script_lua *script_functions_engine(srv *s)
{
    script_state *st = script_state_of(s);
    if (st == NULL)
        return NULL;
    if (st->functions == NULL)
        st->functions = script_lua_new(s, script_tick, st);
    return st->functions;
}

size_t script_used_memory_scripts(srv *s)
{
    script_state *st = s->scripting;
    return st ? st->cache_bytes : 0;
}

size_t script_cached_count(srv *s)
{
    script_state *st = s->scripting;
    return st ? dict_size(st->cache) : 0;
}

static int script_arg_is(const resp_arg *a, const char *s)
{
    return strlen(s) == a->len && strncasecmp(a->ptr, s, a->len) == 0;
}

/* ---- the cache ------------------------------------------------------------ */

static void script_sha1_hex(const char *body, size_t len, char hex[SCRIPT_SHA_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    struct sha1_ctx ctx;
    uint8_t d[SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    sha1_update(&ctx, len, (const uint8_t *)body);
    sha1_digest(&ctx, sizeof(d), d);
    for (int i = 0; i < SHA1_DIGEST_SIZE; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[SCRIPT_SHA_LEN] = '\0';
}

/* flags=a,b,c: empty items are refused (Redis splits on every comma). */
static int script_parse_flag_list(const char *p, size_t len, int *flags, kstr *err)
{
    if (len == 0)
        return 0;
    const char *end = p + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
        int f = script_lua_flag_of(p, n, 0);
        if (f < 0) {
            *err = kstr_catfmt(kstr_empty(64), "ERR Unexpected flag in script shebang: %.*s", (int)n, p);
            return -1;
        }
        *flags |= f;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

/* The 7.0 shebang "#!lua [flags=a,b]" on the first line. Without one the
 * script runs under the pre-7.0 rules (SCRIPT_FLAG_COMPAT). Returns the
 * flags, or -1 with the error in *err. */
static int script_parse_shebang(const char *body, size_t len, kstr *err)
{
    if (len < 2 || body[0] != '#' || body[1] != '!')
        return SCRIPT_FLAG_COMPAT;
    const char *nl = memchr(body, '\n', len);
    if (nl == NULL) {
        *err = kstr_from_cstr("ERR Invalid script shebang");
        return -1;
    }
    int flags = 0, first = 1;
    const char *p = body;
    while (p < nl) {
        while (p < nl && *p == ' ')
            p++;
        if (p == nl)
            break;
        const char *tok = p;
        while (p < nl && *p != ' ')
            p++;
        size_t n = (size_t)(p - tok);
        if (first) {
            first = 0;
            if (n != 5 || memcmp(tok, "#!lua", 5) != 0) {
                *err = kstr_catfmt(kstr_empty(64), "ERR Unexpected engine in script shebang: %.*s",
                                   (int)n, tok);
                return -1;
            }
        } else if (n >= 6 && memcmp(tok, "flags=", 6) == 0) {
            if (script_parse_flag_list(tok + 6, n - 6, &flags, err) != 0)
                return -1;
        } else {
            *err = kstr_catfmt(kstr_empty(64), "ERR Unknown lua shebang option: %.*s", (int)n, tok);
            return -1;
        }
    }
    return flags;
}

/* Compile and cache body under sha (EVAL, SCRIPT LOAD). The shebang line is
 * turned into a comment so Lua compiles the rest with its line numbers. */
static script_entry *script_create(script_state *st, const char *sha, const char *body, size_t len,
                                   kstr *err)
{
    int flags = script_parse_shebang(body, len, err);
    if (flags < 0)
        return NULL;
    int ref;
    if (flags & SCRIPT_FLAG_COMPAT) {
        ref = script_lua_compile(st->engine, body, len, err);
    } else {
        char *copy = mem_memdup(body, len);
        copy[0] = '-';
        copy[1] = '-';
        ref = script_lua_compile(st->engine, copy, len, err);
        mem_free(copy);
    }
    if (ref == LUA_NOREF)
        return NULL;
    script_entry *e = mem_alloc(sizeof(*e));
    e->ref = ref;
    e->flags = flags;
    e->body_len = len;
    dict_entry *de = dict_add(st->cache, sha, SCRIPT_SHA_LEN, NULL);
    de->v.ptr = e;
    st->cache_bytes += len;
    return e;
}

static script_entry *script_find(script_state *st, const char *sha)
{
    dict_entry *de = dict_find(st->cache, sha, SCRIPT_SHA_LEN);
    return de ? de->v.ptr : NULL;
}

/* The cached script of EVAL's body, compiled on first sight. */
static script_entry *script_get_or_create(script_state *st, const resp_arg *body, char *sha, kstr *err)
{
    script_sha1_hex(body->ptr, body->len, sha);
    script_entry *e = script_find(st, sha);
    return e ? e : script_create(st, sha, body->ptr, body->len, err);
}

/* ---- busy scripts ------------------------------------------------------- */

/* Stop or restart reading a connection (the script's caller, our master
 * link) around the busy processing. */
static void script_set_reading(client *c, int on)
{
    if (c->flags & (CLIENT_FAKE | CLIENT_CLOSING))
        return;
    if (on) {
        if (client_start_reading(c) != 0 && !uv_is_active((uv_handle_t *)&c->tcp))
            log_msg(LOG_WARNING, "Could not resume reading from client id=%llu after a busy script",
                    (unsigned long long)c->id);
    } else {
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

static void script_set_master_reading(srv *s, int on)
{
    for (client *c = s->clients; c != NULL; c = c->next)
        if (c->flags & CLIENT_MASTER)
            script_set_reading(c, on);
}

static void script_enter_busy(script_state *st, script_run *run, long long elapsed_ms)
{
    srv *s = st->srv;
    log_msg(LOG_WARNING,
            "Slow script detected: still in execution after %lld milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: %s.",
            elapsed_ms, run->name);
    st->busy = 1;
    s->script_busy = 1;
    /* The caller's next pipelined commands must wait for its EVAL's
     * reply, and the master's stream must wait for the script (a replica
     * accumulates it, as Redis does, instead of answering -BUSY to it). */
    if (run->caller != NULL && !(run->caller->flags & CLIENT_FAKE)) {
        script_set_reading(run->caller, 0);
        st->paused_caller = 1;
    }
    script_set_master_reading(s, 0);
}

static void script_leave_busy(script_state *st, script_run *run)
{
    srv *s = st->srv;
    if (!st->busy)
        return;
    st->busy = 0;
    s->script_busy = 0;
    if (st->paused_caller && run->caller != NULL)
        script_set_reading(run->caller, 1);
    st->paused_caller = 0;
    script_set_master_reading(s, 1);
    log_msg(LOG_WARNING, "Slow script finished.");
}

/* The count hook's decision, every SCRIPT_HOOK_PERIOD instructions.
 *
 * Past busy-reply-threshold the server serves other clients from here, by
 * running one non-blocking pass of the event loop (uv_run NOWAIT) inside
 * the script. That nested pass is safe because of these invariants:
 * - the caller cannot be freed: it is inside cmd_process (CLIENT_EXECUTING,
 *   so client_close only marks it CLOSE_ASAP) and its reads are stopped, so
 *   no read callback re-enters its half-parsed input buffer; the buffer the
 *   caller's commands were read into is not reused by another client's
 *   read while they run (networking.c keeps the shared read buffer busy
 *   until the commands read into it are done);
 * - nothing but SCRIPT KILL, SHUTDOWN NOSAVE and the CMD_ALLOW_BUSY commands
 *   (MULTI, AUTH, ... which touch no data) can run: cmd_process answers
 *   every other command -BUSY while srv->script_busy is set;
 * - the cron does nothing but flush output while busy (no expiry,
 *   eviction, client timeouts or module ticks touching the data or the
 *   replication stream mid-script), and our master's link is not read;
 * - s->current_client, which the nested commands overwrite, and which the
 *   effects capture relies on, is restored after the pass.
 * A script SCRIPT KILL marked, or a SHUTDOWN NOSAVE, is stopped with an
 * error raised from the hook. */
static const char *script_tick(void *priv, script_run *run)
{
    script_state *st = priv;
    srv *s = st->srv;
    if (run->killed)
        return "ERR Script killed by user with SCRIPT KILL...";
    long long elapsed_ms = util_ticks_to_us(util_ticks() - run->start_ticks) / 1000;
    if (elapsed_ms < s->config.busy_reply_threshold)
        return NULL;
    if (!st->busy)
        script_enter_busy(st, run, elapsed_ms);
    if (s->loop != NULL) {
        client *saved_current = s->current_client;
        uv_run(s->loop, UV_RUN_NOWAIT);
        s->current_client = saved_current;
    }
    if (run->killed)
        return "ERR Script killed by user with SCRIPT KILL...";
    if (s->shutdown_asap) {
        run->killed = 1;
        return "ERR Script killed by user with SCRIPT KILL...";
    }
    return NULL;
}

const char *script_busy_refusal(client *c, const cmd_def *cmd)
{
    script_state *st = c->srv->scripting;
    const char *busy = st != NULL && st->running != NULL && st->running->is_function
                           ? SCRIPT_ERR_BUSY_FUNCTION : SCRIPT_ERR_BUSY;
    if (strcmp(cmd->name, "script") == 0)
        return c->argc == 2 && script_arg_is(&c->argv[1], "kill") ? NULL : busy;
    /* FUNCTION KILL and FUNCTION STATS are what 7.0 allows while busy. */
    if (strcmp(cmd->name, "function") == 0)
        return c->argc == 2 && (script_arg_is(&c->argv[1], "kill") || script_arg_is(&c->argv[1], "stats"))
                   ? NULL : busy;
    if (!(cmd->flags & CMD_ALLOW_BUSY))
        return busy;
    if (strcmp(cmd->name, "shutdown") == 0) {
        for (int i = 1; i < c->argc; i++)
            if (c->argv[i].len == 6 && strncasecmp(c->argv[i].ptr, "nosave", 6) == 0)
                return NULL;
        return busy;
    }
    return NULL;
}

/* ---- EVAL ------------------------------------------------------------------ */

#define SCRIPT_ERR_MASTERDOWN "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."

/* The refusals 7.0 applies before a script starts, in its order. A script
 * with a shebang gives the command its flags (write unless no-writes,
 * deny-oom unless allow-oom or no-writes, stale-allowed with allow-stale)
 * and is refused as any such command is; one without runs with EVAL's own
 * flags, its commands checked one by one, but not on a stale replica. */
static const char *script_start_refusal(client *c, int flags, int ro_command)
{
    srv *s = c->srv;
    if (flags & SCRIPT_FLAG_COMPAT)
        return repl_refuses_stale(s) ? SCRIPT_ERR_MASTERDOWN : NULL;
    int from_master = (c->flags & CLIENT_MASTER) != 0;
    int writes = !(flags & SCRIPT_FLAG_NO_WRITES);
    if (!from_master && !(flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES)) && s->config.maxmemory &&
        srv_used_memory(s) > s->config.maxmemory)
        return ERR_OOM;
    if (writes && !from_master && repl_lacks_good_replicas(s))
        return "NOREPLICAS Not enough good replicas to write.";
    if (writes && !from_master && s->is_replica && s->config.replica_read_only)
        return "READONLY You can't write against a read only replica.";
    if (!(flags & SCRIPT_FLAG_ALLOW_STALE) && repl_refuses_stale(s))
        return SCRIPT_ERR_MASTERDOWN;
    if (writes && ro_command)
        return "ERR Can not execute a script with write flag using *_ro command.";
    return NULL;
}

/* Run one script (EVAL: engine st->engine, KEYS/ARGV globals) or function
 * (FCALL: st->functions, keys/args parameters) for c, whose argv[3..] are
 * the keys then the arguments. The writes it makes are captured and
 * propagated as one unit (MULTI/EXEC when more than one). */
static void script_execute(script_state *st, client *c, script_lua *engine, int ref, int flags,
                           const char *name, int numkeys, int ro_command, int is_function)
{
    const char *refusal = script_start_refusal(c, flags, ro_command);
    if (refusal != NULL) {
        reply_error(c, refusal);
        return;
    }
    script_run run;
    memset(&run, 0, sizeof(run));
    run.caller = c;
    run.fake = st->fake;
    run.name = name;
    run.flags = flags;
    run.read_only = ro_command || (flags & SCRIPT_FLAG_NO_WRITES);
    run.repl = SCRIPT_REPL_ALL;
    run.is_function = is_function;
    run.start_ticks = util_ticks();
    st->fake->db = c->db;
    /* Every run starts in RESP2, whatever the caller speaks, until the
     * script calls redis.setresp(3). */
    st->fake->resp_version = 2;
    /* redis.call is checked against the caller's ACL user (acl.h). */
    st->fake->user = c->user;
    /* Scripts run on behalf of the caller: our master's EVAL may write. */
    st->fake->flags = (st->fake->flags & ~(uint32_t)CLIENT_MASTER) | (c->flags & CLIENT_MASTER);
    st->running = &run;
    int capturing = multi_capture_begin(st->fake);
    const resp_arg *keys = c->argv + 3, *args = c->argv + 3 + numkeys;
    int nargs = c->argc - 3 - numkeys;
    if (is_function)
        script_lua_run_function(engine, ref, &run, numkeys, keys, nargs, args);
    else
        script_lua_run(engine, ref, &run, numkeys, keys, nargs, args);
    multi_capture_end(st->fake, capturing);
    script_leave_busy(st, &run);
    st->running = NULL;
    st->fake->user = NULL;   /* the user may be deleted before the next run */
}

/* numkeys as 7.0 validates it. Returns 0, or -1 after replying. */
static int script_parse_numkeys(client *c, long long *numkeys)
{
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, numkeys)) {
        reply_error(c, ERR_NOT_INT);
        return -1;
    }
    if (*numkeys > c->argc - 3) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return -1;
    }
    if (*numkeys < 0) {
        reply_error(c, "ERR Number of keys can't be negative");
        return -1;
    }
    return 0;
}

static void script_eval_generic(client *c, int by_sha, int ro_command)
{
    /* EVAL skips the monitor feed after it ran (CMD_SKIP_MONITOR) and feeds
     * itself first, so monitors see it before the commands it runs. */
    monitor_feed_args(c, c->db->id, c->argc, c->argv);
    /* A sha of the wrong length cannot match: 7.0 says so before it even
     * reads numkeys. */
    if (by_sha && c->argv[1].len != SCRIPT_SHA_LEN) {
        reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
        return;
    }
    long long numkeys;
    if (script_parse_numkeys(c, &numkeys) != 0)
        return;
    script_state *st = script_state_of(c->srv);
    if (st == NULL) {
        reply_error(c, "ERR Lua scripting is unavailable (out of memory)");
        return;
    }
    char sha[SCRIPT_SHA_LEN + 1];
    script_entry *e;
    if (by_sha) {
        e = NULL;
        if (c->argv[1].len == SCRIPT_SHA_LEN) {
            for (int i = 0; i < SCRIPT_SHA_LEN; i++)
                sha[i] = (char)tolower((unsigned char)c->argv[1].ptr[i]);
            sha[SCRIPT_SHA_LEN] = '\0';
            e = script_find(st, sha);
        }
        if (e == NULL) {
            reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else {
        kstr err = NULL;
        e = script_get_or_create(st, &c->argv[1], sha, &err);
        if (e == NULL) {
            reply_error(c, err);
            kstr_free(err);
            return;
        }
    }
    script_execute(st, c, st->engine, e->ref, e->flags, sha, (int)numkeys, ro_command, 0);
}

void script_fcall(client *c, int ref, const char *name, int flags, int ro_command)
{
    /* 7.0's order and texts for FCALL's numkeys. */
    long long numkeys;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &numkeys)) {
        reply_error(c, "ERR Bad number of keys provided");
        return;
    }
    if (numkeys > c->argc - 3) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        reply_error(c, "ERR Number of keys can't be negative");
        return;
    }
    script_state *st = script_state_of(c->srv);
    script_lua *engine = script_functions_engine(c->srv);
    if (st == NULL || engine == NULL) {
        reply_error(c, "ERR Lua scripting is unavailable (out of memory)");
        return;
    }
    script_execute(st, c, engine, ref, flags, name, (int)numkeys, ro_command, 1);
}

int script_running(srv *s, script_running_info *info)
{
    script_state *st = s->scripting;
    if (st == NULL || st->running == NULL)
        return 0;
    info->name = st->running->name;
    info->caller = st->running->caller;
    info->is_function = st->running->is_function;
    info->duration_ms = util_ticks_to_us(util_ticks() - st->running->start_ticks) / 1000;
    return 1;
}

void script_kill(client *c, int functions)
{
    script_state *st = c->srv->scripting;
    script_run *run = st ? st->running : NULL;
    if (run == NULL) {
        reply_error(c, "NOTBUSY No scripts in execution right now.");
        return;
    }
    /* 7.0's order: our master's script, then one that wrote, then the
     * wrong KILL (SCRIPT KILL does not stop a function, nor FUNCTION KILL
     * a script) answered with the -BUSY naming the right one. */
    if (run->caller != NULL && (run->caller->flags & CLIENT_MASTER)) {
        reply_error(c, "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.");
        return;
    }
    if (run->wrote) {
        reply_error(c, "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        return;
    }
    if (run->is_function != functions) {
        reply_error(c, run->is_function ? SCRIPT_ERR_BUSY_FUNCTION : SCRIPT_ERR_BUSY);
        return;
    }
    run->killed = 1;
    reply_ok(c);
}

static void cmd_eval(client *c)
{
    script_eval_generic(c, 0, 0);
}

static void cmd_evalsha(client *c)
{
    script_eval_generic(c, 1, 0);
}

static void cmd_eval_ro(client *c)
{
    script_eval_generic(c, 0, 1);
}

static void cmd_evalsha_ro(client *c)
{
    script_eval_generic(c, 1, 1);
}

/* ---- SCRIPT ------------------------------------------------------------------ */

static void script_cmd_load(client *c, script_state *st)
{
    char sha[SCRIPT_SHA_LEN + 1];
    kstr err = NULL;
    if (script_get_or_create(st, &c->argv[2], sha, &err) == NULL) {
        reply_error(c, err);
        kstr_free(err);
        return;
    }
    reply_bulk(c, sha, SCRIPT_SHA_LEN);
}

static void script_cmd_exists(client *c, script_state *st)
{
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        int found = 0;
        if (c->argv[i].len == SCRIPT_SHA_LEN) {
            char sha[SCRIPT_SHA_LEN];
            for (int j = 0; j < SCRIPT_SHA_LEN; j++)
                sha[j] = (char)tolower((unsigned char)c->argv[i].ptr[j]);
            found = dict_find(st->cache, sha, SCRIPT_SHA_LEN) != NULL;
        }
        reply_int(c, found);
    }
}

/* Redis resets the whole Lua state: globals a script left behind go too.
 * ASYNC frees the same way (the cache is small next to a dataset). */
static void script_cmd_flush(client *c, script_state *st)
{
    if (c->argc > 3 || (c->argc == 3 && !script_arg_is(&c->argv[2], "sync") &&
                        !script_arg_is(&c->argv[2], "async"))) {
        reply_error(c, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    script_lua *fresh = script_lua_new(c->srv, script_tick, st);
    if (fresh == NULL) {
        reply_error(c, "ERR Lua scripting is unavailable (out of memory)");
        return;
    }
    script_lua_free(st->engine);
    st->engine = fresh;
    dict_clear(st->cache);
    st->cache_bytes = 0;
    reply_ok(c);
}

static void script_cmd_help(client *c)
{
    static const char *lines[] = {
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        NULL,
    };
    reply_help(c, "SCRIPT", lines);
}

static void cmd_script(client *c)
{
    const resp_arg *sub = &c->argv[1];
    if (c->argc == 2 && script_arg_is(sub, "help")) {
        script_cmd_help(c);
        return;
    }
    script_state *st = script_state_of(c->srv);
    if (st == NULL) {
        reply_error(c, "ERR Lua scripting is unavailable (out of memory)");
        return;
    }
    if (c->argc == 3 && script_arg_is(sub, "load"))
        script_cmd_load(c, st);
    else if (c->argc >= 3 && script_arg_is(sub, "exists"))
        script_cmd_exists(c, st);
    else if (c->argc >= 2 && script_arg_is(sub, "flush"))
        script_cmd_flush(c, st);
    else if (c->argc == 2 && script_arg_is(sub, "kill"))
        script_kill(c, 0);
    else if (c->argc == 3 && script_arg_is(sub, "debug"))
        reply_error(c, "ERR SCRIPT DEBUG is not supported: this server has no Lua debugger");
    else
        reply_errorf(c, "ERR unknown subcommand '%.*s'. Try SCRIPT HELP.",
                     (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
}

/* EVAL is never propagated itself (effects are), so it carries neither
 * CMD_WRITE nor CMD_MAY_REPLICATE. SCRIPT is allowed while busy only for
 * KILL (script_busy_refusal). */
const cmd_def script_commands[] = {
    {"eval", cmd_eval, -3, CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE, 0, 0, 0, "@slow @scripting"},
    {"evalsha", cmd_evalsha, -3, CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE, 0, 0, 0, "@slow @scripting"},
    {"eval_ro", cmd_eval_ro, -3, CMD_READONLY | CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE, 0, 0, 0,
     "@slow @scripting"},
    {"evalsha_ro", cmd_evalsha_ro, -3, CMD_READONLY | CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE, 0, 0,
     0, "@slow @scripting"},
    {"script", cmd_script, -2, CMD_NOSCRIPT, 0, 0, 0, "@slow @scripting"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
