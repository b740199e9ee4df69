/* command: the command table and dispatch. cmd_process applies, in Redis'
 * order, every check that can refuse a command (unknown, arity, auth, OOM,
 * guards, read-only replica or fenced master, pub/sub context, MULTI
 * queueing); cmd_call runs it and is the single place where writes are
 * counted and propagated. */
#include <ctype.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "command.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "dict.h"
#include "fence.h"
#include "mem.h"
#include "util.h"
#include "multi.h"
#include "blocking.h"
#include "script.h"
#include "function.h"
#include "monitor.h"
#include "latency.h"
#include "acl.h"
#include "tracking.h"

static cmd_def *cmd_flat;
static cmd_stats *cmd_stat;
/* Latency histogram per command: 64 powers of two, 8 linear steps in each
 * (about 12% resolution), enough for p50/p99/p99.9 in INFO latencystats. */
#define LAT_SUB 8
#define LAT_BUCKETS (64 * LAT_SUB)
static uint32_t (*cmd_latency)[LAT_BUCKETS];
static size_t cmd_total;
/* Name lookup runs once per command: a small open-addressing table hashed
 * case-insensitively is cheaper than the seeded keyspace hash. */
#define CMD_SLOTS 1024
static const cmd_def *cmd_slots[CMD_SLOTS];
static int cmd_index_ready;

typedef struct cmd_guard {
    cmd_guard_fn *fn;
    void *priv;
} cmd_guard;
static cmd_guard cmd_guards[8];
static int cmd_guard_count;

/* What the running command asked to propagate instead of / besides itself. */
typedef struct cmd_frame {
    int rewritten_set;     /* cmd_rewrite_argv was called (argc 0: propagate nothing) */
    int rewritten_argc;
    resp_arg *rewritten;
    int extra_count;
    int extra_cap;
    struct { int argc; resp_arg *argv; } *extra;
    /* A top-level command (not inside EXEC, a script or another command)
     * whose run propagated something itself (a lazy-expiry DEL): from then
     * on its propagation is captured and sent as one unit (cmd_call). */
    int top_level;
    int captured;
    client *capture_client;
} cmd_frame;
static cmd_frame *cmd_current_frame;

/* Earlier tables win on a duplicate name: the persistence and replication
 * modules may override the basic LASTSAVE / ROLE of t_server. */
static const cmd_def *all_tables[] = {
    repl_commands, rdb_commands, aof_commands, multi_commands, pubsub_commands,
    t_string_commands, t_keys_commands, t_list_commands, t_hash_commands,
    t_set_commands, t_zset_commands, t_server_commands, t_conn_commands,
    t_bitmap_commands, t_sort_commands, t_dump_commands,
    t_hll_commands, t_geo_commands, script_commands, function_commands, acl_commands,
    t_stream_cg_commands, t_stream_commands, t_cluster_commands, t_migrate_commands,
    t_module_commands,
};

static uint32_t cmd_name_hash(const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch + 32);
        h = (h ^ ch) * 16777619u;
    }
    return h;
}

static int cmd_slot_insert(const cmd_def *d)
{
    size_t len = strlen(d->name);
    uint32_t i = cmd_name_hash(d->name, len) & (CMD_SLOTS - 1);
    while (cmd_slots[i]) {
        if (strcmp(cmd_slots[i]->name, d->name) == 0)
            return 0;   /* first definition wins */
        i = (i + 1) & (CMD_SLOTS - 1);
    }
    cmd_slots[i] = d;
    return 1;
}

static int cmd_is(const cmd_def *cmd, const char *name);
static int8_t *cmd_member_pos;   /* per cmd_flat entry: see cmd_member_hints */
static void cmd_member_hints_init(void);
static uint8_t *cmd_container;   /* per cmd_flat entry: 1 for a container (CONFIG, OBJECT...) */
static void cmd_containers_init(void);

void cmd_table_init(void)
{
    if (cmd_index_ready)
        return;
    size_t n = 0;
    for (size_t t = 0; t < sizeof(all_tables) / sizeof(all_tables[0]); t++)
        for (const cmd_def *d = all_tables[t]; d->name; d++)
            n++;
    cmd_flat = mem_calloc(sizeof(cmd_def) * (n + 1));
    cmd_stat = mem_calloc(sizeof(cmd_stats) * (n + 1));
    cmd_latency = mem_calloc(sizeof(*cmd_latency) * (n + 1));
    memset(cmd_slots, 0, sizeof(cmd_slots));
    size_t i = 0;
    for (size_t t = 0; t < sizeof(all_tables) / sizeof(all_tables[0]); t++) {
        for (const cmd_def *d = all_tables[t]; d->name; d++) {
            cmd_flat[i] = *d;
            if (cmd_slot_insert(&cmd_flat[i]))
                i++;
        }
    }
    cmd_total = i;
    cmd_index_ready = 1;
    cmd_member_pos = mem_calloc(n + 1);
    cmd_member_hints_init();
    cmd_container = mem_calloc(n + 1);
    cmd_containers_init();
}

void cmd_table_free(void)
{
    if (!cmd_index_ready)
        return;
    memset(cmd_slots, 0, sizeof(cmd_slots));
    cmd_index_ready = 0;
    mem_free(cmd_flat);
    mem_free(cmd_stat);
    mem_free(cmd_latency);
    mem_free(cmd_member_pos);
    cmd_member_pos = NULL;
    mem_free(cmd_container);
    cmd_container = NULL;
    cmd_latency = NULL;
    cmd_flat = NULL;
    cmd_stat = NULL;
    cmd_total = 0;
}

const cmd_def *cmd_lookup(const char *name, size_t len)
{
    if (len == 0 || len > 64)
        return NULL;
    uint32_t i = cmd_name_hash(name, len) & (CMD_SLOTS - 1);
    while (cmd_slots[i]) {
        const cmd_def *d = cmd_slots[i];
        if (strncasecmp(d->name, name, len) == 0 && d->name[len] == '\0')
            return d;
        i = (i + 1) & (CMD_SLOTS - 1);
    }
    return NULL;
}

