/* zset: the sorted set container. As in Redis, members live twice: in a
 * skiplist ordered by (score, member bytes) that serves ranges and ranks,
 * and in a dict member -> score (v.d) that serves ZSCORE and membership in
 * O(1). The skiplist keeps, on every forward link, the number of level-0
 * nodes it jumps over (its span), so the rank of a node is the sum of the
 * spans walked to reach it and "node at rank N" is a descent, both O(log n).
 *
 * Invariants: the header node has ZSET_MAXLEVEL levels and no member; every
 * node's level-0 backward link points at its predecessor (NULL for the
 * first); z->length equals dict_size(z->d). */
#include "zset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "mem.h"

#define ZSET_MAXLEVEL 32
#define ZSET_P 0.25

size_t zset_max_listpack_entries = 128;
size_t zset_max_listpack_value = 64;

struct zset_node {
    kstr member;
    double score;
    zset_node *backward;
    struct zset_level {
        zset_node *forward;
        size_t span;
    } level[];
};

struct zset {
    zset_node *header;
    zset_node *tail;
    size_t length;
    int level;
    int compact;
    dict *d;
    size_t node_bytes;   /* allocations of nodes and their members, for zset_mem */
};

static zset_node *zset_node_create(int level, double score, kstr member)
{
    zset_node *n = mem_calloc(sizeof(zset_node) + (size_t)level * sizeof(struct zset_level));
    n->score = score;
    n->member = member;
    return n;
}

static size_t zset_node_bytes(const zset_node *n, int level)
{
    return sizeof(zset_node) + (size_t)level * sizeof(struct zset_level) +
           (n->member ? kstr_alloc_size(n->member) : 0);
}

static void zset_node_free(zset_node *n)
{
    kstr_free(n->member);
    mem_free(n);
}

zset *zset_new(void)
{
    zset *z = mem_calloc(sizeof(zset));
    z->level = 1;
    z->compact = 1;
    z->header = zset_node_create(ZSET_MAXLEVEL, 0, NULL);
    z->d = dict_create(&dict_type_plain);
    return z;
}

void zset_free(zset *z)
{
    if (!z)
        return;
    zset_node *n = z->header->level[0].forward;
    while (n) {
        zset_node *next = n->level[0].forward;
        zset_node_free(n);
        n = next;
    }
    mem_free(z->header);
    dict_free(z->d);
    mem_free(z);
}

size_t zset_len(const zset *z)
{
    return z->length;
}

int zset_is_compact(const zset *z)
{
    return z->compact;
}

/* Becoming compact is Redis' conversion to a listpack, where scores are
 * stored as text and "-0" reads back as 0: normalise the sign of zeros. */
void zset_set_compact(zset *z, int compact)
{
    if (compact && !z->compact) {
        for (zset_node *x = zset_first(z); x; x = x->level[0].forward) {
            if (x->score == 0 && signbit(x->score)) {
                x->score = 0.0;
                dict_entry *e = dict_find(z->d, x->member, kstr_len(x->member));
                if (e)
                    e->v.d = 0.0;
            }
        }
    }
    z->compact = compact;
}

/* memcmp order, a proper prefix sorting first. */
static int zset_cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int r = n ? memcmp(a, b, n) : 0;
    if (r)
        return r;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* Is node n before (score, m) in the set order? */
static int zset_node_before(const zset_node *n, double score, const char *m, size_t len)
{
    if (n->score != score)
        return n->score < score;
    return zset_cmp_bytes(n->member, kstr_len(n->member), m, len) < 0;
}

static int zset_random_level(void)
{
    int level = 1;
    while (level < ZSET_MAXLEVEL && (random() & 0xFFFF) < (long)(ZSET_P * 0xFFFF))
        level++;
    return level;
}

