/* deque: the list type's container, packed in nodes as Redis' quicklist
 * packs a list, so a small element costs its bytes plus two, not a pointer
 * and an allocation of its own.
 *
 * A node is a buffer holding entries back to back in [start, end); free
 * room may sit on both sides, so pushes at either end of a node only write
 * the new entry. An entry is its length, the bytes, and the length again,
 * so the buffer can be walked in both directions:
 *   len < 0x80:  [len][bytes][len]                      (2 bytes of overhead)
 *   otherwise:   [0x80][len32][bytes][len32][0x80]      (10 bytes)
 * Nodes are cut as Redis cuts its listpacks (list-max-listpack-size): a
 * positive fill caps the entries per node (and the bytes at 8 KB), -1..-5
 * cap the bytes at 4..64 KB. An element too big for any node sits alone in
 * its own node.
 *
 * Index access remembers the last entry it reached (node, index, offset):
 * LRANGE, LPOS, the RDB writer and DEBUG DIGEST read by consecutive
 * indexes, which then cost one entry step each instead of a walk from an
 * end. Every modification forgets it.
 *
 * list-compress-depth d > 0 keeps the d nodes at each end as they are and
 * LZF-compresses the nodes between them, as Redis' quicklist does (a node
 * under 48 bytes, or one that would not shrink by 8 bytes, stays raw). A
 * compressed node holds only its LZF bytes (start 0, end its raw size, so
 * the node limits still see its raw size); whatever reads or changes it
 * decompresses it first (node_raw). Reads leave it raw, since the bytes
 * they return must stay valid until the next change; the next change
 * compresses again every inner node that is raw. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "deque.h"
#include "lzf.h"
#include "mem.h"

#define DQ_SMALL_MAX 0x7Fu
#define DQ_BIG_MARK 0x80u
#define DQ_MIN_CAP 64u
#define DQ_SAFETY_BYTES 8192u  /* Redis' SIZE_SAFETY_LIMIT for count-capped nodes */
#define DQ_LP_OVERHEAD 7u      /* a listpack's header and end byte, counted as Redis does */
#define DQ_FILL_MAX (1 << 15)
#define DQ_MIN_COMPRESS_BYTES 48u   /* Redis' MIN_COMPRESS_BYTES */
#define DQ_MIN_COMPRESS_IMPROVE 8u  /* Redis' MIN_COMPRESS_IMPROVE */
#define DQ_DEPTH_MAX (1 << 16)

typedef struct dq_node {
    struct dq_node *prev, *next;
    unsigned char *buf;
    size_t cap, start, end;
    size_t count;
    unsigned char *lzf;      /* compressed: the LZF bytes (buf NULL), else NULL */
    size_t lzf_len;
    int no_lzf;              /* compression failed; not retried until the bytes change */
} dq_node;

struct deque {
    dq_node *head, *tail;
    size_t len;
    size_t nodes;
    int fill;
    int depth;          /* list-compress-depth; 0: no compression */
    int raw_inner;      /* some inner node may be raw: compress at the next change */
    /* the last entry reached by index; cur == NULL when unknown */
    dq_node *cur;
    size_t cur_first;   /* list index of cur's first entry */
    size_t cur_i;       /* entry index inside cur */
    size_t cur_off;     /* its offset in cur->buf */
};

enum dq_bias { BIAS_NONE, BIAS_HEAD, BIAS_TAIL };

static int dq_default_fill = -2;
static int dq_default_depth = 0;

void deque_set_default_compress(long long depth)
{
    if (depth < 0)
        depth = 0;
    if (depth > DQ_DEPTH_MAX)
        depth = DQ_DEPTH_MAX;
    dq_default_depth = (int)depth;
}

void deque_set_default_fill(long long fill)
{
    if (fill > DQ_FILL_MAX)
        fill = DQ_FILL_MAX;
    if (fill < -5)
        fill = -5;
    dq_default_fill = (int)fill;
}

/* ---- entries ------------------------------------------------------------ */

static size_t entry_size(size_t len)
{
    return len <= DQ_SMALL_MAX ? len + 2 : len + 10;
}

static void store32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

