/* Unit tests for the RESP2 request parser (common/resp.c): every protocol
 * error path with Redis 7.0.15's exact reply text (checked against a real
 * redis-server), inline quoting, and the incremental contract: a pipeline
 * fed byte by byte or in random chunks, with the buffer moved before every
 * call, must yield the same commands as when fed whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "resp.h"

#define MB512 (512ULL * 1024 * 1024)

/* ---- helpers ------------------------------------------------------------ */

/* One parsed command, flattened as "arg|arg|arg" with lengths, or a marker
 * for EMPTY, so sequences can be compared with a string compare. */
typedef struct out_log {
    char *s;
    size_t len, cap;
} out_log;

static void log_add(out_log *l, const void *p, size_t n)
{
    if (l->len + n + 1 > l->cap) {
        l->cap = (l->len + n + 1) * 2;
        l->s = realloc(l->s, l->cap);
        assert_non_null(l->s);
    }
    memcpy(l->s + l->len, p, n);
    l->len += n;
    l->s[l->len] = '\0';
}

static void log_cmd(out_log *l, resp_arg *argv, int argc)
{
    char hdr[32];
    snprintf(hdr, sizeof(hdr), "[%d]", argc);
    log_add(l, hdr, strlen(hdr));
    for (int i = 0; i < argc; i++) {
        snprintf(hdr, sizeof(hdr), "%zu:", argv[i].len);
        log_add(l, hdr, strlen(hdr));
        log_add(l, argv[i].ptr, argv[i].len);
        log_add(l, ";", 1);
    }
}

/* Feeds data to a fresh parser in chunks: chunk sizes come from next_chunk.
 * Before every call the unconsumed bytes are copied into a new buffer, so
 * the parser must not keep pointers between calls. Returns the final
 * status (last non-MORE result, or MORE if the input ran out). */
static int feed(const char *data, size_t len, size_t (*next_chunk)(void *), void *ctx,
                out_log *log, resp_parser *p)
{
    char *pending = NULL;
    size_t plen = 0, off = 0;
    int rc = RESP_PARSE_MORE;

    while (off < len || plen > 0) {
        size_t n = 0;
        if (off < len) {
            n = next_chunk(ctx);
            if (n > len - off)
                n = len - off;
        }
        char *moved = malloc(plen + n + 1);
        assert_non_null(moved);
        if (plen)
            memcpy(moved, pending, plen);
        if (pending)
            memset(pending, 0xAA, plen); /* poison the old copy */
        free(pending);
        memcpy(moved + plen, data + off, n);
        off += n;
        pending = moved;
        plen += n;
        for (;;) {
            resp_arg *argv = NULL;
            int argc = 0;
            size_t consumed = 0;
            rc = resp_parse(p, pending, plen, &argv, &argc, &consumed);
            if (rc == RESP_PARSE_MORE)
                break;
            if (rc == RESP_PARSE_ERROR) {
                log_add(log, "ERR:", 4);
                log_add(log, p->errstr, strlen(p->errstr));
                free(pending);
                return rc;
            }
            if (rc == RESP_PARSE_DONE)
                log_cmd(log, argv, argc);
            else
                log_add(log, "[E]", 3);
            assert_true(consumed > 0 && consumed <= plen);
            memmove(pending, pending + consumed, plen - consumed);
            plen -= consumed;
            if (plen == 0)
                break;
        }
        if (rc == RESP_PARSE_MORE && off >= len)
            break;
    }
    free(pending);
    return rc;
}

static size_t chunk_all(void *ctx) { (void)ctx; return SIZE_MAX; }
static size_t chunk_one(void *ctx) { (void)ctx; return 1; }
static size_t chunk_rand(void *ctx)
{
    unsigned *seed = ctx;
    return (size_t)(rand_r(seed) % 23) + 1;
}

/* Parses one complete input in one call and returns the result code; the
 * error text is left in p->errstr. */
static int parse_once(resp_parser *p, const char *data, size_t len, resp_arg **argv, int *argc,
                      size_t *consumed)
{
    return resp_parse(p, data, len, argv, argc, consumed);
}

static void expect_error(const char *data, size_t len, int auth, size_t maxbulk, const char *err)
{
    resp_parser p;
    resp_arg *argv;
    int argc;
    size_t consumed;
    resp_parser_init(&p, maxbulk);
    p.auth_required = auth;
    int rc = parse_once(&p, data, len, &argv, &argc, &consumed);
    if (rc != RESP_PARSE_ERROR)
        fail_msg("input %.*s: rc %d, expected error %s", (int)len, data, rc, err);
    assert_string_equal(p.errstr, err);
    resp_parser_free(&p);

    /* the same error must come out when the bytes arrive one at a time */
    out_log log = {0};
    resp_parser_init(&p, maxbulk);
    p.auth_required = auth;
    rc = feed(data, len, chunk_one, NULL, &log, &p);
    assert_int_equal(rc, RESP_PARSE_ERROR);
    assert_string_equal(p.errstr, err);
    resp_parser_free(&p);
    free(log.s);
}

