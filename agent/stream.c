/* stream: the stream value (see stream.h for the node layout). Everything
 * that reads or changes a node's listpack lives here, so t_stream.c, the
 * RDB code and the consumer groups only see IDs, entries and iterators. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stream.h"
#include "stream_cg.h"
#include "listpack.h"
#include "mem.h"
#include "reply.h"
#include "util.h"

/* Redis preallocates this much for a new node so that appends rarely
 * realloc, and shrinks the node to its size once it is full. */
#define STREAM_NODE_PREALLOC 4096
/* Redis' hard cap on a node (and on an entry's elements). */
#define STREAM_NODE_HARD_MAX ((size_t)1 << 30)

/* ---- IDs ---------------------------------------------------------------- */

int stream_id_cmp(const stream_id *a, const stream_id *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

size_t stream_id_format(char *buf, const stream_id *id)
{
    int n = snprintf(buf, STREAM_ID_STR_MAX, "%llu-%llu", (unsigned long long)id->ms,
                     (unsigned long long)id->seq);
    return n > 0 ? (size_t)n : 0;
}

/* Redis' string2ull: a strict int64 first (so "-1" is refused), then
 * strtoull, whose leniency (leading blanks, '+') Redis inherits. */
static int stream_str_to_u64(const char *s, uint64_t *out)
{
    long long ll;
    if (util_str_to_ll(s, strlen(s), &ll)) {
        if (ll < 0)
            return 0;
        *out = (uint64_t)ll;
        return 1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0'))
        return 0;
    *out = v;
    return 1;
}

/* The parser behind every ID argument. seq_given (optional) accepts the
 * "ms-*" form of XADD and says whether the sequence was given. */
static int stream_id_parse_ex(const char *s, size_t len, uint64_t missing_seq, int strict,
                              stream_id *out, int *seq_given)
{
    char buf[128];
    if (len > sizeof(buf) - 1)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0')
        return -1;
    if (seq_given)
        *seq_given = 1;
    if (buf[0] == '-' && buf[1] == '\0') {
        out->ms = out->seq = 0;
        return 0;
    }
    if (buf[0] == '+' && buf[1] == '\0') {
        out->ms = out->seq = UINT64_MAX;
        return 0;
    }
    uint64_t ms, seq;
    char *dash = strchr(buf, '-');
    if (dash)
        *dash = '\0';
    if (!stream_str_to_u64(buf, &ms))
        return -1;
    if (dash) {
        if (seq_given && dash[1] == '*' && dash[2] == '\0') {
            seq = 0;
            *seq_given = 0;
        } else if (!stream_str_to_u64(dash + 1, &seq)) {
            return -1;
        }
    } else {
        seq = missing_seq;
    }
    out->ms = ms;
    out->seq = seq;
    return 0;
}

int stream_id_parse(const char *s, size_t len, uint64_t missing_seq, stream_id *out)
{
    return stream_id_parse_ex(s, len, missing_seq, 0, out, NULL);
}

int stream_id_parse_strict(const char *s, size_t len, uint64_t missing_seq, stream_id *out,
                           int *seq_given)
{
    return stream_id_parse_ex(s, len, missing_seq, 1, out, seq_given);
}

int stream_id_arg(struct client *c, const resp_arg *arg, uint64_t missing_seq, stream_id *out)
{
    if (stream_id_parse(arg->ptr, arg->len, missing_seq, out) == 0)
        return 0;
    reply_error(c, STREAM_ERR_INVALID_ID);
    return -1;
}

stream_id stream_id_incr(stream_id id)
{
    if (id.seq != UINT64_MAX) {
        id.seq++;
    } else if (id.ms != UINT64_MAX) {
        id.ms++;
        id.seq = 0;
    }
    return id;
}

stream_id stream_id_decr(stream_id id)
{
    if (id.seq != 0) {
        id.seq--;
    } else if (id.ms != 0) {
        id.ms--;
        id.seq = UINT64_MAX;
    }
    return id;
}

void stream_id_encode_key(unsigned char out[16], const stream_id *id)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (unsigned char)(id->ms >> (56 - 8 * i));
        out[8 + i] = (unsigned char)(id->seq >> (56 - 8 * i));
    }
}

void stream_id_decode_key(const unsigned char in[16], stream_id *id)
{
    id->ms = id->seq = 0;
    for (int i = 0; i < 8; i++) {
        id->ms = (id->ms << 8) | in[i];
        id->seq = (id->seq << 8) | in[8 + i];
    }
}

/* ---- the stream object -------------------------------------------------- */

stream *stream_new(void)
{
    return mem_calloc(sizeof(stream));
}

