/* stream_cg: consumer groups of a stream (see stream_cg.h): the ordered id
 * map behind the pending entries lists, the group and consumer containers,
 * and what the stream type needs from them (free, dup, memory, RDB, the
 * groups part of XINFO). The commands are in t_stream_cg.c. */
#include <stdio.h>
#include <string.h>
#include "stream_cg.h"
#include "client.h"
#include "kstr.h"
#include "mem.h"
#include "rdb.h"
#include "reply.h"
#include "util.h"

/* ---- idmap: a skiplist keyed by the 128-bit id ------------------------- */

/* A quarter of the nodes reach each next level (as Redis' zset skiplist):
 * about 1.33 forward pointers per node, and 24 levels cover 2^48 entries. */
#define IDMAP_MAX_LEVEL 24

struct idmap_node {
    stream_id id;
    void *val;
    uint32_t level;
    idmap_node *next[];
};

struct idmap {
    idmap_node *head;          /* IDMAP_MAX_LEVEL forward pointers, no id */
    size_t size;
    int level;                 /* levels in use (>= 1) */
    uint64_t rng;              /* xorshift state for node levels */
    size_t bytes;              /* node bytes, for MEMORY USAGE */
};

static size_t idmap_node_size(uint32_t level)
{
    return sizeof(idmap_node) + (size_t)level * sizeof(idmap_node *);
}

idmap *idmap_new(void)
{
    idmap *m = mem_calloc(sizeof(*m));
    m->head = mem_calloc(idmap_node_size(IDMAP_MAX_LEVEL));
    m->head->level = IDMAP_MAX_LEVEL;
    m->level = 1;
    /* Any non-zero seed: the levels only need to look random, and a fixed
     * seed makes a map's shape reproducible in tests. */
    m->rng = 0x9E3779B97F4A7C15ull;
    m->bytes = sizeof(*m) + idmap_node_size(IDMAP_MAX_LEVEL);
    return m;
}

void idmap_free(idmap *m, void (*free_val)(void *))
{
    if (!m)
        return;
    idmap_node *n = m->head->next[0];
    while (n) {
        idmap_node *next = n->next[0];
        if (free_val)
            free_val(n->val);
        mem_free(n);
        n = next;
    }
    mem_free(m->head);
    mem_free(m);
}

size_t idmap_size(const idmap *m)
{
    return m->size;
}

static uint32_t idmap_random_level(idmap *m)
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    uint64_t r = m->rng;
    uint32_t level = 1;
    /* two random bits per level: 1 in 4 goes up */
    while (level < IDMAP_MAX_LEVEL && (r & 3) == 0) {
        level++;
        r >>= 2;
    }
    return level;
}

/* Fill update[] with, per level, the last node whose id is < id. */
static idmap_node *idmap_find_prev(const idmap *m, const stream_id *id, idmap_node **update)
{
    idmap_node *x = m->head;
    for (int l = m->level - 1; l >= 0; l--) {
        while (x->next[l] && stream_id_cmp(&x->next[l]->id, id) < 0)
            x = x->next[l];
        if (update)
            update[l] = x;
    }
    return x;
}

int idmap_insert(idmap *m, const stream_id *id, void *val)
{
    idmap_node *update[IDMAP_MAX_LEVEL];
    idmap_node *prev = idmap_find_prev(m, id, update);
    if (prev->next[0] && stream_id_cmp(&prev->next[0]->id, id) == 0)
        return 0;
    uint32_t level = idmap_random_level(m);
    if ((int)level > m->level) {
        for (int l = m->level; l < (int)level; l++)
            update[l] = m->head;
        m->level = (int)level;
    }
    idmap_node *n = mem_alloc(idmap_node_size(level));
    n->id = *id;
    n->val = val;
    n->level = level;
    for (uint32_t l = 0; l < level; l++) {
        n->next[l] = update[l]->next[l];
        update[l]->next[l] = n;
    }
    m->size++;
    m->bytes += idmap_node_size(level);
    return 1;
}