size_t cmd_count(void)
{
    return cmd_total;
}

const cmd_def *cmd_at(size_t idx)
{
    return idx < cmd_total ? &cmd_flat[idx] : NULL;
}

/* A linear scan: COMMAND INFO is an introspection call on a few hundred
 * entries, not a hot path. */
/* COMMAND INFO entries by name, case-insensitive: an open-addressing
 * index built on first use, since every container command (CLIENT LIST's
 * cmd= field, MONITOR) looks its subcommand up. */
#define CMD_INFO_SLOTS 2048
static int16_t cmd_info_slot[CMD_INFO_SLOTS];
static int cmd_info_indexed;

static void cmd_info_index(void)
{
    for (size_t i = 0; i < CMD_INFO_SLOTS; i++)
        cmd_info_slot[i] = -1;
    for (size_t i = 0; i < cmd_info_table_len && i < CMD_INFO_SLOTS / 2; i++) {
        const char *name = cmd_info_table[i].fullname;
        uint32_t h = cmd_name_hash(name, strlen(name)) & (CMD_INFO_SLOTS - 1);
        while (cmd_info_slot[h] >= 0)
            h = (h + 1) & (CMD_INFO_SLOTS - 1);
        cmd_info_slot[h] = (int16_t)i;
    }
    cmd_info_indexed = 1;
}

const cmd_info_entry *cmd_info_lookup(const char *fullname, size_t len)
{
    if (!cmd_info_indexed)
        cmd_info_index();
    uint32_t h = cmd_name_hash(fullname, len) & (CMD_INFO_SLOTS - 1);
    for (; cmd_info_slot[h] >= 0; h = (h + 1) & (CMD_INFO_SLOTS - 1)) {
        const cmd_info_entry *e = &cmd_info_table[cmd_info_slot[h]];
        if (strlen(e->fullname) == len && strncasecmp(e->fullname, fullname, len) == 0)
            return e;
    }
    return NULL;
}

const cmd_stats *cmd_get_stats(const cmd_def *cmd)
{
    if (cmd < cmd_flat || cmd >= cmd_flat + cmd_total)
        return NULL;
    return &cmd_stat[cmd - cmd_flat];
}

void cmd_reset_stats(void)
{
    if (cmd_stat)
        memset(cmd_stat, 0, sizeof(cmd_stats) * (cmd_total + 1));
    if (cmd_latency)
        memset(cmd_latency, 0, sizeof(*cmd_latency) * (cmd_total + 1));
}