/* Skiplist insert of a member known to be absent; takes ownership of m. */
static zset_node *zset_sl_insert(zset *z, double score, kstr m)
{
    zset_node *update[ZSET_MAXLEVEL];
    size_t rank[ZSET_MAXLEVEL];
    zset_node *x = z->header;
    size_t mlen = kstr_len(m);

    for (int i = z->level - 1; i >= 0; i--) {
        rank[i] = i == z->level - 1 ? 0 : rank[i + 1];
        while (x->level[i].forward && zset_node_before(x->level[i].forward, score, m, mlen)) {
            rank[i] += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    int level = zset_random_level();
    if (level > z->level) {
        for (int i = z->level; i < level; i++) {
            rank[i] = 0;
            update[i] = z->header;
            update[i]->level[i].span = z->length;
        }
        z->level = level;
    }
    x = zset_node_create(level, score, m);
    z->node_bytes += zset_node_bytes(x, level);
    for (int i = 0; i < level; i++) {
        x->level[i].forward = update[i]->level[i].forward;
        update[i]->level[i].forward = x;
        /* The new node splits update[i]'s span at its own position. */
        x->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
        update[i]->level[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = level; i < z->level; i++)
        update[i]->level[i].span++;

    x->backward = update[0] == z->header ? NULL : update[0];
    if (x->level[0].forward)
        x->level[0].forward->backward = x;
    else
        z->tail = x;
    z->length++;
    return x;
}

/* Unlink x given the predecessors at every level. */
static void zset_sl_unlink(zset *z, zset_node *x, zset_node **update)
{
    int levels = 0;
    for (int i = 0; i < z->level; i++) {
        if (update[i]->level[i].forward == x) {
            levels++;
            update[i]->level[i].span += x->level[i].span - 1;
            update[i]->level[i].forward = x->level[i].forward;
        } else {
            update[i]->level[i].span -= 1;
        }
    }
    if (x->level[0].forward)
        x->level[0].forward->backward = x->backward;
    else
        z->tail = x->backward;
    while (z->level > 1 && z->header->level[z->level - 1].forward == NULL)
        z->level--;
    z->length--;
    z->node_bytes -= zset_node_bytes(x, levels);
}

/* Find the node of (score, m) and its predecessors; NULL when absent. */
static zset_node *zset_sl_find(const zset *z, double score, const char *m, size_t len,
                               zset_node **update)
{
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].forward && zset_node_before(x->level[i].forward, score, m, len))
            x = x->level[i].forward;
        update[i] = x;
    }
    x = x->level[0].forward;
    if (x && x->score == score && zset_cmp_bytes(x->member, kstr_len(x->member), m, len) == 0)
        return x;
    return NULL;
}

int zset_score(zset *z, const char *m, size_t len, double *score)
{
    dict_entry *e = dict_find(z->d, m, len);
    if (!e)
        return 0;
    if (score)
        *score = e->v.d;
    return 1;
}

static void zset_note_size(zset *z, size_t newlen, size_t mlen)
{
    if (newlen > zset_max_listpack_entries || mlen > zset_max_listpack_value)
        z->compact = 0;
}

/* Change the score of an existing member. When the node stays between its
 * neighbours it is updated in place (the common ZINCRBY case). */
static void zset_update_score(zset *z, const char *m, size_t len, double old, double score)
{
    zset_node *update[ZSET_MAXLEVEL];
    zset_node *x = zset_sl_find(z, old, m, len, update);
    if (!x)
        abort(); /* dict and skiplist disagree: memory corruption */
    if ((x->backward == NULL || x->backward->score < score) &&
        (x->level[0].forward == NULL || x->level[0].forward->score > score)) {
        x->score = score;
        return;
    }
    zset_sl_unlink(z, x, update);
    kstr member = x->member;
    x->member = NULL;
    zset_node_free(x);
    zset_sl_insert(z, score, member);
}

int zset_add(zset *z, const char *m, size_t len, double score)
{
    dict_entry *existing = NULL;
    dict_entry *e = dict_add(z->d, m, len, &existing);
    if (!e) {
        double old = existing->v.d;
        if (z->compact && score == 0)
            score = 0.0;
        if (old != score) {
            zset_update_score(z, m, len, old, score);
            existing->v.d = score;
        }
        return 0;
    }
    zset_note_size(z, z->length + 1, len);
    /* A compact (listpack) set in Redis stores the score as text and "-0"
     * reads back as integer 0: keep that observable +0. */
    if (z->compact && score == 0)
        score = 0.0;
    e->v.d = score;
    zset_sl_insert(z, score, kstr_new(m, len));
    return 1;
}

int zset_del(zset *z, const char *m, size_t len)
{
    dict_entry *e = dict_find(z->d, m, len);
    if (!e)
        return 0;
    zset_node *update[ZSET_MAXLEVEL];
    zset_node *x = zset_sl_find(z, e->v.d, m, len, update);
    if (!x)
        abort();
    zset_sl_unlink(z, x, update);
    /* m may be the node's own member: drop the dict entry first. */
    dict_delete(z->d, m, len);
    zset_node_free(x);
    return 1;
}

