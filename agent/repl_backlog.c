/* repl_backlog: the ring buffer of the most recent replication stream bytes
 * (see repl_backlog.h for the offset conventions). */
#include <string.h>
#include "repl_backlog.h"
#include "mem.h"

repl_backlog *repl_backlog_create(size_t size, long long end_offset)
{
    repl_backlog *b = mem_calloc(sizeof(*b));
    if (size == 0)
        size = 1;
    b->buf = mem_alloc(size);
    b->size = size;
    b->end_offset = end_offset;
    return b;
}

void repl_backlog_free(repl_backlog *b)
{
    if (!b)
        return;
    mem_free(b->buf);
    mem_free(b);
}

void repl_backlog_feed(repl_backlog *b, const void *p, size_t len)
{
    const char *src = p;
    b->end_offset += (long long)len;
    /* Only the last `size` bytes can survive: skip the rest up front. */
    if (len > b->size) {
        src += len - b->size;
        len = b->size;
    }
    while (len > 0) {
        size_t room = b->size - b->idx;
        size_t n = len < room ? len : room;
        memcpy(b->buf + b->idx, src, n);
        b->idx += n;
        if (b->idx == b->size)
            b->idx = 0;
        b->histlen += n;
        src += n;
        len -= n;
    }
    if (b->histlen > b->size)
        b->histlen = b->size;
}

long long repl_backlog_first_offset(const repl_backlog *b)
{
    return b->end_offset - (long long)b->histlen + 1;
}

int repl_backlog_covers(const repl_backlog *b, long long from)
{
    return from >= repl_backlog_first_offset(b) && from <= b->end_offset + 1;
}

long long repl_backlog_copy(const repl_backlog *b, long long from, repl_backlog_emit_fn *fn, void *priv)
{
    if (!repl_backlog_covers(b, from))
        return -1;
    size_t want = (size_t)(b->end_offset + 1 - from);
    if (want == 0)
        return 0;
    /* The oldest byte sits at idx - histlen (mod size). */
    size_t start = (b->idx + b->size - b->histlen) % b->size;
    size_t skip = b->histlen - want;
    size_t pos = (start + skip) % b->size;
    size_t first = b->size - pos;
    if (first > want)
        first = want;
    fn(priv, b->buf + pos, first);
    if (want > first)
        fn(priv, b->buf, want - first);
    return (long long)want;
}

static void repl_backlog_collect(void *priv, const char *p, size_t len)
{
    char **dst = priv;
    memcpy(*dst, p, len);
    *dst += len;
}

void repl_backlog_resize(repl_backlog *b, size_t newsize)
{
    if (newsize == 0)
        newsize = 1;
    if (newsize == b->size)
        return;
    size_t keep = b->histlen < newsize ? b->histlen : newsize;
    char *nb = mem_alloc(newsize);
    char *w = nb;
    if (keep)
        repl_backlog_copy(b, b->end_offset + 1 - (long long)keep, repl_backlog_collect, &w);
    mem_free(b->buf);
    b->buf = nb;
    b->size = newsize;
    b->histlen = keep;
    b->idx = keep % newsize;
}

void repl_backlog_trim(repl_backlog *b, size_t n)
{
    if (n > b->histlen)
        n = b->histlen;
    b->histlen -= n;
    b->idx = (b->idx + b->size - n % b->size) % b->size;
    b->end_offset -= (long long)n;
}

void repl_backlog_reset(repl_backlog *b, long long end_offset)
{
    b->histlen = 0;
    b->idx = 0;
    b->end_offset = end_offset;
}
