/* info.h - parse the text of INFO replication (pure, no I/O). */
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

struct info_repl {
    int role;            /* enum node_role from health.h */
    char master_host[256];
    int master_port;
    int link;            /* enum link_state */
    int64_t master_last_io_s;
    int64_t offset;      /* masters: master_repl_offset; replicas: slave_repl_offset */
    int connected_slaves;
    int nslaves;
    struct info_slave slaves[INFO_MAX_SLAVES];
};

/* Returns 0, or -1 when no role line was found. */
int info_parse_replication(const char *text, size_t len, struct info_repl *out);

#endif