/* 1-based rank of (score, m), 0 when absent. */
static size_t zset_sl_rank(const zset *z, double score, const char *m, size_t len)
{
    size_t rank = 0;
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].forward &&
               (zset_node_before(x->level[i].forward, score, m, len) ||
                (x->level[i].forward->score == score &&
                 zset_cmp_bytes(x->level[i].forward->member,
                                kstr_len(x->level[i].forward->member), m, len) == 0))) {
            rank += x->level[i].span;
            x = x->level[i].forward;
        }
        if (x != z->header && x->score == score &&
            zset_cmp_bytes(x->member, kstr_len(x->member), m, len) == 0)
            return rank;
    }
    return 0;
}

long zset_rank(zset *z, const char *m, size_t len, int reverse)
{
    double score;
    if (!zset_score(z, m, len, &score))
        return -1;
    size_t r = zset_sl_rank(z, score, m, len);
    if (r == 0)
        return -1;
    return reverse ? (long)(z->length - r) : (long)(r - 1);
}

size_t zset_node_rank(const zset *z, const zset_node *n)
{
    return zset_sl_rank(z, n->score, n->member, kstr_len(n->member)) - 1;
}

zset_node *zset_first(const zset *z)
{
    return z->header->level[0].forward;
}

zset_node *zset_last(const zset *z)
{
    return z->tail;
}

zset_node *zset_next(const zset_node *n)
{
    return n->level[0].forward;
}

zset_node *zset_prev(const zset_node *n)
{
    return n->backward;
}

zset_node *zset_at_rank(const zset *z, size_t rank)
{
    if (rank >= z->length)
        return NULL;
    size_t want = rank + 1, traversed = 0;
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= want) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        if (traversed == want)
            return x;
    }
    return NULL;
}

kstr zset_node_member(const zset_node *n)
{
    return n->member;
}

double zset_node_score(const zset_node *n)
{
    return n->score;
}

size_t zset_mem(const zset *z)
{
    return sizeof(*z) + dict_mem(z->d) + z->node_bytes;
}

/* ---- score ranges ---- */

/* Parse one end as Redis does: strtod over the whole (NUL-terminated) item,
 * which accepts leading spaces, hex and "inf", but not NaN. */
static int zset_parse_bound(const char *s, size_t len, double *v, int *ex)
{
    char stackbuf[128];
    char *buf = len < sizeof(stackbuf) ? stackbuf : mem_alloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* Redis reads the item as a C string, so an embedded NUL ends it. */
    const char *p = buf;
    *ex = 0;
    if (p[0] == '(') {
        *ex = 1;
        p++;
    }
    char *end;
    *v = strtod(p, &end);
    int ok = end[0] == '\0' && !isnan(*v);
    if (buf != stackbuf)
        mem_free(buf);
    return ok;
}

int zset_parse_range(const char *min, size_t minlen, const char *max, size_t maxlen,
                     zset_range *r)
{
    return zset_parse_bound(min, minlen, &r->min, &r->minex) &&
           zset_parse_bound(max, maxlen, &r->max, &r->maxex);
}

int zset_range_gte_min(double v, const zset_range *r)
{
    return r->minex ? v > r->min : v >= r->min;
}

int zset_range_lte_max(double v, const zset_range *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}

/* Could any score at all fall inside r, and does z hold one? */
static int zset_in_range(const zset *z, const zset_range *r)
{
    if (r->min > r->max || (r->min == r->max && (r->minex || r->maxex)))
        return 0;
    if (!z->tail || !zset_range_gte_min(z->tail->score, r))
        return 0;
    zset_node *x = z->header->level[0].forward;
    return x && zset_range_lte_max(x->score, r);
}

zset_node *zset_first_in_range(const zset *z, const zset_range *r)
{
    if (!zset_in_range(z, r))
        return NULL;
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->level[i].forward && !zset_range_gte_min(x->level[i].forward->score, r))
            x = x->level[i].forward;
    x = x->level[0].forward;
    return x && zset_range_lte_max(x->score, r) ? x : NULL;
}

zset_node *zset_last_in_range(const zset *z, const zset_range *r)
{
    if (!zset_in_range(z, r))
        return NULL;
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->level[i].forward && zset_range_lte_max(x->level[i].forward->score, r))
            x = x->level[i].forward;
    return x != z->header && zset_range_gte_min(x->score, r) ? x : NULL;
}