void *idmap_get(const idmap *m, const stream_id *id)
{
    idmap_node *prev = idmap_find_prev(m, id, NULL);
    idmap_node *n = prev->next[0];
    return (n && stream_id_cmp(&n->id, id) == 0) ? n->val : NULL;
}

void *idmap_delete(idmap *m, const stream_id *id)
{
    idmap_node *update[IDMAP_MAX_LEVEL];
    idmap_node *prev = idmap_find_prev(m, id, update);
    idmap_node *n = prev->next[0];
    if (!n || stream_id_cmp(&n->id, id) != 0)
        return NULL;
    for (uint32_t l = 0; l < n->level; l++)
        if (update[l]->next[l] == n)
            update[l]->next[l] = n->next[l];
    while (m->level > 1 && m->head->next[m->level - 1] == NULL)
        m->level--;
    void *val = n->val;
    m->size--;
    m->bytes -= idmap_node_size(n->level);
    mem_free(n);
    return val;
}

idmap_node *idmap_seek(const idmap *m, const stream_id *from)
{
    if (!from)
        return m->head->next[0];
    return idmap_find_prev(m, from, NULL)->next[0];
}

idmap_node *idmap_next(const idmap_node *n)
{
    return n->next[0];
}

idmap_node *idmap_last(const idmap *m)
{
    idmap_node *x = m->head;
    for (int l = m->level - 1; l >= 0; l--)
        while (x->next[l])
            x = x->next[l];
    return x == m->head ? NULL : x;
}

const stream_id *idmap_node_id(const idmap_node *n)
{
    return &n->id;
}

void *idmap_node_val(const idmap_node *n)
{
    return n->val;
}

size_t idmap_memory(const idmap *m)
{
    return m->bytes;
}

/* ---- named vectors: groups of a stream, consumers of a group ----------- */

/* Groups and consumers are kept in vectors sorted by name, bytewise with a
 * shorter prefix first: the order Redis' rax gives XINFO and the RDB file.
 * Both structs start with their kstr name, which is what the search reads. */
static kstr named_name(const void *item)
{
    return *(const kstr *)item;
}

static int name_cmp(const kstr a, const char *b, size_t blen)
{
    size_t alen = kstr_len(a);
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* The index of name, or where it would be inserted (*found 0). */
static size_t named_find(void *const *v, size_t n, const char *name, size_t len, int *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(named_name(v[mid]), name, len);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static void named_insert(void ***v, size_t *n, size_t *cap, size_t at, void *item)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *v = mem_realloc(*v, *cap * sizeof(void *));
    }
    memmove(*v + at + 1, *v + at, (*n - at) * sizeof(void *));
    (*v)[at] = item;
    (*n)++;
}

static void named_remove(void **v, size_t *n, size_t at)
{
    memmove(v + at, v + at + 1, (*n - at - 1) * sizeof(void *));
    (*n)--;
}

/* ---- groups, consumers, nacks ------------------------------------------- */

cg_group *cg_lookup(const stream *s, const char *name, size_t len)
{
    const struct stream_cgroups *cgs = s->cgroups;
    if (!cgs)
        return NULL;
    int found;
    size_t i = named_find((void *const *)cgs->groups, cgs->n, name, len, &found);
    return found ? cgs->groups[i] : NULL;
}

static cg_group *cg_group_new(const char *name, size_t len, const stream_id *last, long long entries_read)
{
    cg_group *g = mem_calloc(sizeof(*g));
    g->name = kstr_new(name, len);
    g->last_id = *last;
    g->entries_read = entries_read;
    g->pel = idmap_new();
    return g;
}

cg_group *cg_create(stream *s, const char *name, size_t len, const stream_id *last, long long entries_read)
{
    if (!s->cgroups)
        s->cgroups = mem_calloc(sizeof(*s->cgroups));
    struct stream_cgroups *cgs = s->cgroups;
    int found;
    size_t at = named_find((void *const *)cgs->groups, cgs->n, name, len, &found);
    if (found)
        return NULL;
    cg_group *g = cg_group_new(name, len, last, entries_read);
    named_insert((void ***)&cgs->groups, &cgs->n, &cgs->cap, at, g);
    return g;
}

