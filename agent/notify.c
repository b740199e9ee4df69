#include "notify.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "kstr.h"
#include "pubsub.h"
#include "server.h"

/* "__keyspace@" db "__:" suffix, in one buffer (a short key or event fits
 * on the stack; a longer one goes through a kstr). */
static void notify_publish(srv *s, const char *kind, int dbid, const char *suffix, size_t slen,
                           const char *msg, size_t mlen)
{
    char head[48];
    int hl = snprintf(head, sizeof(head), "__%s@%d__:", kind, dbid);
    if (hl < 0 || (size_t)hl >= sizeof(head))
        return;
    kstr ch = kstr_new(head, (size_t)hl);
    ch = kstr_cat(ch, suffix, slen);
    pubsub_publish(s, ch, kstr_len(ch), msg, mlen);
    kstr_free(ch);
}

void notify_keyspace_event(kvdb *db, int type, const char *event, const char *key, size_t keylen)
{
    srv *s = db->srv;
    int flags = s->config.notify_keyspace_events;
    if (!(flags & type))
        return;
    size_t elen = strlen(event);
    if (flags & CFG_NOTIFY_KEYSPACE)
        notify_publish(s, "keyspace", db->id, key, keylen, event, elen);
    if (flags & CFG_NOTIFY_KEYEVENT)
        notify_publish(s, "keyevent", db->id, event, elen, key, keylen);
}