static void expect_more(const char *data, size_t len, int auth)
{
    resp_parser p;
    resp_arg *argv;
    int argc;
    size_t consumed;
    resp_parser_init(&p, MB512);
    p.auth_required = auth;
    assert_int_equal(parse_once(&p, data, len, &argv, &argc, &consumed), RESP_PARSE_MORE);
    resp_parser_free(&p);
}

#define S(lit) lit, sizeof(lit) - 1

/* ---- error paths -------------------------------------------------------- */

static void test_multibulk_count_errors(void **state)
{
    (void)state;
    expect_error(S("*3000000000\r\n"), 0, MB512, "ERR Protocol error: invalid multibulk length");
    expect_error(S("*2147483648\r\n"), 0, MB512, "ERR Protocol error: invalid multibulk length");
    expect_error(S("*\r\n"), 0, MB512, "ERR Protocol error: invalid multibulk length");
    expect_error(S("*-0\r\n"), 0, MB512, "ERR Protocol error: invalid multibulk length");
    expect_error(S("*01\r\n"), 0, MB512, "ERR Protocol error: invalid multibulk length");
    expect_error(S("*+1\r\n"), 0, MB512, "ERR Protocol error: invalid multibulk length");
    expect_error(S("*1 \r\n"), 0, MB512, "ERR Protocol error: invalid multibulk length");
    expect_error(S("*abc\r\n"), 0, MB512, "ERR Protocol error: invalid multibulk length");
    expect_error(S("*99999999999999999999\r\n"), 0, MB512,
                 "ERR Protocol error: invalid multibulk length");
    /* INT_MAX itself is accepted: the parser then waits for the bulks */
    expect_more(S("*2147483647\r\n"), 0);
    expect_error(S("*11\r\n"), 1, MB512, "ERR Protocol error: unauthenticated multibulk length");
    expect_more(S("*10\r\n"), 1);
}

static void test_bulk_errors(void **state)
{
    (void)state;
    expect_error(S("*1\r\nx\r\n"), 0, MB512, "ERR Protocol error: expected '$', got 'x'");
    expect_error(S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"), 0, MB512,
                 "ERR Protocol error: expected '$', got 'f'");
    /* CR and LF are shown as spaces, other bytes as they are */
    expect_error(S("*1\r\n\r\n"), 0, MB512, "ERR Protocol error: expected '$', got ' '");
    expect_error(S("*1\r\n\n\r\n"), 0, MB512, "ERR Protocol error: expected '$', got ' '");
    expect_error(S("*1\r\n\x01\r\n"), 0, MB512, "ERR Protocol error: expected '$', got '\x01'");
    expect_error(S("*1\r\n$-1\r\n"), 0, MB512, "ERR Protocol error: invalid bulk length");
    expect_error(S("*1\r\n$+4\r\nPING\r\n"), 0, MB512, "ERR Protocol error: invalid bulk length");
    expect_error(S("*1\r\n$4 \r\nPING\r\n"), 0, MB512, "ERR Protocol error: invalid bulk length");
    expect_error(S("*1\r\n$\r\n"), 0, MB512, "ERR Protocol error: invalid bulk length");
    expect_error(S("*1\r\n$04\r\nPING\r\n"), 0, MB512, "ERR Protocol error: invalid bulk length");
    expect_error(S("*1\r\n$536870913\r\n"), 0, MB512, "ERR Protocol error: invalid bulk length");
    expect_more(S("*1\r\n$536870912\r\n"), 0);
    expect_error(S("*1\r\n$101\r\n"), 0, 100, "ERR Protocol error: invalid bulk length");
    expect_more(S("*1\r\n$100\r\n"), 0);
    expect_error(S("*10\r\n$16385\r\n"), 1, MB512, "ERR Protocol error: unauthenticated bulk length");
    expect_more(S("*10\r\n$16384\r\n"), 1);
    /* invalid is checked before unauthenticated */
    expect_error(S("*10\r\n$999999999999\r\n"), 1, MB512, "ERR Protocol error: invalid bulk length");
}

