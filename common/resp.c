/* resp: the RESP2 request parser. It reads the bytes of one command from the
 * start of a client's input, remembers how far it got, and on the next call
 * resumes there, so a command arriving one byte at a time costs the same as
 * one arriving whole. Arguments are kept as offsets from the command start,
 * not pointers, because the caller may move or compact its buffer between
 * calls; pointers are made only when the command is complete.
 *
 * Acceptance rules and error texts follow Redis 7.0's processMultibulkBuffer
 * and processInlineBuffer, quirks included:
 *  - a header line ends at the first '\r', and the byte after it is skipped
 *    without being checked; a bulk's two trailing bytes are skipped unchecked;
 *  - Redis looks for line ends with strchr, so a NUL before the line end hides
 *    it and the client waits until the size limit ends the connection;
 *  - counts accept exactly string2ll's grammar (strconv_str_to_ll: no '+',
 *    no spaces, no leading zeros, no "-0").
 * The only allocations are the argument arrays and the inline scratch, made
 * when a command needs more than the arrays hold (not per command), through
 * the parser's allocator; a failed allocation is a protocol error, never a
 * crash, so the controller can refuse a client instead of aborting. */
#include "resp.h"
#include "strconv.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_UNAUTH_MAX_ARGS 10
#define RESP_UNAUTH_MAX_BULK 16384
#define RESP_ARGV_INITIAL 1024      /* first argv allocation, as Redis' min(count,1024) */
#define RESP_ARGV_KEEP 1024         /* arrays larger than this are released between commands */

enum { KIND_NONE = 0, KIND_MULTIBULK = 1, KIND_INLINE = 2 };

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static int resp_error(resp_parser *p, const char *msg)
{
    snprintf(p->errstr, sizeof(p->errstr), "ERR Protocol error: %s", msg);
    resp_parser_reset(p);
    return RESP_PARSE_ERROR;
}

/* Redis formats the offending byte with %c and then turns CR and LF into
 * spaces so the error stays one protocol line. */
static int resp_error_expected_dollar(resp_parser *p, char got)
{
    if (got == '\r' || got == '\n')
        got = ' ';
    snprintf(p->errstr, sizeof(p->errstr),
             "ERR Protocol error: expected '$', got '%c'", got);
    resp_parser_reset(p);
    return RESP_PARSE_ERROR;
}

static const resp_allocator resp_libc_allocator = { realloc, free };

static int resp_error_oom(resp_parser *p)
{
    return resp_error(p, "out of memory");
}

/* Grows the three argument arrays to at least want entries; 0, or -1 when an
 * allocation failed. argv_cap only moves once all three succeeded, so after a
 * failure every array still holds argv_cap entries (some maybe more) and the
 * parser stays consistent. Callers test want > argv_cap first, keeping this
 * call off the per-argument path. */
static int resp_grow_args(resp_parser *p, int want)
{
    int cap = p->argv_cap ? p->argv_cap : 16;
    void *n;

    if (want <= p->argv_cap)
        return 0;
    while (cap < want)
        cap = cap > INT_MAX / 2 ? INT_MAX : cap * 2;
    if ((n = p->alloc->realloc_fn(p->offs, (size_t)cap * sizeof(*p->offs))) == NULL)
        return -1;
    p->offs = n;
    if ((n = p->alloc->realloc_fn(p->lens, (size_t)cap * sizeof(*p->lens))) == NULL)
        return -1;
    p->lens = n;
    if ((n = p->alloc->realloc_fn(p->argv, (size_t)cap * sizeof(*p->argv))) == NULL)
        return -1;
    p->argv = n;
    p->argv_cap = cap;
    return 0;
}

/* Between commands: give back the arrays a huge command made us grow, so one
 * MSET of a million keys does not pin its argv for the life of the client. */
static void resp_shrink(resp_parser *p)
{
    if (p->argv_cap > RESP_ARGV_KEEP) {
        p->alloc->free_fn(p->offs);
        p->alloc->free_fn(p->lens);
        p->alloc->free_fn(p->argv);
        p->offs = NULL;
        p->lens = NULL;
        p->argv = NULL;
        p->argv_cap = 0;
    }
    if (p->scratch_cap > RESP_INLINE_MAX + 1) {
        p->alloc->free_fn(p->scratch);
        p->scratch = NULL;
        p->scratch_cap = 0;
    }
}

/* Find the '\r' ending the header line that starts at p->pos, resuming the
 * search where the previous call stopped. Returns 1 with *cr set when the
 * line and the byte after its '\r' are in the buffer, 0 otherwise. */
