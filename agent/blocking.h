/* blocking: clients blocked in BLPOP / BRPOP / BLMOVE / BRPOPLPUSH / BLMPOP.
 * A blocked client keeps a copy of its command; when a key it waits on
 * receives elements, clients are served in the order they blocked by
 * re-running their command. Timeouts answer a null array; a blocked client
 * that disconnects is forgotten.
 *
 * The re-run protocol, seen from a command handler: while the client has
 * CLIENT_UNBLOCKED set, bstate.serve_key names the key that became ready
 * and the handler should only look at that key; if it finds nothing it
 * calls blocking_block again, which keeps the client blocked in its
 * original place in every queue (the new timeout is ignored).
 *
 * A waiter is only re-run when the ready key holds the type it waits for:
 * a sorted set for commands in the @sortedset ACL category (BZPOPMIN...),
 * a stream for @stream commands (XREAD, XREADGROUP),
 * a list otherwise; XREADGROUP is also re-run when its key was deleted or
 * no longer holds a stream (it answers -UNBLOCKED, as Redis 7.0 does).
 * Pushing modules call db_signal_list_ready (or blocking_signal_ready)
 * whenever a key gains elements; db.c calls it too when a stream leaves
 * its key (db_signal_value_gone). */
#ifndef KV_BLOCKING_H
#define KV_BLOCKING_H
#include <stddef.h>
#include <stdint.h>
#include "resp.h"
#include "kstr.h"

struct client;
struct kvdb;
struct srv;

typedef struct block_state {
    int dbid;
    int nkeys;
    kstr *keys;
    int64_t timeout_ms;     /* absolute unix ms; 0 = forever */
    int argc;
    resp_arg *argv;         /* the blocking command, copied */
    const struct cmd_def *cmd;
    int wait_type;          /* OBJ_LIST, OBJ_ZSET (@sortedset), OBJ_STREAM (@stream) */
    int wake_on_gone;       /* XREADGROUP: also re-run when the key stops being a stream */
    /* re-run state, private to blocking.c and the blocking commands */
    const char *serve_key;  /* key being served, NULL outside a re-run */
    size_t serve_keylen;
    int still_blocked;      /* set by blocking_block during a re-run */
} block_state;

/* Block c on keys until timeout_ms (absolute, 0 = forever). */
void blocking_block(struct client *c, int nkeys, const resp_arg *keys, int64_t timeout_ms);
/* Remove c from every key's waiting list (disconnect, CLIENT KILL). */
void blocking_unblock(struct client *c, int send_timeout_reply);
/* Mark a key as ready (called via db_signal_list_ready). */
void blocking_signal_ready(struct kvdb *db, const char *key, size_t len);
/* After each command: serve clients blocked on keys that became ready. */
void blocking_handle_ready(struct srv *srv);
/* Cron: time out expired blocked clients. */
void blocking_cron(struct srv *srv);
/* Frees the module's state at shutdown, after srv_release closed the loop
 * (and with it the handle that drains the resume queue). */
void blocking_release(struct srv *srv);
/* Resume the pipelines of clients that were served, timed out or
 * unblocked, in that order. blocking.c schedules this itself (a libuv
 * check handle); calling it again, e.g. before flushing output, is
 * harmless. */
void blocking_process_unblocked(struct srv *srv);
/* CLIENT UNBLOCK: answer a blocked client as on timeout (*-1) or with
 * "-UNBLOCKED client unblocked via CLIENT UNBLOCK" (with_error). Its
 * pipeline resumes in blocking_process_unblocked. Returns 1 if c was
 * blocked, 0 otherwise. */
int blocking_client_unblock(struct client *c, int with_error);
/* After SWAPDB, or before FLUSHDB (anything that replaces or drops a db's
 * keys wholesale): mark every key of db that clients wait on as ready, so
 * they are served (or XREADGROUP told its stream is gone) after the
 * current command. */
void blocking_scan_ready(struct kvdb *db);
/* Parse a timeout argument in seconds (float). Replies the error itself and
 * returns -1 on failure, else 0 with *abs_ms (0 = block forever). */
int blocking_parse_timeout(struct client *c, const resp_arg *arg, int64_t *abs_ms);

#endif