static int lat_bucket(uint64_t usec)
{
    if (usec < LAT_SUB)
        return (int)usec;
    int msb = 63 - __builtin_clzll(usec);             /* >= 3 */
    int sub = (int)((usec >> (msb - 3)) & (LAT_SUB - 1));
    int b = (msb - 2) * LAT_SUB + sub;
    return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

/* Highest value a bucket holds, the way HDR histograms report percentiles. */
static double lat_bucket_top(int b)
{
    if (b < LAT_SUB)
        return (double)b;
    int msb = b / LAT_SUB + 2;
    int sub = b % LAT_SUB;
    uint64_t lo = ((uint64_t)(LAT_SUB + sub)) << (msb - 3);
    uint64_t width = 1ULL << (msb - 3);
    return (double)(lo + width - 1);
}

static void cmd_latency_record(const cmd_def *cmd, int64_t usec)
{
    if (!cmd_latency || cmd < cmd_flat || cmd >= cmd_flat + cmd_total)
        return;
    cmd_latency[cmd - cmd_flat][lat_bucket(usec < 0 ? 0 : (uint64_t)usec)]++;
}

double cmd_latency_percentile(const cmd_def *cmd, double pct)
{
    if (!cmd_latency || cmd < cmd_flat || cmd >= cmd_flat + cmd_total)
        return 0;
    const uint32_t *h = cmd_latency[cmd - cmd_flat];
    uint64_t total = 0;
    for (int i = 0; i < LAT_BUCKETS; i++)
        total += h[i];
    if (!total)
        return 0;
    uint64_t want = (uint64_t)((pct / 100.0) * (double)total + 0.5);
    if (want == 0)
        want = 1;
    uint64_t seen = 0;
    for (int i = 0; i < LAT_BUCKETS; i++) {
        seen += h[i];
        if (seen >= want)
            return lat_bucket_top(i);
    }
    return lat_bucket_top(LAT_BUCKETS - 1);
}

/* Commands whose argument at pos names a member or field of the key's set,
 * hash or zset: the prefetcher warms that second-level lookup too. ZADD's
 * member is at 3 only without options; a wrong guess costs one prefetch. */
static const struct { const char *name; int pos; } cmd_member_hints[] = {
    {"sadd", 2}, {"srem", 2}, {"sismember", 2}, {"smismember", 2},
    {"hset", 2}, {"hsetnx", 2}, {"hmset", 2}, {"hget", 2}, {"hmget", 2}, {"hdel", 2},
    {"hexists", 2}, {"hincrby", 2}, {"hincrbyfloat", 2}, {"hstrlen", 2},
    {"zadd", 3}, {"zincrby", 3}, {"zrem", 2}, {"zscore", 2}, {"zmscore", 2},
    {"zrank", 2}, {"zrevrank", 2},
};

static void cmd_member_hints_init(void)
{
    for (size_t i = 0; i < sizeof(cmd_member_hints) / sizeof(cmd_member_hints[0]); i++) {
        const cmd_def *cmd = cmd_lookup(cmd_member_hints[i].name, strlen(cmd_member_hints[i].name));
        if (cmd != NULL)
            cmd_member_pos[cmd - cmd_flat] = (int8_t)cmd_member_hints[i].pos;
    }
}

static int cmd_member_arg(const cmd_def *cmd)
{
    return cmd != NULL && cmd >= cmd_flat && cmd < cmd_flat + cmd_total ? cmd_member_pos[cmd - cmd_flat] : 0;
}

static cmd_stats *cmd_stats_of(const cmd_def *cmd)
{
    if (cmd < cmd_flat || cmd >= cmd_flat + cmd_total)
        return NULL;
    return &cmd_stat[cmd - cmd_flat];
}

void cmd_add_guard(cmd_guard_fn *fn, void *priv)
{
    if (cmd_guard_count < (int)(sizeof(cmd_guards) / sizeof(cmd_guards[0]))) {
        cmd_guards[cmd_guard_count].fn = fn;
        cmd_guards[cmd_guard_count].priv = priv;
        cmd_guard_count++;
    }
}

void cmd_reply_arity(client *c)
{
    reply_error_arity(c, c->cmd ? c->cmd->name : "unknown");
}

unsigned long long cmd_string_limit(const client *c)
{
    unsigned long long limit = c->srv->config.proto_max_bulk_len;
    if ((c->flags & CLIENT_MASTER) || limit > KSTR_MAX_LEN)
        limit = KSTR_MAX_LEN;
    return limit;
}

static int cmd_arity_ok(const cmd_def *cmd, int argc)
{
    return (cmd->arity > 0 && cmd->arity == argc) || (cmd->arity < 0 && argc >= -cmd->arity);
}

static void cmd_reject(client *c, const cmd_def *cmd, const char *err)
{
    if (c->flags & CLIENT_MULTI)
        c->flags |= CLIENT_DIRTY_EXEC;
    cmd_stats *st = cmd ? cmd_stats_of(cmd) : NULL;
    if (st)
        st->rejected_calls++;
    /* A refused EXEC discards the transaction and says why, as Redis does. */
    if (cmd && strcmp(cmd->name, "exec") == 0) {
        multi_discard(c);
        char buf[600];
        const char *why = strncmp(err, "ERR ", 4) == 0 ? err + 4 : err;
        snprintf(buf, sizeof(buf), "EXECABORT Transaction discarded because of: %s", why);
        reply_error(c, buf);
        return;
    }
    reply_error(c, err);
}

static void cmd_reply_unknown(client *c)
{
    char args[256];
    size_t used = 0;
    args[0] = '\0';
    for (int i = 1; i < c->argc && used < 128; i++) {
        int prec = (int)(128 - used);
        int len = (int)(c->argv[i].len < (size_t)prec ? c->argv[i].len : (size_t)prec);
        int w = snprintf(args + used, sizeof(args) - used, "'%.*s' ", len, c->argv[i].ptr);
        if (w < 0)
            break;
        used += (size_t)w;
        if (used >= sizeof(args))
            used = sizeof(args) - 1;
    }
    char err[512];
    int nlen = (int)(c->argv[0].len > 128 ? 128 : c->argv[0].len);
    snprintf(err, sizeof(err), "ERR unknown command '%.*s', with args beginning with: %s",
             nlen, c->argv[0].ptr, args);
    cmd_reject(c, NULL, err);
}

/* The subcommands of the agent's container commands with Redis 7.0's arities
 * (name included, as COMMAND INFO counts them). cmd_process checks them
 * before anything else, as Redis does, so a wrong subcommand is refused the
 * same way everywhere, also inside MULTI (where it aborts the transaction
 * instead of being queued). Subcommands the agent does not implement are
 * listed too, so their arity errors are Redis'; once the arity matches,
 * their handler answers "unknown subcommand". */
typedef struct cmd_subdef {
    const char *container;
    const char *name;
    int arity;
} cmd_subdef;

/* CMD_* flags a subcommand adds to its container's (the others have none). */
static const struct {
    const char *container, *name;
    uint32_t flags;
} cmd_sub_extra_flags[] = {
    {"cluster", "reset", CMD_NOSCRIPT | CMD_ADMIN},
};

static const cmd_subdef cmd_subcommands[] = {
    {"acl", "cat", -2}, {"acl", "deluser", -3}, {"acl", "dryrun", -4}, {"acl", "genpass", -2},
    {"acl", "getuser", 3}, {"acl", "help", 2}, {"acl", "list", 2}, {"acl", "load", 2},
    {"acl", "log", -2}, {"acl", "save", 2}, {"acl", "setuser", -3}, {"acl", "users", 2},
    {"acl", "whoami", 2},
    {"client", "caching", 3}, {"client", "getname", 2}, {"client", "getredir", 2},
    {"client", "help", 2}, {"client", "id", 2}, {"client", "info", 2},
    {"client", "kill", -3}, {"client", "list", -2}, {"client", "no-evict", 3},
    {"client", "pause", -3}, {"client", "reply", 3}, {"client", "setname", 3},
    {"client", "tracking", -3}, {"client", "trackinginfo", 2}, {"client", "unblock", -3},
    {"client", "unpause", 2},
    {"command", "count", 2}, {"command", "docs", -2}, {"command", "getkeys", -4},
    {"command", "getkeysandflags", -4}, {"command", "help", 2}, {"command", "info", -2},
    {"command", "list", -2},
    {"config", "get", -3}, {"config", "help", 2}, {"config", "resetstat", 2},
    {"config", "rewrite", 2}, {"config", "set", -4},
    {"memory", "doctor", 2}, {"memory", "help", 2}, {"memory", "malloc-stats", 2},
    {"memory", "purge", 2}, {"memory", "stats", 2}, {"memory", "usage", -3},
    {"object", "encoding", 3}, {"object", "freq", 3}, {"object", "help", 2},
    {"object", "idletime", 3}, {"object", "refcount", 3},
    {"pubsub", "channels", -2}, {"pubsub", "help", 2}, {"pubsub", "numpat", 2},
    {"pubsub", "numsub", -2}, {"pubsub", "shardchannels", -2}, {"pubsub", "shardnumsub", -2},
    {"slowlog", "get", -2}, {"slowlog", "help", 2}, {"slowlog", "len", 2},
    {"slowlog", "reset", 2},
    {"script", "debug", 3}, {"script", "exists", -3}, {"script", "flush", -2},
    {"script", "help", 2}, {"script", "kill", 2}, {"script", "load", 3},
    {"function", "delete", 3}, {"function", "dump", 2}, {"function", "flush", -2},
    {"function", "help", 2}, {"function", "kill", 2}, {"function", "list", -2},
    {"function", "load", -3}, {"function", "restore", -3}, {"function", "stats", 2},
    {"module", "help", 2}, {"module", "list", 2}, {"module", "load", -3}, {"module", "loadex", -3},
    {"module", "unload", 3},
    {"cluster", "addslots", -3}, {"cluster", "addslotsrange", -4}, {"cluster", "bumpepoch", 2},
    {"cluster", "count-failure-reports", 3}, {"cluster", "countkeysinslot", 3},
    {"cluster", "delslots", -3}, {"cluster", "delslotsrange", -4}, {"cluster", "failover", -2},
    {"cluster", "flushslots", 2}, {"cluster", "forget", 3}, {"cluster", "getkeysinslot", 4},
    {"cluster", "help", 2}, {"cluster", "info", 2}, {"cluster", "keyslot", 3}, {"cluster", "links", 2},
    {"cluster", "meet", -4}, {"cluster", "myid", 2}, {"cluster", "nodes", 2}, {"cluster", "replicas", 3},
    {"cluster", "replicate", 3}, {"cluster", "reset", -2},
    {"cluster", "saveconfig", 2}, {"cluster", "set-config-epoch", 3}, {"cluster", "setslot", -4},
    {"cluster", "shards", 2}, {"cluster", "slaves", 3}, {"cluster", "slots", 2},
    {"xinfo", "consumers", 4}, {"xinfo", "groups", 3}, {"xinfo", "help", 2},
    {"xinfo", "stream", -3},
    {"xgroup", "create", -5}, {"xgroup", "createconsumer", 5}, {"xgroup", "delconsumer", 5},
    {"xgroup", "destroy", 4}, {"xgroup", "help", 2}, {"xgroup", "setid", -5},
};

/* Every command passes the container test: it reads a flag computed once
 * per table entry (cmd_containers_init) instead of scanning the list. */
static int cmd_is_container(const cmd_def *cmd)
{
    return cmd_container != NULL && cmd >= cmd_flat && cmd < cmd_flat + cmd_total && cmd_container[cmd - cmd_flat];
}

static void cmd_containers_init(void)
{
    for (size_t i = 0; i < sizeof(cmd_subcommands) / sizeof(cmd_subcommands[0]); i++) {
        const char *name = cmd_subcommands[i].container;
        const cmd_def *cmd = cmd_lookup(name, strlen(name));
        if (cmd != NULL)
            cmd_container[cmd - cmd_flat] = 1;
    }
}

static const cmd_subdef *cmd_lookup_sub(const cmd_def *cmd, const resp_arg *sub)
{
    for (size_t i = 0; i < sizeof(cmd_subcommands) / sizeof(cmd_subcommands[0]); i++) {
        const cmd_subdef *d = &cmd_subcommands[i];
        /* The first byte first: this runs for every container command. */
        if (d->container[0] == cmd->name[0] && strcmp(d->container, cmd->name) == 0 &&
            strlen(d->name) == sub->len && strncasecmp(d->name, sub->ptr, sub->len) == 0)
            return d;
    }
    return NULL;
}

uint32_t cmd_sub_flags(const cmd_def *cmd, int argc, const resp_arg *argv)
{
    if (argc < 2 || !cmd_is_container(cmd))
        return 0;
    const cmd_subdef *d = cmd_lookup_sub(cmd, &argv[1]);
    if (!d)
        return 0;
    for (size_t i = 0; i < sizeof(cmd_sub_extra_flags) / sizeof(cmd_sub_extra_flags[0]); i++)
        if (strcmp(cmd_sub_extra_flags[i].container, d->container) == 0 &&
            strcmp(cmd_sub_extra_flags[i].name, d->name) == 0)
            return cmd_sub_extra_flags[i].flags;
    return 0;
}

/* Redis' lookup of container|subcommand: an unknown subcommand and a wrong
 * subcommand arity are refused like an unknown command. Returns 0 when the
 * command was refused. */
static int cmd_check_subcommand(client *c, const cmd_def *cmd)
{
    if (c->argc < 2 || !cmd_is_container(cmd))
        return 1;
    const resp_arg *sub = &c->argv[1];
    const cmd_subdef *d = cmd_lookup_sub(cmd, sub);
    char err[512];
    if (d == NULL) {
        char upper[32];
        size_t n = strlen(cmd->name) < sizeof(upper) - 1 ? strlen(cmd->name) : sizeof(upper) - 1;
        for (size_t i = 0; i < n; i++)
            upper[i] = (char)toupper((unsigned char)cmd->name[i]);
        upper[n] = '\0';
        snprintf(err, sizeof(err), "ERR unknown subcommand '%.*s'. Try %s HELP.",
                 (int)(sub->len > 128 ? 128 : sub->len), sub->ptr, upper);
        cmd_reject(c, cmd, err);
        return 0;
    }
    if ((d->arity > 0 && d->arity != c->argc) || (d->arity < 0 && c->argc < -d->arity)) {
        snprintf(err, sizeof(err), "ERR wrong number of arguments for '%s|%s' command", d->container, d->name);
        cmd_reject(c, cmd, err);
        return 0;
    }
    return 1;
}

/* ---- COMMAND GETKEYS --------------------------------------------------- */

/* Commands whose keys are counted by a numkeys argument (Redis' "keynum"
 * key specs): an optional fixed key (the destination), then numkeys at
 * numkeys_at and the keys right after it. */
static const struct {
    const char *name;
    int dest_at;      /* 0: none */
    int numkeys_at;
} cmd_numkeys_commands[] = {
    {"zunion", 0, 1}, {"zinter", 0, 1}, {"zdiff", 0, 1}, {"zintercard", 0, 1},
    {"sintercard", 0, 1}, {"lmpop", 0, 1}, {"zmpop", 0, 1},
    {"blmpop", 0, 2}, {"bzmpop", 0, 2},
    {"zunionstore", 1, 2}, {"zinterstore", 1, 2}, {"zdiffstore", 1, 2},
    {"eval", 0, 2}, {"evalsha", 0, 2}, {"eval_ro", 0, 2}, {"evalsha_ro", 0, 2},
    {"fcall", 0, 2}, {"fcall_ro", 0, 2},
};

/* Scripts and functions may have no keys: Redis then lists none rather
 * than answering "Invalid arguments". */
static int cmd_keys_optional(const cmd_def *cmd)
{
    return strncmp(cmd->name, "eval", 4) == 0 || strncmp(cmd->name, "fcall", 5) == 0;
}

static int cmd_arg_is(const resp_arg *a, const char *s)
{
    return strlen(s) == a->len && strncasecmp(a->ptr, s, a->len) == 0;
}

/* numkeys read as C's atoi reads it (leading blanks, trailing junk ignored,
 * a long cut to int), the way Redis' fallback key finders read it. */
static int cmd_atoi(const resp_arg *a)
{
    char buf[64];
    size_t len = a->len < sizeof(buf) - 1 ? a->len : sizeof(buf) - 1;
    memcpy(buf, a->ptr, len);
    buf[len] = '\0';
    return (int)strtol(buf, NULL, 10);
}

/* Keys counted by numkeys; 0 when numkeys is not a count of the arguments
 * that follow (Redis: "Invalid arguments"). A canonical numkeys is read by
 * the key specs: the destination first, then the counted keys. Anything
 * else makes Redis fall back to its older key finder, which reads numkeys
 * with atoi and lists the counted keys before the destination. */
static int cmd_numkeys_positions(int dest_at, int numkeys_at, int argc, const resp_arg *argv, int *pos)
{
    int available = argc - numkeys_at - 1;
    long long numkeys;
    int n = 0;
    if (util_str_to_ll(argv[numkeys_at].ptr, argv[numkeys_at].len, &numkeys) && numkeys >= 1 &&
        numkeys <= available) {
        if (dest_at > 0)
            pos[n++] = dest_at;
        for (int i = 0; i < (int)numkeys; i++)
            pos[n++] = numkeys_at + 1 + i;
        return n;
    }
    int num = cmd_atoi(&argv[numkeys_at]);
    if (num < 1 || num > available)
        return 0;
    for (int i = 0; i < num; i++)
        pos[n++] = numkeys_at + 1 + i;
    if (dest_at > 0)
        pos[n++] = dest_at;
    return n;
}

/* SORT's STORE key: the last STORE, skipping the arguments of LIMIT, GET
 * and BY as Redis' SORT key finder does. */
static int cmd_sort_positions(int argc, const resp_arg *argv, int *pos)
{
    int n = 0, store = 0;
    pos[n++] = 1;
    for (int i = 2; i < argc; i++) {
        if (cmd_arg_is(&argv[i], "limit"))
            i += 2;
        else if (cmd_arg_is(&argv[i], "get") || cmd_arg_is(&argv[i], "by"))
            i += 1;
        else if (cmd_arg_is(&argv[i], "store") && i + 1 < argc)
            store = i + 1;
    }
    if (store)
        pos[n++] = store;
    return n;
}

/* GEORADIUS[BYMEMBER]: the source, then the key after the first STORE and
 * the one after the first STOREDIST at or past from (Redis' keyword key
 * specs, in that order; their search stops before the last argument, so a
 * trailing keyword is not found). */
static int cmd_georadius_positions(int from, int argc, const resp_arg *argv, int *pos)
{
    static const char *const keywords[] = {"store", "storedist"};
    int n = 0;
    pos[n++] = 1;
    for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
        for (int i = from; i < argc - 1; i++) {
            if (cmd_arg_is(&argv[i], keywords[k])) {
                pos[n++] = i + 1;
                break;
            }
        }
    }
    return n;
}

