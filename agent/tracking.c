/* tracking: CLIENT TRACKING, Redis 7.0's client-side caching (see
 * tracking.h for the model).
 *
 * Tables, all keyed by bytes:
 * - clients:  client id -> trk_client, one per client with tracking on;
 * - table:    key -> set of client ids that read it (default mode). Ids are
 *             not removed when a client turns tracking off or leaves, as in
 *             Redis: the next invalidation of the key simply skips them;
 * - prefixes: prefix -> trk_prefix (BCAST): its clients and the keys
 *             modified since the last broadcast, each with the id of the
 *             client whose command modified it (for NOLOOP).
 *
 * Who "caused" a change matters twice: NOLOOP skips the client's own
 * changes, and an invalidation for the client whose command is running is
 * held (pending) until that command is done, so it follows the reply. The
 * cause is the current client, or the caller of the running script. Like
 * Redis, a BCAST change made by a script or by key expiry counts as made by
 * nobody. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "tracking.h"
#include "client.h"
#include "server.h"
#include "command.h"
#include "config.h"
#include "reply.h"
#include "pubsub.h"
#include "script.h"
#include "dict.h"
#include "kstr.h"
#include "mem.h"
#include "util.h"

#define TRK_CHANNEL "__redis__:invalidate"
#define TRK_CHANNEL_LEN 20
/* Keys invalidated per round to get the table under tracking-table-max-keys;
 * each round still over the limit adds as much again (Redis' effort). */
#define TRK_LIMIT_EFFORT 100

enum {
    TRK_BCAST   = 1 << 0,
    TRK_OPTIN   = 1 << 1,
    TRK_OPTOUT  = 1 << 2,
    TRK_NOLOOP  = 1 << 3,
    TRK_CACHING = 1 << 4,  /* CLIENT CACHING given for the next command */
    TRK_BROKEN  = 1 << 5,  /* the redirect client is gone */
};

typedef struct trk_client {
    client *c;
    uint32_t mode;
    uint64_t redirect;     /* client id, 0 for none */
    client *redir;         /* that client while it lives, NULL once gone */
    dict *prefixes;        /* BCAST prefixes (keys only), NULL in default mode */
} trk_client;

typedef struct trk_prefix {
    dict *clients;         /* id -> trk_client* */
    dict *keys;            /* key -> v.u64 id of the modifier (0: nobody) */
} trk_prefix;

typedef struct trk_pending {
    uint64_t id;           /* the tracking client */
    kstr key;              /* NULL: a flush */
} trk_pending;

typedef struct trk_state {
    dict *clients;
    dict *table;
    dict *prefixes;
    size_t items;          /* ids in the table, summed over keys */
    int used;              /* tracking was ever turned on (Redis' TrackingTable) */
    long long max_keys;    /* tracking-table-max-keys, 0: no limit */
    unsigned limit_rounds; /* consecutive rounds that ended over the limit */
    int depth;             /* nested cmd_call level */
    /* Bumped by every command and loop iteration: a FLUSHALL empties every
     * db but is one flush for its clients. */
    uint64_t serial;
    uint64_t flushed_serial;
    int flushed_any;
    long long seen_expired; /* stats.expired_keys at the last change */
    trk_pending *pending;
    size_t npending;
    size_t pending_cap;
} trk_state;

/* A message body: one key, a flush (a null in the tracking client's
 * protocol) or a BCAST batch (keys, minus those changed by skip). */
typedef struct trk_msg {
    const char *key;
    size_t keylen;
    int null_proto;
    const kstr *keys;
    const uint64_t *origins;
    size_t nkeys;
    uint64_t skip;
} trk_msg;

/* ---- state --------------------------------------------------------------- */

static void trk_ids_free(void *p)
{
    if (p)
        dict_free(p);
}

static void trk_client_free(void *p)
{
    trk_client *rec = p;
    if (!rec)
        return;
    if (rec->prefixes)
        dict_free(rec->prefixes);
    mem_free(rec);
}

static void trk_prefix_free(void *p)
{
    trk_prefix *pr = p;
    if (!pr)
        return;
    dict_free(pr->clients);
    dict_free(pr->keys);
    mem_free(pr);
}

static const dict_type trk_table_type = { trk_ids_free };
static const dict_type trk_clients_type = { trk_client_free };
static const dict_type trk_prefixes_type = { trk_prefix_free };

