/* pubsub: publish/subscribe as Redis 7.0.15 does it outside cluster mode.
 *
 * Three namespaces: channels (SUBSCRIBE / PUBLISH), patterns (PSUBSCRIBE,
 * matched against PUBLISH channels) and shard channels (SSUBSCRIBE /
 * SPUBLISH, which reach shard subscribers only). A server-side entry holds
 * its subscribers in subscription order; each client keeps dicts of what it
 * subscribed to, so unsubscribing everything on disconnect is cheap.
 *
 * Counts in subscribe/unsubscribe replies follow 7.0: channels + patterns
 * for the plain commands, shard channels alone for the S-commands; the
 * client stays in the subscribed context while any of the three is
 * non-empty. Messages are written straight into the receivers' output
 * chains; a receiver may be closed for its output limit while we deliver,
 * so delivery walks a snapshot, never the live lists.
 *
 * RESP3 clients get events and messages as push frames and may run any
 * command while subscribed (cmd_process applies the subscribed-context
 * rule to RESP2 only). Everything written here is a push in 7.0's sense:
 * it gets through CLIENT REPLY OFF/SKIP (pubsub_push_begin/end, which
 * tracking.c uses for invalidations too). */
#include <stdlib.h>
#include <string.h>
#include "pubsub.h"
#include "client.h"
#include "server.h"
#include "command.h"
#include "reply.h"
#include "dict.h"
#include "kstr.h"
#include "mem.h"
#include "util.h"

/* ---- subscriber lists ---------------------------------------------------- */

typedef struct pubsub_subs {
    client **v;
    size_t len;
    size_t cap;
} pubsub_subs;

static void pubsub_subs_push(pubsub_subs *s, client *c)
{
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 2;
        s->v = mem_realloc(s->v, sizeof(*s->v) * s->cap);
    }
    s->v[s->len++] = c;
}

static void pubsub_subs_remove(pubsub_subs *s, const client *c)
{
    for (size_t i = 0; i < s->len; i++) {
        if (s->v[i] == c) {
            memmove(&s->v[i], &s->v[i + 1], sizeof(*s->v) * (s->len - i - 1));
            s->len--;
            return;
        }
    }
}

/* A channel name's subscribers, plain and shard. */
typedef struct pubsub_chan {
    pubsub_subs plain;
    pubsub_subs shard;
} pubsub_chan;

static void pubsub_chan_free(void *p)
{
    pubsub_chan *ch = p;
    if (!ch)
        return;
    mem_free(ch->plain.v);
    mem_free(ch->shard.v);
    mem_free(ch);
}

static void pubsub_subs_free(void *p)
{
    pubsub_subs *s = p;
    if (!s)
        return;
    mem_free(s->v);
    mem_free(s);
}

static const dict_type pubsub_chan_type = { pubsub_chan_free };
static const dict_type pubsub_pattern_type = { pubsub_subs_free };

void pubsub_init(srv *s)
{
    s->pubsub_channels = dict_create(&pubsub_chan_type);
    s->pubsub_patterns = dict_create(&pubsub_pattern_type);
}

void pubsub_release(srv *s)
{
    if (s->pubsub_channels)
        dict_free(s->pubsub_channels);
    if (s->pubsub_patterns)
        dict_free(s->pubsub_patterns);
    s->pubsub_channels = NULL;
    s->pubsub_patterns = NULL;
}

static size_t pubsub_count_kind(srv *s, int shard)
{
    size_t n = 0;
    if (!s->pubsub_channels)
        return 0;
    dict_iter it;
    dict_iter_init(s->pubsub_channels, &it, 0);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        pubsub_chan *ch = e->v.ptr;
        if ((shard ? ch->shard.len : ch->plain.len) > 0)
            n++;
    }
    dict_iter_release(&it);
    return n;
}

size_t pubsub_count_channels(srv *s)
{
    return pubsub_count_kind(s, 0);
}

size_t pubsub_count_shard_channels(srv *s)
{
    return pubsub_count_kind(s, 1);
}

size_t pubsub_count_patterns(srv *s)
{
    return s->pubsub_patterns ? dict_size(s->pubsub_patterns) : 0;
}

/* ---- per-client counts and the subscribed flag --------------------------- */

static size_t pubsub_dsize(const dict *d)
{
    return d ? dict_size(d) : 0;
}