/* The keys of a subcommand: OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key,
 * MEMORY USAGE key and every XINFO / XGROUP subcommand but HELP (the
 * stream key); none for the others. */
static int cmd_sub_has_key(const cmd_subdef *d)
{
    if (strcmp(d->container, "object") == 0 || strcmp(d->container, "xinfo") == 0 ||
        strcmp(d->container, "xgroup") == 0)
        return strcmp(d->name, "help") != 0;
    return strcmp(d->container, "memory") == 0 && strcmp(d->name, "usage") == 0;
}

/* XREAD / XREADGROUP: Redis' key spec searches for the first STREAMS from
 * search_from up to the last but one argument, and the keys are the first
 * half of what follows it (one ID per key). A STREAMS with fewer than two
 * arguments after it has no keys (Redis' fallback finder finds none either). */
static int cmd_xread_positions(int search_from, int argc, const resp_arg *argv, int *pos)
{
    int first = 0;
    for (int i = search_from; i < argc - 1; i++) {
        if (cmd_arg_is(&argv[i], "streams")) {
            first = i + 1;
            break;
        }
    }
    if (first == 0)
        return 0;
    int count = (argc - first) / 2;
    for (int i = 0; i < count; i++)
        pos[i] = first + i;
    return count;
}

/* MIGRATE: its key argument, or with an empty one the arguments after
 * KEYS; AUTH's password and AUTH2's user and password are skipped while
 * looking for KEYS, and KEYS after a non-empty key means no keys (the
 * command then refuses the syntax), as Redis' migrateGetKeys does. */