static int resp_find_cr(resp_parser *p, const char *buf, size_t len, size_t *cr)
{
    size_t i = p->scan > p->pos ? p->scan : p->pos;

    if (!p->line_nul) {
        for (; i < len; i++) {
            if (buf[i] == '\r')
                break;
            if (buf[i] == '\0') {
                p->line_nul = 1;
                break;
            }
        }
    }
    if (p->line_nul || i >= len) {
        p->scan = len;
        return 0;
    }
    p->scan = i;            /* found: come back to it until the next byte arrives */
    if (i + 1 >= len)
        return 0;
    *cr = i;
    return 1;
}

static void resp_line_done(resp_parser *p, size_t cr)
{
    p->pos = cr + 2;
    p->scan = p->pos;
    p->line_nul = 0;
}

/* ------------------------------------------------------------------------
 * Multibulk: *<count>\r\n then <count> times $<len>\r\n<bytes>\r\n
 * ------------------------------------------------------------------------ */

static int resp_parse_count(resp_parser *p, const char *buf, size_t len, size_t *consumed)
{
    size_t cr;
    long long ll;

    if (!resp_find_cr(p, buf, len, &cr)) {
        if (len - p->pos > RESP_INLINE_MAX)
            return resp_error(p, "too big mbulk count string");
        return RESP_PARSE_MORE;
    }
    if (!strconv_str_to_ll(buf + 1, cr - 1, &ll) || ll > INT_MAX)
        return resp_error(p, "invalid multibulk length");
    if (ll > RESP_UNAUTH_MAX_ARGS && p->auth_required)
        return resp_error(p, "unauthenticated multibulk length");
    resp_line_done(p, cr);
    if (ll <= 0) {
        *consumed = p->pos;
        resp_parser_reset(p);
        return RESP_PARSE_EMPTY;
    }
    p->mbulk_left = ll;
    if (resp_grow_args(p, ll < RESP_ARGV_INITIAL ? (int)ll : RESP_ARGV_INITIAL) != 0)
        return resp_error_oom(p);
    return RESP_PARSE_DONE;     /* internal: count read, go on with bulks */
}

static int resp_parse_bulk_len(resp_parser *p, const char *buf, size_t len)
{
    size_t cr;
    long long ll;

    if (!resp_find_cr(p, buf, len, &cr)) {
        if (len - p->pos > RESP_INLINE_MAX)
            return resp_error(p, "too big bulk count string");
        return RESP_PARSE_MORE;
    }
    if (buf[p->pos] != '$')
        return resp_error_expected_dollar(p, buf[p->pos]);
    if (!strconv_str_to_ll(buf + p->pos + 1, cr - p->pos - 1, &ll) || ll < 0 ||
        (unsigned long long)ll > (unsigned long long)p->max_bulk_len)
        return resp_error(p, "invalid bulk length");
    if (ll > RESP_UNAUTH_MAX_BULK && p->auth_required)
        return resp_error(p, "unauthenticated bulk length");
    resp_line_done(p, cr);
    p->bulk_len = ll;
    return RESP_PARSE_DONE;
}

static int resp_parse_multibulk(resp_parser *p, const char *buf, size_t len,
                                resp_arg **argv, int *argc, size_t *consumed)
{
    int rc;

    if (p->mbulk_left < 0) {
        rc = resp_parse_count(p, buf, len, consumed);
        if (rc != RESP_PARSE_DONE)
            return rc;
    }
    while (p->mbulk_left > 0) {
        if (p->bulk_len < 0) {
            rc = resp_parse_bulk_len(p, buf, len);
            if (rc != RESP_PARSE_DONE)
                return rc;
        }
        /* The bulk and the two bytes after it (meant to be CRLF, never
         * checked by Redis) must all be here. */
        p->need = p->pos + (size_t)p->bulk_len + 2;
        if (len < p->need)
            return RESP_PARSE_MORE;
        if (p->argc >= p->argv_cap && resp_grow_args(p, p->argc + 1) != 0)
            return resp_error_oom(p);
        p->offs[p->argc] = p->pos;
        p->lens[p->argc] = (size_t)p->bulk_len;
        p->argc++;
        p->pos = p->need;
        p->scan = p->pos;
        p->need = 0;
        p->bulk_len = -1;
        p->mbulk_left--;
    }
    for (int i = 0; i < p->argc; i++) {
        p->argv[i].ptr = buf + p->offs[i];
        p->argv[i].len = p->lens[i];
    }
    *argv = p->argv;
    *argc = p->argc;
    *consumed = p->pos;
    resp_parser_reset(p);       /* keeps the arrays: argv stays valid */
    return RESP_PARSE_DONE;
}

/* ------------------------------------------------------------------------
 * Inline: one line ending at '\n' (a '\r' before it is dropped)
 * ------------------------------------------------------------------------ */