static void test_too_big_lines(void **state)
{
    (void)state;
    size_t n = RESP_INLINE_MAX + 10;
    char *buf = malloc(n + 8);
    assert_non_null(buf);

    memset(buf, 'A', n);
    expect_error(buf, n, 0, MB512, "ERR Protocol error: too big inline request");
    /* exactly the limit still waits */
    expect_more(buf, RESP_INLINE_MAX, 0);

    buf[0] = '*';
    memset(buf + 1, '1', n - 1);
    expect_error(buf, n, 0, MB512, "ERR Protocol error: too big mbulk count string");

    memcpy(buf, "*1\r\n$", 5);
    memset(buf + 5, '1', n - 5);
    expect_error(buf, n, 0, MB512, "ERR Protocol error: too big bulk count string");

    /* a long inline line is fine when its newline is already there */
    memset(buf, 'A', n);
    buf[n] = '\n';
    resp_parser p;
    resp_arg *argv;
    int argc;
    size_t consumed;
    resp_parser_init(&p, MB512);
    assert_int_equal(resp_parse(&p, buf, n + 1, &argv, &argc, &consumed), RESP_PARSE_DONE);
    assert_int_equal(argc, 1);
    assert_int_equal(argv[0].len, n);
    assert_int_equal(consumed, n + 1);
    resp_parser_free(&p);
    free(buf);
}

static void test_unbalanced_quotes(void **state)
{
    (void)state;
    const char *err = "ERR Protocol error: unbalanced quotes in request";
    expect_error(S("ECHO \"a\"b\r\n"), 0, MB512, err);
    expect_error(S("ECHO \"a\" \"b\r\n"), 0, MB512, err);
    expect_error(S("ECHO a\"b c\"d\r\n"), 0, MB512, err);
    expect_error(S("ECHO 'abc\r\n"), 0, MB512, err);
    expect_error(S("ECHO 'a'b\r\n"), 0, MB512, err);
    expect_error(S("ECHO \"ab\\\"\r\n"), 0, MB512, err);
}

/* Quirks Redis has and we keep: a NUL before a header's CR hides the CR
 * (Redis searches with strchr), so the client just waits. */
static void test_nul_in_header_waits(void **state)
{
    (void)state;
    expect_more(S("*1\x00\r\n$4\r\nPING\r\n"), 0);
    expect_more(S("*1\r\n\x00\r\n"), 0);
    expect_more(S("*1\r\n$4\x00\r\nPING\r\n"), 0);
    expect_more(S("PI\x00NG\r\nPING\r\n"), 0);

    /* and it ends with the size error once the buffer is over the limit */
    size_t n = RESP_INLINE_MAX + 2;
    char *buf = calloc(1, n);
    assert_non_null(buf);
    memcpy(buf, "*1", 2);
    expect_error(buf, n, 0, MB512, "ERR Protocol error: too big mbulk count string");
    memcpy(buf, "PI", 2);
    expect_error(buf, n, 0, MB512, "ERR Protocol error: too big inline request");
    free(buf);
}

/* ---- valid input -------------------------------------------------------- */

/* Feeds data whole and byte by byte; both must log exactly want. */
static void check_log(const char *data, size_t len, const char *want, size_t wantlen)
{
    size_t (*how[2])(void *) = {chunk_all, chunk_one};
    for (int k = 0; k < 2; k++) {
        out_log log = {0};
        resp_parser p;
        resp_parser_init(&p, MB512);
        int rc = feed(data, len, how[k], NULL, &log, &p);
        assert_int_not_equal(rc, RESP_PARSE_ERROR);
        if (log.len != wantlen || memcmp(log.s, want, wantlen) != 0)
            fail_msg("input %.*s: got %.*s want %s", (int)len, data, (int)log.len, log.s, want);
        resp_parser_free(&p);
        free(log.s);
    }
}
/* rc names the last result, for the reader; the log says it all */
#define check_one(data_lit, rc, want_lit) \
    check_log(data_lit, sizeof(data_lit) - 1, want_lit, sizeof(want_lit) - 1)

static void test_crlf_not_checked(void **state)
{
    (void)state;
    /* the byte after a header's CR and the two bytes after a bulk are
     * skipped without looking at them */
    check_one(("*1\rX$4\r\nPING\r\n"), RESP_PARSE_DONE, "[1]4:PING;");
    check_one(("*1\r\n$4\r\nPINGxy*1\r\n$4\r\nPING\r\n"), RESP_PARSE_DONE,
              "[1]4:PING;[1]4:PING;");
}

static void test_empty_commands(void **state)
{
    (void)state;
    check_one(("\r\n"), RESP_PARSE_EMPTY, "[E]");
    check_one(("\n\nPING\n"), RESP_PARSE_DONE, "[E][E][1]4:PING;");
    check_one(("   \r\nPING\r\n"), RESP_PARSE_DONE, "[E][1]4:PING;");
    check_one(("*0\r\nPING\r\n"), RESP_PARSE_DONE, "[E][1]4:PING;");
    check_one(("*-1\r\n*-5\r\nPING\r\n"), RESP_PARSE_DONE, "[E][E][1]4:PING;");
    check_one(("*1\r\n$0\r\n\r\n"), RESP_PARSE_DONE, "[1]0:;");
}

