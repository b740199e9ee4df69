/* fuzz_resp: the RESP request parser (common/resp.c: resp_parse,
 * resp_split_inline, resp_peek_frames), as both daemons' clients feed it.
 *
 * Byte 0 chooses the settings (bulk limit, unauthenticated limits, the chunk
 * sizes of the incremental feed); the rest is a client's input. The input is
 * parsed three ways and the answers must agree:
 *   1. whole, in one buffer of exactly its size (ASan sees any over-read);
 *   2. fed in chunks, each call seeing a fresh exact-size copy of the bytes
 *      from the current command's start, as networking.c may move its buffer
 *      (the parser must resume from offsets, never from stale pointers);
 *   3. resp_peek_frames' look-ahead: where it reports a frame and the parser
 *      accepts the same bytes, both must see the same arguments.
 * Any disagreement aborts, which libFuzzer reports as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "resp.h"

#define FUZZ_MAX_INPUT (256 * 1024)
#define FUZZ_MAX_CMDS 4096

typedef struct cmd_rec {
    int rc;
    size_t consumed;
    int argc;
    uint64_t hash;      /* of every argument's length and bytes */
} cmd_rec;

static cmd_rec want[FUZZ_MAX_CMDS];

static void fail(const char *what, size_t i)
{
    fprintf(stderr, "fuzz_resp: %s (command %zu)\n", what, i);
    abort();
}

static uint64_t args_hash(resp_arg *argv, int argc)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < argc; i++) {
        h = (h ^ argv[i].len) * 1099511628211ULL;
        for (size_t j = 0; j < argv[i].len; j++)
            h = (h ^ (unsigned char)argv[i].ptr[j]) * 1099511628211ULL;
    }
    return h;
}

static void parser_setup(resp_parser *p, unsigned flags)
{
    resp_parser_init(p, (flags & 1) ? 100 : SIZE_MAX);
    p->auth_required = (flags >> 1) & 1;
}

/* Whole buffer: the reference answers. Returns how many were recorded. */
static size_t parse_whole(const char *buf, size_t len, unsigned flags)
{
    resp_parser p;
    size_t start = 0, n = 0;
    parser_setup(&p, flags);
    while (n < FUZZ_MAX_CMDS) {
        resp_arg *argv = NULL;
        int argc = 0;
        size_t consumed = 0;
        int rc = resp_parse(&p, buf + start, len - start, &argv, &argc, &consumed);
        cmd_rec *r = &want[n++];
        r->rc = rc;
        r->consumed = 0;
        r->argc = 0;
        r->hash = 0;
        if (rc == RESP_PARSE_MORE || rc == RESP_PARSE_ERROR)
            break;
        if (consumed == 0 || consumed > len - start)
            fail("consumed out of range", n - 1);
        r->consumed = consumed;
        if (rc == RESP_PARSE_DONE) {
            if (argc <= 0)
                fail("DONE without arguments", n - 1);
            for (int i = 0; i < argc; i++) {
                const char *a = argv[i].ptr;
                /* multibulk arguments point into the buffer, inline ones
                 * into the scratch: either way readable and in bounds */
                if (a >= buf && a <= buf + len && argv[i].len > (size_t)(buf + len - a))
                    fail("argument past the buffer", n - 1);
            }
            r->argc = argc;
            r->hash = args_hash(argv, argc);
        }
        start += consumed;
    }
    resp_parser_free(&p);
    return n;
}