/* What subscribe/unsubscribe replies report. */
static long long pubsub_reply_count(const client *c, int shard)
{
    const pubsub_client_state *ps = &c->pubsub;
    if (shard)
        return (long long)pubsub_dsize(ps->shard_channels);
    return (long long)(pubsub_dsize(ps->channels) + pubsub_dsize(ps->patterns));
}

size_t pubsub_client_count(const client *c)
{
    const pubsub_client_state *ps = &c->pubsub;
    return pubsub_dsize(ps->channels) + pubsub_dsize(ps->patterns) +
           pubsub_dsize(ps->shard_channels);
}

static void pubsub_update_flag(client *c)
{
    int subscribed = pubsub_client_count(c) > 0;
    int flagged = (c->flags & CLIENT_PUBSUB) != 0;
    if (subscribed && !flagged) {
        c->flags |= CLIENT_PUBSUB;
        c->srv->pubsub_clients++;
    } else if (!subscribed && flagged) {
        c->flags &= ~(uint32_t)CLIENT_PUBSUB;
        if (c->srv->pubsub_clients > 0)
            c->srv->pubsub_clients--;
    }
}

/* ---- reply shapes -------------------------------------------------------- */

/* Out-of-band replies (subscription events, messages, invalidations) get
 * through CLIENT REPLY OFF/SKIP, as 7.0 flags them CLIENT_PUSHING. The
 * link to our master stays mute whatever it is sent. */
uint32_t pubsub_push_begin(client *c)
{
    uint32_t saved = c->flags & (uint32_t)CLIENT_NO_REPLY;
    if (!(c->flags & CLIENT_MASTER))
        c->flags &= ~(uint32_t)CLIENT_NO_REPLY;
    return saved;
}

void pubsub_push_end(client *c, uint32_t saved)
{
    c->flags |= saved;
}

/* *3 kind channel count; channel NULL gives a null bulk. */
static void pubsub_reply_event(client *c, const char *kind, const char *ch, size_t len,
                               long long count)
{
    uint32_t saved = pubsub_push_begin(c);
    reply_push(c, 3);
    reply_bulk(c, kind, strlen(kind));
    if (ch)
        reply_bulk(c, ch, len);
    else
        reply_null(c);
    reply_int(c, count);
    pubsub_push_end(c, saved);
}

/* ---- subscribing --------------------------------------------------------- */

static dict **pubsub_client_dict(client *c, int shard)
{
    return shard ? &c->pubsub.shard_channels : &c->pubsub.channels;
}

static pubsub_chan *pubsub_chan_get(srv *s, const char *ch, size_t len, int create)
{
    dict_entry *e = dict_find(s->pubsub_channels, ch, len);
    if (e || !create)
        return e ? e->v.ptr : NULL;
    e = dict_add(s->pubsub_channels, ch, len, NULL);
    e->v.ptr = mem_calloc(sizeof(pubsub_chan));
    return e->v.ptr;
}

static void pubsub_subscribe_channel(client *c, const char *ch, size_t len, int shard)
{
    dict **mine = pubsub_client_dict(c, shard);
    if (!*mine)
        *mine = dict_create(&dict_type_plain);
    if (dict_add(*mine, ch, len, NULL)) {
        pubsub_chan *entry = pubsub_chan_get(c->srv, ch, len, 1);
        pubsub_subs_push(shard ? &entry->shard : &entry->plain, c);
    }
    pubsub_reply_event(c, shard ? "ssubscribe" : "subscribe", ch, len,
                       pubsub_reply_count(c, shard));
}

/* Returns 1 if c was subscribed. Replies only when notify. */
static int pubsub_unsubscribe_channel(client *c, const char *ch, size_t len, int shard,
                                      int notify)
{
    dict *mine = *pubsub_client_dict(c, shard);
    int was = 0;
    if (mine && dict_find(mine, ch, len)) {
        was = 1;
        srv *s = c->srv;
        dict_entry *e = dict_find(s->pubsub_channels, ch, len);
        if (e) {
            pubsub_chan *entry = e->v.ptr;
            pubsub_subs_remove(shard ? &entry->shard : &entry->plain, c);
            if (entry->plain.len == 0 && entry->shard.len == 0)
                dict_delete(s->pubsub_channels, ch, len);
        }
        /* Deleting frees the key, which ch may point at: reply first. */
        if (notify)
            pubsub_reply_event(c, shard ? "sunsubscribe" : "unsubscribe", ch, len,
                               pubsub_reply_count(c, shard) - 1);
        dict_delete(mine, ch, len);
        return was;
    }
    if (notify)
        pubsub_reply_event(c, shard ? "sunsubscribe" : "unsubscribe", ch, len,
                           pubsub_reply_count(c, shard));
    return was;
}