static int resp_parse_inline(resp_parser *p, const char *buf, size_t len,
                             resp_arg **argv, int *argc, size_t *consumed)
{
    size_t i = p->scan;
    size_t linelen;
    int n;

    if (!p->line_nul) {
        for (; i < len && buf[i] != '\n'; i++) {
            if (buf[i] == '\0') {
                p->line_nul = 1;
                break;
            }
        }
    }
    if (p->line_nul || i >= len) {
        p->scan = len;
        if (len > RESP_INLINE_MAX)
            return resp_error(p, "too big inline request");
        return RESP_PARSE_MORE;
    }
    linelen = (i > 0 && buf[i - 1] == '\r') ? i - 1 : i;
    if (p->scratch_cap < linelen + 1) {
        p->alloc->free_fn(p->scratch);
        p->scratch_cap = 0;
        if ((p->scratch = p->alloc->realloc_fn(NULL, linelen + 1)) == NULL)
            return resp_error_oom(p);
        p->scratch_cap = linelen + 1;
    }
    n = resp_split_inline(buf, linelen, p->scratch, p->argv, p->argv_cap);
    if (n == -2) {
        if (resp_grow_args(p, (int)(linelen / 2 + 1)) != 0)
            return resp_error_oom(p);
        n = resp_split_inline(buf, linelen, p->scratch, p->argv, p->argv_cap);
    }
    if (n < 0)
        return resp_error(p, "unbalanced quotes in request");
    *consumed = i + 1;
    resp_parser_reset(p);
    if (n == 0)
        return RESP_PARSE_EMPTY;
    *argv = p->argv;
    *argc = n;
    return RESP_PARSE_DONE;
}

/* ------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------ */

void resp_parser_init(resp_parser *p, size_t max_bulk_len)
{
    resp_parser_init_with(p, max_bulk_len, &resp_libc_allocator);
}

void resp_parser_init_with(resp_parser *p, size_t max_bulk_len, const resp_allocator *alloc)
{
    memset(p, 0, sizeof(*p));
    p->max_bulk_len = max_bulk_len;
    p->alloc = alloc;
    resp_parser_reset(p);
}

void resp_parser_free(resp_parser *p)
{
    p->alloc->free_fn(p->offs);
    p->alloc->free_fn(p->lens);
    p->alloc->free_fn(p->argv);
    p->alloc->free_fn(p->scratch);
    p->offs = NULL;
    p->lens = NULL;
    p->argv = NULL;
    p->scratch = NULL;
    p->argv_cap = 0;
    p->scratch_cap = 0;
    resp_parser_reset(p);
}

void resp_parser_reset(resp_parser *p)
{
    p->kind = KIND_NONE;
    p->mbulk_left = -1;
    p->bulk_len = -1;
    p->pos = 0;
    p->need = 0;
    p->scan = 0;
    p->line_nul = 0;
    p->argc = 0;
}

int resp_parse(resp_parser *p, const char *buf, size_t len,
               resp_arg **argv, int *argc, size_t *consumed)
{
    if (p->kind == KIND_NONE) {
        if (len == 0)
            return RESP_PARSE_MORE;
        resp_shrink(p);
        p->kind = buf[0] == '*' ? KIND_MULTIBULK : KIND_INLINE;
    }
    if (p->kind == KIND_MULTIBULK)
        return resp_parse_multibulk(p, buf, len, argv, argc, consumed);
    return resp_parse_inline(p, buf, len, argv, argc, consumed);
}

size_t resp_parser_mem(const resp_parser *p)
{
    return (size_t)p->argv_cap * (sizeof(*p->offs) + sizeof(*p->lens) + sizeof(*p->argv)) +
           p->scratch_cap;
}

size_t resp_parser_needed(const resp_parser *p)
{
    return p->kind == KIND_MULTIBULK && p->bulk_len >= 0 ? p->need : 0;
}

/* ------------------------------------------------------------------------
 * Inline splitting, sdssplitargs' rules
 * ------------------------------------------------------------------------ */

static int resp_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int resp_hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads one token starting at line[*i] (not a blank) into out. Returns 0,
 * or -1 on unbalanced quotes. *i ends just past the token. */