static uint32_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static void entry_write(unsigned char *p, const void *data, size_t len)
{
    if (len <= DQ_SMALL_MAX) {
        p[0] = (unsigned char)len;
        if (len)
            memcpy(p + 1, data, len);
        p[1 + len] = (unsigned char)len;
        return;
    }
    p[0] = DQ_BIG_MARK;
    store32(p + 1, (uint32_t)len);
    memcpy(p + 5, data, len);
    store32(p + 5 + len, (uint32_t)len);
    p[9 + len] = DQ_BIG_MARK;
}

/* Decode the entry starting at p; returns its total size. */
static size_t entry_read(const unsigned char *p, const char **data, size_t *len)
{
    if (p[0] != DQ_BIG_MARK) {
        *len = p[0];
        *data = (const char *)p + 1;
        return *len + 2;
    }
    *len = load32(p + 1);
    *data = (const char *)p + 5;
    return *len + 10;
}

static size_t entry_size_at(const unsigned char *p)
{
    return p[0] != DQ_BIG_MARK ? (size_t)p[0] + 2 : (size_t)load32(p + 1) + 10;
}

/* Size of the entry that ends just before end. */
static size_t entry_size_before(const unsigned char *end)
{
    return end[-1] != DQ_BIG_MARK ? (size_t)end[-1] + 2 : (size_t)load32(end - 5) + 10;
}

/* ---- node limits (Redis 7.0's _quicklistNodeAllowInsert) ---------------- */

static size_t fill_bytes(int fill)
{
    if (fill >= 0)
        return DQ_SAFETY_BYTES;
    return (size_t)4096 << (-fill - 1);
}

static size_t node_used(const dq_node *n)
{
    return n->end - n->start;
}

/* Whether a node holding count entries in bytes stays within the limits. */
static int node_within(const deque *q, size_t count, size_t bytes)
{
    if (count <= 1)
        return 1;
    if (bytes + DQ_LP_OVERHEAD > fill_bytes(q->fill))
        return 0;
    return q->fill < 0 || count <= (size_t)q->fill;
}

static int node_can_take(const deque *q, const dq_node *n, size_t entry_bytes)
{
    return node_within(q, n->count + 1, node_used(n) + entry_bytes);
}

/* ---- node storage ------------------------------------------------------- */

static dq_node *node_new(void)
{
    dq_node *n = mem_calloc(sizeof(*n));
    return n;
}

static void node_free(dq_node *n)
{
    mem_free(n->buf);
    mem_free(n->lzf);
    mem_free(n);
}

/* ---- compression (list-compress-depth) ---------------------------------- */

/* Decompress n if it is compressed, into a buffer holding just its entries.
 * A raw node in the middle is then compressed again at the next change. */
static void node_raw(deque *q, dq_node *n)
{
    if (!n->lzf)
        return;
    size_t raw = n->end;
    unsigned char *buf = mem_alloc(raw);
    size_t got = lzf_decompress(n->lzf, n->lzf_len, buf, raw);
    /* Our own bytes: a mismatch is memory corruption, not bad input. */
    if (got != raw)
        abort();
    mem_free(n->lzf);
    n->lzf = NULL;
    n->lzf_len = 0;
    n->buf = buf;
    n->cap = raw;
    n->start = 0;
    q->raw_inner = 1;
}

/* Compress n as Redis does: not under 48 bytes, and only when it saves at
 * least 8 bytes. */
static void node_compress(deque *q, dq_node *n)
{
    size_t raw = node_used(n);
    if (n->lzf || n->no_lzf || raw < DQ_MIN_COMPRESS_BYTES)
        return;
    unsigned char *out = mem_alloc(raw);
    size_t clen = lzf_compress(n->buf + n->start, raw, out, raw - DQ_MIN_COMPRESS_IMPROVE - 1);
    if (clen == 0) {
        /* Pushes and pops at the ends would otherwise try it again each time. */
        n->no_lzf = 1;
        mem_free(out);
        return;
    }
    n->lzf = mem_realloc(out, clen);
    n->lzf_len = clen;
    mem_free(n->buf);
    n->buf = NULL;
    n->cap = 0;
    n->start = 0;
    n->end = raw;
    if (q->cur == n)
        q->cur = NULL;
}