static void trk_read_max_keys(void *priv, const char *name, const char *value)
{
    (void)name;
    long long v;
    if (util_str_to_ll(value, strlen(value), &v) && v >= 0)
        *(long long *)priv = v;
}

static int trk_config_applied(srv *s, void *priv, const char *name, char *err, size_t errlen)
{
    (void)priv;
    (void)err;
    (void)errlen;
    trk_state *st = s->tracking;
    if (st && strcasecmp(name, "tracking-table-max-keys") == 0)
        cfg_get(&s->config, "tracking-table-max-keys", 23, trk_read_max_keys, &st->max_keys);
    return 0;
}

static void trk_limit(srv *s, trk_state *st);

static void trk_cron(srv *s, void *priv)
{
    (void)priv;
    trk_state *st = s->tracking;
    if (st)
        trk_limit(s, st);
}

/* Redis checks the table's size before every command it processes. */
static const char *trk_guard(client *c, const cmd_def *cmd, void *priv)
{
    (void)cmd;
    (void)priv;
    trk_state *st = c->srv->tracking;
    if (st && dict_size(st->clients) > 0)
        trk_limit(c->srv, st);
    return NULL;
}

void tracking_init(srv *s)
{
    trk_state *st = mem_calloc(sizeof(*st));
    st->clients = dict_create(&trk_clients_type);
    st->table = dict_create(&trk_table_type);
    st->prefixes = dict_create(&trk_prefixes_type);
    st->max_keys = 1000000;
    cfg_get(&s->config, "tracking-table-max-keys", 23, trk_read_max_keys, &st->max_keys);
    st->seen_expired = s->stats.expired_keys;
    s->tracking = st;
    /* Config hooks and crons are dropped with the server (srv_release);
     * command guards are a process-wide list that lives on: add it once. */
    srv_add_config_apply(s, trk_config_applied, NULL);
    srv_add_cron(s, trk_cron, NULL);
    static int guard_added;
    if (!guard_added) {
        cmd_add_guard(trk_guard, NULL);
        guard_added = 1;
    }
}

void tracking_release(srv *s)
{
    trk_state *st = s->tracking;
    if (!st)
        return;
    for (size_t i = 0; i < st->npending; i++)
        kstr_free(st->pending[i].key);
    mem_free(st->pending);
    dict_free(st->clients);
    dict_free(st->table);
    dict_free(st->prefixes);
    mem_free(st);
    s->tracking = NULL;
}

static trk_client *trk_find(trk_state *st, uint64_t id)
{
    dict_entry *e = dict_find(st->clients, &id, sizeof(id));
    return e ? e->v.ptr : NULL;
}

static uint64_t trk_entry_id(const dict_entry *e)
{
    uint64_t id;
    memcpy(&id, e->key, sizeof(id));
    return id;
}

static client *trk_client_by_id(srv *s, uint64_t id)
{
    for (client *t = s->clients; t; t = t->next)
        if (t->id == id && !(t->flags & CLIENT_CLOSING))
            return t;
    return NULL;
}

/* The client a change is made for: the caller of a running script (whose
 * commands run through a fake client), otherwise the current client. */
static client *trk_cause(srv *s, int *in_script)
{
    script_running_info info;
    if (script_running(s, &info)) {
        *in_script = 1;
        return info.caller;
    }
    *in_script = 0;
    return s->current_client;
}

/* ---- sending ------------------------------------------------------------- */

static void trk_write_body(client *to, const trk_msg *m)
{
    if (m->null_proto) {
        if (m->null_proto > 2)
            reply_raw(to, "_\r\n", 3);
        else
            reply_raw(to, "$-1\r\n", 5);
        return;
    }
    if (m->keys) {
        size_t n = 0;
        for (size_t i = 0; i < m->nkeys; i++)
            if (!m->skip || m->origins[i] != m->skip)
                n++;
        reply_array(to, (long long)n);
        for (size_t i = 0; i < m->nkeys; i++)
            if (!m->skip || m->origins[i] != m->skip)
                reply_bulk_kstr(to, m->keys[i]);
        return;
    }
    reply_array(to, 1);
    reply_bulk(to, m->key, m->keylen);
}

/* RESP3 clients hear that their redirection broke; RESP2 ones cannot. */
static void trk_send_broken(trk_client *rec)
{
    client *c = rec->c;
    rec->mode |= TRK_BROKEN;
    if (c->resp_version < 3)
        return;
    uint32_t saved = pubsub_push_begin(c);
    reply_push(c, 2);
    reply_bulk(c, "tracking-redir-broken", 21);
    reply_int(c, (long long)rec->redirect);
    pubsub_push_end(c, saved);
}