void stream_free(stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        mem_free(s->nodes[i].lp);
    mem_free(s->nodes);
    if (s->cgroups)
        stream_cg_free(s->cgroups);
    mem_free(s);
}

stream *stream_dup(const stream *s)
{
    stream *d = mem_alloc(sizeof(stream));
    *d = *s;
    d->nodes = s->nnodes ? mem_alloc(s->nnodes * sizeof(stream_node)) : NULL;
    d->nodes_cap = s->nnodes;
    for (size_t i = 0; i < s->nnodes; i++) {
        size_t len = stream_node_bytes(&s->nodes[i]);
        d->nodes[i].master = s->nodes[i].master;
        d->nodes[i].lp = mem_memdup(s->nodes[i].lp, len);
        d->nodes[i].cap = len;
    }
    d->cgroups = s->cgroups ? stream_cg_dup(s->cgroups) : NULL;
    return d;
}

size_t stream_node_bytes(const stream_node *n)
{
    return lp_total_bytes(n->lp);
}

size_t stream_memory(const stream *s)
{
    size_t m = sizeof(*s) + s->nodes_cap * sizeof(stream_node);
    for (size_t i = 0; i < s->nnodes; i++)
        m += s->nodes[i].cap;
    if (s->cgroups)
        m += stream_cg_memory(s->cgroups);
    return m;
}

/* ---- node internals ----------------------------------------------------- */

/* The master entry: count, deleted, number of master fields, the fields,
 * a 0 terminator. Returns the first real entry. */
static unsigned char *node_entries(unsigned char *lp, long long *master_nf, unsigned char **master_fields)
{
    unsigned char *p = lp + LP_HDR_SIZE;
    p += lp_elem_size(p);                   /* count */
    p += lp_elem_size(p);                   /* deleted */
    long long nf = lp_elem_int(p);
    p += lp_elem_size(p);
    if (master_fields)
        *master_fields = p;
    for (long long i = 0; i < nf; i++)
        p += lp_elem_size(p);
    p += lp_elem_size(p);                   /* the 0 terminator */
    if (master_nf)
        *master_nf = nf;
    return p;
}

static int node_at_end(const unsigned char *p)
{
    return *p == LP_EOF_BYTE;
}

/* One entry of a node, decoded. */
typedef struct entry_view {
    unsigned char *flags_p;
    int flags;
    stream_id id;
    size_t nfields;
    unsigned char *fields;   /* SAMEFIELDS: the values; else field, value, ... */
    unsigned char *next;     /* the following entry (or the 0xFF) */
} entry_view;

static void entry_read(const stream_node *n, unsigned char *p, long long master_nf, entry_view *ev)
{
    ev->flags_p = p;
    ev->flags = (int)lp_elem_int(p);
    p += lp_elem_size(p);
    ev->id.ms = n->master.ms + (uint64_t)lp_elem_int(p);
    p += lp_elem_size(p);
    ev->id.seq = n->master.seq + (uint64_t)lp_elem_int(p);
    p += lp_elem_size(p);
    size_t elems;
    if (ev->flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
        ev->nfields = (size_t)master_nf;
        elems = ev->nfields;
    } else {
        ev->nfields = (size_t)lp_elem_int(p);
        p += lp_elem_size(p);
        elems = ev->nfields * 2;
    }
    ev->fields = p;
    for (size_t i = 0; i < elems; i++)
        p += lp_elem_size(p);
    p += lp_elem_size(p);                   /* lp-count */
    ev->next = p;
}

/* Replace the integer element at p with v, moving the tail when its size
 * changes. Returns the change in the node's size (its offsets after p move
 * by as much). */
static long node_replace_int(stream_node *n, size_t off, long long v)
{
    unsigned char tmp[LP_INT_MAX_BYTES];
    size_t newsz = lp_encode_int(tmp, v);
    size_t total = stream_node_bytes(n);
    size_t oldsz = lp_elem_size(n->lp + off);
    if (newsz > oldsz && total + (newsz - oldsz) > n->cap) {
        n->cap = total + (newsz - oldsz);
        n->lp = mem_realloc(n->lp, n->cap);
    }
    if (newsz != oldsz)
        memmove(n->lp + off + newsz, n->lp + off + oldsz, total - off - oldsz);
    memcpy(n->lp + off, tmp, newsz);
    total = total + newsz - oldsz;
    lp_set_header(n->lp, total, lp_header_count(n->lp));
    return (long)newsz - (long)oldsz;
}

static long long node_live(const stream_node *n)
{
    return lp_elem_int(n->lp + LP_HDR_SIZE);
}