static void cg_consumer_free(cg_consumer *c)
{
    /* the nacks belong to the group PEL: freed there */
    idmap_free(c->pel, NULL);
    kstr_free(c->name);
    mem_free(c);
}

static void cg_group_free(cg_group *g)
{
    idmap_free(g->pel, mem_free);
    for (size_t i = 0; i < g->nconsumers; i++)
        cg_consumer_free(g->consumers[i]);
    mem_free(g->consumers);
    kstr_free(g->name);
    mem_free(g);
}

int cg_destroy(stream *s, const char *name, size_t len)
{
    struct stream_cgroups *cgs = s->cgroups;
    if (!cgs)
        return 0;
    int found;
    size_t at = named_find((void *const *)cgs->groups, cgs->n, name, len, &found);
    if (!found)
        return 0;
    cg_group_free(cgs->groups[at]);
    named_remove((void **)cgs->groups, &cgs->n, at);
    return 1;
}

cg_consumer *cg_consumer_lookup(const cg_group *g, const char *name, size_t len)
{
    int found;
    size_t i = named_find((void *const *)g->consumers, g->nconsumers, name, len, &found);
    return found ? g->consumers[i] : NULL;
}

cg_consumer *cg_consumer_create(cg_group *g, const char *name, size_t len, int64_t now_ms)
{
    int found;
    size_t at = named_find((void *const *)g->consumers, g->nconsumers, name, len, &found);
    if (found)
        return NULL;
    cg_consumer *c = mem_calloc(sizeof(*c));
    c->name = kstr_new(name, len);
    c->seen_time = now_ms;
    c->pel = idmap_new();
    named_insert((void ***)&g->consumers, &g->nconsumers, &g->consumers_cap, at, c);
    return c;
}

size_t cg_consumer_delete(cg_group *g, cg_consumer *c)
{
    size_t pending = idmap_size(c->pel);
    for (idmap_node *n = idmap_seek(c->pel, NULL); n; n = idmap_next(n))
        mem_free(idmap_delete(g->pel, idmap_node_id(n)));
    int found;
    size_t at = named_find((void *const *)g->consumers, g->nconsumers, c->name, kstr_len(c->name), &found);
    if (found)
        named_remove((void **)g->consumers, &g->nconsumers, at);
    cg_consumer_free(c);
    return pending;
}

cg_nack *cg_nack_new(cg_consumer *owner, int64_t now_ms)
{
    cg_nack *n = mem_alloc(sizeof(*n));
    n->delivery_time = now_ms;
    n->delivery_count = 1;
    n->consumer = owner;
    return n;
}

void cg_pel_remove(cg_group *g, const stream_id *id)
{
    cg_nack *n = idmap_delete(g->pel, id);
    if (!n)
        return;
    if (n->consumer)
        idmap_delete(n->consumer->pel, id);
    mem_free(n);
}

/* Redis 7.0's lag: entries added but not yet read by the group, when the
 * group's read counter is valid (or can be estimated) and no tombstone
 * lies past the group's position; null otherwise. */
void cg_reply_lag(client *c, const stream *s, const cg_group *g)
{
    if (!s->entries_added) {
        reply_int(c, 0);
        return;
    }
    if (g->entries_read != CG_INVALID_ENTRIES_READ && !stream_range_has_tombstones(s, &g->last_id, NULL)) {
        reply_int(c, (long long)s->entries_added - g->entries_read);
        return;
    }
    long long read = stream_estimate_distance(s, &g->last_id);
    if (read != CG_INVALID_ENTRIES_READ)
        reply_int(c, (long long)s->entries_added - read);
    else
        reply_null(c);
}

