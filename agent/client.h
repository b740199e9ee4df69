/* client: one connection's state: its input buffer and parser, the command
 * being run, its output chain, and per-feature state (MULTI, blocking,
 * pub/sub, replication role). */
#ifndef KV_CLIENT_H
#define KV_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "resp.h"
#include "kstr.h"
#include "multi.h"
#include "blocking.h"
#include "pubsub.h"

struct srv;
struct srv_listener;
struct kvdb;
struct cmd_def;
struct acl_user;

enum {
    CLIENT_MULTI        = 1 << 0,
    CLIENT_DIRTY_CAS    = 1 << 1,  /* a WATCHed key changed */
    CLIENT_DIRTY_EXEC   = 1 << 2,  /* a command failed to queue */
    CLIENT_BLOCKED      = 1 << 3,
    CLIENT_PUBSUB       = 1 << 4,
    CLIENT_CLOSE_AFTER_REPLY = 1 << 5,
    CLIENT_CLOSE_ASAP   = 1 << 6,
    CLIENT_MASTER       = 1 << 7,  /* the link to our master: no replies */
    CLIENT_REPLICA      = 1 << 8,  /* a replica attached to us */
    CLIENT_MONITOR      = 1 << 9,  /* MONITOR: receives the command feed (monitor.h) */
    CLIENT_AUTHENTICATED = 1 << 10,
    CLIENT_CLOSING      = 1 << 11, /* uv_close called, waiting for callback */
    CLIENT_FAKE         = 1 << 12, /* no socket (RDB load, tests) */
    CLIENT_EXECUTING    = 1 << 13, /* inside cmd_process (do not free) */
    CLIENT_UNBLOCKED    = 1 << 14, /* re-running a command after unblock */
    CLIENT_NO_REPLY     = 1 << 15, /* discard replies (master stream) */
    CLIENT_PROTECTED_DENIED = 1 << 16,
    CLIENT_IN_EXEC      = 1 << 17,
    CLIENT_PAUSED_READ  = 1 << 18,
    CLIENT_REPLY_SKIP_NEXT = 1 << 19, /* CLIENT REPLY SKIP: mute the next command */
    CLIENT_REPLY_SKIP   = 1 << 20, /* muting the current command */
    CLIENT_NO_EVICT     = 1 << 21, /* CLIENT NO-EVICT on: spared by maxmemory-clients */
    /* The fake client a script runs its commands through: MONITOR shows
     * them with "lua" as the address (monitor.h), and MONITOR itself is
     * refused to it as to any client that expects one reply per command. */
    CLIENT_SCRIPT       = 1 << 22,
};

/* A block of pending output. Blocks are never reallocated, so a block that
 * is being written by libuv can still be appended to past its in-flight
 * range. */
#define CLIENT_REPLY_BLOCK_SIZE (16 * 1024)

typedef struct reply_block {
    struct reply_block *next;
    size_t size;
    size_t used;
    char buf[];
} reply_block;