/* One invalidation for rec: a push to a RESP3 connection (its own, or the
 * one it redirects to); a __redis__:invalidate message to a RESP2
 * redirection that is in pub/sub mode; nothing to a RESP2 client without
 * redirection (RESP2 has no out-of-band replies). */
static void trk_send(trk_client *rec, const trk_msg *m)
{
    client *to = rec->c;
    int redirected = 0;
    if (rec->redirect) {
        if (rec->redir == NULL) {
            trk_send_broken(rec);
            return;
        }
        to = rec->redir;
        redirected = 1;
    }
    if (to->resp_version < 3 && !(redirected && (to->flags & CLIENT_PUBSUB)))
        return;
    uint32_t saved = pubsub_push_begin(to);
    if (to->resp_version >= 3) {
        reply_push(to, 2);
        reply_bulk(to, "invalidate", 10);
    } else {
        reply_array(to, 3);
        reply_bulk(to, "message", 7);
        reply_bulk(to, TRK_CHANNEL, TRK_CHANNEL_LEN);
    }
    trk_write_body(to, m);
    pubsub_push_end(to, saved);
}

static void trk_hold(trk_state *st, uint64_t id, const char *key, size_t len)
{
    if (st->npending == st->pending_cap) {
        st->pending_cap = st->pending_cap ? st->pending_cap * 2 : 8;
        st->pending = mem_realloc(st->pending, sizeof(*st->pending) * st->pending_cap);
    }
    st->pending[st->npending].id = id;
    st->pending[st->npending].key = key ? kstr_new(key, len) : NULL;
    st->npending++;
}

/* After the outermost command: what it caused for its own client. */
static void trk_deliver_pending(trk_state *st)
{
    for (size_t i = 0; i < st->npending; i++) {
        trk_pending *p = &st->pending[i];
        trk_client *rec = trk_find(st, p->id);
        if (rec) {
            trk_msg m = { .key = p->key, .keylen = p->key ? kstr_len(p->key) : 0 };
            if (!p->key)
                m.null_proto = rec->c->resp_version;
            trk_send(rec, &m);
        }
        kstr_free(p->key);
    }
    st->npending = 0;
}

/* ---- default mode: the table --------------------------------------------- */

/* Tell every client that read key, then forget the key. cause is the
 * client the change is made for (NOLOOP, and whose invalidations wait for
 * the end of its command). key must not point into the table. */
static void trk_invalidate(trk_state *st, const char *key, size_t len, client *cause)
{
    dict_entry *e = dict_find(st->table, key, len);
    if (!e)
        return;
    dict *ids = e->v.ptr;
    e->v.ptr = NULL;
    dict_delete(st->table, key, len);
    st->items -= dict_size(ids);
    dict_iter it;
    dict_iter_init(ids, &it, 0);
    dict_entry *ie;
    while ((ie = dict_iter_next(&it)) != NULL) {
        trk_client *rec = trk_find(st, trk_entry_id(ie));
        /* Keys read before a switch to BCAST are not reported. */
        if (!rec || (rec->mode & TRK_BCAST))
            continue;
        if ((rec->mode & TRK_NOLOOP) && rec->c == cause)
            continue;
        trk_msg m = { .key = key, .keylen = len };
        if (rec->c == cause && st->depth > 0)
            trk_hold(st, rec->c->id, key, len);
        else
            trk_send(rec, &m);
    }
    dict_iter_release(&it);
    dict_free(ids);
}

/* Under tracking-table-max-keys again by invalidating random keys, with an
 * effort that grows while a round is not enough (the cron and every command
 * come back to it). */
static void trk_limit(srv *s, trk_state *st)
{
    if (st->max_keys <= 0 || dict_size(st->table) <= (size_t)st->max_keys) {
        st->limit_rounds = 0;
        return;
    }
    int in_script;
    client *cause = trk_cause(s, &in_script);
    long long effort = TRK_LIMIT_EFFORT * ((long long)st->limit_rounds + 1);
    while (effort-- > 0) {
        dict_entry *e = dict_random(st->table);
        if (!e)
            break;
        kstr key = kstr_dup(e->key);
        trk_invalidate(st, key, kstr_len(key), cause);
        kstr_free(key);
        if (dict_size(st->table) <= (size_t)st->max_keys) {
            st->limit_rounds = 0;
            return;
        }
    }
    st->limit_rounds++;
}

