/* actor.h - the act stage: the only code that sends commands to nodes.
 *
 * Every command the controller sends to change a node (REPLICAOF, CONFIG
 * SET, ROLE, FAILOVER, INFO during an operation...) goes through here, on a
 * connection of its own per node, separate from the monitor's polling
 * connection so a slow poll never delays a failover step and the other way
 * round. Commands to one node are queued in order on its connection (hiredis
 * pipelines them); each has its own deadline, and each completes exactly
 * once through its callback with the reply, the node's error, or a timeout.
 * A timed-out command drops the connection (every command queued behind it
 * completes as failed) and the next command reconnects.
 *
 * Runs on the controller's loop thread only. */
#ifndef KVFLEET_CTL_ACTOR_H
#define KVFLEET_CTL_ACTOR_H

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <uv.h>

struct actor;

struct act_result {
    int ok;                    /* a reply that is not an error */
    int timed_out;
    const redisReply *reply;   /* NULL unless a reply arrived (valid during the call) */
    char err[256];             /* what went wrong, or "" */
    int64_t elapsed_ms;
};

typedef void (*act_cb)(void *arg, const struct act_result *r);

/* auth: node-auth's password (NULL: no AUTH); user: node-user (NULL: the
 * default user, "AUTH <auth>"). */
struct actor *actor_new(uv_loop_t *loop, const char *user, const char *auth);
/* Drop every connection (pending commands complete as failed) and free. */
void actor_free(struct actor *a);

/* Queue a command to node_id at host:port. argv/argc as redisAsyncCommandArgv.
 * Returns 0, or -1 when it could not even be queued (cb is then not called). */
int actor_cmd_argv(struct actor *a, int64_t node_id, const char *host, int port, int timeout_ms,
                   act_cb cb, void *arg, int argc, const char **argv);
/* printf-style convenience over hiredis' formatter. */
int actor_cmd(struct actor *a, int64_t node_id, const char *host, int port, int timeout_ms,
              act_cb cb, void *arg, const char *fmt, ...);

/* The node left the fleet or moved: drop its connection. */
void actor_forget(struct actor *a, int64_t node_id);

/* Counters for /health. */
uint64_t actor_sent(const struct actor *a);
uint64_t actor_failed(const struct actor *a);

#endif
