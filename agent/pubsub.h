/* pubsub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE / PUBLISH / SPUBLISH / PUBSUB
 * with Redis 7.0's reply shapes and the RESP2 subscribed-context rules, as
 * a non-cluster server has them (shard channels are a separate namespace
 * served by SPUBLISH only).
 *
 * Server-wide state: srv->pubsub_channels maps a channel name to the
 * clients subscribed to it (plain and shard subscribers are kept apart in
 * the value, so a dict entry may exist for shard subscribers only: use
 * pubsub_count_channels for INFO); srv->pubsub_patterns maps a pattern to
 * its clients. Both are private to pubsub.c. */
#ifndef KV_PUBSUB_H
#define KV_PUBSUB_H
#include <stddef.h>
#include <stdint.h>
#include "dict.h"

struct client;
struct srv;

/* Per client. The dicts are created on first use and freed by
 * pubsub_unsubscribe_all (NULL means none). */
typedef struct pubsub_client_state {
    dict *channels;        /* channel -> unused */
    dict *patterns;        /* pattern -> v.u64 subscription order */
    dict *shard_channels;  /* shard channel -> unused */
    uint64_t pattern_seq;
} pubsub_client_state;

void pubsub_init(struct srv *srv);
void pubsub_release(struct srv *srv);
/* Number of subscriptions of c: channels + patterns + shard channels
 * (what keeps a client in the subscribed context). */
size_t pubsub_client_count(const struct client *c);
/* Drop every subscription of c (disconnect, RESET). With notify, c is sent
 * the unsubscribe / punsubscribe / sunsubscribe replies. */
void pubsub_unsubscribe_all(struct client *c, int notify);
/* Deliver a message to channel and pattern subscribers; returns the number
 * of receivers. Also the entry point for keyspace notifications. */
long long pubsub_publish(struct srv *srv, const char *ch, size_t chlen, const char *msg, size_t mlen);
/* Write an out-of-band reply (pub/sub event or message, tracking
 * invalidation) to c between these two: it is delivered even under CLIENT
 * REPLY OFF or SKIP, as Redis 7.0 delivers pushes. RESP3 clients get them
 * as push (>) frames, RESP2 ones as arrays (reply_push). */
uint32_t pubsub_push_begin(struct client *c);
void pubsub_push_end(struct client *c, uint32_t saved);
/* INFO: pubsub_channels, pubsub_patterns, pubsubshard_channels. */
size_t pubsub_count_channels(struct srv *srv);
size_t pubsub_count_patterns(struct srv *srv);
size_t pubsub_count_shard_channels(struct srv *srv);

#endif