static void pubsub_subscribe_pattern(client *c, const char *pat, size_t len)
{
    pubsub_client_state *ps = &c->pubsub;
    if (!ps->patterns)
        ps->patterns = dict_create(&dict_type_plain);
    dict_entry *mine = dict_add(ps->patterns, pat, len, NULL);
    if (mine) {
        mine->v.u64 = ++ps->pattern_seq;
        srv *s = c->srv;
        dict_entry *e = dict_find(s->pubsub_patterns, pat, len);
        if (!e) {
            e = dict_add(s->pubsub_patterns, pat, len, NULL);
            e->v.ptr = mem_calloc(sizeof(pubsub_subs));
        }
        pubsub_subs_push(e->v.ptr, c);
    }
    pubsub_reply_event(c, "psubscribe", pat, len, pubsub_reply_count(c, 0));
}

static int pubsub_unsubscribe_pattern(client *c, const char *pat, size_t len, int notify)
{
    dict *mine = c->pubsub.patterns;
    if (mine && dict_find(mine, pat, len)) {
        srv *s = c->srv;
        dict_entry *e = dict_find(s->pubsub_patterns, pat, len);
        if (e) {
            pubsub_subs *subs = e->v.ptr;
            pubsub_subs_remove(subs, c);
            if (subs->len == 0)
                dict_delete(s->pubsub_patterns, pat, len);
        }
        if (notify)
            pubsub_reply_event(c, "punsubscribe", pat, len, pubsub_reply_count(c, 0) - 1);
        dict_delete(mine, pat, len);
        return 1;
    }
    if (notify)
        pubsub_reply_event(c, "punsubscribe", pat, len, pubsub_reply_count(c, 0));
    return 0;
}

/* ---- unsubscribing from everything --------------------------------------- */

typedef struct pubsub_name {
    kstr name;
    uint64_t seq;
} pubsub_name;

/* Copy the keys of d (the loop below deletes from d). */
static pubsub_name *pubsub_names_of(dict *d, size_t *n)
{
    *n = d ? dict_size(d) : 0;
    if (*n == 0)
        return NULL;
    pubsub_name *names = mem_alloc(sizeof(*names) * *n);
    size_t i = 0;
    dict_iter it;
    dict_iter_init(d, &it, 0);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL && i < *n) {
        names[i].name = kstr_dup(e->key);
        names[i].seq = e->v.u64;
        i++;
    }
    dict_iter_release(&it);
    *n = i;
    return names;
}

