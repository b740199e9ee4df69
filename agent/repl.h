/* repl: master-replica replication, wire-compatible with redis-server 7.0
 * (PSYNC2). A master feeds every write to its replicas and to a backlog; a
 * replica keeps a link to its master (repl_replica.c), applies the stream
 * and proxies it verbatim to its own replicas. The master side (replica
 * clients, full and partial resynchronisation, ACKs, WAIT) lives in
 * repl_master.c; the ring buffer in repl_backlog.c.
 *
 * The module plugs into the server through its seams: srv->propagate (the
 * writes of a master), srv->on_master_stream (the bytes a replica applied),
 * srv->on_client_free (a replica, the master link or a WAIT client went
 * away), a cron, the INFO "replication" section, a command guard
 * (NOREPLICAS, MASTERDOWN) and the RDB meta provider (repl-id / repl-offset
 * AUX fields). */
#ifndef KV_REPL_H
#define KV_REPL_H
#include <stddef.h>

struct srv;

/* Called once after the RDB load: installs the hooks above and, when
 * `replicaof` is configured, starts the link to the master (resuming with a
 * partial resync when the loaded RDB carries our replication id/offset). */
int repl_module_init(struct srv *s, char *err, size_t errlen);
void repl_module_release(struct srv *s);

/* The current replication id and offset (what a snapshot's AUX fields
 * record). id needs 41 bytes. Returns -1 before init. */
int repl_current_position(struct srv *s, char *id, long long *offset);

/* 1 on a replica whose link to its master is down while
 * replica-serve-stale-data is no (7.0 refuses scripts up front there). */
int repl_refuses_stale(struct srv *s);
/* 1 on a master with fewer good replicas than min-replicas-to-write asks
 * for (when it and min-replicas-max-lag are set). */
int repl_lacks_good_replicas(struct srv *s);

#endif