/* Every node at least depth nodes away from both ends, compressed. */
static void dq_compress_inner(deque *q)
{
    q->raw_inner = 0;
    if (q->nodes < (size_t)q->depth * 2 + 1)
        return;
    size_t i = 0, last = q->nodes - (size_t)q->depth;
    for (dq_node *n = q->head; n && i < last; n = n->next, i++)
        if (i >= (size_t)q->depth && !n->lzf)
            node_compress(q, n);
}

/* After a push or pop at one end: the node depth nodes from that end may
 * have become an inner node. Anything else raw in the middle (read, split,
 * changed) is compressed by a full pass. */
static void dq_settle(deque *q, int at_tail)
{
    if (q->depth == 0)
        return;
    if (q->raw_inner) {
        dq_compress_inner(q);
        return;
    }
    if (q->nodes < (size_t)q->depth * 2 + 1)
        return;
    dq_node *n = at_tail ? q->tail : q->head;
    for (int i = 0; n && i < q->depth; i++)
        n = at_tail ? n->prev : n->next;
    if (n && !n->lzf)
        node_compress(q, n);
}

/* Capacity for need bytes: doubling, so a growing node reallocates
 * O(log) times, but not past the node limit unless one entry needs more. */
static size_t grow_cap(const deque *q, size_t cap, size_t need)
{
    size_t c = cap < DQ_MIN_CAP ? DQ_MIN_CAP : cap;
    while (c < need)
        c *= 2;
    size_t lim = fill_bytes(q->fill);
    if (c > lim)
        c = lim > need ? lim : need;
    return c;
}

/* Make room at offset off of n, replacing del bytes by ins bytes, moving
 * whichever side of the buffer is shorter (or the side bias names, since a
 * push at an end moves nothing). Returns where the ins bytes go. */
static unsigned char *node_make_room(deque *q, dq_node *n, size_t off, size_t del, size_t ins,
                                     enum dq_bias bias)
{
    node_raw(q, n);   /* offsets of a compressed node are those of its raw bytes from 0 */
    n->no_lzf = 0;    /* new bytes may compress */
    size_t head_len = off - n->start, tail_len = n->end - off - del;
    int move_head = bias == BIAS_HEAD || (bias == BIAS_NONE && head_len <= tail_len);
    if (ins <= del) {
        size_t shrink = del - ins;
        if (move_head) {
            memmove(n->buf + n->start + shrink, n->buf + n->start, head_len);
            n->start += shrink;
            return n->buf + off + shrink;
        }
        memmove(n->buf + off + ins, n->buf + off + del, tail_len);
        n->end -= shrink;
        return n->buf + off;
    }
    size_t extra = ins - del;
    int front_ok = n->buf && n->start >= extra, back_ok = n->buf && n->cap - n->end >= extra;
    if (front_ok && (move_head || !back_ok)) {
        memmove(n->buf + n->start - extra, n->buf + n->start, head_len);
        n->start -= extra;
        return n->buf + off - extra;
    }
    if (back_ok) {
        memmove(n->buf + off + ins, n->buf + off + del, tail_len);
        n->end += extra;
        return n->buf + off;
    }
    /* a fresh buffer; the free room goes where the next push will want it */
    size_t used = node_used(n) + extra;
    size_t cap = grow_cap(q, n->cap, used);
    unsigned char *nb = mem_alloc(cap);
    size_t ns = move_head ? cap - used : 0;
    if (bias == BIAS_NONE)
        ns = (cap - used) / 2;
    if (head_len)
        memcpy(nb + ns, n->buf + n->start, head_len);
    if (tail_len)
        memcpy(nb + ns + head_len + ins, n->buf + off + del, tail_len);
    mem_free(n->buf);
    n->buf = nb;
    n->cap = cap;
    n->start = ns;
    n->end = ns + used;
    return nb + ns + head_len;
}

static void link_after(deque *q, dq_node *at, dq_node *n)
{
    n->prev = at;
    n->next = at ? at->next : q->head;
    if (n->next)
        n->next->prev = n;
    else
        q->tail = n;
    if (at)
        at->next = n;
    else
        q->head = n;
    q->nodes++;
}