static int trk_is_ro_script(const cmd_def *cmd)
{
    return strcmp(cmd->name, "eval_ro") == 0 || strcmp(cmd->name, "evalsha_ro") == 0 ||
           strcmp(cmd->name, "fcall_ro") == 0;
}

static int trk_wants_keys(const trk_client *rec)
{
    if (rec->mode & TRK_BCAST)
        return 0;
    int caching = (rec->mode & TRK_CACHING) != 0;
    if ((rec->mode & TRK_OPTIN) && !caching)
        return 0;
    if ((rec->mode & TRK_OPTOUT) && caching)
        return 0;
    return 1;
}

/* After a read-only command: its keys are remembered for the client that
 * asked. Inside a script that is the script's caller, and the keys are
 * those of the caller's command (EVAL's declared keys), as 7.0 does. The
 * read-only script commands themselves only count through what they call. */
static void trk_remember(trk_state *st, client *c, const cmd_def *cmd)
{
    if (!(cmd->flags & CMD_READONLY) || trk_is_ro_script(cmd))
        return;
    client *caller = c;
    if (c->flags & CLIENT_SCRIPT) {
        script_running_info info;
        if (!script_running(c->srv, &info) || info.caller == NULL)
            return;
        caller = info.caller;
    }
    trk_client *rec = trk_find(st, caller->id);
    if (!rec || !trk_wants_keys(rec) || caller->argc < 1)
        return;
    const cmd_def *called = cmd_lookup(caller->argv[0].ptr, caller->argv[0].len);
    /* Shard channels have key positions but are no keys to cache. */
    if (called && (called->flags & CMD_PUBSUB))
        return;
    int *pos = mem_alloc(sizeof(*pos) * (size_t)caller->argc);
    const char *err = NULL;
    int n = cmd_getkeys(caller->argc, caller->argv, pos, &err);
    uint64_t id = caller->id;
    for (int i = 0; i < n; i++) {
        const resp_arg *k = &caller->argv[pos[i]];
        dict_entry *e = dict_find(st->table, k->ptr, k->len);
        if (!e) {
            e = dict_add(st->table, k->ptr, k->len, NULL);
            e->v.ptr = dict_create(&dict_type_plain);
        }
        if (dict_add(e->v.ptr, &id, sizeof(id), NULL))
            st->items++;
    }
    mem_free(pos);
}

/* ---- BCAST --------------------------------------------------------------- */

static void trk_bcast_note(trk_state *st, const char *key, size_t len, uint64_t cause_id)
{
    dict_iter it;
    dict_iter_init(st->prefixes, &it, 0);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        size_t plen = kstr_len(e->key);
        if (plen > len || memcmp(e->key, key, plen) != 0)
            continue;
        trk_prefix *pr = e->v.ptr;
        dict_entry *existing = NULL;
        dict_entry *k = dict_add(pr->keys, key, len, &existing);
        /* The last change decides whom NOLOOP spares. */
        (k ? k : existing)->v.u64 = cause_id;
    }
    dict_iter_release(&it);
}

static int trk_kstr_cmp(const void *a, const void *b)
{
    const kstr x = *(const kstr *)a, y = *(const kstr *)b;
    size_t lx = kstr_len(x), ly = kstr_len(y);
    int r = memcmp(x, y, lx < ly ? lx : ly);
    if (r != 0)
        return r;
    return lx < ly ? -1 : lx > ly;
}

/* The keys of d, sorted bytewise (the order Redis' radix trees give). */
static kstr *trk_sorted_keys(dict *d, size_t *n)
{
    *n = d ? dict_size(d) : 0;
    if (*n == 0)
        return NULL;
    kstr *v = mem_alloc(sizeof(*v) * *n);
    size_t i = 0;
    dict_iter it;
    dict_iter_init(d, &it, 0);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL && i < *n)
        v[i++] = kstr_dup(e->key);
    dict_iter_release(&it);
    *n = i;
    qsort(v, i, sizeof(*v), trk_kstr_cmp);
    return v;
}

static void trk_free_keys(kstr *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kstr_free(v[i]);
    mem_free(v);
}