static int cmd_migrate_positions(int argc, const resp_arg *argv, int *pos)
{
    int first = 3, num = 1;
    for (int i = 6; i < argc; i++) {
        if (cmd_arg_is(&argv[i], "keys")) {
            if (argv[3].len > 0) {
                num = 0;
            } else {
                first = i + 1;
                num = argc - first;
            }
            break;
        }
        if (cmd_arg_is(&argv[i], "auth"))
            i += 1;
        else if (cmd_arg_is(&argv[i], "auth2"))
            i += 2;
    }
    for (int i = 0; i < num; i++)
        pos[i] = first + i;
    return num;
}

static int cmd_arity_matches(int arity, int argc)
{
    return (arity > 0 && arity == argc) || (arity < 0 && argc >= -arity);
}

int cmd_getkeys(int argc, const resp_arg *argv, int *pos, const char **err)
{
    static const char *const unknown = "ERR Invalid command specified";
    static const char *const no_keys = "ERR The command has no key arguments";
    static const char *const bad_argc = "ERR Invalid number of arguments specified for command";
    static const char *const invalid = "ERR Invalid arguments specified for command";
    const cmd_def *cmd = cmd_lookup(argv[0].ptr, argv[0].len);
    if (cmd == NULL) {
        *err = unknown;
        return -1;
    }
    if (cmd_is_container(cmd)) {
        const cmd_subdef *d = argc >= 2 ? cmd_lookup_sub(cmd, &argv[1]) : NULL;
        if (argc >= 2 && d == NULL) {
            *err = unknown;
            return -1;
        }
        if (d == NULL || !cmd_sub_has_key(d)) {
            *err = no_keys;
            return -1;
        }
        if (!cmd_arity_matches(d->arity, argc)) {
            *err = bad_argc;
            return -1;
        }
        pos[0] = 2;
        return 1;
    }
    int movable = -1;
    for (size_t i = 0; i < sizeof(cmd_numkeys_commands) / sizeof(cmd_numkeys_commands[0]); i++)
        if (strcmp(cmd->name, cmd_numkeys_commands[i].name) == 0)
            movable = (int)i;
    /* Shard channels have the key positions of keys, but Redis flags them
     * as not keys. */
    int channels = cmd_is(cmd, "spublish") || cmd_is(cmd, "ssubscribe") || cmd_is(cmd, "sunsubscribe");
    int xread = cmd_is(cmd, "xread") || cmd_is(cmd, "xreadgroup");
    if (channels || (movable < 0 && !xread && cmd->first_key <= 0)) {
        *err = no_keys;
        return -1;
    }
    if (!cmd_arity_matches(cmd->arity, argc)) {
        *err = bad_argc;
        return -1;
    }
    int n;
    if (movable >= 0) {
        n = cmd_numkeys_positions(cmd_numkeys_commands[movable].dest_at,
                                  cmd_numkeys_commands[movable].numkeys_at, argc, argv, pos);
    } else if (xread) {
        n = cmd_xread_positions(cmd_is(cmd, "xread") ? 1 : 4, argc, argv, pos);
    } else if (cmd_is(cmd, "sort")) {
        n = cmd_sort_positions(argc, argv, pos);
    } else if (cmd_is(cmd, "migrate")) {
        n = cmd_migrate_positions(argc, argv, pos);
    } else if (cmd_is(cmd, "georadius") || cmd_is(cmd, "georadiusbymember")) {
        n = cmd_georadius_positions(cmd_is(cmd, "georadius") ? 6 : 5, argc, argv, pos);
    } else {
        int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
        int step = cmd->key_step > 0 ? cmd->key_step : 1;
        n = 0;
        for (int k = cmd->first_key; k <= last && k < argc; k += step)
            pos[n++] = k;
    }
    if (n == 0 && !cmd_keys_optional(cmd)) {
        *err = invalid;
        return -1;
    }
    return n;
}

