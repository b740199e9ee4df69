/* multi: MULTI / EXEC / DISCARD / WATCH / UNWATCH. Queued commands keep a
 * private copy of their arguments; WATCH keeps, per db, a dict from key to
 * the clients watching it, so a write marks exactly those clients dirty.
 *
 * Contract with the rest of the agent:
 * - cmd_process queues with multi_queue while CLIENT_MULTI is set, and when
 *   it refuses EXEC itself (arity, OOM, READONLY, ...) it must answer with
 *   multi_exec_abort, as Redis does.
 * - db code calls multi_touch_key AFTER a key was changed or removed, and
 *   multi_touch_all / multi_touch_swapdb BEFORE a db is emptied or swapped
 *   (only keys that exist at that moment invalidate a WATCH).
 * - a client being freed calls multi_discard / multi_unwatch_all. */
#ifndef KV_MULTI_H
#define KV_MULTI_H
#include <stddef.h>
#include <stdint.h>
#include "resp.h"
#include "kstr.h"

struct client;
struct cmd_def;
struct kvdb;

typedef struct multi_cmd {
    const struct cmd_def *cmd;
    int argc;
    resp_arg *argv;          /* one allocation holding argv and the bytes */
} multi_cmd;

typedef struct multi_watched {
    int dbid;
    int expired;             /* the key was already expired at WATCH time */
    kstr key;
} multi_watched;

struct multi_prop;

typedef struct multi_state {
    multi_cmd *cmds;
    int count;
    int cap;
    multi_watched *watched;
    int watched_count;
    int watched_cap;
    struct multi_prop *prop; /* writes captured while EXEC runs, else NULL */
} multi_state;

/* Queue the current command of c (called by cmd_process inside MULTI).
 * Replies +QUEUED. A transaction already doomed (dirty) keeps nothing. */
void multi_queue(struct client *c, const struct cmd_def *cmd);
/* Forget queued commands and flags, and unwatch (DISCARD, EXEC end, client
 * free, RESET). */
void multi_discard(struct client *c);
void multi_unwatch_all(struct client *c);
/* EXEC refused by a dispatcher check: discard the transaction and reply
 * "-EXECABORT Transaction discarded because of: <err>" (err as passed to
 * reply_error; a generic "ERR " prefix is dropped, as Redis does). */
void multi_exec_abort(struct client *c, const char *err);
/* A key changed: mark every client watching it (CLIENT_DIRTY_CAS). */
void multi_touch_key(struct kvdb *db, const char *key, size_t len);
/* FLUSHDB/FLUSHALL: call before emptying db; touches watched keys present. */
void multi_touch_all(struct kvdb *db);
/* SWAPDB a b: call before swapping; a key watched in either db is touched
 * when it exists in a or b. */
void multi_touch_swapdb(struct kvdb *a, struct kvdb *b);
/* Capture what the commands run through c propagate (a script's effects)
 * until multi_capture_end(c, <what begin returned>), which propagates them
 * wrapped in MULTI/EXEC when more than one. Returns 0 (nothing to do)
 * inside EXEC, whose own capture takes them, or without a hook. */
int multi_capture_begin(struct client *c);
void multi_capture_end(struct client *c, int started);
/* Copy argc/argv into one allocation (also used by blocking.c). Every
 * argument is NUL-terminated in the copy. Free with mem_free. */
resp_arg *multi_copy_argv(int argc, const resp_arg *argv);

#endif