void cg_reply_id(client *c, const stream_id *id)
{
    char buf[STREAM_ID_STR_MAX];
    size_t n = stream_id_format(buf, id);
    reply_bulk(c, buf, n);
}

/* ---- stream integration ------------------------------------------------- */

void stream_cg_free(struct stream_cgroups *cgs)
{
    if (!cgs)
        return;
    for (size_t i = 0; i < cgs->n; i++)
        cg_group_free(cgs->groups[i]);
    mem_free(cgs->groups);
    mem_free(cgs);
}

static cg_group *cg_group_dup(const cg_group *src)
{
    cg_group *g = cg_group_new(src->name, kstr_len(src->name), &src->last_id, src->entries_read);
    g->consumers_cap = src->nconsumers;
    g->consumers = src->nconsumers ? mem_alloc(src->nconsumers * sizeof(*g->consumers)) : NULL;
    for (size_t i = 0; i < src->nconsumers; i++) {
        const cg_consumer *sc = src->consumers[i];
        cg_consumer *c = mem_calloc(sizeof(*c));
        c->name = kstr_dup(sc->name);
        c->seen_time = sc->seen_time;
        c->pel = idmap_new();
        g->consumers[i] = c;
    }
    g->nconsumers = src->nconsumers;
    for (idmap_node *n = idmap_seek(src->pel, NULL); n; n = idmap_next(n)) {
        const cg_nack *sn = idmap_node_val(n);
        cg_nack *nack = mem_alloc(sizeof(*nack));
        *nack = *sn;
        nack->consumer = sn->consumer ? cg_consumer_lookup(g, sn->consumer->name, kstr_len(sn->consumer->name)) : NULL;
        idmap_insert(g->pel, idmap_node_id(n), nack);
        if (nack->consumer)
            idmap_insert(nack->consumer->pel, idmap_node_id(n), nack);
    }
    return g;
}

struct stream_cgroups *stream_cg_dup(const struct stream_cgroups *src)
{
    if (!src)
        return NULL;
    struct stream_cgroups *cgs = mem_calloc(sizeof(*cgs));
    cgs->cap = src->n;
    cgs->groups = src->n ? mem_alloc(src->n * sizeof(*cgs->groups)) : NULL;
    for (size_t i = 0; i < src->n; i++)
        cgs->groups[i] = cg_group_dup(src->groups[i]);
    cgs->n = src->n;
    return cgs;
}

size_t stream_cg_count(const struct stream_cgroups *cgs)
{
    return cgs ? cgs->n : 0;
}

size_t stream_cg_memory(const struct stream_cgroups *cgs)
{
    if (!cgs)
        return 0;
    size_t bytes = sizeof(*cgs) + cgs->cap * sizeof(*cgs->groups);
    for (size_t i = 0; i < cgs->n; i++) {
        const cg_group *g = cgs->groups[i];
        bytes += sizeof(*g) + kstr_alloc_size(g->name) + idmap_memory(g->pel) +
                 idmap_size(g->pel) * sizeof(cg_nack) + g->consumers_cap * sizeof(*g->consumers);
        for (size_t j = 0; j < g->nconsumers; j++) {
            const cg_consumer *c = g->consumers[j];
            bytes += sizeof(*c) + kstr_alloc_size(c->name) + idmap_memory(c->pel);
        }
    }
    return bytes;
}

void stream_cg_digest(const stream *s, unsigned char digest[20])
{
    /* Redis 7.0's DEBUG DIGEST walks the entries of a stream and nothing
     * else: two servers with the same entries and different groups digest
     * equal, and so must we. */
    (void)s;
    (void)digest;
}

/* ---- RDB ---------------------------------------------------------------- */

/* Raw bytes (PEL ids, millisecond times) go through the writer's staging
 * buffer, which rdb.h documents (buf/used/cap, flushed by rdb_write_flush):
 * the writer has no public raw-bytes call and these records need one. */