static int cmd_is(const cmd_def *cmd, const char *name)
{
    return strcmp(cmd->name, name) == 0;
}

/* The default user may have a password from requirepass or ACL SETUSER
 * (or none after ACL SETUSER default nopass): acl.c knows. */
static int cmd_auth_required(const client *c)
{
    return !acl_client_authenticated(c);
}

static int cmd_allowed_in_pubsub(const cmd_def *cmd)
{
    return cmd_is(cmd, "ping") || cmd_is(cmd, "subscribe") || cmd_is(cmd, "ssubscribe") ||
           cmd_is(cmd, "unsubscribe") || cmd_is(cmd, "sunsubscribe") ||
           cmd_is(cmd, "psubscribe") || cmd_is(cmd, "punsubscribe") ||
           cmd_is(cmd, "quit") || cmd_is(cmd, "reset");
}

static int cmd_is_write(const client *c, const cmd_def *cmd)
{
    if (cmd->flags & CMD_WRITE)
        return 1;
    /* EXEC of a transaction holding writes counts as a write. */
    if (cmd_is(cmd, "exec") && (c->flags & CLIENT_MULTI)) {
        for (int i = 0; i < c->mstate.count; i++)
            if (c->mstate.cmds[i].cmd->flags & CMD_WRITE)
                return 1;
    }
    return 0;
}

static int cmd_is_denyoom(const client *c, const cmd_def *cmd)
{
    if (cmd->flags & CMD_DENYOOM)
        return 1;
    if (cmd_is(cmd, "exec") && (c->flags & CLIENT_MULTI)) {
        for (int i = 0; i < c->mstate.count; i++)
            if (c->mstate.cmds[i].cmd->flags & CMD_DENYOOM)
                return 1;
    }
    return 0;
}

/* The key positions of one peeked frame, by the command table's
 * first/last/step; appended to keys/lens up to max. */