static void test_inline_quoting(void **state)
{
    (void)state;
    check_one(("SET a b\r\n"), RESP_PARSE_DONE, "[3]3:SET;1:a;1:b;");
    check_one(("SET a b\n"), RESP_PARSE_DONE, "[3]3:SET;1:a;1:b;");
    check_one(("  SET\t a   b  \r\n"), RESP_PARSE_DONE, "[3]3:SET;1:a;1:b;");
    check_one(("ECHO \"a\\x41\\x4g\\q\\n\"\r\n"), RESP_PARSE_DONE, "[2]4:ECHO;7:aAx4gq\n;");
    check_one(("ECHO \"\\r\\t\\b\\a\\\\\\\"\"\n"), RESP_PARSE_DONE,
              "[2]4:ECHO;6:\r\t\b\a\\\";");
    check_one(("ECHO 'a\\'b'\r\n"), RESP_PARSE_DONE, "[2]4:ECHO;3:a'b;");
    check_one(("ECHO 'a\\nb'\r\n"), RESP_PARSE_DONE, "[2]4:ECHO;4:a\\nb;");
    check_one(("ECHO \"\"\r\n"), RESP_PARSE_DONE, "[2]4:ECHO;0:;");
    check_one(("ECHO ''\r\n"), RESP_PARSE_DONE, "[2]4:ECHO;0:;");
    check_one(("ECHO a\"b c\" d\r\n"), RESP_PARSE_DONE, "[3]4:ECHO;4:ab c;1:d;");
    check_one(("ECHO \"a b\"\t'c d'\r\n"), RESP_PARSE_DONE, "[3]4:ECHO;3:a b;3:c d;");
    /* \v and \f separate arguments only between them, not inside one */
    check_one(("ECHO\x0b" "a\r\n"), RESP_PARSE_DONE, "[1]6:ECHO\x0b" "a;");
    check_one(("\x0b" "ECHO a\r\n"), RESP_PARSE_DONE, "[2]4:ECHO;1:a;");
    check_one(("ECHO \"a\"\x0b" "b\r\n"), RESP_PARSE_DONE, "[3]4:ECHO;1:a;1:b;");
    /* only a CR right before the LF is dropped */
    check_one(("ECHO a\rb\r\n"), RESP_PARSE_DONE, "[3]4:ECHO;1:a;1:b;");
    check_one(("ECHO \"a\\x00b\"\r\n"), RESP_PARSE_DONE, "[2]4:ECHO;3:a\0b;");
}

static void test_split_inline_direct(void **state)
{
    (void)state;
    char scratch[64];
    resp_arg out[8];
    assert_int_equal(resp_split_inline(S("a b c"), scratch, out, 8), 3);
    assert_string_equal(out[2].ptr, "c");
    assert_int_equal(resp_split_inline(S("a b c"), scratch, out, 2), -2);
    assert_int_equal(resp_split_inline(S("a 'b"), scratch, out, 8), -1);
    assert_int_equal(resp_split_inline(S(""), scratch, out, 8), 0);
    assert_int_equal(resp_split_inline(S(" \t "), scratch, out, 0), 0);
    /* a NUL ends the line, as the end of sdssplitargs' C string */
    assert_int_equal(resp_split_inline(S("a b\0c d"), scratch, out, 8), 2);
    assert_int_equal(resp_split_inline(S("\"a\0\""), scratch, out, 8), -1);
    /* "" and '' make empty, NUL-terminated arguments */
    assert_int_equal(resp_split_inline(S("\"\" ''"), scratch, out, 8), 2);
    assert_int_equal(out[0].len, 0);
    assert_string_equal(out[1].ptr, "");
    /* the worst case for argument count: len/2+1 */
    assert_int_equal(resp_split_inline(S("a b c d"), scratch, out, 7 / 2 + 1), 4);
    assert_int_equal(resp_split_inline(S("\"\" \"\" \"\""), scratch, out, 8 / 2 + 1), 3);
}

/* A pipeline covering every form, compared across feeding strategies. */
static char *make_pipeline(size_t *len_out)
{
    out_log b = {0};
    const char *parts[] = {
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
        "PING\r\n",
        "\r\n",
        "*0\r\n",
        "SET \"quoted key\" 'single \\' q' \"\\x41\\n\"\n",
        "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
        "*-1\r\n",
        "   \n",
        "*1\r\n$4\r\nPING\r\n",
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        log_add(&b, parts[i], strlen(parts[i]));
    /* binary bulk with NUL, CR and LF inside */
    const char bin[] = "*2\r\n$4\r\nECHO\r\n$10\r\na\0b\r\n\r\n*c$\r\n";
    log_add(&b, bin, sizeof(bin) - 1);
    /* a bulk of 40000 bytes (above Redis' big-argument threshold) */
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "*2\r\n$3\r\nSET\r\n$%d\r\n", 40000);
    log_add(&b, hdr, strlen(hdr));
    for (int i = 0; i < 40000; i++) {
        char c = (char)('a' + i % 26);
        log_add(&b, &c, 1);
    }
    log_add(&b, "\r\n", 2);
    log_add(&b, "QUIT\r\n", 6);
    *len_out = b.len;
    return b.s;
}

