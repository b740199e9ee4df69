/* command: the command table and the one place every command passes through
 * (cmd_process -> cmd_call). cmd_call is where a write is counted (dirty)
 * and handed to the propagation hook, so replication and persistence see
 * every change from one seam. Each t_*.c module exports its own table. */
#ifndef KV_COMMAND_H
#define KV_COMMAND_H
#include <stdint.h>
#include "resp.h"

struct client;
typedef void cmd_proc(struct client *c);

enum {
    CMD_WRITE      = 1 << 0,
    CMD_READONLY   = 1 << 1,
    CMD_DENYOOM    = 1 << 2,
    CMD_ADMIN      = 1 << 3,
    CMD_PUBSUB     = 1 << 4,
    CMD_NOSCRIPT   = 1 << 5,
    CMD_BLOCKING   = 1 << 6,
    CMD_LOADING    = 1 << 7,   /* allowed while loading */
    CMD_STALE      = 1 << 8,   /* allowed on a replica with a stale link */
    CMD_FAST       = 1 << 9,
    CMD_NO_AUTH    = 1 << 10,  /* allowed before AUTH */
    CMD_NO_MULTI   = 1 << 11,  /* not allowed inside MULTI */
    CMD_SKIP_MONITOR = 1 << 12,
    CMD_ALLOW_BUSY = 1 << 13,
    CMD_MAY_REPLICATE = 1 << 14,
    CMD_SENTINEL   = 1 << 15,
    CMD_TOUCHES_ARBITRARY_KEYS = 1 << 16,
};

typedef struct cmd_def {
    const char *name;        /* lower case */
    cmd_proc *proc;
    int arity;               /* N exact, -N at least N (name included) */
    uint32_t flags;
    int first_key;           /* 0 if no keys */
    int last_key;            /* -1: last argument, -2: last but one */
    int key_step;
    const char *acl_categories; /* space separated, e.g. "@write @string @fast" */
} cmd_def;

/* Tables exported by the command modules, each ending with {NULL}. */
extern const cmd_def t_string_commands[];
extern const cmd_def t_keys_commands[];
extern const cmd_def t_list_commands[];
extern const cmd_def t_hash_commands[];
extern const cmd_def t_set_commands[];
extern const cmd_def t_zset_commands[];
extern const cmd_def t_server_commands[];
extern const cmd_def t_conn_commands[];
extern const cmd_def multi_commands[];
extern const cmd_def pubsub_commands[];
extern const cmd_def rdb_commands[];
extern const cmd_def repl_commands[];
extern const cmd_def t_hll_commands[];
extern const cmd_def t_geo_commands[];
extern const cmd_def t_bitmap_commands[];
extern const cmd_def t_sort_commands[];
extern const cmd_def t_dump_commands[];

void cmd_table_init(void);
void cmd_table_free(void);
const cmd_def *cmd_lookup(const char *name, size_t len);
/* Warms the cache for the keys of the next pipelined commands (peeked, not
 * yet parsed), in the client's current db. */
void cmd_prefetch_keys(struct client *c, const resp_peek *frames, size_t n);
size_t cmd_count(void);
/* Iterate the table (COMMAND, COMMAND COUNT). */
const cmd_def *cmd_at(size_t idx);

/* Run the command in c->argv: lookup, arity, auth, MULTI queueing, OOM and
 * role checks, then cmd_call. Replies are appended to c. */
void cmd_process(struct client *c);
/* Execute an already-checked command (EXEC, unblocked clients). Counts
 * stats, marks dirty and propagates writes. */
void cmd_call(struct client *c, const cmd_def *cmd);

/* Commands a handler can use to propagate something other than its own argv
 * (e.g. EXPIRE propagated as PEXPIREAT, SPOP as SREM). When a handler calls
 * cmd_rewrite_argv, that argv is what replication sees. */
/* argc 0: propagate nothing for this command (extras still go out). */
void cmd_rewrite_argv(struct client *c, int argc, const resp_arg *argv);
/* Propagate an extra command (dbid of c) after the current one. */
void cmd_also_propagate(struct client *c, int argc, const resp_arg *argv);
/* COMMAND GETKEYS: the positions in argv (a full command line) of its keys,
 * found as Redis 7.0 finds them (key specs: numkeys counts, SORT's STORE,
 * GEORADIUS' STORE/STOREDIST, subcommands). pos needs argc entries.
 * Returns the count, or -1 with *err set to Redis' error text. */
int cmd_getkeys(int argc, const resp_arg *argv, int *pos, const char **err);
/* Write an arity error "wrong number of arguments for 'x' command" using
 * the command's full name (container|subcommand). */
void cmd_reply_arity(struct client *c);
/* The longest string value a command of this client may create (SETRANGE,
 * APPEND, SETBIT, BITFIELD, and the parser's bulk length): proto-max-bulk-len
 * as in Redis, except for our master, which Redis obeys whatever it sends;
 * never more than a kstr can hold, so a raised proto-max-bulk-len gets an
 * error reply instead of reaching the kstr limit's abort(). */
unsigned long long cmd_string_limit(const struct client *c);



/* Guards may refuse a command before it runs (MISCONF, NOREPLICAS, ...):
 * return NULL to allow, or the error text to reply. Up to 8 guards. */
typedef const char *cmd_guard_fn(struct client *c, const cmd_def *cmd, void *priv);
void cmd_add_guard(cmd_guard_fn *fn, void *priv);

/* Per-command statistics for INFO commandstats. */
typedef struct cmd_stats {
    long long calls;
    long long usec;
    long long rejected_calls;
    long long failed_calls;
} cmd_stats;
const cmd_stats *cmd_get_stats(const cmd_def *cmd);
/* Latency percentile (usec) of a command's calls, from a log-linear histogram. */
double cmd_latency_percentile(const cmd_def *cmd, double pct);
void cmd_reset_stats(void);
/* Record a command in SLOWLOG if it ran past slowlog-log-slower-than
 * (t_server.c). */
void slowlog_record(struct client *c, long long duration_us);
#endif