static int pubsub_name_cmp_seq(const void *a, const void *b)
{
    const pubsub_name *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void pubsub_drop_dict(dict **d)
{
    if (*d && dict_size(*d) == 0) {
        dict_free(*d);
        *d = NULL;
    }
}

static void pubsub_unsubscribe_all_channels(client *c, int shard, int notify)
{
    size_t n;
    pubsub_name *names = pubsub_names_of(*pubsub_client_dict(c, shard), &n);
    for (size_t i = 0; i < n; i++) {
        pubsub_unsubscribe_channel(c, names[i].name, kstr_len(names[i].name), shard, notify);
        kstr_free(names[i].name);
    }
    mem_free(names);
    if (n == 0 && notify)
        pubsub_reply_event(c, shard ? "sunsubscribe" : "unsubscribe", NULL, 0,
                           pubsub_reply_count(c, shard));
    pubsub_drop_dict(pubsub_client_dict(c, shard));
}

/* 7.0 keeps a client's patterns in a list: they go in subscription order. */
static void pubsub_unsubscribe_all_patterns(client *c, int notify)
{
    size_t n;
    pubsub_name *names = pubsub_names_of(c->pubsub.patterns, &n);
    if (n > 1)
        qsort(names, n, sizeof(*names), pubsub_name_cmp_seq);
    for (size_t i = 0; i < n; i++) {
        pubsub_unsubscribe_pattern(c, names[i].name, kstr_len(names[i].name), notify);
        kstr_free(names[i].name);
    }
    mem_free(names);
    if (n == 0 && notify)
        pubsub_reply_event(c, "punsubscribe", NULL, 0, pubsub_reply_count(c, 0));
    pubsub_drop_dict(&c->pubsub.patterns);
}

void pubsub_unsubscribe_all(client *c, int notify)
{
    pubsub_unsubscribe_all_channels(c, 0, notify);
    pubsub_unsubscribe_all_channels(c, 1, notify);
    pubsub_unsubscribe_all_patterns(c, notify);
    pubsub_update_flag(c);
}

/* ---- delivery ------------------------------------------------------------ */

static void pubsub_send_message(client *r, const char *kind, size_t kindlen, const char *pat,
                                size_t patlen, const char *ch, size_t chlen, const char *msg,
                                size_t mlen)
{
    uint32_t saved = pubsub_push_begin(r);
    reply_push(r, pat ? 4 : 3);
    reply_bulk(r, kind, kindlen);
    if (pat)
        reply_bulk(r, pat, patlen);
    reply_bulk(r, ch, chlen);
    reply_bulk(r, msg, mlen);
    pubsub_push_end(r, saved);
    client_schedule_write(r);
}

/* Receivers are copied out first: writing to one may close it for its
 * output limit, which unsubscribes it from the lists we would be walking. */
typedef struct pubsub_target {
    client *c;
    size_t pat;      /* index into the pattern names, or (size_t)-1 */
} pubsub_target;

typedef struct pubsub_batch {
    pubsub_target *t;
    size_t len;
    size_t cap;
    kstr *pats;
    size_t npats;
    size_t patcap;
} pubsub_batch;

static void pubsub_batch_add(pubsub_batch *b, const pubsub_subs *subs, size_t pat)
{
    if (b->len + subs->len > b->cap) {
        size_t cap = b->cap ? b->cap : 8;
        while (cap < b->len + subs->len)
            cap *= 2;
        b->t = mem_realloc(b->t, sizeof(*b->t) * cap);
        b->cap = cap;
    }
    for (size_t i = 0; i < subs->len; i++) {
        b->t[b->len].c = subs->v[i];
        b->t[b->len].pat = pat;
        b->len++;
    }
}

static void pubsub_batch_add_pattern(pubsub_batch *b, const dict_entry *e)
{
    if (b->npats == b->patcap) {
        b->patcap = b->patcap ? b->patcap * 2 : 4;
        b->pats = mem_realloc(b->pats, sizeof(*b->pats) * b->patcap);
    }
    b->pats[b->npats] = kstr_dup(e->key);
    pubsub_batch_add(b, e->v.ptr, b->npats);
    b->npats++;
}

static void pubsub_batch_free(pubsub_batch *b)
{
    for (size_t i = 0; i < b->npats; i++)
        kstr_free(b->pats[i]);
    mem_free(b->pats);
    mem_free(b->t);
}

static void pubsub_collect_patterns(srv *s, pubsub_batch *b, const char *ch, size_t chlen)
{
    if (dict_size(s->pubsub_patterns) == 0)
        return;
    dict_iter it;
    dict_iter_init(s->pubsub_patterns, &it, 0);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        if (util_glob_match(e->key, kstr_len(e->key), ch, chlen, 0))
            pubsub_batch_add_pattern(b, e);
    }
    dict_iter_release(&it);
}

static void pubsub_deliver(pubsub_batch *b, int shard, const char *ch, size_t chlen,
                           const char *msg, size_t mlen)
{
    for (size_t i = 0; i < b->len; i++) {
        client *r = b->t[i].c;
        if (r->flags & (CLIENT_CLOSING | CLIENT_CLOSE_ASAP))
            continue;
        if (b->t[i].pat != (size_t)-1) {
            kstr p = b->pats[b->t[i].pat];
            pubsub_send_message(r, "pmessage", 8, p, kstr_len(p), ch, chlen, msg, mlen);
        } else if (shard) {
            pubsub_send_message(r, "smessage", 8, NULL, 0, ch, chlen, msg, mlen);
        } else {
            pubsub_send_message(r, "message", 7, NULL, 0, ch, chlen, msg, mlen);
        }
    }
}

