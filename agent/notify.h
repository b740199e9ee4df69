/* notify: keyspace notifications (notify-keyspace-events), as Redis 7.0
 * publishes them: for a key event of class `type` (one CFG_NOTIFY_* bit) a
 * message `event` on __keyspace@<db>__:<key> (K) and a message `<key>` on
 * __keyevent@<db>__:<event> (E), delivered to channel and pattern
 * subscribers like any PUBLISH (never propagated: replicas fire their own
 * as they apply the stream).
 *
 * Call sites follow Redis' placement: after the command changed the key,
 * before the key's modification is signalled, and a command that empties a
 * container fires its own event first, then `del` (class g). */
#ifndef KV_NOTIFY_H
#define KV_NOTIFY_H
#include <stddef.h>

struct kvdb;

/* Nothing is formatted unless the class and K or E are enabled. */
void notify_keyspace_event(struct kvdb *db, int type, const char *event, const char *key, size_t keylen);

#endif
