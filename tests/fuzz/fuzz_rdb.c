/* fuzz_rdb: the RDB reader (agent/rdb.c) as the agent uses it.
 *
 * The input is an RDB file. It is read twice:
 *   1. rdb_load_file() into a real server's databases, from a memfd (the
 *      start-up / DEBUG RELOAD / full-sync path: fd reads in chunks, the
 *      RESIZEDB hint, duplicate keys, expired keys dropped on a master and
 *      kept on a replica); the databases are emptied afterwards;
 *   2. rdb_read_all() from memory (DUMP/RESTORE's mode), where every value
 *      accepted is written back with rdb_write_value() and must read back:
 *      whatever we load, we must be able to save and load again.
 * The server is made once; inputs over 1 MiB are ignored (memory stays
 * bounded, with -rss_limit_mb as the backstop). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "server.h"
#include "db.h"
#include "rdb.h"
#include "log.h"
#include "mem.h"
#include "harness.h"

#define FUZZ_MAX_INPUT (1024 * 1024)

static srv *S;
static int memfd = -1;
static char memfd_path[64];

static void setup(void)
{
    log_set_level(LOG_WARNING);
    log_set_file("/dev/null");
    S = h_srv_new();
    memfd = memfd_create("fuzz_rdb", 0);
    if (memfd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
}

static void load_into_server(const uint8_t *data, size_t size)
{
    char err[1024];
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
        abort();
    S->is_replica = (int)(size & 1);
    srv_update_time(S);
    (void)rdb_load_file(S, memfd_path, err, sizeof(err));
    for (int i = 0; i < S->dbnum; i++)
        db_flush(&S->dbs[i]);
}

/* Every value the reader hands out must survive a save and a load. */
static int roundtrip_key(void *priv, int dbid, kstr key, obj *val, int64_t expire_ms)
{
    (void)dbid;
    (void)expire_ms;
    int compress = *(int *)priv;
    kstr out = kstr_empty(64);
    rdb_writer w;
    rdb_writer_init(&w, rdb_kstr_write, &out, compress, 0);
    if (rdb_write_value(&w, val) != 0 || rdb_write_flush(&w) != 0) {
        fprintf(stderr, "fuzz_rdb: writing back a value read failed: %s\n", w.err);
        abort();
    }
    rdb_writer_release(&w);
    if (kstr_len(out) < 2) {
        fprintf(stderr, "fuzz_rdb: value written back in %zu bytes\n", kstr_len(out));
        abort();
    }
    rdb_reader r;
    rdb_reader_init_mem(&r, out + 1, kstr_len(out) - 1);
    obj *back = rdb_read_value(&r, (unsigned char)out[0]);
    if (back == NULL) {
        fprintf(stderr, "fuzz_rdb: a value we wrote does not read back: %s\n", r.err);
        abort();
    }
    if (back->type != val->type) {
        fprintf(stderr, "fuzz_rdb: type %d read back as %d\n", val->type, back->type);
        abort();
    }
    obj_free(back);
    rdb_reader_release(&r);
    kstr_free(out);
    kstr_free(key);
    obj_free(val);
    return 0;
}

static void read_from_memory(const uint8_t *data, size_t size)
{
    int compress = (int)((size >> 1) & 1);
    rdb_reader r;
    rdb_reader_init_mem(&r, data, size);
    r.on_key = roundtrip_key;
    r.cb_priv = &compress;
    r.max_dbs = 16;
    (void)rdb_read_all(&r);
    rdb_reader_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (S == NULL)
        setup();
    load_into_server(data, size);
    read_from_memory(data, size);
    return 0;
}