typedef struct client {
    uint64_t id;
    struct srv *srv;
    uv_tcp_t tcp;              /* must stay first-ish: tcp.data == client */
    int fd;
    uint32_t flags;
    struct kvdb *db;
    int resp_version;
    kstr name;
    char addr[64];             /* ip:port of the peer */
    char laddr[64];            /* ip:port of our side */
    int64_t ctime_ms;          /* connected at */
    int64_t last_interaction_ms;
    /* The ACL user authenticated as (acl.h); NULL is the default user, so
     * a zeroed client starts as Redis' clients do. */
    struct acl_user *user;

    /* input */
    char *qbuf;
    size_t qbuf_len;           /* bytes held */
    size_t qbuf_pos;           /* start of the unparsed command */
    size_t qbuf_cap;
    size_t qbuf_peak;
    resp_parser parser;
    int argc;
    resp_arg *argv;
    const struct cmd_def *cmd;       /* current command */
    const struct cmd_def *last_cmd;
    /* "container|sub" of last_cmd when it was a subcommand (a static string
     * of the COMMAND INFO table), NULL otherwise: CLIENT LIST's cmd=. */
    const char *last_cmd_fullname;
    /* While a command executes: the bytes of the input buffer being run
     * (Redis trims its query buffer only after the commands it holds
     * ran), CLIENT LIST's qbuf for the caller; 0 otherwise. */
    size_t exec_qbuf;

    /* output */
    reply_block *reply_head;
    reply_block *reply_tail;
    size_t reply_bytes;        /* pending bytes not yet handed to the socket */
    size_t head_sent;          /* bytes of reply_head already written */
    int write_in_flight;
    size_t inflight_bytes;     /* bytes owned by the in-flight uv_write */
    uv_write_t wreq;
    int64_t obuf_soft_since_ms;/* when the soft limit was first passed, 0 none */
    size_t mem_at_last_check;  /* client_memory_usage() when the limits were last looked at */
    long long reply_error_count;

    /* replication (replication issue) */
    void *repl;                /* repl-owned per-client state */
    /* Called when the output chain has been fully written (used to feed a
     * replica the next chunk of an RDB file without buffering it whole). */
    void (*on_drained)(struct client *c);

    /* features */
    multi_state mstate;
    block_state bstate;
    pubsub_client_state pubsub;

    /* lists */
    struct client *prev, *next;               /* all clients */
    struct client *pending_next;              /* clients with output to flush */
    int pending_write;
} client;

/* Networking lives in networking.c. */
client *client_create(struct srv *srv);            /* a fake client (no socket) */
void client_free(client *c);                       /* immediate (fake clients) */
/* Close a connected client: now if possible, after the current command if
 * it is executing. */
void client_close(client *c);
void client_close_async(client *c);
/* Queue c to have its output flushed at the end of the loop iteration. */
void client_schedule_write(client *c);
/* Flush every client queued by client_schedule_write. */
void client_flush_pending(struct srv *srv);
/* Select db by index; returns 0 or -1 when out of range. */
int client_select_db(client *c, int id);
/* Set the current argv from an external source (fake clients, tests). */
void client_set_argv(client *c, int argc, const resp_arg *argv);
/* After unblocking: process commands that arrived while blocked. */
void client_process_input(client *c);
/* An outgoing connection (a replica's link to its master): the client is
 * allocated, its uv_tcp_t initialised and the client linked in the client
 * list, but no connect or read is started. */
client *client_new_outgoing(struct srv *srv);
/* Hand the socket to the normal input path (parser + cmd_process). */
int client_start_reading(client *c);
/* Free the spare output block an idle client keeps for reuse. */
void client_release_spare_output(client *c);
/* Refresh c->addr / c->laddr from the socket. */
void client_update_addrs(client *c);
/* One line of CLIENT LIST / CLIENT INFO. */
kstr client_info_line(client *c, kstr out);
size_t client_output_bytes(const client *c);
/* Everything a connection holds: the struct, its query buffer, its parsed
 * arguments and its pending output (CLIENT LIST tot-mem, maxmemory-clients). */
size_t client_memory_usage(const client *c);
/* The output limits, checked while a reply grows (reply.c calls it at every
 * new output block) so a reply is stopped as it passes a limit, not after it
 * was built: client-output-buffer-limit, maxmemory-clients and maxmemory. A
 * client over a limit is marked CLIENT_CLOSE_ASAP (reply_is_discarded() turns
 * true, so loops producing the reply stop), its unsent output is freed and
 * the reason logged. */
void client_check_output_limits(client *c);
/* maxmemory-clients: while the clients together hold more than the limit,
 * close the ones holding most, sparing CLIENT NO-EVICT clients and
 * replication links. Returns how many were evicted. */
int client_evict_if_needed(struct srv *srv);
/* The maxmemory-clients limit in bytes (a percentage resolved against
 * maxmemory), 0 when off. */
size_t client_eviction_limit(const struct srv *srv);
/* A new listener bound to addr:port, or NULL with a reason in err. */
struct srv_listener *net_listen(struct srv *s, const char *addr, int port, char *err, size_t errlen);
/* Stop listening; the listener is freed once libuv has closed it. */
void net_listener_close(struct srv_listener *l);

#endif
