/* fuzz_dump: the DUMP payload reader, through the RESTORE command
 * (agent/t_dump.c: footer check, CRC-64, then rdb_read_value on the body).
 *
 * The input is a DUMP payload. It is restored as it is (a real payload
 * from redis-server passes the checksum; a mutated one must be refused
 * cleanly), and, when its footer does not verify, once more with a valid
 * footer appended (version 10 and the CRC-64 of the bytes), so the fuzzer
 * reaches the value decoder instead of stopping at the checksum. When a
 * RESTORE succeeds the value must also be usable: its type's read
 * commands walk it (streams: XRANGE, XINFO STREAM FULL, an XADD), DUMP
 * serializes it and the result must RESTORE again.
 * One server and one client for the whole run; FLUSHALL between inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "crc64.h"
#include "log.h"
#include "rdb.h"

#define FUZZ_MAX_INPUT (1024 * 1024)

static srv *S;
static client *C;

static size_t out_len;   /* bytes of the last run()'s reply (it may hold NULs) */

static char *run(int argc, const resp_arg *argv)
{
    size_t total = 0;
    client_set_argv(C, argc, argv);
    S->current_client = C;
    cmd_process(C);
    S->current_client = NULL;
    C->argc = 0;
    C->argv = NULL;
    for (reply_block *b = C->reply_head; b; b = b->next)
        total += b->used;
    out_len = total;
    return h_output(C);
}

static int run_ok(int argc, const resp_arg *argv)
{
    char *r = run(argc, argv);
    int ok = strcmp(r, "+OK\r\n") == 0;
    free(r);
    return ok;
}

static void run_quiet(const char *line)
{
    free(h_run(C, line));
}

static int restore(const char *key, const char *payload, size_t len)
{
    resp_arg argv[5] = {
        { "RESTORE", 7 }, { key, strlen(key) }, { "0", 1 }, { payload, len }, { "REPLACE", 7 },
    };
    return run_ok(5, argv);
}

/* Walk the restored value with its type's read commands. */
static void walk(void)
{
    char *t = h_run(C, "TYPE k");
    if (strcmp(t, "+string\r\n") == 0) {
        run_quiet("GET k");
        run_quiet("STRLEN k");
        run_quiet("GETRANGE k 0 -1");
    } else if (strcmp(t, "+list\r\n") == 0) {
        run_quiet("LRANGE k 0 -1");
        run_quiet("LINDEX k -1");
        run_quiet("LPOS k x");
        run_quiet("RPOP k");
    } else if (strcmp(t, "+set\r\n") == 0) {
        run_quiet("SMEMBERS k");
        run_quiet("SISMEMBER k 1");
        run_quiet("SRANDMEMBER k -3");
        run_quiet("SPOP k");
    } else if (strcmp(t, "+zset\r\n") == 0) {
        run_quiet("ZRANGE k 0 -1 WITHSCORES");
        run_quiet("ZRANGEBYSCORE k -inf +inf");
        run_quiet("ZRANGEBYLEX k - +");
        run_quiet("ZRANK k a");
        run_quiet("ZPOPMIN k");
    } else if (strcmp(t, "+hash\r\n") == 0) {
        run_quiet("HGETALL k");
        run_quiet("HRANDFIELD k -3 WITHVALUES");
        run_quiet("HGET k a");
    } else if (strcmp(t, "+stream\r\n") == 0) {
        /* the entries both ways, then every group, consumer and pending
         * entry (FULL), then an append and a trim on top of what was read */
        run_quiet("XRANGE k - +");
        run_quiet("XREVRANGE k + - COUNT 3");
        run_quiet("XLEN k");
        run_quiet("XINFO STREAM k");
        run_quiet("XINFO STREAM k FULL");
        run_quiet("XINFO GROUPS k");
        run_quiet("XADD k * f v");
        run_quiet("XTRIM k MAXLEN 1");
        run_quiet("XRANGE k - +");
    } else {
        fprintf(stderr, "fuzz_dump: RESTORE made a key of type %s\n", t);
        abort();
    }
    free(t);
    run_quiet("OBJECT ENCODING k");
    run_quiet("MEMORY USAGE k");
}

/* DUMP the key, RESTORE it under another name: must succeed. */
static void redump(void)
{
    resp_arg dargv[2] = { { "DUMP", 4 }, { "k", 1 } };
    char *r = run(2, dargv);
    size_t len = out_len;
    if (r[0] != '$') {
        fprintf(stderr, "fuzz_dump: DUMP of a restored key answered %s\n", r);
        abort();
    }
    char *body = strstr(r, "\r\n");
    size_t blen = (size_t)strtoull(r + 1, NULL, 10);
    if (body == NULL || (size_t)(body + 2 - r) + blen + 2 != len) {
        fprintf(stderr, "fuzz_dump: DUMP reply is malformed\n");
        abort();
    }
    if (!restore("k2", body + 2, blen)) {
        fprintf(stderr, "fuzz_dump: our own DUMP payload does not RESTORE\n");
        abort();
    }
    free(r);
}

static void try_payload(const char *p, size_t len)
{
    if (!restore("k", p, len))
        return;
    walk();
    /* the walk may pop the last element away */
    char *e = h_run(C, "EXISTS k");
    int exists = strcmp(e, ":1\r\n") == 0;
    free(e);
    if (exists)
        redump();
    run_quiet("FLUSHALL");
}

static int footer_ok(const unsigned char *p, size_t len)
{
    if (len < 10)
        return 0;
    const unsigned char *f = p + len - 10;
    unsigned ver = f[0] | (unsigned)f[1] << 8;
    uint64_t crc = 0;
    for (int i = 7; i >= 0; i--)
        crc = (crc << 8) | f[2 + i];
    return ver <= RDB_VERSION && crc64_update(0, p, len - 8) == crc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (S == NULL) {
        log_set_level(LOG_WARNING);
        log_set_file("/dev/null");
        S = h_srv_new();
        C = h_client_new(S);
        h_set_time(S, 1700000000000LL);
    }
    char *p = malloc(size + 10);
    memcpy(p, data, size);
    try_payload(p, size);
    if (!footer_ok(data, size)) {
        p[size] = (char)RDB_VERSION;
        p[size + 1] = 0;
        uint64_t crc = crc64_update(0, p, size + 2);
        for (int i = 0; i < 8; i++)
            p[size + 2 + i] = (char)(crc >> (8 * i));
        try_payload(p, size + 10);
    }
    free(p);
    return 0;
}