/* Chunked: same answers expected, in the same order. */
static void parse_chunked(const char *data, size_t len, unsigned flags, size_t nwant)
{
    resp_parser p;
    size_t start = 0, avail = 0, n = 0;
    size_t step = 1 + ((flags >> 2) & 7) * ((flags >> 5) + 1);   /* 1..64 */
    if (step < len / 64)
        step = len / 64;   /* big inputs: at most ~64 calls, not len^2 copying */
    parser_setup(&p, flags);
    while (n < nwant) {
        avail = avail + step > len ? len : avail + step;
        size_t have = avail - start;
        char *copy = malloc(have ? have : 1);
        memcpy(copy, data + start, have);
        resp_arg *argv = NULL;
        int argc = 0;
        size_t consumed = 0;
        int rc = resp_parse(&p, copy, have, &argv, &argc, &consumed);
        if (rc == RESP_PARSE_MORE) {
            free(copy);
            if (avail == len) {
                if (want[n].rc != RESP_PARSE_MORE)
                    fail("chunked needs more where whole did not", n);
                break;
            }
            continue;
        }
        const cmd_rec *r = &want[n];
        /* As Redis, a line still open when the buffer passes 64 KiB is
         * refused, so where the reads happen to end matters there. */
        if (rc == RESP_PARSE_ERROR && r->rc != RESP_PARSE_ERROR && strstr(p.errstr, "too big")) {
            free(copy);
            break;
        }
        if (rc != r->rc)
            fail("chunked and whole parse disagree on the result", n);
        if (rc == RESP_PARSE_ERROR) {
            free(copy);
            break;
        }
        if (consumed != r->consumed)
            fail("chunked and whole parse disagree on the size", n);
        if (rc == RESP_PARSE_DONE && (argc != r->argc || args_hash(argv, argc) != r->hash))
            fail("chunked and whole parse disagree on the arguments", n);
        free(copy);
        start += consumed;
        if (avail < start)
            avail = start;
        n++;
    }
    resp_parser_free(&p);
}

/* The look-ahead must never contradict the parser on a frame both accept. */
static void check_peek(const char *buf, size_t len)
{
    resp_peek frames[16];
    size_t n = resp_peek_frames(buf, len, frames, 16);
    resp_parser p;
    size_t start = 0;
    resp_parser_init(&p, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        if (frames[i].end <= start || frames[i].end > len)
            fail("peeked frame ends out of order", i);
        for (int a = 0; a < frames[i].nargs; a++)
            if (frames[i].arg[a].ptr < buf + start ||
                frames[i].arg[a].ptr + frames[i].arg[a].len > buf + frames[i].end)
                fail("peeked argument outside its frame", i);
        resp_arg *argv = NULL;
        int argc = 0;
        size_t consumed = 0;
        int rc = resp_parse(&p, buf + start, len - start, &argv, &argc, &consumed);
        if (rc != RESP_PARSE_DONE)
            break;   /* the parser is the judge: a hint may be refused */
        if (start + consumed != frames[i].end || argc != frames[i].argc)
            fail("peek and parse disagree on a frame", i);
        for (int a = 0; a < frames[i].nargs; a++)
            if (argv[a].ptr != frames[i].arg[a].ptr || argv[a].len != frames[i].arg[a].len)
                fail("peek and parse disagree on an argument", i);
        start += consumed;
    }
    resp_parser_free(&p);
}

/* The inline splitter alone, on one line. */
static void check_split(const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    size_t linelen = nl ? (size_t)(nl - buf) : len;
    char *line = malloc(linelen ? linelen : 1);
    char *scratch = malloc(linelen + 1);
    int max = (int)(linelen / 2 + 1);
    resp_arg *out = malloc(sizeof(*out) * (size_t)max);
    memcpy(line, buf, linelen);
    int n = resp_split_inline(line, linelen, scratch, out, max);
    if (n == -2)
        fail("len/2+1 arguments were not enough", 0);
    for (int i = 0; i < n; i++)
        if (out[i].ptr < scratch || out[i].ptr + out[i].len + 1 > scratch + linelen + 1 ||
            out[i].ptr[out[i].len] != '\0')
            fail("inline argument outside the scratch", (size_t)i);
    free(out);
    free(scratch);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    unsigned flags = data[0];
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data + 1, len);
    size_t n = parse_whole(buf, len, flags);
    parse_chunked(buf, len, flags, n);
    check_peek(buf, len);
    check_split(buf, len);
    free(buf);
    return 0;
}