static int cg_write_raw(rdb_writer *w, const void *p, size_t n)
{
    if (w->failed)
        return -1;
    if (w->cap - w->used < n && rdb_write_flush(w) < 0)
        return -1;
    if (w->cap - w->used < n) {
        w->failed = 1;
        snprintf(w->err, sizeof(w->err), "stream group record: staging buffer too small");
        return -1;
    }
    memcpy(w->buf + w->used, p, n);
    w->used += n;
    return 0;
}

static int cg_write_id(rdb_writer *w, const stream_id *id)
{
    unsigned char key[16];
    stream_id_encode_key(key, id);
    return cg_write_raw(w, key, sizeof(key));
}

/* rdbSaveMillisecondTime: 8 bytes, little endian. */
static int cg_write_ms(rdb_writer *w, int64_t ms)
{
    unsigned char b[8];
    uint64_t v = (uint64_t)ms;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return cg_write_raw(w, b, sizeof(b));
}

static int cg_write_group(rdb_writer *w, const cg_group *g)
{
    if (rdb_write_string(w, g->name, kstr_len(g->name)) < 0 || rdb_write_len(w, g->last_id.ms) < 0 ||
        rdb_write_len(w, g->last_id.seq) < 0 || rdb_write_len(w, (uint64_t)g->entries_read) < 0 ||
        rdb_write_len(w, idmap_size(g->pel)) < 0)
        return -1;
    for (idmap_node *n = idmap_seek(g->pel, NULL); n; n = idmap_next(n)) {
        const cg_nack *nack = idmap_node_val(n);
        if (cg_write_id(w, idmap_node_id(n)) < 0 || cg_write_ms(w, nack->delivery_time) < 0 ||
            rdb_write_len(w, nack->delivery_count) < 0)
            return -1;
    }
    if (rdb_write_len(w, g->nconsumers) < 0)
        return -1;
    for (size_t i = 0; i < g->nconsumers; i++) {
        const cg_consumer *c = g->consumers[i];
        if (rdb_write_string(w, c->name, kstr_len(c->name)) < 0 || cg_write_ms(w, c->seen_time) < 0 ||
            rdb_write_len(w, idmap_size(c->pel)) < 0)
            return -1;
        for (idmap_node *n = idmap_seek(c->pel, NULL); n; n = idmap_next(n))
            if (cg_write_id(w, idmap_node_id(n)) < 0)
                return -1;
    }
    return 0;
}

int stream_cg_rdb_write(rdb_writer *w, const stream *s)
{
    const struct stream_cgroups *cgs = s->cgroups;
    if (rdb_write_len(w, cgs ? cgs->n : 0) < 0)
        return -1;
    for (size_t i = 0; cgs && i < cgs->n; i++)
        if (cg_write_group(w, cgs->groups[i]) < 0)
            return -1;
    return 0;
}

static int cg_read_raw(rdb_reader *r, unsigned char *out, size_t n)
{
    /* The reader exports single bytes (rdb_read_opcode); ids and times are
     * a handful of bytes each, so reading them one by one costs little. */
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        if (rdb_read_opcode(r, &b) < 0)
            return -1;
        out[i] = (unsigned char)b;
    }
    return 0;
}

static int cg_read_id(rdb_reader *r, stream_id *id)
{
    unsigned char key[16];
    if (cg_read_raw(r, key, sizeof(key)) < 0)
        return -1;
    stream_id_decode_key(key, id);
    return 0;
}

static int cg_read_ms(rdb_reader *r, int64_t *ms)
{
    unsigned char b[8];
    if (cg_read_raw(r, b, sizeof(b)) < 0)
        return -1;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    *ms = (int64_t)v;
    return 0;
}

static int cg_read_pel(rdb_reader *r, cg_group *g)
{
    uint64_t n;
    if (rdb_read_len(r, &n) < 0)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        stream_id id;
        int64_t when;
        uint64_t count;
        if (cg_read_id(r, &id) < 0 || cg_read_ms(r, &when) < 0 || rdb_read_len(r, &count) < 0)
            return -1;
        cg_nack *nack = cg_nack_new(NULL, when);
        nack->delivery_count = count;
        if (!idmap_insert(g->pel, &id, nack)) {
            mem_free(nack);
            return rdb_reader_fail(r, "duplicated global PEL entry in stream consumer group");
        }
    }
    return 0;
}