static void test_pipeline_any_split(void **state)
{
    (void)state;
    size_t len;
    char *data = make_pipeline(&len);
    out_log whole = {0}, one = {0};
    resp_parser p;

    resp_parser_init(&p, MB512);
    assert_int_equal(feed(data, len, chunk_all, NULL, &whole, &p), RESP_PARSE_DONE);
    resp_parser_free(&p);
    static const char want[] = "[3]3:SET;3:key;5:value;[1]4:PING;[E][E]"
                               "[4]3:SET;10:quoted key;10:single ' q;2:A\n;"
                               "[2]4:ECHO;0:;[E][E][1]4:PING;[2]4:ECHO;10:a\0b\r\n\r\n*c$;"
                               "[2]3:SET;40000:abcdefghijklmnopqrstuvwxyzabcd";
    assert_true(whole.len > sizeof(want));
    assert_memory_equal(whole.s, want, sizeof(want) - 1);
    assert_memory_equal(whole.s + whole.len - 10, "[1]4:QUIT;", 10);

    resp_parser_init(&p, MB512);
    assert_int_equal(feed(data, len, chunk_one, NULL, &one, &p), RESP_PARSE_DONE);
    resp_parser_free(&p);
    assert_int_equal(one.len, whole.len);
    assert_memory_equal(one.s, whole.s, whole.len);

    for (unsigned seed = 1; seed <= 50; seed++) {
        out_log r = {0};
        unsigned s = seed;
        resp_parser_init(&p, MB512);
        assert_int_equal(feed(data, len, chunk_rand, &s, &r, &p), RESP_PARSE_DONE);
        resp_parser_free(&p);
        assert_int_equal(r.len, whole.len);
        assert_memory_equal(r.s, whole.s, whole.len);
        free(r.s);
    }
    free(whole.s);
    free(one.s);
    free(data);
}

/* Every split point of a small pipeline into exactly two calls. */
static void test_every_two_way_split(void **state)
{
    (void)state;
    const char data[] = "*2\r\n$4\r\nECHO\r\n$3\r\na\r\n\r\nECHO \"x y\" z\r\n*1\r\n$4\r\nPING\r\n";
    size_t len = sizeof(data) - 1;
    const char *want = "[2]4:ECHO;3:a\r\n;[3]4:ECHO;3:x y;1:z;[1]4:PING;";

    for (size_t cut = 0; cut <= len; cut++) {
        out_log log = {0};
        resp_parser p;
        resp_parser_init(&p, MB512);
        size_t sizes[2] = {cut, len - cut}, k = 0;
        /* a two-element chunk schedule, with empty chunks allowed */
        char *pending = NULL;
        size_t plen = 0, off = 0;
        for (k = 0; k < 2; k++) {
            char *moved = malloc(plen + sizes[k] + 1);
            memcpy(moved, pending ? pending : "", plen);
            memcpy(moved + plen, data + off, sizes[k]);
            free(pending);
            pending = moved;
            plen += sizes[k];
            off += sizes[k];
            for (;;) {
                resp_arg *argv;
                int argc;
                size_t consumed;
                int rc = resp_parse(&p, pending, plen, &argv, &argc, &consumed);
                if (rc == RESP_PARSE_MORE)
                    break;
                assert_int_equal(rc, RESP_PARSE_DONE);
                log_cmd(&log, argv, argc);
                memmove(pending, pending + consumed, plen - consumed);
                plen -= consumed;
            }
        }
        assert_int_equal(plen, 0);
        assert_string_equal(log.s, want);
        free(pending);
        free(log.s);
        resp_parser_free(&p);
    }
}

