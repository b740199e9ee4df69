/* repl_int: state shared by the replication files (repl.c, repl_master.c,
 * repl_replica.c). Private to the module: nothing outside includes it. */
#ifndef KV_REPL_INT_H
#define KV_REPL_INT_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>
#include "kstr.h"
#include "resp.h"
#include "repl_backlog.h"

struct srv;
struct client;

/* What client->repl points at: every variant starts with its kind. */
enum { REPL_KIND_PEER = 1, REPL_KIND_LINK = 2, REPL_KIND_WAITER = 3 };

/* A replica attached to us, as Redis' SLAVE_STATE_*. */
enum {
    PEER_NONE = 0,            /* only REPLCONF seen so far */
    PEER_WAIT_BGSAVE_START,   /* needs a snapshot that has not started */
    PEER_WAIT_BGSAVE_END,     /* +FULLRESYNC sent, snapshot being made */
    PEER_SEND_BULK,           /* sending the RDB file */
    PEER_ONLINE,              /* receiving the stream */
};

enum { PEER_CAPA_EOF = 1, PEER_CAPA_PSYNC2 = 2 };

typedef struct repl_peer {
    int kind;
    struct client *c;
    int state;
    int capa;
    int pre_psync;            /* legacy SYNC: no +FULLRESYNC line */
    int listening_port;
    char announced_ip[64];
    long long psync_initial_offset;
    long long ack_off;
    int64_t ack_time_ms;
    int64_t wait_since_ms;    /* entered WAIT_BGSAVE_START */
    int start_on_ack;         /* diskless: stream starts at the first ACK */
    int socket_target;        /* fed by the diskless child */
    int acked_in_transfer;    /* its ACK beat our reaping of the child */
    char *pending;            /* stream bytes held during the full sync */
    size_t plen, pcap;
    int rdb_fd;               /* SEND_BULK: the snapshot file */
    off_t rdb_off, rdb_size;
} repl_peer;

typedef struct repl_waiter {
    int kind;
    struct client *c;
    long long offset;
    long long numreplicas;
    int64_t timeout_ms;       /* absolute, 0 = forever */
    struct repl_waiter *next;
} repl_waiter;

/* The replica's side of the link, as Redis' REPL_STATE_*. */
enum {
    LINK_NONE = 0,            /* we are a master */
    LINK_CONNECT,             /* must (re)connect */
    LINK_CONNECTING,
    LINK_RECEIVE_PING,
    LINK_RECEIVE_AUTH,
    LINK_RECEIVE_PORT,
    LINK_RECEIVE_IP,
    LINK_RECEIVE_CAPA,
    LINK_RECEIVE_PSYNC,
    LINK_TRANSFER,
    LINK_CONNECTED,
};

typedef struct repl_link repl_link;

enum { CHILD_NONE = 0, CHILD_DISK, CHILD_SOCKET };

typedef struct repl_state {
    struct srv *s;
    char replid[41];
    char replid2[41];
    long long master_repl_offset;
    long long second_replid_offset;
    long long meaningful_offset;  /* master_repl_offset before trailing PINGs */
    repl_backlog *backlog;
    int64_t no_replicas_since_ms;
    int slaveseldb;           /* db of the last SELECT fed, -1 none */
    kstr encbuf;              /* reused to encode propagated commands */

    /* master side */
    repl_peer **peers;
    size_t npeers, peers_cap;
    pid_t child_pid;
    int child_type;
    char child_file[128];
    int64_t child_start_ms;
    uv_signal_t *sigchld;     /* own allocation: freed by its close callback */
    int sigchld_on;
    int64_t last_ping_ms;
    int64_t last_keepalive_ms;
    repl_waiter *waiters;
    uv_timer_t *wake_timer;   /* serve WAIT outside command execution */

    /* replica side */
    int link_state;
    repl_link *link;
    uint64_t link_gen;
    int have_cached;          /* replid/offset describe data we hold */
    int cached_db;
    int64_t down_since_ms;    /* 0: never connected */
    int64_t next_connect_ms;
    int connect_failures;
    int64_t last_ack_ms;
    int ack_after_command;    /* GETACK: answer once its bytes are counted */

    /* FAILOVER */
    int failover_state;       /* 0 none, 1 waiting-for-sync, 2 failover-in-progress */
    char failover_host[256];
    int failover_port;
    int failover_force;
    int64_t failover_end_ms;
    int failover_paused;
} repl_state;

/* repl.c */
repl_state *repl_st(struct srv *s);
void repl_change_replid(repl_state *st);
void repl_clear_replid2(repl_state *st);
void repl_shift_replid(repl_state *st);
void repl_create_backlog(repl_state *st);
/* Bytes of the stream: to the backlog, the offset and every replica. */
void repl_feed_stream(repl_state *st, const char *p, size_t len);
void repl_feed_command(repl_state *st, int dbid, int argc, const resp_arg *argv);

/* repl_master.c */
void repl_master_sync(struct client *c, int is_psync);
void repl_master_replconf(struct client *c);
void repl_master_wait(struct client *c);
void repl_master_cron(repl_state *st);
void repl_master_peer_free(repl_state *st, repl_peer *p);
void repl_master_waiter_free(repl_state *st, repl_waiter *w);
void repl_master_disconnect_replicas(repl_state *st);
void repl_master_release(repl_state *st);
int repl_master_good_replicas(repl_state *st);
void repl_master_peer_feed(repl_peer *p, const char *buf, size_t len);
const char *repl_peer_ip(repl_peer *p, char *buf, size_t len);
void repl_master_request_acks(repl_state *st);
void repl_master_check_waiters(repl_state *st);

void repl_free_handle(uv_handle_t *h);

/* repl.c: FAILOVER */
void repl_failover_abort(repl_state *st, const char *why);
void repl_failover_done(repl_state *st);

/* repl_replica.c */
void repl_replica_set_master(repl_state *st, const char *host, int port);
void repl_replica_unset_master(repl_state *st);
void repl_replica_cron(repl_state *st);
void repl_replica_link_free(repl_state *st, repl_link *l);
void repl_replica_send_ack(repl_state *st);
const char *repl_replica_state_name(repl_state *st);
long long repl_replica_read_offset(repl_state *st);
int repl_replica_link_up(repl_state *st);
kstr repl_replica_info(repl_state *st, kstr o);
void repl_replica_release(repl_state *st);
struct client *repl_replica_master_client(repl_state *st);

#endif