/* ---- lex ranges ---- */

static int zset_parse_lex_item(const char *s, size_t len, zset_lex_item *it)
{
    if (len == 0)
        return 0;
    it->ptr = s + 1;
    it->len = len - 1;
    it->kind = 0;
    switch (s[0]) {
    case '+':
    case '-':
        /* Redis tests the byte after the sign as a C string would. */
        if (len > 1 && s[1] != '\0')
            return 0;
        it->kind = s[0] == '+' ? 1 : -1;
        it->ex = 1;
        return 1;
    case '(':
        it->ex = 1;
        return 1;
    case '[':
        it->ex = 0;
        return 1;
    default:
        return 0;
    }
}

int zset_parse_lex_range(const char *min, size_t minlen, const char *max, size_t maxlen,
                         zset_lex_range *r)
{
    return zset_parse_lex_item(min, minlen, &r->min) && zset_parse_lex_item(max, maxlen, &r->max);
}

/* Compare a member with a range item ("-" below all, "+" above all). */
static int zset_lex_cmp_item(const char *m, size_t len, const zset_lex_item *it)
{
    if (it->kind)
        return -it->kind;
    return zset_cmp_bytes(m, len, it->ptr, it->len);
}

static int zset_lex_cmp_items(const zset_lex_item *a, const zset_lex_item *b)
{
    if (a->kind || b->kind) {
        if (a->kind == b->kind)
            return 0;
        if (a->kind == -1 || b->kind == 1)
            return -1;
        return 1;
    }
    return zset_cmp_bytes(a->ptr, a->len, b->ptr, b->len);
}

int zset_lex_gte_min(const char *m, size_t len, const zset_lex_range *r)
{
    int c = zset_lex_cmp_item(m, len, &r->min);
    return r->min.ex ? c > 0 : c >= 0;
}

int zset_lex_lte_max(const char *m, size_t len, const zset_lex_range *r)
{
    int c = zset_lex_cmp_item(m, len, &r->max);
    return r->max.ex ? c < 0 : c <= 0;
}

static int zset_node_lex_gte_min(const zset_node *n, const zset_lex_range *r)
{
    return zset_lex_gte_min(n->member, kstr_len(n->member), r);
}

static int zset_node_lex_lte_max(const zset_node *n, const zset_lex_range *r)
{
    return zset_lex_lte_max(n->member, kstr_len(n->member), r);
}

static int zset_in_lex_range(const zset *z, const zset_lex_range *r)
{
    int c = zset_lex_cmp_items(&r->min, &r->max);
    if (c > 0 || (c == 0 && (r->min.ex || r->max.ex)))
        return 0;
    if (!z->tail || !zset_node_lex_gte_min(z->tail, r))
        return 0;
    zset_node *x = z->header->level[0].forward;
    return x && zset_node_lex_lte_max(x, r);
}

/* Lex ranges only make sense when all scores are equal; otherwise the
 * answer depends on how the range is searched, and clients can see it. A
 * compact set answers as Redis' listpack does, by a linear walk (first
 * member >= min from the head, first member <= max from the tail); a big one
 * by skiplist descent as Redis' skiplist does. */
static zset_node *zset_compact_first_in_lex(const zset *z, const zset_lex_range *r)
{
    for (zset_node *x = z->header->level[0].forward; x; x = x->level[0].forward)
        if (zset_node_lex_gte_min(x, r))
            return zset_node_lex_lte_max(x, r) ? x : NULL;
    return NULL;
}

static zset_node *zset_compact_last_in_lex(const zset *z, const zset_lex_range *r)
{
    for (zset_node *x = z->tail; x; x = x->backward)
        if (zset_node_lex_lte_max(x, r))
            return zset_node_lex_gte_min(x, r) ? x : NULL;
    return NULL;
}

zset_node *zset_first_in_lex_range(const zset *z, const zset_lex_range *r)
{
    if (!zset_in_lex_range(z, r))
        return NULL;
    if (z->compact)
        return zset_compact_first_in_lex(z, r);
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->level[i].forward && !zset_node_lex_gte_min(x->level[i].forward, r))
            x = x->level[i].forward;
    x = x->level[0].forward;
    return x && zset_node_lex_lte_max(x, r) ? x : NULL;
}