static void trk_broadcast_prefix(trk_prefix *pr)
{
    size_t n;
    kstr *keys = trk_sorted_keys(pr->keys, &n);
    uint64_t *origins = mem_alloc(sizeof(*origins) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        origins[i] = dict_find(pr->keys, keys[i], kstr_len(keys[i]))->v.u64;
    dict_iter it;
    dict_iter_init(pr->clients, &it, 0);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        trk_client *rec = e->v.ptr;
        trk_msg m = { .keys = keys, .origins = origins, .nkeys = n };
        if (rec->mode & TRK_NOLOOP) {
            m.skip = rec->c->id;
            size_t left = 0;
            for (size_t i = 0; i < n; i++)
                left += origins[i] != m.skip;
            if (left == 0)
                continue;
        }
        trk_send(rec, &m);
    }
    dict_iter_release(&it);
    mem_free(origins);
    trk_free_keys(keys, n);
    dict_clear(pr->keys);
}

void tracking_before_sleep(srv *s)
{
    trk_state *st = s->tracking;
    if (!st)
        return;
    st->serial++;
    if (dict_size(st->clients) == 0 || dict_size(st->prefixes) == 0)
        return;
    size_t n;
    kstr *names = trk_sorted_keys(st->prefixes, &n);
    for (size_t i = 0; i < n; i++) {
        dict_entry *e = dict_find(st->prefixes, names[i], kstr_len(names[i]));
        trk_prefix *pr = e ? e->v.ptr : NULL;
        if (pr && dict_size(pr->keys) > 0)
            trk_broadcast_prefix(pr);
    }
    trk_free_keys(names, n);
}

/* ---- seams --------------------------------------------------------------- */

void tracking_key_modified(srv *s, const char *key, size_t len)
{
    trk_state *st = s->tracking;
    if (!st)
        return;
    /* db.c counts an expired key just before deleting it: a change that
     * comes with a new count is an expiry, which BCAST's NOLOOP never
     * attributes to the client whose read found the key expired. */
    int expiry = s->stats.expired_keys != st->seen_expired;
    st->seen_expired = s->stats.expired_keys;
    if (!st->used)
        return;
    int in_script;
    client *cause = trk_cause(s, &in_script);
    if (dict_size(st->prefixes) > 0)
        trk_bcast_note(st, key, len, (expiry || in_script || !cause) ? 0 : cause->id);
    if (dict_size(st->table) > 0)
        trk_invalidate(st, key, len, cause);
}

void tracking_db_flushed(srv *s)
{
    trk_state *st = s->tracking;
    if (!st)
        return;
    if (st->flushed_any && st->flushed_serial == st->serial)
        return;
    st->flushed_any = 1;
    st->flushed_serial = st->serial;
    int in_script;
    client *cause = trk_cause(s, &in_script);
    dict_iter it;
    dict_iter_init(st->clients, &it, 0);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        trk_client *rec = e->v.ptr;
        if (rec->c == cause && st->depth > 0) {
            trk_hold(st, rec->c->id, NULL, 0);
        } else {
            trk_msg m = { .null_proto = rec->c->resp_version };
            trk_send(rec, &m);
        }
    }
    dict_iter_release(&it);
    dict_clear(st->table);
    st->items = 0;
}

void tracking_call_begin(srv *s)
{
    trk_state *st = s->tracking;
    if (!st)
        return;
    st->depth++;
    st->serial++;
}

void tracking_call_end(client *c, const cmd_def *cmd)
{
    trk_state *st = c->srv->tracking;
    if (!st)
        return;
    if (st->depth > 0)
        st->depth--;
    if (dict_size(st->clients) > 0)
        trk_remember(st, c, cmd);
    if (st->depth > 0)
        return;
    if (st->npending > 0)
        trk_deliver_pending(st);
    /* CLIENT CACHING covers the next command (a whole transaction), and
     * CLIENT's own subcommands do not use it up. */
    trk_client *rec = dict_size(st->clients) ? trk_find(st, c->id) : NULL;
    if (rec && !(c->flags & CLIENT_MULTI) && strcmp(cmd->name, "client") != 0)
        rec->mode &= ~(uint32_t)TRK_CACHING;
}

/* ---- enabling and disabling ---------------------------------------------- */