static size_t cmd_frame_keys(const cmd_def *cmd, const resp_peek *f, const char **keys, size_t *lens,
                             size_t n, size_t max)
{
    int last = cmd->last_key < 0 ? f->argc + cmd->last_key : cmd->last_key;
    for (int k = cmd->first_key; k <= last && k < f->nargs && n < max; k += cmd->key_step) {
        /* A run of commands on one key (RPOP mylist ...) needs it once. */
        if (n > 0 && lens[n - 1] == f->arg[k].len && memcmp(keys[n - 1], f->arg[k].ptr, lens[n - 1]) == 0)
            continue;
        keys[n] = f->arg[k].ptr;
        lens[n] = f->arg[k].len;
        n++;
    }
    return n;
}

static int cmd_same_arg(const resp_arg *a, const resp_arg *b)
{
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* Second level: the members/fields named by runs of frames on the same
 * set, hash or zset key, warmed inside that container. */
static void cmd_prefetch_members(client *c, const resp_peek *frames, const cmd_def *const *cmds, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int pos = cmd_member_arg(cmds[i]);
        if (pos <= 0 || pos >= frames[i].nargs) {
            i++;
            continue;
        }
        const resp_arg *key = &frames[i].arg[1];
        const char *members[DICT_PREFETCH_MAX];
        size_t lens[DICT_PREFETCH_MAX];
        size_t m = 0, j = i;
        for (; j < n && m < DICT_PREFETCH_MAX; j++) {
            int p = cmd_member_arg(cmds[j]);
            if (p <= 0 || p >= frames[j].nargs || !cmd_same_arg(&frames[j].arg[1], key))
                break;
            members[m] = frames[j].arg[p].ptr;
            lens[m] = frames[j].arg[p].len;
            m++;
        }
        obj *o = db_peek(c->db, key->ptr, key->len);
        if (o != NULL && m > 1)
            obj_prefetch_members(o, m, members, lens);
        i = j > i ? j : i + 1;
    }
}

void cmd_prefetch_keys(client *c, const resp_peek *frames, size_t n)
{
    const cmd_def *cmds[DICT_PREFETCH_MAX];
    const char *keys[DICT_PREFETCH_MAX];
    size_t lens[DICT_PREFETCH_MAX];
    size_t nkeys = 0;
    if (n > DICT_PREFETCH_MAX)
        n = DICT_PREFETCH_MAX;
    for (size_t i = 0; i < n; i++) {
        const cmd_def *cmd = cmd_lookup(frames[i].arg[0].ptr, frames[i].arg[0].len);
        if (cmd != NULL && (cmd->first_key <= 0 || cmd->key_step <= 0 || !cmd_arity_ok(cmd, frames[i].argc)))
            cmd = NULL;
        cmds[i] = cmd;
        if (cmd != NULL)
            nkeys = cmd_frame_keys(cmd, &frames[i], keys, lens, nkeys, DICT_PREFETCH_MAX);
    }
    if (nkeys > 1)
        db_prefetch(c->db, nkeys, keys, lens);
    cmd_prefetch_members(c, frames, cmds, n);
}