static void unlink_node(deque *q, dq_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        q->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        q->tail = n->prev;
    q->nodes--;
    node_free(n);
}

/* Offset of entry i of n, walking from the nearer end of the node. */
static size_t node_offset_of(deque *q, dq_node *n, size_t i)
{
    node_raw(q, n);
    size_t off;
    if (i <= n->count / 2) {
        off = n->start;
        for (size_t k = 0; k < i; k++)
            off += entry_size_at(n->buf + off);
    } else {
        off = n->end;
        for (size_t k = n->count; k > i; k--)
            off -= entry_size_before(n->buf + off);
    }
    return off;
}

/* Move entries [i, count) of n to a new node after it. */
static dq_node *node_split(deque *q, dq_node *n, size_t i)
{
    size_t off = node_offset_of(q, n, i);
    size_t bytes = n->end - off;
    dq_node *m = node_new();
    m->cap = grow_cap(q, 0, bytes);
    m->buf = mem_alloc(m->cap);
    memcpy(m->buf, n->buf + off, bytes);
    m->start = 0;
    m->end = bytes;
    m->count = n->count - i;
    n->end = off;
    n->count = i;
    link_after(q, n, m);
    q->raw_inner = 1;   /* the new node may be an inner one */
    return m;
}

/* Halve a node that an insert or a replace pushed past the limits, until
 * every piece fits (a piece of one entry always does). */
static void node_fix_overflow(deque *q, dq_node *n)
{
    if (node_within(q, n->count, node_used(n)))
        return;
    dq_node *m = node_split(q, n, n->count / 2);
    node_fix_overflow(q, m);
    node_fix_overflow(q, n);
}

/* Append m's entries to n and drop m (m follows n). */
static void node_merge_next(deque *q, dq_node *n)
{
    dq_node *m = n->next;
    node_raw(q, m);
    size_t bytes = node_used(m);
    unsigned char *dst = node_make_room(q, n, n->end, 0, bytes, BIAS_TAIL);
    memcpy(dst, m->buf + m->start, bytes);
    n->count += m->count;
    unlink_node(q, m);
}

/* After a removal inside n: drop it when empty, else merge it with a
 * neighbour when both fit in one node. */
static void node_after_remove(deque *q, dq_node *n)
{
    if (n->count == 0) {
        unlink_node(q, n);
        return;
    }
    if (n->prev && node_within(q, n->prev->count + n->count, node_used(n->prev) + node_used(n))) {
        n = n->prev;
        node_merge_next(q, n);
    }
    if (n->next && node_within(q, n->count + n->next->count, node_used(n) + node_used(n->next)))
        node_merge_next(q, n);
}

/* ---- the list ----------------------------------------------------------- */

deque *deque_new(void)
{
    deque *q = mem_calloc(sizeof(*q));
    q->fill = dq_default_fill;
    q->depth = dq_default_depth;
    return q;
}

deque *deque_new_like(const deque *q)
{
    deque *n = deque_new();
    n->fill = q->fill;
    n->depth = q->depth;
    return n;
}

void deque_free(deque *q)
{
    if (!q)
        return;
    dq_node *n = q->head;
    while (n) {
        dq_node *next = n->next;
        node_free(n);
        n = next;
    }
    mem_free(q);
}

size_t deque_len(const deque *q)
{
    return q->len;
}

size_t deque_node_count(const deque *q)
{
    return q->nodes;
}

size_t deque_node_entries(const deque *q, size_t i)
{
    const dq_node *n = q->head;
    while (n && i--)
        n = n->next;
    return n ? n->count : 0;
}

void deque_push_head_buf(deque *q, const void *p, size_t len)
{
    size_t sz = entry_size(len);
    dq_node *n = q->head;
    if (!n || !node_can_take(q, n, sz)) {
        n = node_new();
        link_after(q, NULL, n);
    }
    entry_write(node_make_room(q, n, n->start, 0, sz, BIAS_HEAD), p, len);
    n->count++;
    q->len++;
    q->cur = NULL;
    dq_settle(q, 0);
}