static void trk_add_prefix(trk_state *st, trk_client *rec, const char *p, size_t len)
{
    if (!rec->prefixes)
        rec->prefixes = dict_create(&dict_type_plain);
    if (!dict_add(rec->prefixes, p, len, NULL))
        return;
    dict_entry *e = dict_find(st->prefixes, p, len);
    if (!e) {
        e = dict_add(st->prefixes, p, len, NULL);
        trk_prefix *pr = mem_calloc(sizeof(*pr));
        pr->clients = dict_create(&dict_type_plain);
        pr->keys = dict_create(&dict_type_plain);
        e->v.ptr = pr;
    }
    uint64_t id = rec->c->id;
    dict_entry *ce = dict_add(((trk_prefix *)e->v.ptr)->clients, &id, sizeof(id), NULL);
    if (ce)
        ce->v.ptr = rec;
}

static void trk_disable(trk_state *st, trk_client *rec)
{
    uint64_t id = rec->c->id;
    if (rec->prefixes) {
        dict_iter it;
        dict_iter_init(rec->prefixes, &it, 0);
        dict_entry *e;
        while ((e = dict_iter_next(&it)) != NULL) {
            dict_entry *pe = dict_find(st->prefixes, e->key, kstr_len(e->key));
            if (!pe)
                continue;
            trk_prefix *pr = pe->v.ptr;
            dict_delete(pr->clients, &id, sizeof(id));
            if (dict_size(pr->clients) == 0)
                dict_delete(st->prefixes, e->key, kstr_len(e->key));
        }
        dict_iter_release(&it);
    }
    dict_delete(st->clients, &id, sizeof(id));
}

static trk_client *trk_enable(trk_state *st, client *c, uint64_t redirect, client *redir,
                              uint32_t options, const resp_arg *const *prefixes, size_t n)
{
    trk_client *rec = trk_find(st, c->id);
    if (!rec) {
        uint64_t id = c->id;
        dict_entry *e = dict_add(st->clients, &id, sizeof(id), NULL);
        rec = mem_calloc(sizeof(*rec));
        rec->c = c;
        e->v.ptr = rec;
    }
    st->used = 1;
    rec->mode &= TRK_CACHING;
    rec->redirect = redirect;
    rec->redir = redir;
    if (options & TRK_BCAST) {
        rec->mode |= TRK_BCAST;
        if (n == 0)
            trk_add_prefix(st, rec, "", 0);
        for (size_t i = 0; i < n; i++)
            trk_add_prefix(st, rec, prefixes[i]->ptr, prefixes[i]->len);
    }
    rec->mode |= options & (TRK_OPTIN | TRK_OPTOUT | TRK_NOLOOP);
    return rec;
}

void tracking_client_reset(client *c)
{
    trk_state *st = c->srv->tracking;
    if (!st || dict_size(st->clients) == 0)
        return;
    trk_client *rec = trk_find(st, c->id);
    if (rec)
        trk_disable(st, rec);
}

void tracking_client_gone(client *c)
{
    trk_state *st = c->srv->tracking;
    if (!st || dict_size(st->clients) == 0)
        return;
    tracking_client_reset(c);
    dict_iter it;
    dict_iter_init(st->clients, &it, 0);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        trk_client *rec = e->v.ptr;
        if (rec->redir == c)
            rec->redir = NULL;
    }
    dict_iter_release(&it);
}

/* ---- CLIENT TRACKING ----------------------------------------------------- */

static int trk_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

static int trk_overlap(const char *a, size_t alen, const char *b, size_t blen)
{
    return memcmp(a, b, alen < blen ? alen : blen) == 0;
}

/* Redis prints the prefixes with %s: up to a NUL byte. */
static int trk_cstr_len(const char *p, size_t len)
{
    const char *nul = memchr(p, '\0', len);
    return (int)(nul ? (size_t)(nul - p) : len);
}

/* Prefixes of one client must not overlap, with its existing ones or with
 * each other. Returns 0 after replying the error.
 *
 * Redis 7.0.15 quirk, kept for byte-compatibility: two provided prefixes
 * that overlap are refused only when the first of them is the first
 * prefix given; otherwise the error is replied and tracking is turned on
 * anyway (its check returns the index of the prefix as the verdict), so
 * the command gets the error and then +OK. */