zset_node *zset_last_in_lex_range(const zset *z, const zset_lex_range *r)
{
    if (!zset_in_lex_range(z, r))
        return NULL;
    if (z->compact)
        return zset_compact_last_in_lex(z, r);
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->level[i].forward && zset_node_lex_lte_max(x->level[i].forward, r))
            x = x->level[i].forward;
    return x != z->header && zset_node_lex_gte_min(x, r) ? x : NULL;
}

/* ---- range deletion ---- */

/* Delete x (whose predecessors are in update) from both structures. */
static void zset_delete_node(zset *z, zset_node *x, zset_node **update)
{
    zset_sl_unlink(z, x, update);
    dict_delete(z->d, x->member, kstr_len(x->member));
    zset_node_free(x);
}

size_t zset_delete_range_by_score(zset *z, const zset_range *r)
{
    zset_node *update[ZSET_MAXLEVEL];
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].forward && !zset_range_gte_min(x->level[i].forward->score, r))
            x = x->level[i].forward;
        update[i] = x;
    }
    size_t removed = 0;
    x = x->level[0].forward;
    while (x && zset_range_lte_max(x->score, r)) {
        zset_node *next = x->level[0].forward;
        zset_delete_node(z, x, update);
        removed++;
        x = next;
    }
    return removed;
}

size_t zset_lex_count(const zset *z, const zset_lex_range *r)
{
    zset_node *f = zset_first_in_lex_range(z, r);
    if (!f)
        return 0;
    if (z->compact) {
        size_t n = 0;
        for (; f && zset_node_lex_lte_max(f, r); f = f->level[0].forward)
            n++;
        return n;
    }
    size_t count = z->length - zset_node_rank(z, f);
    zset_node *l = zset_last_in_lex_range(z, r);
    if (l)
        count -= z->length - zset_node_rank(z, l) - 1;
    return count;
}

/* Compact: from the first member in range (linear), while <= max. */
static size_t zset_compact_delete_lex(zset *z, const zset_lex_range *r)
{
    zset_node *x = zset_first_in_lex_range(z, r);
    size_t removed = 0;
    while (x && zset_node_lex_lte_max(x, r)) {
        zset_node *next = x->level[0].forward;
        kstr m = x->member;
        zset_del(z, m, kstr_len(m));
        removed++;
        x = next;
    }
    return removed;
}

size_t zset_delete_range_by_lex(zset *z, const zset_lex_range *r)
{
    if (z->compact)
        return zset_compact_delete_lex(z, r);
    zset_node *update[ZSET_MAXLEVEL];
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].forward && !zset_node_lex_gte_min(x->level[i].forward, r))
            x = x->level[i].forward;
        update[i] = x;
    }
    size_t removed = 0;
    x = x->level[0].forward;
    while (x && zset_node_lex_lte_max(x, r)) {
        zset_node *next = x->level[0].forward;
        zset_delete_node(z, x, update);
        removed++;
        x = next;
    }
    return removed;
}

size_t zset_delete_range_by_rank(zset *z, size_t start, size_t end)
{
    zset_node *update[ZSET_MAXLEVEL];
    size_t traversed = 0, want = start + 1;
    zset_node *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span < want) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    size_t removed = 0;
    traversed++;
    x = x->level[0].forward;
    while (x && traversed <= end + 1) {
        zset_node *next = x->level[0].forward;
        zset_delete_node(z, x, update);
        removed++;
        traversed++;
        x = next;
    }
    return removed;
}

/* ---- sampling and scanning ---- */

int zset_random(zset *z, const char **m, size_t *len, double *score)
{
    dict_entry *e = dict_random(z->d);
    if (!e)
        return 0;
    *m = e->key;
    *len = kstr_len(e->key);
    *score = e->v.d;
    return 1;
}

typedef struct zset_scan_ctx {
    zset_scan_fn *fn;
    void *priv;
} zset_scan_ctx;

static void zset_scan_entry(void *priv, const dict_entry *e)
{
    zset_scan_ctx *ctx = priv;
    ctx->fn(ctx->priv, e->key, kstr_len(e->key), e->v.d);
}

uint64_t zset_scan(zset *z, uint64_t cursor, zset_scan_fn *fn, void *priv)
{
    zset_scan_ctx ctx = {fn, priv};
    return dict_scan(z->d, cursor, zset_scan_entry, &ctx);
}

void zset_prefetch(const zset *z, size_t n, const char *const *m, const size_t *lens)
{
    if (z->d != NULL)
        dict_prefetch(z->d, n, m, lens, NULL);
}