static void test_huge_argc(void **state)
{
    (void)state;
    const int n = 200001;
    out_log b = {0};
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "*%d\r\n$4\r\nMSET\r\n", n);
    log_add(&b, hdr, strlen(hdr));
    for (int i = 1; i < n; i++) {
        char arg[32];
        int alen = snprintf(arg, sizeof(arg), "k%d", i);
        snprintf(hdr, sizeof(hdr), "$%d\r\n%s\r\n", alen, arg);
        log_add(&b, hdr, strlen(hdr));
    }

    resp_parser p;
    resp_arg *argv;
    int argc;
    size_t consumed;
    resp_parser_init(&p, MB512);
    /* in two halves, to cross the partial state with a big argv */
    size_t half = b.len / 2;
    assert_int_equal(resp_parse(&p, b.s, half, &argv, &argc, &consumed), RESP_PARSE_MORE);
    assert_int_equal(resp_parse(&p, b.s, b.len, &argv, &argc, &consumed), RESP_PARSE_DONE);
    assert_int_equal(argc, n);
    assert_int_equal(consumed, b.len);
    assert_memory_equal(argv[0].ptr, "MSET", 4);
    assert_int_equal(argv[n - 1].len, strlen("k200000"));
    assert_memory_equal(argv[n - 1].ptr, "k200000", 7);
    /* the next command still parses (and the big arrays are given back) */
    assert_int_equal(resp_parse(&p, S("PING\r\n"), &argv, &argc, &consumed), RESP_PARSE_DONE);
    assert_int_equal(argc, 1);
    assert_true(p.argv_cap <= 1024);
    resp_parser_free(&p);
    free(b.s);
}

static void test_needed_hint(void **state)
{
    (void)state;
    resp_parser p;
    resp_arg *argv;
    int argc;
    size_t consumed;
    const char head[] = "*2\r\n$3\r\nSET\r\n$1000000\r\nabc";
    size_t hlen = sizeof(head) - 1;
    size_t datastart = hlen - 3;

    resp_parser_init(&p, MB512);
    assert_int_equal(resp_parser_needed(&p), 0);
    assert_int_equal(resp_parse(&p, head, 5, &argv, &argc, &consumed), RESP_PARSE_MORE);
    assert_int_equal(resp_parser_needed(&p), 0);
    assert_int_equal(resp_parse(&p, head, hlen, &argv, &argc, &consumed), RESP_PARSE_MORE);
    assert_int_equal(resp_parser_needed(&p), datastart + 1000000 + 2);

    /* the caller allocates once, copies, and completes */
    size_t total = resp_parser_needed(&p);
    char *buf = malloc(total);
    assert_non_null(buf);
    memcpy(buf, head, hlen);
    memset(buf + hlen, 'z', total - hlen);
    assert_int_equal(resp_parse(&p, buf, total - 1, &argv, &argc, &consumed), RESP_PARSE_MORE);
    assert_int_equal(resp_parse(&p, buf, total, &argv, &argc, &consumed), RESP_PARSE_DONE);
    assert_int_equal(argc, 2);
    assert_int_equal(argv[1].len, 1000000);
    assert_ptr_equal(argv[1].ptr, buf + datastart);
    assert_int_equal(consumed, total);
    assert_int_equal(resp_parser_needed(&p), 0);
    free(buf);
    resp_parser_free(&p);
}

static void test_reset_and_master_limit(void **state)
{
    (void)state;
    resp_parser p;
    resp_arg *argv;
    int argc;
    size_t consumed;

    resp_parser_init(&p, 10);
    assert_int_equal(resp_parse(&p, S("*1\r\n$4\r\nPI"), &argv, &argc, &consumed), RESP_PARSE_MORE);
    resp_parser_reset(&p);
    assert_int_equal(resp_parse(&p, S("PING\r\n"), &argv, &argc, &consumed), RESP_PARSE_DONE);
    assert_int_equal(consumed, 6);
    /* a master link is not bound by proto-max-bulk-len */
    p.max_bulk_len = SIZE_MAX;
    assert_int_equal(resp_parse(&p, S("*1\r\n$20\r\n01234567890123456789\r\n"), &argv, &argc,
                                &consumed), RESP_PARSE_DONE);
    assert_int_equal(argv[0].len, 20);
    /* an error leaves the parser ready for a fresh command */
    assert_int_equal(resp_parse(&p, S("*x\r\n"), &argv, &argc, &consumed), RESP_PARSE_ERROR);
    assert_int_equal(resp_parse(&p, S("PING\n"), &argv, &argc, &consumed), RESP_PARSE_DONE);
    resp_parser_free(&p);
    /* free twice is harmless, and a zero-length call asks for more */
    resp_parser_free(&p);
    resp_parser_init(&p, 10);
    assert_int_equal(resp_parse(&p, "", 0, &argv, &argc, &consumed), RESP_PARSE_MORE);
    resp_parser_free(&p);
}

/* Random pipelines built from valid and malformed pieces, some bytes
 * flipped: whatever the outcome (commands, then maybe an error), it must not
 * depend on how the bytes were split. */