static int trk_check_prefixes(client *c, trk_client *rec, const resp_arg *const *p, size_t n)
{
    size_t nold = 0;
    kstr *old = rec ? trk_sorted_keys(rec->prefixes, &nold) : NULL;
    int ok = 1, done = 0;
    for (size_t i = 0; i < n && ok && !done; i++) {
        for (size_t k = 0; k < nold && ok; k++) {
            if (trk_overlap(old[k], kstr_len(old[k]), p[i]->ptr, p[i]->len)) {
                reply_errorf(c, "ERR Prefix '%.*s' overlaps with an existing prefix '%.*s'. "
                             "Prefixes for a single client must not overlap.",
                             trk_cstr_len(p[i]->ptr, p[i]->len), p[i]->ptr,
                             trk_cstr_len(old[k], kstr_len(old[k])), old[k]);
                ok = 0;
            }
        }
        for (size_t j = i + 1; j < n && ok && !done; j++) {
            if (trk_overlap(p[i]->ptr, p[i]->len, p[j]->ptr, p[j]->len)) {
                reply_errorf(c, "ERR Prefix '%.*s' overlaps with another provided prefix '%.*s'. "
                             "Prefixes for a single client must not overlap.",
                             trk_cstr_len(p[i]->ptr, p[i]->len), p[i]->ptr,
                             trk_cstr_len(p[j]->ptr, p[j]->len), p[j]->ptr);
                if (i == 0)
                    ok = 0;
                else
                    done = 1;
            }
        }
    }
    trk_free_keys(old, nold);
    return ok;
}

typedef struct trk_opts {
    uint32_t options;
    long long redirect;
    client *redir;
    const resp_arg **prefixes;
    size_t nprefixes;
} trk_opts;

/* The options after ON|OFF, checked as Redis checks them while parsing.
 * Returns 0 after replying an error. */
static int trk_parse_options(client *c, trk_opts *o)
{
    for (int j = 3; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const resp_arg *a = &c->argv[j];
        if (trk_arg_is(a, "redirect") && more) {
            j++;
            if (o->redirect != 0) {
                reply_error(c, "ERR A client can only redirect to a single other client");
                return 0;
            }
            if (!util_str_to_ll(c->argv[j].ptr, c->argv[j].len, &o->redirect)) {
                reply_error(c, ERR_NOT_INT);
                return 0;
            }
            o->redir = trk_client_by_id(c->srv, (uint64_t)o->redirect);
            if (o->redir == NULL) {
                reply_error(c, "ERR The client ID you want redirect to does not exist");
                return 0;
            }
        } else if (trk_arg_is(a, "bcast")) {
            o->options |= TRK_BCAST;
        } else if (trk_arg_is(a, "optin")) {
            o->options |= TRK_OPTIN;
        } else if (trk_arg_is(a, "optout")) {
            o->options |= TRK_OPTOUT;
        } else if (trk_arg_is(a, "noloop")) {
            o->options |= TRK_NOLOOP;
        } else if (trk_arg_is(a, "prefix") && more) {
            j++;
            o->prefixes[o->nprefixes++] = &c->argv[j];
        } else {
            reply_error(c, ERR_SYNTAX);
            return 0;
        }
    }
    return 1;
}

/* Returns 0 after replying why the options cannot apply to c now. */
static int trk_check_on(client *c, trk_client *rec, const trk_opts *o)
{
    uint32_t opt = o->options;
    if (!(opt & TRK_BCAST) && o->nprefixes) {
        reply_error(c, "ERR PREFIX option requires BCAST mode to be enabled");
        return 0;
    }
    if (rec && ((rec->mode & TRK_BCAST) != 0) != ((opt & TRK_BCAST) != 0)) {
        reply_error(c, "ERR You can't switch BCAST mode on/off before disabling tracking for this "
                       "client, and then re-enabling it with a different mode.");
        return 0;
    }
    if ((opt & TRK_BCAST) && (opt & (TRK_OPTIN | TRK_OPTOUT))) {
        reply_error(c, "ERR OPTIN and OPTOUT are not compatible with BCAST");
        return 0;
    }
    if ((opt & TRK_OPTIN) && (opt & TRK_OPTOUT)) {
        reply_error(c, "ERR You can't specify both OPTIN mode and OPTOUT mode");
        return 0;
    }
    uint32_t mode = rec ? rec->mode : 0;
    if (((opt & TRK_OPTIN) && (mode & TRK_OPTOUT)) || ((opt & TRK_OPTOUT) && (mode & TRK_OPTIN))) {
        reply_error(c, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
                       "client, and then re-enabling it with a different mode.");
        return 0;
    }
    if ((opt & TRK_BCAST) && !trk_check_prefixes(c, rec, o->prefixes, o->nprefixes))
        return 0;
    return 1;
}

