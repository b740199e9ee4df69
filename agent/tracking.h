/* tracking: server-assisted client-side caching (CLIENT TRACKING), as
 * Redis 7.0 does it.
 *
 * Two modes. Default: the keys a tracking client reads (the keys of every
 * read-only command it runs, found by the command's key specs) are
 * remembered in one table, key -> ids of the clients that read it; the
 * first modification of such a key sends each of them an invalidation and
 * forgets the key, so a client hears of a key once per read. BCAST: the
 * client subscribes to key prefixes instead; every modified key matching one
 * is collected and the batch goes out once per event-loop iteration
 * (tracking_before_sleep), one message per prefix.
 *
 * Invalidations reach a RESP3 client as a push (>2 invalidate [keys]); a
 * client with REDIRECT has them sent to another connection, which as a
 * RESP2 connection must be subscribed to __redis__:invalidate and gets a
 * pub/sub message there. A flush invalidates everything (a null instead of
 * the key array). An invalidation caused by the tracking client's own
 * command is held until that command's reply is written, so it never cuts
 * a reply in two.
 *
 * The state lives in srv->tracking; the engine reaches it through a few
 * seams: db_signal_modified (every key change), db_flush, cmd_call
 * (before/after each command), client teardown and the loop's before-sleep
 * step. Per-client state is kept here, keyed by client id. */
#ifndef KV_TRACKING_H
#define KV_TRACKING_H
#include <stddef.h>
#include <stdint.h>

struct srv;
struct client;
struct cmd_def;

void tracking_init(struct srv *s);
void tracking_release(struct srv *s);

/* CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO (argv as CLIENT got
 * it: argv[1] is the subcommand). */
void tracking_cmd_tracking(struct client *c);
void tracking_cmd_caching(struct client *c);
void tracking_cmd_getredir(struct client *c);
void tracking_cmd_trackinginfo(struct client *c);

/* Seams. */
/* A key changed or was removed (db_signal_modified: writes, expiry,
 * eviction, RENAME, MOVE, RESTORE, scripts' writes). */
void tracking_key_modified(struct srv *s, const char *key, size_t len);
/* A db is being emptied (FLUSHDB, FLUSHALL, a full resync): every tracking
 * client is told to drop its whole cache, once per command however many
 * dbs it empties, and the table is forgotten. */
void tracking_db_flushed(struct srv *s);
/* Around every command run by cmd_call (nested ones too: EXEC, scripts).
 * The outermost end delivers the invalidations held for the caller and
 * remembers the keys a read-only command read. */
void tracking_call_begin(struct srv *s);
void tracking_call_end(struct client *c, const struct cmd_def *cmd);
/* The client is going away or RESETs: tracking off for it, and clients
 * redirecting to it see their redirection broken. */
void tracking_client_gone(struct client *c);
void tracking_client_reset(struct client *c);
/* Once per loop iteration, before output is flushed: BCAST batches. */
void tracking_before_sleep(struct srv *s);

/* CLIENT LIST flags: appends t (tracking), R (broken redirect), B (BCAST)
 * at p and returns the new end. */
char *tracking_client_flags(const struct client *c, char *p);

/* INFO: tracking_clients, tracking_total_keys, tracking_total_items,
 * tracking_total_prefixes. */
size_t tracking_clients(const struct srv *s);
size_t tracking_total_keys(const struct srv *s);
size_t tracking_total_items(const struct srv *s);
size_t tracking_total_prefixes(const struct srv *s);

#endif