static long long pubsub_publish_kind(srv *s, int shard, const char *ch, size_t chlen,
                                     const char *msg, size_t mlen)
{
    pubsub_batch b;
    memset(&b, 0, sizeof(b));
    pubsub_chan *entry = pubsub_chan_get(s, ch, chlen, 0);
    if (entry)
        pubsub_batch_add(&b, shard ? &entry->shard : &entry->plain, (size_t)-1);
    if (!shard)
        pubsub_collect_patterns(s, &b, ch, chlen);
    long long receivers = (long long)b.len;
    pubsub_deliver(&b, shard, ch, chlen, msg, mlen);
    pubsub_batch_free(&b);
    s->stats.pubsub_messages++;
    return receivers;
}

long long pubsub_publish(srv *s, const char *ch, size_t chlen, const char *msg, size_t mlen)
{
    return pubsub_publish_kind(s, 0, ch, chlen, msg, mlen);
}

/* ---- commands ------------------------------------------------------------ */

static void pubsub_cmd_subscribe(client *c)
{
    for (int i = 1; i < c->argc; i++)
        pubsub_subscribe_channel(c, c->argv[i].ptr, c->argv[i].len, 0);
    pubsub_update_flag(c);
}

/* Inside EXEC 7.0 refuses SSUBSCRIBE (a client that expects one reply per
 * command), while SUBSCRIBE stays allowed for backward compatibility. */
static void pubsub_cmd_ssubscribe(client *c)
{
    if (c->flags & CLIENT_IN_EXEC) {
        reply_error(c, "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    for (int i = 1; i < c->argc; i++)
        pubsub_subscribe_channel(c, c->argv[i].ptr, c->argv[i].len, 1);
    pubsub_update_flag(c);
}

static void pubsub_cmd_unsubscribe_kind(client *c, int shard)
{
    if (c->argc == 1) {
        pubsub_unsubscribe_all_channels(c, shard, 1);
    } else {
        for (int i = 1; i < c->argc; i++)
            pubsub_unsubscribe_channel(c, c->argv[i].ptr, c->argv[i].len, shard, 1);
        pubsub_drop_dict(pubsub_client_dict(c, shard));
    }
    pubsub_update_flag(c);
}

static void pubsub_cmd_unsubscribe(client *c)
{
    pubsub_cmd_unsubscribe_kind(c, 0);
}

static void pubsub_cmd_sunsubscribe(client *c)
{
    pubsub_cmd_unsubscribe_kind(c, 1);
}

static void pubsub_cmd_psubscribe(client *c)
{
    for (int i = 1; i < c->argc; i++)
        pubsub_subscribe_pattern(c, c->argv[i].ptr, c->argv[i].len);
    pubsub_update_flag(c);
}

static void pubsub_cmd_punsubscribe(client *c)
{
    if (c->argc == 1) {
        pubsub_unsubscribe_all_patterns(c, 1);
    } else {
        for (int i = 1; i < c->argc; i++)
            pubsub_unsubscribe_pattern(c, c->argv[i].ptr, c->argv[i].len, 1);
        pubsub_drop_dict(&c->pubsub.patterns);
    }
    pubsub_update_flag(c);
}

/* PUBLISH and SPUBLISH reach replicas even though they change no key, as
 * 7.0's forced propagation does; cmd_call propagates extras unconditionally. */
static void pubsub_cmd_publish(client *c)
{
    long long n = pubsub_publish_kind(c->srv, 0, c->argv[1].ptr, c->argv[1].len,
                                      c->argv[2].ptr, c->argv[2].len);
    cmd_also_propagate(c, c->argc, c->argv);
    reply_int(c, n);
}

static void pubsub_cmd_spublish(client *c)
{
    long long n = pubsub_publish_kind(c->srv, 1, c->argv[1].ptr, c->argv[1].len,
                                      c->argv[2].ptr, c->argv[2].len);
    cmd_also_propagate(c, c->argc, c->argv);
    reply_int(c, n);
}

/* ---- PUBSUB introspection ------------------------------------------------ */

static void pubsub_reply_channels(client *c, int shard)
{
    const resp_arg *pat = c->argc == 3 ? &c->argv[2] : NULL;
    void *len = reply_defer_len(c);
    long long n = 0;
    dict_iter it;
    dict_iter_init(c->srv->pubsub_channels, &it, 0);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        pubsub_chan *ch = e->v.ptr;
        if ((shard ? ch->shard.len : ch->plain.len) == 0)
            continue;
        if (pat && !util_glob_match(pat->ptr, pat->len, e->key, kstr_len(e->key), 0))
            continue;
        reply_bulk_kstr(c, e->key);
        n++;
    }
    dict_iter_release(&it);
    reply_set_deferred_len(c, len, n);
}

static void pubsub_reply_numsub(client *c, int shard)
{
    reply_array(c, (long long)(c->argc - 2) * 2);
    for (int i = 2; i < c->argc; i++) {
        pubsub_chan *ch = pubsub_chan_get(c->srv, c->argv[i].ptr, c->argv[i].len, 0);
        reply_bulk(c, c->argv[i].ptr, c->argv[i].len);
        reply_int(c, ch ? (long long)(shard ? ch->shard.len : ch->plain.len) : 0);
    }
}

/* Redis prints argv[1] with %.128s: at most 128 bytes, up to a NUL. */
static int pubsub_name_prec(const resp_arg *a)
{
    size_t n = a->len < 128 ? a->len : 128;
    const char *nul = memchr(a->ptr, '\0', n);
    return (int)(nul ? (size_t)(nul - a->ptr) : n);
}

static void pubsub_reply_syntax(client *c)
{
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try PUBSUB HELP.",
                 pubsub_name_prec(&c->argv[1]), c->argv[1].ptr);
}