static int resp_split_token(const char *line, size_t len, size_t *i, char *out, size_t *olen)
{
    size_t p = *i, o = 0;
    int inq = 0, insq = 0;

/* The byte at index k, reading past len as the C string's end. */
#define AT(k) ((k) < len ? line[k] : '\0')
    for (;;) {
        char c = AT(p);
        if (inq) {
            if (c == '\\' && AT(p + 1) == 'x' && resp_hex_val(AT(p + 2)) >= 0 &&
                resp_hex_val(AT(p + 3)) >= 0) {
                out[o++] = (char)(resp_hex_val(AT(p + 2)) * 16 + resp_hex_val(AT(p + 3)));
                p += 3;
            } else if (c == '\\' && AT(p + 1) != '\0') {
                char e;
                p++;
                e = AT(p);
                switch (e) {
                case 'n': e = '\n'; break;
                case 'r': e = '\r'; break;
                case 't': e = '\t'; break;
                case 'b': e = '\b'; break;
                case 'a': e = '\a'; break;
                default: break;
                }
                out[o++] = e;
            } else if (c == '"') {
                /* the closing quote must be followed by a blank or the end */
                if (AT(p + 1) != '\0' && !resp_is_space(AT(p + 1)))
                    return -1;
                p++;
                break;
            } else if (c == '\0') {
                return -1;
            } else {
                out[o++] = c;
            }
        } else if (insq) {
            if (c == '\\' && AT(p + 1) == '\'') {
                p++;
                out[o++] = '\'';
            } else if (c == '\'') {
                if (AT(p + 1) != '\0' && !resp_is_space(AT(p + 1)))
                    return -1;
                p++;
                break;
            } else if (c == '\0') {
                return -1;
            } else {
                out[o++] = c;
            }
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') {
            if (c != '\0')
                p++;
            break;
        } else if (c == '"') {
            inq = 1;
        } else if (c == '\'') {
            insq = 1;
        } else {
            out[o++] = c;
        }
        p++;
    }
#undef AT
    *i = p;
    *olen = o;
    return 0;
}

int resp_split_inline(const char *line, size_t len, char *scratch,
                      resp_arg *out, int max_args)
{
    const char *nul = memchr(line, '\0', len);
    size_t i = 0, used = 0;
    int argc = 0;

    if (nul)
        len = (size_t)(nul - line);
    for (;;) {
        size_t tlen;
        while (i < len && resp_is_space(line[i]))
            i++;
        if (i >= len)
            return argc;
        if (argc >= max_args)
            return -2;
        if (resp_split_token(line, len, &i, scratch + used, &tlen) < 0)
            return -1;
        out[argc].ptr = scratch + used;
        out[argc].len = tlen;
        scratch[used + tlen] = '\0';
        used += tlen + 1;
        argc++;
    }
}

/* ------------------------------------------------------------------------
 * Look-ahead (a hint only: any doubt stops the walk)
 * ------------------------------------------------------------------------ */

#define RESP_PEEK_MAX_LEN 999999999LL  /* nine digits: no overflow, no huge frames */

/* Reads "<prefix><digits>\r\n" at *pos; 0 when it is not exactly that. */
static int resp_peek_number(const char *buf, size_t len, size_t *pos, char prefix, long long *out)
{
    size_t i = *pos;
    if (i >= len || buf[i] != prefix)
        return 0;
    i++;
    long long v = 0;
    size_t digits = 0;
    while (i < len && buf[i] >= '0' && buf[i] <= '9' && digits < 9) {
        v = v * 10 + (buf[i] - '0');
        i++;
        digits++;
    }
    if (digits == 0 || i + 1 >= len || buf[i] != '\r' || buf[i + 1] != '\n')
        return 0;
    *pos = i + 2;
    *out = v;
    return 1;
}

/* One frame at *pos; 0 unless it is complete and well formed. */
static int resp_peek_frame(const char *buf, size_t len, size_t *pos, resp_peek *f)
{
    size_t i = *pos;
    long long argc;
    if (!resp_peek_number(buf, len, &i, '*', &argc) || argc < 1 || argc > RESP_PEEK_MAX_LEN)
        return 0;
    f->argc = (int)argc;
    f->nargs = 0;
    for (long long a = 0; a < argc; a++) {
        long long blen;
        if (!resp_peek_number(buf, len, &i, '$', &blen) || blen > RESP_PEEK_MAX_LEN)
            return 0;
        if ((size_t)blen + 2 > len - i)
            return 0;
        if (f->nargs < RESP_PEEK_ARGS) {
            f->arg[f->nargs].ptr = buf + i;
            f->arg[f->nargs].len = (size_t)blen;
            f->nargs++;
        }
        i += (size_t)blen + 2;
    }
    *pos = i;
    return 1;
}

size_t resp_peek_frames(const char *buf, size_t len, resp_peek *out, size_t max)
{
    size_t pos = 0, n = 0;
    while (n < max && pos < len && resp_peek_frame(buf, len, &pos, &out[n])) {
        out[n].end = pos;
        n++;
    }
    return n;
}

size_t resp_len_header(char *buf, char prefix, long long n)
{
    buf[0] = prefix;
    /* strconv_ll_to_str NUL-terminates; "\r\n" then overwrites the NUL. */
    int digits = strconv_ll_to_str(buf + 1, RESP_LEN_HEADER_MAX - 3, n);
    buf[1 + digits] = '\r';
    buf[2 + digits] = '\n';
    return (size_t)digits + 3;
}