void deque_push_tail_buf(deque *q, const void *p, size_t len)
{
    size_t sz = entry_size(len);
    dq_node *n = q->tail;
    if (!n || !node_can_take(q, n, sz)) {
        n = node_new();
        link_after(q, q->tail, n);
    }
    entry_write(node_make_room(q, n, n->end, 0, sz, BIAS_TAIL), p, len);
    n->count++;
    q->len++;
    q->cur = NULL;
    dq_settle(q, 1);
}

void deque_push_head(deque *q, kstr v)
{
    deque_push_head_buf(q, v, kstr_len(v));
    kstr_free(v);
}

void deque_push_tail(deque *q, kstr v)
{
    deque_push_tail_buf(q, v, kstr_len(v));
    kstr_free(v);
}

/* Give back a buffer that removals left three quarters empty (the
 * hysteresis keeps a node that oscillates from reallocating each time). */
static void node_maybe_shrink(deque *q, dq_node *n)
{
    size_t used = node_used(n);
    if (n->lzf || n->cap <= DQ_MIN_CAP || used * 4 >= n->cap)
        return;
    size_t cap = grow_cap(q, 0, used * 2);
    unsigned char *nb = mem_alloc(cap);
    size_t ns = (cap - used) / 2;
    memcpy(nb + ns, n->buf + n->start, used);
    mem_free(n->buf);
    n->buf = nb;
    n->cap = cap;
    n->start = ns;
    n->end = ns + used;
}

/* Remove the entry at off (of size sz) from n. */
static void node_remove_at(deque *q, dq_node *n, size_t off, size_t sz)
{
    node_make_room(q, n, off, sz, 0, BIAS_NONE);
    n->count--;
    q->len--;
    q->cur = NULL;
    if (n->count)
        node_maybe_shrink(q, n);
}

kstr deque_pop_head(deque *q)
{
    dq_node *n = q->head;
    if (!n)
        return NULL;
    node_raw(q, n);
    const char *p;
    size_t len;
    size_t sz = entry_read(n->buf + n->start, &p, &len);
    kstr v = kstr_new(p, len);
    node_remove_at(q, n, n->start, sz);
    if (n->count == 0)
        unlink_node(q, n);
    dq_settle(q, 0);
    return v;
}

kstr deque_pop_tail(deque *q)
{
    dq_node *n = q->tail;
    if (!n)
        return NULL;
    node_raw(q, n);
    const char *p;
    size_t len;
    size_t sz = entry_size_before(n->buf + n->end);
    entry_read(n->buf + n->end - sz, &p, &len);
    kstr v = kstr_new(p, len);
    node_remove_at(q, n, n->end - sz, sz);
    if (n->count == 0)
        unlink_node(q, n);
    dq_settle(q, 1);
    return v;
}

void deque_drop_head(deque *q, size_t k)
{
    while (k && q->head) {
        dq_node *n = q->head;
        if (k >= n->count) {
            k -= n->count;
            q->len -= n->count;
            unlink_node(q, n);
            continue;
        }
        size_t off = node_offset_of(q, n, k);
        n->start = off;
        n->count -= k;
        q->len -= k;
        k = 0;
        node_maybe_shrink(q, n);
    }
    q->cur = NULL;
    dq_settle(q, 0);
}

void deque_drop_tail(deque *q, size_t k)
{
    while (k && q->tail) {
        dq_node *n = q->tail;
        if (k >= n->count) {
            k -= n->count;
            q->len -= n->count;
            unlink_node(q, n);
            continue;
        }
        n->end = node_offset_of(q, n, n->count - k);
        n->count -= k;
        q->len -= k;
        k = 0;
        node_maybe_shrink(q, n);
    }
    q->cur = NULL;
    dq_settle(q, 1);
}

/* Position the cursor on list index idx (< len): start from whichever of
 * the head, the tail or the cursor is nearest, hop nodes by their counts,
 * then step entries inside the node. */
