/* repl_backlog: the replication backlog, a fixed-size ring buffer holding
 * the most recent bytes of the replication stream. A replica that lost its
 * link asks for the stream from its last offset (PSYNC); when those bytes
 * are still here, only they are sent (+CONTINUE) instead of a whole new
 * snapshot.
 *
 * Offsets are replication offsets: the stream's first byte has offset 1,
 * and end_offset is the offset of the last byte fed (master_repl_offset).
 * The buffer holds [first_offset, end_offset], first_offset = end_offset -
 * histlen + 1. Pure: no I/O, no server; unit-tested on its own. */
#ifndef KV_REPL_BACKLOG_H
#define KV_REPL_BACKLOG_H
#include <stddef.h>

typedef struct repl_backlog {
    char *buf;
    size_t size;          /* capacity in bytes */
    size_t histlen;       /* valid bytes held (<= size) */
    size_t idx;           /* where the next byte goes */
    long long end_offset; /* replication offset of the last byte fed */
} repl_backlog;

/* A backlog of size bytes whose next byte will have offset end_offset+1. */
repl_backlog *repl_backlog_create(size_t size, long long end_offset);
void repl_backlog_free(repl_backlog *b);
/* Append stream bytes (the oldest bytes fall off when full). */
void repl_backlog_feed(repl_backlog *b, const void *p, size_t len);
/* Offset of the oldest byte held (end_offset + 1 when empty). */
long long repl_backlog_first_offset(const repl_backlog *b);
/* Can the stream be served from offset `from` (the first byte a replica
 * lacks)? True when from is in [first_offset, end_offset + 1]. */
int repl_backlog_covers(const repl_backlog *b, long long from);
/* Emit the bytes from offset `from` through end_offset in at most two
 * chunks. Returns the number of bytes emitted, or -1 when not covered. */
typedef void repl_backlog_emit_fn(void *priv, const char *p, size_t len);
long long repl_backlog_copy(const repl_backlog *b, long long from, repl_backlog_emit_fn *fn, void *priv);
/* Change the capacity keeping the most recent min(histlen, newsize) bytes. */
void repl_backlog_resize(repl_backlog *b, size_t newsize);
/* Drop the newest n bytes (n <= histlen): end_offset moves back. */
void repl_backlog_trim(repl_backlog *b, size_t n);
/* Forget the content; the next byte fed will have offset end_offset+1. */
void repl_backlog_reset(repl_backlog *b, long long end_offset);

#endif