void tracking_cmd_tracking(client *c)
{
    trk_state *st = c->srv->tracking;
    trk_opts o;
    memset(&o, 0, sizeof(o));
    o.prefixes = mem_alloc(sizeof(*o.prefixes) * (size_t)c->argc);
    if (!trk_parse_options(c, &o))
        goto done;
    trk_client *rec = trk_find(st, c->id);
    if (trk_arg_is(&c->argv[2], "on")) {
        if (!trk_check_on(c, rec, &o))
            goto done;
        trk_enable(st, c, (uint64_t)o.redirect, o.redir, o.options, o.prefixes, o.nprefixes);
    } else if (trk_arg_is(&c->argv[2], "off")) {
        if (rec)
            trk_disable(st, rec);
    } else {
        reply_error(c, ERR_SYNTAX);
        goto done;
    }
    reply_ok(c);
done:
    mem_free(o.prefixes);
}

void tracking_cmd_caching(client *c)
{
    trk_client *rec = trk_find(c->srv->tracking, c->id);
    if (!rec) {
        reply_error(c, "ERR CLIENT CACHING can be called only when the client is in tracking mode "
                       "with OPTIN or OPTOUT mode enabled");
        return;
    }
    const resp_arg *opt = &c->argv[2];
    if (trk_arg_is(opt, "yes")) {
        if (!(rec->mode & TRK_OPTIN)) {
            reply_error(c, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
    } else if (trk_arg_is(opt, "no")) {
        if (!(rec->mode & TRK_OPTOUT)) {
            reply_error(c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
    } else {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    rec->mode |= TRK_CACHING;
    reply_ok(c);
}

void tracking_cmd_getredir(client *c)
{
    trk_client *rec = trk_find(c->srv->tracking, c->id);
    reply_int(c, rec ? (long long)rec->redirect : -1);
}

static void trk_reply_flags(client *c, const trk_client *rec)
{
    const char *flags[8];
    int n = 0;
    flags[n++] = rec ? "on" : "off";
    uint32_t mode = rec ? rec->mode : 0;
    if (mode & TRK_BCAST)
        flags[n++] = "bcast";
    if (mode & TRK_OPTIN) {
        flags[n++] = "optin";
        if (mode & TRK_CACHING)
            flags[n++] = "caching-yes";
    }
    if (mode & TRK_OPTOUT) {
        flags[n++] = "optout";
        if (mode & TRK_CACHING)
            flags[n++] = "caching-no";
    }
    if (mode & TRK_NOLOOP)
        flags[n++] = "noloop";
    if (mode & TRK_BROKEN)
        flags[n++] = "broken_redirect";
    reply_set(c, n);
    for (int i = 0; i < n; i++)
        reply_bulk_cstr(c, flags[i]);
}

void tracking_cmd_trackinginfo(client *c)
{
    trk_client *rec = trk_find(c->srv->tracking, c->id);
    reply_map(c, 3);
    reply_bulk_cstr(c, "flags");
    trk_reply_flags(c, rec);
    reply_bulk_cstr(c, "redirect");
    reply_int(c, rec ? (long long)rec->redirect : -1);
    reply_bulk_cstr(c, "prefixes");
    size_t n;
    kstr *prefixes = trk_sorted_keys(rec ? rec->prefixes : NULL, &n);
    reply_array(c, (long long)n);
    for (size_t i = 0; i < n; i++)
        reply_bulk_kstr(c, prefixes[i]);
    trk_free_keys(prefixes, n);
}

/* ---- introspection ------------------------------------------------------- */

char *tracking_client_flags(const client *c, char *p)
{
    trk_state *st = c->srv->tracking;
    trk_client *rec = st && dict_size(st->clients) ? trk_find(st, c->id) : NULL;
    if (!rec)
        return p;
    *p++ = 't';
    if (rec->mode & TRK_BROKEN)
        *p++ = 'R';
    if (rec->mode & TRK_BCAST)
        *p++ = 'B';
    return p;
}

size_t tracking_clients(const srv *s)
{
    const trk_state *st = s->tracking;
    return st ? dict_size(st->clients) : 0;
}

size_t tracking_total_keys(const srv *s)
{
    const trk_state *st = s->tracking;
    return st ? dict_size(st->table) : 0;
}

size_t tracking_total_items(const srv *s)
{
    const trk_state *st = s->tracking;
    return st ? st->items : 0;
}

size_t tracking_total_prefixes(const srv *s)
{
    const trk_state *st = s->tracking;
    return st ? dict_size(st->prefixes) : 0;
}