void cmd_process(client *c)
{
    srv *s = c->srv;
    if (c->argc == 0)
        return;
    const cmd_def *cmd = cmd_lookup(c->argv[0].ptr, c->argv[0].len);
    c->cmd = cmd;
    if (!cmd) {
        cmd_reply_unknown(c);
        return;
    }
    if (!cmd_arity_ok(cmd, c->argc)) {
        char err[192];
        snprintf(err, sizeof(err), "ERR wrong number of arguments for '%s' command", cmd->name);
        cmd_reject(c, cmd, err);
        return;
    }
    if (!cmd_check_subcommand(c, cmd))
        return;
    if (cmd_auth_required(c) && !(cmd->flags & CMD_NO_AUTH)) {
        cmd_reject(c, cmd, ERR_NOAUTH);
        return;
    }
    const char *acl_refusal = acl_command_refusal(c, cmd);
    if (acl_refusal) {
        cmd_reject(c, cmd, acl_refusal);
        return;
    }
    /* A script past busy-reply-threshold serves clients from inside itself
     * (script.c): refuse what may not run then, before the OOM check below
     * could evict keys under the running script. */
    if (s->script_busy) {
        const char *busy = script_busy_refusal(c, cmd);
        if (busy) {
            cmd_reject(c, cmd, busy);
            return;
        }
    }
    int is_write = cmd_is_write(c, cmd);
    int from_master = (c->flags & CLIENT_MASTER) != 0;
    if (s->config.maxmemory && !from_master && !s->loading) {
        int out_of_memory = srv_evict_if_needed(s) != 0;
        if (out_of_memory && cmd_is_denyoom(c, cmd)) {
            cmd_reject(c, cmd, ERR_OOM);
            return;
        }
    }
    if (!from_master) {
        for (int i = 0; i < cmd_guard_count; i++) {
            const char *err = cmd_guards[i].fn(c, cmd, cmd_guards[i].priv);
            if (err) {
                cmd_reject(c, cmd, err);
                return;
            }
        }
        if (s->is_replica && s->config.replica_read_only && is_write) {
            cmd_reject(c, cmd, "READONLY You can't write against a read only replica.");
            return;
        }
        /* A fenced master answers writes as a read-only replica would:
         * clients re-discover the master (fence.h). */
        if (s->fence.fenced && is_write) {
            cmd_reject(c, cmd, FENCE_ERR_WRITE);
            return;
        }
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp_version == 2 && !cmd_allowed_in_pubsub(cmd)) {
        char err[256];
        snprintf(err, sizeof(err),
                 "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                 cmd->name);
        cmd_reject(c, cmd, err);
        return;
    }
    if (s->loading && !(cmd->flags & CMD_LOADING)) {
        cmd_reject(c, cmd, "LOADING Redis is loading the dataset in memory");
        return;
    }
    if ((c->flags & CLIENT_MULTI) && (cmd->flags & CMD_NO_MULTI)) {
        cmd_reject(c, cmd, "ERR Command not allowed inside a transaction");
        return;
    }
    if ((c->flags & CLIENT_MULTI) && !cmd_is(cmd, "exec") && !cmd_is(cmd, "discard") &&
        !cmd_is(cmd, "multi") && !cmd_is(cmd, "watch") && !cmd_is(cmd, "quit") &&
        !cmd_is(cmd, "reset")) {
        multi_queue(c, cmd);
        return;
    }
    cmd_call(c, cmd);
    blocking_handle_ready(s);
}

static void cmd_frame_release(cmd_frame *f)
{
    mem_free(f->rewritten);
    for (int i = 0; i < f->extra_count; i++)
        mem_free(f->extra[i].argv);
    mem_free(f->extra);
}

void cmd_call(client *c, const cmd_def *cmd)
{
    srv *s = c->srv;
    cmd_frame frame;
    memset(&frame, 0, sizeof(frame));
    cmd_frame *outer = cmd_current_frame;
    cmd_current_frame = &frame;

    /* SCAN and RANDOMKEY (touches-arbitrary-keys) send the DELs of the keys
     * they expire unwrapped, as active expiry does (7.0). */
    frame.top_level = outer == NULL && !cmd_is(cmd, "exec") && !(cmd->flags & CMD_TOUCHES_ARBITRARY_KEYS);
    long long dirty_before = s->dirty;
    long long errors_before = c->reply_error_count;
    int dbid = c->db->id;
    const cmd_def *saved_cmd = c->cmd;
    c->cmd = cmd;
    uint64_t start = util_ticks();
    tracking_call_begin(s);
    cmd->proc(c);
    int64_t elapsed = util_ticks_to_us(util_ticks() - start);
    c->cmd = saved_cmd ? saved_cmd : cmd;
    c->last_cmd = cmd;

    /* A blocked command re-run when its key got data counts once, as in
     * Redis; a re-run that ends in an error (the stream or group is gone)
     * still counts as a failed call. */
    if ((c->flags & CLIENT_UNBLOCKED) && c->reply_error_count > errors_before) {
        cmd_stats *ust = cmd_stats_of(cmd);
        if (ust)
            ust->failed_calls++;
    }
    cmd_stats *st = (c->flags & CLIENT_UNBLOCKED) ? NULL : cmd_stats_of(cmd);
    if (st) {
        st->calls++;
        st->usec += elapsed;
        cmd_latency_record(cmd, elapsed);
        latency_after_command(c, (cmd->flags & CMD_FAST) != 0, elapsed);
        if (c->reply_error_count > errors_before)
            st->failed_calls++;
    }
    /* The slow log, as Redis' call() keeps it: not for a command that just
     * blocked (it is logged when it is served, with its own arguments),
     * not for EXEC (its commands are), not while the AOF is loaded; the
     * commands a script calls are logged, and the script after them. */
    int served_rerun = (c->flags & CLIENT_UNBLOCKED) && !c->bstate.still_blocked;
    int blocked_now = (c->flags & CLIENT_BLOCKED) && !served_rerun;
    if (!(cmd->flags & CMD_SKIP_SLOWLOG) && !blocked_now && !s->loading)
        slowlog_record(c, elapsed);
    if (!(c->flags & CLIENT_UNBLOCKED))
        s->stats.total_commands_processed++;
    monitor_feed_call(c, cmd, c->argc, c->argv);

    if (s->dirty != dirty_before) {
        if (frame.rewritten_set) {
            if (frame.rewritten_argc > 0)
                srv_propagate(s, dbid, frame.rewritten_argc, frame.rewritten);
        }
        else if (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE))
            srv_propagate(s, dbid, c->argc, c->argv);
    }
    for (int i = 0; i < frame.extra_count; i++)
        srv_propagate(s, dbid, frame.extra[i].argc, frame.extra[i].argv);
    if (frame.captured)
        multi_capture_end(frame.capture_client, frame.captured);
    cmd_current_frame = outer;
    cmd_frame_release(&frame);
    /* Client-side caching: the keys it read, the invalidations it caused
     * for its own client (sent after its reply). */
    tracking_call_end(c, cmd);
}

/* Redis 7.0 sends what one command propagates (lazy-expiry DELs, then its
 * own argv or rewrite and extras) as one unit, wrapped in MULTI ... EXEC
 * when it is more than one command. The capture starts at the first
 * propagation during the run, so a command that expires nothing pays
 * nothing; EXEC and scripts capture their own blocks. */
void cmd_propagate_during(srv *s, int dbid, int argc, const resp_arg *argv)
{
    cmd_frame *f = cmd_current_frame;
    if (f && f->top_level && !f->captured && s->current_client) {
        f->capture_client = s->current_client;
        f->captured = multi_capture_begin(f->capture_client);
    }
    srv_propagate(s, dbid, argc, argv);
}

void cmd_rewrite_argv(client *c, int argc, const resp_arg *argv)
{
    (void)c;
    if (!cmd_current_frame)
        return;
    mem_free(cmd_current_frame->rewritten);
    cmd_current_frame->rewritten_set = 1;
    cmd_current_frame->rewritten = argc > 0 ? multi_copy_argv(argc, argv) : NULL;
    cmd_current_frame->rewritten_argc = argc;
}

void cmd_also_propagate(client *c, int argc, const resp_arg *argv)
{
    (void)c;
    cmd_frame *f = cmd_current_frame;
    if (!f)
        return;
    if (f->extra_count == f->extra_cap) {
        f->extra_cap = f->extra_cap ? f->extra_cap * 2 : 4;
        f->extra = mem_realloc(f->extra, sizeof(*f->extra) * (size_t)f->extra_cap);
    }
    f->extra[f->extra_count].argc = argc;
    f->extra[f->extra_count].argv = multi_copy_argv(argc, argv);
    f->extra_count++;
}