static void test_random_inputs_split_invariant(void **state)
{
    (void)state;
    static const char *pieces[] = {
        "*1\r\n$4\r\nPING\r\n", "PING\r\n", "\r\n", "*0\r\n", "*-1\r\n",
        "SET \"a b\" 'c'\n", "*2\r\n$3\r\nGET\r\n$0\r\n\r\n", "*1\r\n$x\r\n",
        "*1\r\n+a\r\n", "ECHO \"unterminated\r\n", "*3\r\n$1\r\n\0\r\n", "*1\rq$1\r\nA\r\n",
        "   \t\r\n", "ECHO \"\\x41\\x\" 'x\\''\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    };
    const size_t np = sizeof(pieces) / sizeof(pieces[0]);
    for (unsigned seed = 1; seed <= 400; seed++) {
        unsigned r = seed;
        out_log b = {0};
        int n = rand_r(&r) % 8 + 1;
        for (int i = 0; i < n; i++) {
            const char *pc = pieces[rand_r(&r) % np];
            /* the one piece holding a NUL needs its real length */
            size_t pl = strcmp(pc, "*3\r\n$1\r\n") == 0 ? 11 : strlen(pc);
            log_add(&b, pc, pl);
        }
        if (rand_r(&r) % 3 == 0 && b.len > 0)
            b.s[rand_r(&r) % b.len] = (char)(rand_r(&r) % 256);

        out_log whole = {0}, one = {0}, rnd = {0};
        resp_parser p;
        unsigned cs = seed;
        resp_parser_init(&p, 100);
        int r1 = feed(b.s, b.len, chunk_all, NULL, &whole, &p);
        resp_parser_free(&p);
        resp_parser_init(&p, 100);
        int r2 = feed(b.s, b.len, chunk_one, NULL, &one, &p);
        resp_parser_free(&p);
        resp_parser_init(&p, 100);
        int r3 = feed(b.s, b.len, chunk_rand, &cs, &rnd, &p);
        resp_parser_free(&p);
        /* the result code of the last call may differ (MORE vs DONE at the
         * end), the sequence of commands and errors may not */
        (void)r1; (void)r2; (void)r3;
        assert_int_equal(one.len, whole.len);
        assert_int_equal(rnd.len, whole.len);
        if (whole.len) {
            assert_memory_equal(one.s, whole.s, whole.len);
            assert_memory_equal(rnd.s, whole.s, whole.len);
        }
        free(whole.s);
        free(one.s);
        free(rnd.s);
        free(b.s);
    }
}

/* ---- look-ahead ------------------------------------------------------------ */

static void test_peek_frames(void **state)
{
    (void)state;
    const char *buf = "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
                      "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n"
                      "*2\r\n$3\r\nGET\r\n$5\r\nhel";   /* incomplete */
    resp_peek f[4];
    size_t n = resp_peek_frames(buf, strlen(buf), f, 4);
    assert_int_equal(n, 2);
    assert_int_equal(f[0].argc, 2);
    assert_int_equal(f[0].nargs, 2);
    assert_memory_equal(f[0].arg[1].ptr, "a", 1);
    assert_int_equal(f[1].argc, 3);
    assert_int_equal(f[1].arg[1].len, 3);
    assert_memory_equal(f[1].arg[1].ptr, "key", 3);
    assert_int_equal(f[1].arg[2].len, 0);
    /* max is respected */
    assert_int_equal(resp_peek_frames(buf, strlen(buf), f, 1), 1);
    /* the peek never reads past len: every prefix yields only whole frames */
    for (size_t len = 0; len <= strlen(buf); len++) {
        n = resp_peek_frames(buf, len, f, 4);
        assert_true(n <= 2);
        if (len < 20)
            assert_int_equal(n, 0);
    }
}

static void test_peek_stops_at_odd_frames(void **state)
{
    (void)state;
    resp_peek f[4];
    const char *odd[] = {
        "PING\r\n",                              /* inline */
        "*1\r\n$4\r\nPING\r",                    /* bulk without its whole CRLF */
        "*0\r\n",                                /* empty multibulk */
        "*-1\r\n",
        "*1\r\n:4\r\nPING\r\n",                  /* not a bulk */
        "*1\r\n$-1\r\n",
        "*1\r\n$4x\r\nPING\r\n",
        "*1\r\n$9999999999\r\n",                 /* ten digits */
        "*1\r\n$4\rPING\r\n",
    };
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
        assert_int_equal(resp_peek_frames(odd[i], strlen(odd[i]), f, 4), 0);
    /* a frame with more arguments than RESP_PEEK_ARGS keeps the first ones */
    char big[4096];
    int len = snprintf(big, sizeof(big), "*%d\r\n", RESP_PEEK_ARGS + 6);
    for (int i = 0; i < RESP_PEEK_ARGS + 6; i++)
        len += snprintf(big + len, sizeof(big) - (size_t)len, "$2\r\n%02d\r\n", i);
    assert_int_equal(resp_peek_frames(big, (size_t)len, f, 4), 1);
    assert_int_equal(f[0].argc, RESP_PEEK_ARGS + 6);
    assert_int_equal(f[0].nargs, RESP_PEEK_ARGS);
    assert_memory_equal(f[0].arg[RESP_PEEK_ARGS - 1].ptr, "23", 2);
}

static void test_len_header(void **state)
{
    (void)state;
    char buf[RESP_LEN_HEADER_MAX];
    size_t n = resp_len_header(buf, '*', 3);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "*3\r\n", 4);
    n = resp_len_header(buf, '$', 0);
    assert_memory_equal(buf, "$0\r\n", n);
    n = resp_len_header(buf, '*', -1);
    assert_memory_equal(buf, "*-1\r\n", n);
    n = resp_len_header(buf, ':', LLONG_MIN);
    assert_int_equal(n, 23);
    assert_memory_equal(buf, ":-9223372036854775808\r\n", n);
}