static int cg_read_consumers(rdb_reader *r, cg_group *g)
{
    uint64_t n;
    if (rdb_read_len(r, &n) < 0)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        kstr name = rdb_read_string(r);
        if (!name)
            return -1;
        int64_t seen;
        if (cg_read_ms(r, &seen) < 0) {
            kstr_free(name);
            return -1;
        }
        cg_consumer *c = cg_consumer_create(g, name, kstr_len(name), seen);
        kstr_free(name);
        if (!c)
            return rdb_reader_fail(r, "duplicated consumer name in stream consumer group");
        uint64_t npel;
        if (rdb_read_len(r, &npel) < 0)
            return -1;
        for (uint64_t j = 0; j < npel; j++) {
            stream_id id;
            if (cg_read_id(r, &id) < 0)
                return -1;
            cg_nack *nack = idmap_get(g->pel, &id);
            if (!nack)
                return rdb_reader_fail(r, "consumer PEL entry not found in the group's global PEL");
            if (nack->consumer)
                return rdb_reader_fail(r, "duplicated consumer PEL entry in stream consumer group");
            nack->consumer = c;
            idmap_insert(c->pel, &id, nack);
        }
    }
    for (idmap_node *p = idmap_seek(g->pel, NULL); p; p = idmap_next(p))
        if (((cg_nack *)idmap_node_val(p))->consumer == NULL)
            return rdb_reader_fail(r, "stream consumer group PEL entry without consumer");
    return 0;
}

static int cg_read_group(rdb_reader *r, stream *s, int rdbtype)
{
    kstr name = rdb_read_string(r);
    if (!name)
        return -1;
    stream_id last;
    uint64_t entries_read;
    if (rdb_read_len(r, &last.ms) < 0 || rdb_read_len(r, &last.seq) < 0) {
        kstr_free(name);
        return -1;
    }
    long long read_counter;
    if (rdbtype == RDB_TYPE_STREAM_LISTPACKS_2) {
        if (rdb_read_len(r, &entries_read) < 0) {
            kstr_free(name);
            return -1;
        }
        read_counter = (long long)entries_read;
    } else {
        /* Type 15 has no counter: estimate it as Redis 7.0 does on load. */
        read_counter = stream_estimate_distance(s, &last);
    }
    cg_group *g = cg_create(s, name, kstr_len(name), &last, read_counter);
    kstr_free(name);
    if (!g)
        return rdb_reader_fail(r, "duplicated consumer group name");
    if (cg_read_pel(r, g) < 0 || cg_read_consumers(r, g) < 0)
        return -1;
    return 0;
}

int stream_cg_rdb_read(rdb_reader *r, stream *s, int rdbtype)
{
    uint64_t n;
    if (rdb_read_len(r, &n) < 0)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        if (cg_read_group(r, s, rdbtype) < 0) {
            stream_cg_free(s->cgroups);
            s->cgroups = NULL;
            return -1;
        }
    }
    return 0;
}

/* ---- XINFO -------------------------------------------------------------- */

static void cg_reply_info_full_pel(client *c, const cg_group *g, long long count)
{
    void *len = reply_defer_len(c);
    long long emitted = 0;
    for (idmap_node *n = idmap_seek(g->pel, NULL); n && (!count || emitted < count); n = idmap_next(n)) {
        const cg_nack *nack = idmap_node_val(n);
        reply_array(c, 4);
        cg_reply_id(c, idmap_node_id(n));
        reply_bulk(c, nack->consumer->name, kstr_len(nack->consumer->name));
        reply_int(c, nack->delivery_time);
        reply_int(c, (long long)nack->delivery_count);
        emitted++;
    }
    reply_set_deferred_len(c, len, emitted);
}

