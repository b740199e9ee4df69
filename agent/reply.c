/* reply: RESP2/RESP3 encoding straight into the client's chain of output blocks.
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

static int reply_is_resp3(const client *c)
{
    return c->resp_version >= 3;
}

void reply_null(client *c)
{
    if (reply_is_resp3(c))
        reply_raw(c, "_\r\n", 3);
    else
        reply_raw(c, "$-1\r\n", 5);
}

void reply_null_array(client *c)
{
    if (reply_is_resp3(c))
        reply_raw(c, "_\r\n", 3);
    else
        reply_raw(c, "*-1\r\n", 5);
}

void reply_map(client *c, long long npairs)
{
    if (reply_is_resp3(c))
        reply_prefixed_len(c, '%', npairs);
    else
        reply_prefixed_len(c, '*', npairs * 2);
}

void reply_set(client *c, long long len)
{
    reply_prefixed_len(c, reply_is_resp3(c) ? '~' : '*', len);
}

void reply_push(client *c, long long len)
{
    reply_prefixed_len(c, reply_is_resp3(c) ? '>' : '*', len);
}

void reply_attribute(client *c, long long npairs)
{
    if (reply_is_resp3(c))
        reply_prefixed_len(c, '|', npairs);
}

/* Redis 7.0 prints doubles with %.17g in both protocols, infinities spelled
 * "inf"/"-inf" (util_double_to_str does both). */
void reply_double(client *c, double d)
{
    if (!reply_is_resp3(c)) {
        reply_bulk_double(c, d);
        return;
    }
    char buf[140];
    buf[0] = ',';
    int n = util_double_to_str(buf + 1, sizeof(buf) - 3, d);
    memcpy(buf + 1 + n, "\r\n", 2);
    reply_raw(c, buf, (size_t)n + 3);
}

void reply_human_ldouble(client *c, long double d)
{
    char buf[UTIL_MAX_LDOUBLE_CHARS + 4];
    buf[0] = ',';
    int n = util_ldouble_to_str(buf + 1, sizeof(buf) - 3, d);
    if (!reply_is_resp3(c)) {
        reply_bulk(c, buf + 1, (size_t)n);
        return;
    }
    memcpy(buf + 1 + n, "\r\n", 2);
    reply_raw(c, buf, (size_t)n + 3);
}

void reply_bool(client *c, int b)
{
    if (reply_is_resp3(c))
        reply_raw(c, b ? "#t\r\n" : "#f\r\n", 4);
    else
        reply_raw(c, b ? ":1\r\n" : ":0\r\n", 4);
}

void reply_verbatim(client *c, const char *p, size_t len, const char *fmt)
{
    if (!reply_is_resp3(c)) {
        reply_bulk(c, p, len);
        return;
    }
    reply_prefixed_len(c, '=', (long long)len + 4);
    reply_raw(c, fmt, 3);
    reply_raw(c, ":", 1);
    reply_raw(c, p, len);
    reply_raw(c, "\r\n", 2);
}

void reply_bigint(client *c, const char *digits, size_t len)
{
    if (!reply_is_resp3(c)) {
        reply_bulk(c, digits, len);
        return;
    }
    reply_raw(c, "(", 1);
    reply_raw(c, digits, len);
    reply_raw(c, "\r\n", 2);
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

static void reply_fill_deferred(client *c, void *handle, char prefix, long long len)
{
    reply_block *b = handle;
    if (!b || reply_is_discarded(c))
        return;
    char tmp[RESP_LEN_HEADER_MAX];
    size_t n = resp_len_header(tmp, prefix, len);
    memcpy(b->buf, tmp, n);
    b->used = b->size = n;
    c->reply_bytes += b->used;
    client_schedule_write(c);
}

void reply_set_deferred_len(client *c, void *handle, long long len)
{
    reply_fill_deferred(c, handle, '*', len);
}

void reply_set_deferred_map_len(client *c, void *handle, long long npairs)
{
    if (reply_is_resp3(c))
        reply_fill_deferred(c, handle, '%', npairs);
    else
        reply_fill_deferred(c, handle, '*', npairs * 2);
}

void reply_set_deferred_set_len(client *c, void *handle, long long len)
{
    reply_fill_deferred(c, handle, reply_is_resp3(c) ? '~' : '*', len);
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