/* A counting allocator that can be told to fail after n more allocations:
 * the parser must route every allocation through it, free all of it, and
 * turn a failure into a protocol error, never a crash. */
static struct {
    long live;       /* blocks allocated and not freed */
    int fail_after;  /* -1: never fail */
} fake_heap;

static void *fake_realloc(void *ptr, size_t size)
{
    if (fake_heap.fail_after == 0)
        return NULL;
    if (fake_heap.fail_after > 0)
        fake_heap.fail_after--;
    void *n = realloc(ptr, size);
    if (n != NULL && ptr == NULL)
        fake_heap.live++;
    return n;
}

static void fake_free(void *ptr)
{
    if (ptr != NULL)
        fake_heap.live--;
    free(ptr);
}

static const resp_allocator fake_alloc = { fake_realloc, fake_free };

static void test_allocator_and_mem(void **state)
{
    (void)state;
    resp_parser p;
    resp_arg *argv;
    int argc;
    size_t consumed;

    fake_heap.live = 0;
    fake_heap.fail_after = -1;
    resp_parser_init_with(&p, MB512, &fake_alloc);
    assert_int_equal(resp_parser_mem(&p), 0);
    assert_int_equal(resp_parse(&p, S("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), &argv, &argc, &consumed),
                     RESP_PARSE_DONE);
    assert_int_equal(fake_heap.live, 3);            /* offsets, lengths, argv */
    size_t mb = resp_parser_mem(&p);
    assert_true(mb >= 2 * (2 * sizeof(size_t) + sizeof(resp_arg)));
    assert_int_equal(resp_parse(&p, S("GET k\r\n"), &argv, &argc, &consumed), RESP_PARSE_DONE);
    assert_int_equal(fake_heap.live, 4);            /* + inline scratch */
    assert_true(resp_parser_mem(&p) > mb);
    resp_parser_free(&p);
    assert_int_equal(fake_heap.live, 0);
    assert_int_equal(resp_parser_mem(&p), 0);

    /* Each allocation in turn fails: an error with a text, then the same
     * parser still parses the next command and frees everything. */
    for (int n = 0; n < 4; n++) {
        resp_parser_init_with(&p, MB512, &fake_alloc);
        fake_heap.fail_after = n;
        int rc = resp_parse(&p, S("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), &argv, &argc, &consumed);
        if (n < 3) {
            assert_int_equal(rc, RESP_PARSE_ERROR);
            assert_string_equal(p.errstr, "ERR Protocol error: out of memory");
        } else {
            assert_int_equal(rc, RESP_PARSE_DONE);
            rc = resp_parse(&p, S("GET k\r\n"), &argv, &argc, &consumed);
            assert_int_equal(rc, RESP_PARSE_ERROR);     /* the scratch */
        }
        fake_heap.fail_after = -1;
        assert_int_equal(resp_parse(&p, S("PING\r\n"), &argv, &argc, &consumed), RESP_PARSE_DONE);
        assert_int_equal(argc, 1);
        resp_parser_free(&p);
        assert_int_equal(fake_heap.live, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multibulk_count_errors),
        cmocka_unit_test(test_bulk_errors),
        cmocka_unit_test(test_too_big_lines),
        cmocka_unit_test(test_unbalanced_quotes),
        cmocka_unit_test(test_nul_in_header_waits),
        cmocka_unit_test(test_crlf_not_checked),
        cmocka_unit_test(test_empty_commands),
        cmocka_unit_test(test_inline_quoting),
        cmocka_unit_test(test_split_inline_direct),
        cmocka_unit_test(test_pipeline_any_split),
        cmocka_unit_test(test_every_two_way_split),
        cmocka_unit_test(test_huge_argc),
        cmocka_unit_test(test_needed_hint),
        cmocka_unit_test(test_reset_and_master_limit),
        cmocka_unit_test(test_random_inputs_split_invariant),
        cmocka_unit_test(test_peek_frames),
        cmocka_unit_test(test_peek_stops_at_odd_frames),
        cmocka_unit_test(test_len_header),
        cmocka_unit_test(test_allocator_and_mem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