static long long node_deleted(const stream_node *n)
{
    const unsigned char *p = n->lp + LP_HDR_SIZE;
    return lp_elem_int(p + lp_elem_size(p));
}

/* Set count and deleted; returns the shift of everything after them. */
static long node_set_counters(stream_node *n, long long live, long long deleted)
{
    long shift = node_replace_int(n, LP_HDR_SIZE, live);
    size_t off = LP_HDR_SIZE + lp_elem_size(n->lp + LP_HDR_SIZE);
    return shift + node_replace_int(n, off, deleted);
}

static void node_remove(stream *s, size_t idx)
{
    mem_free(s->nodes[idx].lp);
    memmove(&s->nodes[idx], &s->nodes[idx + 1], (s->nnodes - idx - 1) * sizeof(stream_node));
    s->nnodes--;
}

/* Flag the entry at off deleted and update the counters; a node left with
 * no live entry is freed. Returns 1 if the node went away, else 0 with
 * *shift the move of the entries' offsets. */
static int node_delete_entry(stream *s, size_t idx, size_t off, long *shift)
{
    stream_node *n = &s->nodes[idx];
    int flags = (int)lp_elem_int(n->lp + off);
    long long live = node_live(n), deleted = node_deleted(n);
    *shift = 0;
    s->length--;
    if (live <= 1) {
        node_remove(s, idx);
        return 1;
    }
    /* Flags are below 128: one byte before and after, so in place. */
    node_replace_int(n, off, flags | STREAM_ITEM_FLAG_DELETED);
    *shift = node_set_counters(n, live - 1, deleted + 1);
    return 0;
}