static void seek(deque *q, size_t idx)
{
    dq_node *n;
    size_t first;
    size_t from_head = idx, from_tail = q->len - 1 - idx;
    size_t from_cur = SIZE_MAX;
    if (q->cur)
        from_cur = idx >= q->cur_first + q->cur_i ? idx - q->cur_first - q->cur_i
                                                  : q->cur_first + q->cur_i - idx;
    if (q->cur && from_cur <= from_head && from_cur <= from_tail) {
        n = q->cur;
        first = q->cur_first;
    } else if (from_head <= from_tail) {
        n = q->head;
        first = 0;
    } else {
        n = q->tail;
        first = q->len - n->count;
    }
    while (idx < first) {
        n = n->prev;
        first -= n->count;
    }
    while (idx >= first + n->count) {
        first += n->count;
        n = n->next;
    }
    size_t i = idx - first, off;
    node_raw(q, n);
    if (n == q->cur && first == q->cur_first) {
        size_t ci = q->cur_i, d = i > ci ? i - ci : ci - i;
        if (d <= i && d <= n->count - 1 - i) {
            off = q->cur_off;
            for (; ci < i; ci++)
                off += entry_size_at(n->buf + off);
            for (; ci > i; ci--)
                off -= entry_size_before(n->buf + off);
        } else {
            off = node_offset_of(q, n, i);
        }
    } else {
        off = node_offset_of(q, n, i);
    }
    q->cur = n;
    q->cur_first = first;
    q->cur_i = i;
    q->cur_off = off;
}

int deque_view(const deque *q, size_t idx, const char **p, size_t *len)
{
    if (idx >= q->len)
        return 0;
    /* the cursor is a cache: moving it is not a change of the list */
    deque *mq = (deque *)q;
    seek(mq, idx);
    entry_read(mq->cur->buf + mq->cur_off, p, len);
    return 1;
}

static _Thread_local kstr dq_scratch;

kstr deque_get(const deque *q, size_t idx)
{
    const char *p;
    size_t len;
    if (!deque_view(q, idx, &p, &len))
        return NULL;
    if (dq_scratch && kstr_cap(dq_scratch) < len) {
        kstr_free(dq_scratch);
        dq_scratch = NULL;
    }
    if (!dq_scratch)
        dq_scratch = kstr_empty(len < 64 ? 64 : len);
    memcpy(dq_scratch, p, len);
    kstr_set_len(dq_scratch, len);
    return dq_scratch;
}

void deque_set(deque *q, size_t idx, kstr v)
{
    if (idx >= q->len) {
        kstr_free(v);
        return;
    }
    seek(q, idx);
    dq_node *n = q->cur;
    size_t off = q->cur_off, len = kstr_len(v);
    size_t old = entry_size_at(n->buf + off);
    entry_write(node_make_room(q, n, off, old, entry_size(len), BIAS_NONE), v, len);
    kstr_free(v);
    q->cur = NULL;
    node_fix_overflow(q, n);
    dq_settle(q, 0);
}

void deque_insert(deque *q, size_t idx, kstr v)
{
    if (idx >= q->len) {
        deque_push_tail(q, v);
        return;
    }
    if (idx == 0) {
        deque_push_head(q, v);
        return;
    }
    seek(q, idx);
    dq_node *n = q->cur;
    size_t off = q->cur_off, len = kstr_len(v), sz = entry_size(len);
    /* before the first entry of a full node: the previous node's tail may
     * have room, as Redis tries the neighbour before splitting */
    if (q->cur_i == 0 && n->prev && !node_can_take(q, n, sz) && node_can_take(q, n->prev, sz)) {
        n = n->prev;
        off = n->end;
    }
    entry_write(node_make_room(q, n, off, 0, sz, BIAS_NONE), v, len);
    kstr_free(v);
    n->count++;
    q->len++;
    q->cur = NULL;
    node_fix_overflow(q, n);
    dq_settle(q, 0);
}

void deque_remove(deque *q, size_t idx)
{
    if (idx >= q->len)
        return;
    seek(q, idx);
    dq_node *n = q->cur;
    node_remove_at(q, n, q->cur_off, entry_size_at(n->buf + q->cur_off));
    node_after_remove(q, n);
    dq_settle(q, 0);
}

int deque_compress_depth(const deque *q)
{
    return q->depth;
}

size_t deque_mem(const deque *q)
{
    size_t total = sizeof(*q);
    for (const dq_node *n = q->head; n; n = n->next)
        total += sizeof(*n) + (n->lzf ? n->lzf_len : n->cap);
    return total;
}
