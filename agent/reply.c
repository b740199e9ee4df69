/* reply: RESP2 encoding straight into the client's chain of output blocks.
 * The common small replies are a memcpy into the tail block; a block is
 * never reallocated, so bytes already handed to libuv stay put. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "reply.h"
#include "client.h"
#include "object.h"
#include "mem.h"
#include "util.h"
#include "server.h"

#define REPLY_BLOCK_SIZE CLIENT_REPLY_BLOCK_SIZE

static reply_block *reply_new_block(client *c, size_t min)
{
    size_t size = min > REPLY_BLOCK_SIZE ? min : REPLY_BLOCK_SIZE;
    reply_block *b = mem_alloc(sizeof(*b) + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    if (c->reply_tail)
        c->reply_tail->next = b;
    else
        c->reply_head = b;
    c->reply_tail = b;
    return b;
}

int reply_is_discarded(const client *c)
{
    return (c->flags & (CLIENT_NO_REPLY | CLIENT_CLOSE_ASAP | CLIENT_CLOSING)) != 0;
}

void reply_raw(client *c, const void *p, size_t len)
{
    if (reply_is_discarded(c) || len == 0)
        return;
    reply_block *b = c->reply_tail;
    const char *src = p;
    if (b && b->size - b->used >= len) {
        memcpy(b->buf + b->used, src, len);
        b->used += len;
    } else {
        if (b && b->size > b->used) {
            size_t room = b->size - b->used;
            memcpy(b->buf + b->used, src, room);
            b->used += room;
            src += room;
            len -= room;
            c->reply_bytes += room;
        }
        b = reply_new_block(c, len);
        memcpy(b->buf, src, len);
        b->used = len;
        c->reply_bytes += len;
        client_schedule_write(c);
        client_check_output_limits(c);
        return;
    }
    c->reply_bytes += len;
    if (!c->pending_write)
        client_schedule_write(c);
}

static void reply_prefixed_len(client *c, char prefix, long long n)
{
    char buf[RESP_LEN_HEADER_MAX];
    reply_raw(c, buf, resp_len_header(buf, prefix, n));
}

void reply_ok(client *c)
{
    reply_raw(c, "+OK\r\n", 5);
}

void reply_simple(client *c, const char *status)
{
    reply_raw(c, "+", 1);
    reply_raw(c, status, strlen(status));
    reply_raw(c, "\r\n", 2);
}

/* Error texts must not break the protocol: newlines become spaces. */
void reply_error(client *c, const char *err)
{
    size_t len = strlen(err);
    /* Redis trims CR/LF off the end of an error (an echoed argument's)
     * before it turns the others into spaces. */
    while (len > 0 && (err[len - 1] == '\r' || err[len - 1] == '\n'))
        len--;
    c->srv->stats.total_error_replies++;
    srv_count_error(c->srv, err);
    c->reply_error_count++;
    reply_raw(c, "-", 1);
    if (memchr(err, '\n', len) || memchr(err, '\r', len)) {
        char *copy = mem_memdup(err, len);
        for (size_t i = 0; i < len; i++)
            if (copy[i] == '\r' || copy[i] == '\n')
                copy[i] = ' ';
        reply_raw(c, copy, len);
        mem_free(copy);
    } else {
        reply_raw(c, err, len);
    }
    reply_raw(c, "\r\n", 2);
}

void reply_errorf(client *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    reply_error(c, buf);
}

void reply_error_arity(client *c, const char *cmdname)
{
    reply_errorf(c, "ERR wrong number of arguments for '%s' command", cmdname);
}

void reply_int(client *c, long long v)
{
    if (v == 0) {
        reply_raw(c, ":0\r\n", 4);
        return;
    }
    if (v == 1) {
        reply_raw(c, ":1\r\n", 4);
        return;
    }
    reply_prefixed_len(c, ':', v);
}

void reply_bulk(client *c, const void *p, size_t len)
{
    reply_prefixed_len(c, '$', (long long)len);
    reply_raw(c, p, len);
    reply_raw(c, "\r\n", 2);
}

void reply_bulk_cstr(client *c, const char *s)
{
    if (!s)
        reply_null(c);
    else
        reply_bulk(c, s, strlen(s));
}

void reply_bulk_kstr(client *c, const kstr s)
{
    reply_bulk(c, s, kstr_len(s));
}

void reply_bulk_ll(client *c, long long v)
{
    char buf[32];
    int n = util_ll_to_str(buf, sizeof(buf), v);
    reply_bulk(c, buf, (size_t)n);
}

void reply_bulk_double(client *c, double d)
{
    char buf[128];
    int n = util_double_to_str(buf, sizeof(buf), d);
    reply_bulk(c, buf, (size_t)n);
}

void reply_bulk_obj(client *c, const obj *o)
{
    char buf[32];
    size_t len;
    const char *p = obj_string_ptr(o, buf, &len);
    reply_bulk(c, p, len);
}

void reply_null(client *c)
{
    reply_raw(c, "$-1\r\n", 5);
}

void reply_null_array(client *c)
{
    reply_raw(c, "*-1\r\n", 5);
}

void reply_array(client *c, long long len)
{
    reply_prefixed_len(c, '*', len);
}

void reply_empty_array(client *c)
{
    reply_raw(c, "*0\r\n", 4);
}

/* A deferred length is a tiny block of capacity 0 placed in the chain:
 * nothing else is appended into it, and reply_set_deferred_len fills it in
 * before the command returns (so before any write can see it). */
void *reply_defer_len(client *c)
{
    if (reply_is_discarded(c))
        return NULL;
    reply_block *b = mem_alloc(sizeof(*b) + 32);
    b->next = NULL;
    b->size = 0;
    b->used = 0;
    if (c->reply_tail)
        c->reply_tail->next = b;
    else
        c->reply_head = b;
    c->reply_tail = b;
    return b;
}

void reply_set_deferred_len(client *c, void *handle, long long len)
{
    reply_block *b = handle;
    if (!b || reply_is_discarded(c))
        return;
    char tmp[RESP_LEN_HEADER_MAX];
    size_t n = resp_len_header(tmp, '*', len);
    memcpy(b->buf, tmp, n);
    b->used = b->size = n;
    c->reply_bytes += b->used;
    client_schedule_write(c);
}

void reply_help(client *c, const char *cmd, const char **lines)
{
    long long n = 0;
    while (lines[n])
        n++;
    reply_array(c, n + 3);
    char head[128];
    snprintf(head, sizeof(head),
             "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmd);
    reply_simple(c, head);
    for (long long i = 0; i < n; i++)
        reply_simple(c, lines[i]);
    reply_simple(c, "HELP");
    reply_simple(c, "    Prints this help.");
}
