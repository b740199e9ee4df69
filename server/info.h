/* info.h - parse the text of INFO (pure, no I/O). The monitor asks for the
 * server, persistence, stats and replication sections in one call, and every
 * few seconds for clients, memory and keyspace too (the node figures of
 * /metrics); every field it does not know is ignored, so redis-server and
 * kvfleet agents of any version parse. */
#ifndef KVFLEET_CTL_INFO_H
#define KVFLEET_CTL_INFO_H

#include <stddef.h>
#include <stdint.h>

#define INFO_MAX_SLAVES 64

struct info_slave {
    char ip[256];
    int port;
    char state[32];
    int64_t offset;
    int64_t lag;       /* seconds since the last ack, -1 unknown */
};

#define INFO_MAX_DBS 16

/* What /metrics shows of a node besides replication. `present` only when
 * the poll asked for the clients, memory and keyspace sections. */
struct info_stats {
    int present;                 /* memory section seen */
    int64_t connected_clients;   /* -1 unknown */
    int64_t used_memory;         /* bytes, -1 unknown */
    int64_t commands_processed;  /* stats: total_commands_processed, -1 */
    int64_t db_keys[INFO_MAX_DBS];  /* keyspace dbN keys=, -1: no such line */
};

struct info_repl {
    int role;            /* enum node_role from health.h */
    char master_host[256];
    int master_port;
    int link;            /* enum link_state */
    int64_t master_last_io_s;
    int64_t offset;      /* masters: master_repl_offset; replicas: slave_repl_offset */
    int connected_slaves;
    int64_t link_down_since_s;   /* master_link_down_since_seconds, -1 */
    int replica_priority;        /* slave_priority / replica_priority, -1 */
    char run_id[41];             /* server: run_id */
    int64_t uptime_s;            /* server: uptime_in_seconds, -1 */
    int loading;                 /* persistence: loading */
    int fenced;                  /* kvfleet_fenced */
    int fence_known;             /* kvfleet_fenced present */
    int64_t sync_full;           /* stats: sync_full, -1 */
    int failover_state;          /* master_failover_state: 0 no-failover, 1 waiting-for-sync, 2 failover-in-progress */
    char replid[41];
    char version[32];            /* server: redis_version */
    struct info_stats stats;
    int nslaves;
    struct info_slave slaves[INFO_MAX_SLAVES];
};

/* Returns 0, or -1 when no role line was found. */
int info_parse_replication(const char *text, size_t len, struct info_repl *out);

#endif