/* Binary search: the last node whose master ID is <= id, or -1. */
static long node_find(const stream *s, const stream_id *id)
{
    size_t lo = 0, hi = s->nnodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (stream_id_cmp(&s->nodes[mid].master, id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

/* The ID of a node's last entry, deleted or not (what Redis' MINID trim
 * compares whole nodes by). */
static stream_id node_last_id(const stream_node *n)
{
    long long mnf;
    unsigned char *p = node_entries(n->lp, &mnf, NULL);
    entry_view ev = {0};
    ev.id = n->master;
    while (!node_at_end(p)) {
        entry_read(n, p, mnf, &ev);
        p = ev.next;
    }
    return ev.id;
}

/* ---- appending ---------------------------------------------------------- */

static void node_reserve(stream_node *n, size_t need)
{
    if (need <= n->cap)
        return;
    size_t cap = n->cap + n->cap / 2;
    if (cap < need)
        cap = need;
    n->lp = mem_realloc(n->lp, cap);
    n->cap = cap;
}

/* Give back the preallocated tail of a node that will not grow again. */
static void node_shrink(stream_node *n)
{
    size_t len = stream_node_bytes(n);
    if (n->cap > len) {
        n->lp = mem_realloc(n->lp, len);
        n->cap = len;
    }
}

/* Room for one more node. The vector grows by half: a million entries
 * make ten thousand nodes, and doubling would leave up to half of it
 * unused (Redis' radix tree costs about as much per node as our slot). */
static void nodes_reserve(stream *s)
{
    if (s->nnodes < s->nodes_cap)
        return;
    s->nodes_cap = s->nodes_cap < 4 ? 4 : s->nodes_cap + s->nodes_cap / 2;
    s->nodes = mem_realloc(s->nodes, s->nodes_cap * sizeof(stream_node));
}

static stream_node *node_new(stream *s, const stream_id *master, size_t nfields, const resp_arg *fv,
                             size_t prealloc)
{
    nodes_reserve(s);
    size_t need = LP_HDR_SIZE + 1 + 4 * LP_INT_MAX_BYTES;
    for (size_t i = 0; i < nfields; i++)
        need += lp_str_size(fv[2 * i].ptr, fv[2 * i].len);
    stream_node *n = &s->nodes[s->nnodes++];
    n->master = *master;
    n->cap = need > prealloc ? need : prealloc;
    n->lp = mem_alloc(n->cap);
    unsigned char *p = n->lp + LP_HDR_SIZE;
    p += lp_encode_int(p, 0);               /* count: set when the entry goes in */
    p += lp_encode_int(p, 0);               /* deleted */
    p += lp_encode_int(p, (long long)nfields);
    for (size_t i = 0; i < nfields; i++)
        p += lp_encode_str(p, fv[2 * i].ptr, fv[2 * i].len);
    p += lp_encode_int(p, 0);               /* master entry terminator */
    *p++ = LP_EOF_BYTE;
    lp_set_header(n->lp, (size_t)(p - n->lp), nfields + 4);
    return n;
}

/* Does this entry carry exactly the master entry's fields, in order? */
static int node_same_fields(stream_node *n, size_t nfields, const resp_arg *fv)
{
    long long mnf;
    unsigned char *mf;
    node_entries(n->lp, &mnf, &mf);
    if ((size_t)mnf != nfields)
        return 0;
    for (size_t i = 0; i < nfields; i++, mf += lp_elem_size(mf)) {
        lp_entry e;
        char buf[24];
        const char *p;
        size_t len;
        lp_elem_get(mf, &e);
        if (e.is_int) {
            len = (size_t)util_ll_to_str(buf, sizeof(buf), e.ival);
            p = buf;
        } else {
            p = (const char *)e.sval;
            len = e.slen;
        }
        if (len != fv[2 * i].len || memcmp(p, fv[2 * i].ptr, len) != 0)
            return 0;
    }
    return 1;
}

/* Does the tail node have room for one more entry under Redis' rules? */
static int node_has_room(const stream_node *n, size_t elem_bytes, size_t max_bytes, long long max_entries)
{
    if (max_bytes == 0 || max_bytes > STREAM_NODE_HARD_MAX)
        max_bytes = STREAM_NODE_HARD_MAX;
    if (stream_node_bytes(n) + elem_bytes >= max_bytes)
        return 0;
    if (max_entries > 0 && node_live(n) + node_deleted(n) >= max_entries)
        return 0;
    return 1;
}

void stream_append(stream *s, const stream_id *id, size_t nfields, const resp_arg *fv,
                   size_t node_max_bytes, long long node_max_entries)
{
    size_t elem_bytes = 0;
    for (size_t i = 0; i < 2 * nfields; i++)
        elem_bytes += fv[i].len;
    stream_node *n = s->nnodes ? &s->nodes[s->nnodes - 1] : NULL;
    if (n && !node_has_room(n, elem_bytes, node_max_bytes, node_max_entries)) {
        node_shrink(n);
        n = NULL;
    }
    int flags = STREAM_ITEM_FLAG_NONE;
    if (!n) {
        size_t prealloc = STREAM_NODE_PREALLOC;
        if (node_max_bytes > 0 && node_max_bytes < prealloc)
            prealloc = node_max_bytes;
        n = node_new(s, id, nfields, fv, prealloc);
        flags = STREAM_ITEM_FLAG_SAMEFIELDS;
    } else if (node_same_fields(n, nfields, fv)) {
        flags = STREAM_ITEM_FLAG_SAMEFIELDS;
    }
    node_replace_int(n, LP_HDR_SIZE, node_live(n) + 1);

    int same = flags & STREAM_ITEM_FLAG_SAMEFIELDS;
    size_t need = 4 * LP_INT_MAX_BYTES;
    for (size_t i = 0; i < nfields; i++) {
        if (!same)
            need += lp_str_size(fv[2 * i].ptr, fv[2 * i].len);
        need += lp_str_size(fv[2 * i + 1].ptr, fv[2 * i + 1].len);
    }
    size_t total = stream_node_bytes(n);
    node_reserve(n, total + need);
    unsigned char *p = n->lp + total - 1;   /* over the 0xFF */
    p += lp_encode_int(p, flags);
    p += lp_encode_int(p, (long long)(id->ms - n->master.ms));
    p += lp_encode_int(p, (long long)(id->seq - n->master.seq));
    if (!same)
        p += lp_encode_int(p, (long long)nfields);
    for (size_t i = 0; i < nfields; i++) {
        if (!same)
            p += lp_encode_str(p, fv[2 * i].ptr, fv[2 * i].len);
        p += lp_encode_str(p, fv[2 * i + 1].ptr, fv[2 * i + 1].len);
    }
    /* lp-count: the elements of this entry, to walk it backwards */
    long long lp_count = (long long)nfields + 3 + (same ? 0 : (long long)nfields + 1);
    p += lp_encode_int(p, lp_count);
    *p++ = LP_EOF_BYTE;
    size_t added = (size_t)lp_count + 1;
    unsigned cnt = lp_header_count(n->lp);
    lp_set_header(n->lp, (size_t)(p - n->lp),
                  cnt == LP_COUNT_UNKNOWN_VAL ? LP_COUNT_UNKNOWN_VAL : cnt + added);

    s->length++;
    s->entries_added++;
    s->last_id = *id;
    if (s->length == 1)
        s->first_id = *id;
}

/* ---- iteration ---------------------------------------------------------- */

void stream_iter_start(stream_iter *it, const stream *s, const stream_id *start, const stream_id *end, int rev)
{
    memset(it, 0, sizeof(*it));
    it->s = s;
    it->rev = rev;
    it->start.ms = it->start.seq = 0;
    it->end.ms = it->end.seq = UINT64_MAX;
    if (start)
        it->start = *start;
    if (end)
        it->end = *end;
    long idx = node_find(s, rev ? &it->end : &it->start);
    if (rev) {
        it->node = (size_t)(idx + 1);       /* one past; decremented when loaded */
    } else {
        it->node = idx < 0 ? 0 : (size_t)idx;
    }
}

/* Record the offsets of a node's entries so it can be walked both ways. */
static void iter_load(stream_iter *it)
{
    const stream_node *n = &it->s->nodes[it->node];
    long long mnf;
    unsigned char *mf;
    unsigned char *p = node_entries(n->lp, &mnf, &mf);
    it->noffs = 0;
    while (!node_at_end(p)) {
        if (it->noffs == it->offs_cap) {
            it->offs_cap = it->offs_cap ? it->offs_cap * 2 : 128;
            it->offs = mem_realloc(it->offs, it->offs_cap * sizeof(uint32_t));
        }
        it->offs[it->noffs++] = (uint32_t)(p - n->lp);
        entry_view ev;
        entry_read(n, p, mnf, &ev);
        p = ev.next;
    }
    it->master_fp = mf;
    it->pos = it->rev ? it->noffs : 0;
    it->in_node = 1;
}

int stream_iter_next(stream_iter *it, stream_id *id, size_t *numfields)
{
    for (;;) {
        if (!it->in_node) {
            if (it->rev) {
                if (it->node == 0)
                    return 0;
                it->node--;
            } else if (it->node >= it->s->nnodes) {
                return 0;
            }
            if (it->node >= it->s->nnodes)
                return 0;
            iter_load(it);
        }
        const stream_node *n = &it->s->nodes[it->node];
        if (it->rev ? it->pos == 0 : it->pos == it->noffs) {
            it->in_node = 0;
            if (!it->rev)
                it->node++;
            continue;
        }
        size_t i = it->rev ? --it->pos : it->pos++;
        long long mnf;
        unsigned char *mf;
        node_entries(n->lp, &mnf, &mf);
        entry_view ev;
        entry_read(n, n->lp + it->offs[i], mnf, &ev);
        if (it->rev) {
            if (stream_id_cmp(&ev.id, &it->start) < 0)
                return 0;
            if (stream_id_cmp(&ev.id, &it->end) > 0)
                continue;
        } else {
            if (stream_id_cmp(&ev.id, &it->end) > 0)
                return 0;
            if (stream_id_cmp(&ev.id, &it->start) < 0)
                continue;
        }
        if (ev.flags & STREAM_ITEM_FLAG_DELETED)
            continue;
        it->cur_off = it->offs[i];
        it->samefields = (ev.flags & STREAM_ITEM_FLAG_SAMEFIELDS) != 0;
        it->fp = ev.fields;
        it->master_fp = mf;
        it->fields_left = ev.nfields;
        *id = ev.id;
        *numfields = ev.nfields;
        return 1;
    }
}

static void field_from(const unsigned char *p, stream_field *f)
{
    lp_entry e;
    lp_elem_get(p, &e);
    if (e.is_int) {
        f->ival = e.ival;
        f->len = (size_t)util_ll_to_str(f->buf, sizeof(f->buf), e.ival);
        f->p = (const unsigned char *)f->buf;
    } else {
        f->p = e.sval;
        f->len = e.slen;
    }
}

void stream_iter_field(stream_iter *it, stream_field *field, stream_field *value)
{
    if (it->samefields) {
        field_from(it->master_fp, field);
        it->master_fp += lp_elem_size(it->master_fp);
    } else {
        field_from(it->fp, field);
        it->fp += lp_elem_size(it->fp);
    }
    field_from(it->fp, value);
    it->fp += lp_elem_size(it->fp);
    if (it->fields_left)
        it->fields_left--;
}

void stream_iter_delete(stream_iter *it)
{
    stream *s = (stream *)it->s;
    long shift;
    if (node_delete_entry(s, it->node, it->cur_off, &shift)) {
        /* The node is gone: the next one (forward) now has its index. */
        it->in_node = 0;
        return;
    }
    for (size_t i = 0; i < it->noffs; i++)
        it->offs[i] = (uint32_t)((long)it->offs[i] + shift);
}

void stream_iter_stop(stream_iter *it)
{
    mem_free(it->offs);
    it->offs = NULL;
    it->noffs = it->offs_cap = 0;
}

/* ---- edges, deletion, trimming ----------------------------------------- */

/* First (or last) live entry; 0 when the stream is empty. */
static int stream_edge_id(const stream *s, int last, stream_id *id)
{
    stream_iter it;
    size_t nf;
    stream_iter_start(&it, s, NULL, NULL, last);
    int found = stream_iter_next(&it, id, &nf);
    stream_iter_stop(&it);
    if (!found)
        id->ms = id->seq = 0;
    return found;
}

int stream_last_valid_id(const stream *s, stream_id *id)
{
    return stream_edge_id(s, 1, id);
}

int stream_entry_exists(const stream *s, const stream_id *id)
{
    stream_iter it;
    stream_id got;
    size_t nf;
    stream_iter_start(&it, s, id, id, 0);
    int found = stream_iter_next(&it, &got, &nf);
    stream_iter_stop(&it);
    return found;
}

int stream_delete(stream *s, const stream_id *id)
{
    stream_iter it;
    stream_id got;
    size_t nf;
    stream_iter_start(&it, s, id, id, 0);
    int found = stream_iter_next(&it, &got, &nf);
    if (found)
        stream_iter_delete(&it);
    stream_iter_stop(&it);
    return found;
}

void stream_update_first_id(stream *s)
{
    stream_edge_id(s, 0, &s->first_id);
}

/* Trim inside the first node that cannot go whole: flag entries deleted
 * from its start while the strategy says so. */
static long long trim_inside_node(stream *s, const stream_trim_args *a)
{
    stream_node *n = &s->nodes[0];
    long long mnf;
    unsigned char *p = node_entries(n->lp, &mnf, NULL);
    long long live = node_live(n), deleted = node_deleted(n), removed = 0;
    while (!node_at_end(p)) {
        entry_view ev;
        entry_read(n, p, mnf, &ev);
        int stop = a->strategy == STREAM_TRIM_MAXLEN ? s->length <= (uint64_t)a->maxlen
                                                     : stream_id_cmp(&ev.id, &a->minid) >= 0;
        if (stop)
            break;
        if (!(ev.flags & STREAM_ITEM_FLAG_DELETED)) {
            node_replace_int(n, (size_t)(ev.flags_p - n->lp), ev.flags | STREAM_ITEM_FLAG_DELETED);
            removed++;
            s->length--;
        }
        p = ev.next;
    }
    if (removed)
        node_set_counters(n, live - removed, deleted + removed);
    return removed;
}

long long stream_trim(stream *s, const stream_trim_args *a)
{
    long long removed = 0;
    while (s->nnodes) {
        if (a->strategy == STREAM_TRIM_MAXLEN && s->length <= (uint64_t)a->maxlen)
            break;
        stream_node *n = &s->nodes[0];
        long long entries = node_live(n);
        if (a->limit && removed + entries > a->limit)
            break;
        int whole;
        if (a->strategy == STREAM_TRIM_MAXLEN) {
            whole = s->length - (uint64_t)entries >= (uint64_t)a->maxlen;
        } else {
            stream_id last = node_last_id(n);
            whole = stream_id_cmp(&last, &a->minid) < 0;
        }
        if (whole) {
            node_remove(s, 0);
            s->length -= (uint64_t)entries;
            removed += entries;
            continue;
        }
        if (!a->approx)
            removed += trim_inside_node(s, a);
        break;
    }
    if (s->length == 0)
        s->first_id.ms = s->first_id.seq = 0;
    else
        stream_update_first_id(s);
    return removed;
}

/* ---- replies ------------------------------------------------------------ */

static void reply_field(struct client *c, const stream_field *f)
{
    reply_bulk(c, f->p, f->len);
}

void stream_reply_id(struct client *c, const stream_id *id)
{
    char buf[STREAM_ID_STR_MAX];
    size_t n = stream_id_format(buf, id);
    reply_bulk(c, buf, n);
}

/* The entry the iterator just returned: [id, [f1, v1, ...]]. */
static void reply_iter_entry(struct client *c, stream_iter *it, const stream_id *id, size_t nf)
{
    reply_array(c, 2);
    stream_reply_id(c, id);
    reply_array(c, (long long)nf * 2);
    for (size_t i = 0; i < nf; i++) {
        stream_field f, v;
        stream_iter_field(it, &f, &v);
        reply_field(c, &f);
        reply_field(c, &v);
    }
}

int stream_reply_entry(struct client *c, const stream *s, const stream_id *id)
{
    stream_iter it;
    stream_id got;
    size_t nf;
    stream_iter_start(&it, s, id, id, 0);
    int found = stream_iter_next(&it, &got, &nf);
    if (found)
        reply_iter_entry(c, &it, &got, nf);
    stream_iter_stop(&it);
    return found;
}

size_t stream_reply_range_raw(struct client *c, const stream *s, const stream_id *start,
                              const stream_id *end, size_t count, int rev,
                              void (*on_entry)(void *ctx, const stream_id *id), void *ctx)
{
    stream_iter it;
    stream_id id;
    size_t nf, n = 0;
    stream_iter_start(&it, s, start, end, rev);
    while ((count == 0 || n < count) && stream_iter_next(&it, &id, &nf)) {
        reply_iter_entry(c, &it, &id, nf);
        if (on_entry)
            on_entry(ctx, &id);
        n++;
    }
    stream_iter_stop(&it);
    return n;
}

size_t stream_reply_range(struct client *c, const stream *s, const stream_id *start, const stream_id *end,
                          size_t count, int rev, void (*on_entry)(void *ctx, const stream_id *id), void *ctx)
{
    void *h = reply_defer_len(c);
    size_t n = stream_reply_range_raw(c, s, start, end, count, rev, on_entry, ctx);
    reply_set_deferred_len(c, h, (long long)n);
    return n;
}

/* ---- consumer-group support --------------------------------------------- */

long long stream_estimate_distance(const stream *s, const stream_id *id)
{
    if (!s->entries_added)
        return 0;
    if (!s->length && stream_id_cmp(id, &s->last_id) < 1)
        return (long long)s->entries_added;
    int cmp_last = stream_id_cmp(id, &s->last_id);
    if (cmp_last == 0)
        return (long long)s->entries_added;
    if (cmp_last > 0)
        return -1;
    int cmp_first = stream_id_cmp(id, &s->first_id);
    int no_tomb = s->max_deleted_id.ms == 0 && s->max_deleted_id.seq == 0;
    if (no_tomb || stream_id_cmp(&s->max_deleted_id, &s->first_id) < 0) {
        if (cmp_first < 0)
            return (long long)(s->entries_added - s->length);
        if (cmp_first == 0)
            return (long long)(s->entries_added - s->length + 1);
    }
    return -1;
}

int stream_range_has_tombstones(const stream *s, const stream_id *start, const stream_id *end)
{
    if (!s->length || (s->max_deleted_id.ms == 0 && s->max_deleted_id.seq == 0))
        return 0;
    if (stream_id_cmp(&s->first_id, &s->max_deleted_id) > 0)
        return 0;
    stream_id lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX};
    if (start)
        lo = *start;
    if (end)
        hi = *end;
    return stream_id_cmp(&lo, &s->max_deleted_id) <= 0 && stream_id_cmp(&s->max_deleted_id, &hi) <= 0;
}

/* ---- rax shape (XINFO STREAM's radix-tree-nodes) ------------------------ */

/* Redis keeps the nodes in a radix tree keyed by the 16-byte master IDs and
 * reports its node count. For a set of equal-length keys the tree's shape
 * is fixed: a compressed node for every run without a branch, a branching
 * node where keys diverge, one node per child of a branch and one leaf per
 * key. Counted here over the sorted keys (recursion depth <= 16). */
static size_t key_lcp(const unsigned char *a, const unsigned char *b, size_t from)
{
    size_t i = from;
    while (i < 16 && a[i] == b[i])
        i++;
    return i;
}

static size_t rax_count(const unsigned char (*keys)[16], size_t lo, size_t hi, size_t depth)
{
    if (hi - lo == 1)
        return depth == 16 ? 1 : 2;
    size_t l = key_lcp(keys[lo], keys[hi - 1], depth);
    size_t nodes = l > depth ? 2 : 1;       /* a compressed run, then the branch */
    size_t i = lo;
    while (i < hi) {
        size_t j = i + 1;
        while (j < hi && keys[j][l] == keys[i][l])
            j++;
        nodes += rax_count(keys, i, j, l + 1);
        i = j;
    }
    return nodes;
}

size_t stream_rax_nodes(const stream *s)
{
    if (s->nnodes == 0)
        return 1;
    unsigned char (*keys)[16] = mem_alloc(s->nnodes * 16);
    for (size_t i = 0; i < s->nnodes; i++)
        stream_id_encode_key(keys[i], &s->nodes[i].master);
    size_t n = rax_count((const unsigned char (*)[16])keys, 0, s->nnodes, 0);
    mem_free(keys);
    return n;
}

/* ---- loading ------------------------------------------------------------ */

/* Walk a node from a file with every element checked: the master entry,
 * each entry's shape and lp-count, IDs increasing, the counters. */
static int node_validate(const stream *s, const stream_id *master, const unsigned char *lp, size_t len,
                         long long *live_out, const char **err)
{
    lp_iter it;
    lp_entry e;
    long long v[3];
    if (lp_iter_init(&it, lp, len) < 0) {
        *err = it.err;
        return -1;
    }
#define NEXT_OR_FAIL(what)                                              \
    do {                                                                \
        int r_ = lp_iter_next(&it, &e);                                 \
        if (r_ < 0) { *err = it.err; return -1; }                       \
        if (r_ == 0) { *err = "stream node ends inside " what; return -1; } \
    } while (0)
#define NEXT_INT(what, dst)                                             \
    do {                                                                \
        NEXT_OR_FAIL(what);                                             \
        if (!e.is_int) { *err = "stream node: " what " is not an integer"; return -1; } \
        (dst) = e.ival;                                                 \
    } while (0)
    for (int i = 0; i < 3; i++)
        NEXT_INT("the master entry", v[i]);
    long long live = v[0], deleted = v[1], mnf = v[2];
    if (live <= 0 || deleted < 0 || mnf < 0 || mnf > 1LL << 30) {
        *err = "stream node has invalid master entry counters";
        return -1;
    }
    for (long long i = 0; i < mnf; i++)
        NEXT_OR_FAIL("the master fields");
    long long zero;
    NEXT_INT("the master entry", zero);
    if (zero != 0) {
        *err = "stream node master entry not terminated by 0";
        return -1;
    }
    stream_id prev = {0, 0};
    int have_prev = 0;
    if (s->nnodes) {
        prev = node_last_id(&s->nodes[s->nnodes - 1]);
        have_prev = 1;
    }
    long long seen_live = 0, seen_deleted = 0;
    for (;;) {
        int r = lp_iter_next(&it, &e);
        if (r < 0) {
            *err = it.err;
            return -1;
        }
        if (r == 0)
            break;
        if (!e.is_int) {
            *err = "stream node: entry flags are not an integer";
            return -1;
        }
        long long flags = e.ival, msd, seqd, nf, lpc;
        if (flags < 0 || flags > 3) {
            *err = "stream node: invalid entry flags";
            return -1;
        }
        NEXT_INT("an entry ID", msd);
        NEXT_INT("an entry ID", seqd);
        stream_id id = {master->ms + (uint64_t)msd, master->seq + (uint64_t)seqd};
        if (have_prev && stream_id_cmp(&id, &prev) <= 0) {
            *err = "stream node entries out of order";
            return -1;
        }
        prev = id;
        have_prev = 1;
        long long elems;
        if (flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
            nf = mnf;
            elems = mnf;
        } else {
            NEXT_INT("an entry", nf);
            if (nf < 0 || nf > 1LL << 30) {
                *err = "stream node: invalid entry field count";
                return -1;
            }
            elems = nf * 2;
        }
        for (long long i = 0; i < elems; i++)
            NEXT_OR_FAIL("an entry");
        NEXT_INT("an entry", lpc);
        if (lpc != elems + 3 + ((flags & STREAM_ITEM_FLAG_SAMEFIELDS) ? 0 : 1)) {
            *err = "stream node: entry lp-count does not match the entry";
            return -1;
        }
        if (flags & STREAM_ITEM_FLAG_DELETED)
            seen_deleted++;
        else
            seen_live++;
    }
#undef NEXT_INT
#undef NEXT_OR_FAIL
    if (seen_live != live || seen_deleted != deleted) {
        *err = "stream node counters do not match its entries";
        return -1;
    }
    *live_out = live;
    return 0;
}

int stream_load_node(stream *s, const stream_id *master, unsigned char *lp, size_t len, const char **err)
{
    long long live;
    if (s->nnodes && stream_id_cmp(master, &s->nodes[s->nnodes - 1].master) <= 0) {
        *err = "stream nodes out of order";
        return -1;
    }
    if (node_validate(s, master, lp, len, &live, err) < 0)
        return -1;
    nodes_reserve(s);
    stream_node *n = &s->nodes[s->nnodes++];
    n->master = *master;
    n->lp = lp;
    n->cap = len;
    s->length += (uint64_t)live;
    return 0;
}

int stream_load_finish(stream *s, uint64_t length, const char **err)
{
    if (length != s->length) {
        *err = "stream length does not match its nodes";
        return -1;
    }
    if (s->nnodes) {
        stream_id last = node_last_id(&s->nodes[s->nnodes - 1]);
        if (stream_id_cmp(&last, &s->last_id) > 0) {
            *err = "stream last ID is smaller than its last entry";
            return -1;
        }
    }
    return 0;
}