static void cg_reply_info_full_consumer(client *c, const cg_consumer *cons, long long count)
{
    reply_map(c, 4);
    reply_bulk_cstr(c, "name");
    reply_bulk(c, cons->name, kstr_len(cons->name));
    reply_bulk_cstr(c, "seen-time");
    reply_int(c, cons->seen_time);
    reply_bulk_cstr(c, "pel-count");
    reply_int(c, (long long)idmap_size(cons->pel));
    reply_bulk_cstr(c, "pending");
    void *len = reply_defer_len(c);
    long long emitted = 0;
    for (idmap_node *n = idmap_seek(cons->pel, NULL); n && (!count || emitted < count); n = idmap_next(n)) {
        const cg_nack *nack = idmap_node_val(n);
        reply_array(c, 3);
        cg_reply_id(c, idmap_node_id(n));
        reply_int(c, nack->delivery_time);
        reply_int(c, (long long)nack->delivery_count);
        emitted++;
    }
    reply_set_deferred_len(c, len, emitted);
}

static void cg_reply_entries_read(client *c, const cg_group *g)
{
    if (g->entries_read != CG_INVALID_ENTRIES_READ)
        reply_int(c, g->entries_read);
    else
        reply_null(c);
}

void stream_cg_reply_info_full(client *c, stream *s, long long count)
{
    size_t n = stream_cg_count(s->cgroups);
    reply_array(c, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const cg_group *g = s->cgroups->groups[i];
        reply_map(c, 7);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, g->name, kstr_len(g->name));
        reply_bulk_cstr(c, "last-delivered-id");
        cg_reply_id(c, &g->last_id);
        reply_bulk_cstr(c, "entries-read");
        cg_reply_entries_read(c, g);
        reply_bulk_cstr(c, "lag");
        cg_reply_lag(c, s, g);
        reply_bulk_cstr(c, "pel-count");
        reply_int(c, (long long)idmap_size(g->pel));
        reply_bulk_cstr(c, "pending");
        cg_reply_info_full_pel(c, g, count);
        reply_bulk_cstr(c, "consumers");
        reply_array(c, (long long)g->nconsumers);
        for (size_t j = 0; j < g->nconsumers; j++)
            cg_reply_info_full_consumer(c, g->consumers[j], count);
    }
}

void stream_cg_xinfo_groups(client *c, stream *s)
{
    size_t n = stream_cg_count(s->cgroups);
    reply_array(c, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const cg_group *g = s->cgroups->groups[i];
        reply_map(c, 6);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, g->name, kstr_len(g->name));
        reply_bulk_cstr(c, "consumers");
        reply_int(c, (long long)g->nconsumers);
        reply_bulk_cstr(c, "pending");
        reply_int(c, (long long)idmap_size(g->pel));
        reply_bulk_cstr(c, "last-delivered-id");
        cg_reply_id(c, &g->last_id);
        reply_bulk_cstr(c, "entries-read");
        cg_reply_entries_read(c, g);
        reply_bulk_cstr(c, "lag");
        cg_reply_lag(c, s, g);
    }
}

void stream_cg_xinfo_consumers(client *c, stream *s, const resp_arg *key_arg, const resp_arg *group_arg)
{
    const cg_group *g = cg_lookup(s, group_arg->ptr, group_arg->len);
    if (!g) {
        reply_errorf(c, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)group_arg->len,
                     group_arg->ptr, (int)key_arg->len, key_arg->ptr);
        return;
    }
    int64_t now = util_ms_now();
    reply_array(c, (long long)g->nconsumers);
    for (size_t i = 0; i < g->nconsumers; i++) {
        const cg_consumer *cons = g->consumers[i];
        int64_t idle = now - cons->seen_time;
        reply_map(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, cons->name, kstr_len(cons->name));
        reply_bulk_cstr(c, "pending");
        reply_int(c, (long long)idmap_size(cons->pel));
        reply_bulk_cstr(c, "idle");
        reply_int(c, idle < 0 ? 0 : idle);
    }
}