static int pubsub_sub_is(const client *c, const char *name)
{
    return util_strcasecmp_len(c->argv[1].ptr, c->argv[1].len, name) == 0;
}

static const char *pubsub_help_lines[] = {
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    NULL,
};

/* Subcommand arity errors and unknown subcommands are answered here with
 * the texts Redis' dispatcher uses for container commands. */
static void pubsub_cmd_pubsub(client *c)
{
    if (pubsub_sub_is(c, "help")) {
        if (c->argc != 2)
            reply_error(c, "ERR wrong number of arguments for 'pubsub|help' command");
        else
            reply_help(c, "PUBSUB", pubsub_help_lines);
    } else if (pubsub_sub_is(c, "numpat")) {
        if (c->argc != 2)
            reply_error(c, "ERR wrong number of arguments for 'pubsub|numpat' command");
        else
            reply_int(c, (long long)pubsub_count_patterns(c->srv));
    } else if (pubsub_sub_is(c, "channels") || pubsub_sub_is(c, "shardchannels")) {
        if (c->argc > 3)
            pubsub_reply_syntax(c);
        else
            pubsub_reply_channels(c, pubsub_sub_is(c, "shardchannels"));
    } else if (pubsub_sub_is(c, "numsub")) {
        pubsub_reply_numsub(c, 0);
    } else if (pubsub_sub_is(c, "shardnumsub")) {
        pubsub_reply_numsub(c, 1);
    } else {
        reply_errorf(c, "ERR unknown subcommand '%.*s'. Try PUBSUB HELP.",
                     pubsub_name_prec(&c->argv[1]), c->argv[1].ptr);
    }
}

#define PUBSUB_SUB_FLAGS (CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define PUBSUB_PUB_FLAGS (CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE)

const cmd_def pubsub_commands[] = {
    {"subscribe", pubsub_cmd_subscribe, -2, PUBSUB_SUB_FLAGS, 0, 0, 0, "@pubsub @slow"},
    {"unsubscribe", pubsub_cmd_unsubscribe, -1, PUBSUB_SUB_FLAGS, 0, 0, 0, "@pubsub @slow"},
    {"psubscribe", pubsub_cmd_psubscribe, -2, PUBSUB_SUB_FLAGS, 0, 0, 0, "@pubsub @slow"},
    {"punsubscribe", pubsub_cmd_punsubscribe, -1, PUBSUB_SUB_FLAGS, 0, 0, 0, "@pubsub @slow"},
    {"ssubscribe", pubsub_cmd_ssubscribe, -2, PUBSUB_SUB_FLAGS, 1, -1, 1, "@pubsub @slow"},
    {"sunsubscribe", pubsub_cmd_sunsubscribe, -1, PUBSUB_SUB_FLAGS, 1, -1, 1, "@pubsub @slow"},
    {"publish", pubsub_cmd_publish, 3, PUBSUB_PUB_FLAGS, 0, 0, 0, "@pubsub @fast"},
    {"spublish", pubsub_cmd_spublish, 3, PUBSUB_PUB_FLAGS, 1, 1, 1, "@pubsub @fast"},
    {"pubsub", pubsub_cmd_pubsub, -2, CMD_PUBSUB | CMD_LOADING | CMD_STALE, 0, 0, 0, "@pubsub @slow"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
