/* rdb: Redis' RDB snapshot format (version 10, as redis-server 7.0 writes
 * it), as a pure writer and a pure reader, plus the persistence commands and
 * the process integration (SAVE, BGSAVE, save points, load at start-up).
 *
 * The writer emits bytes through a callback, so the same code targets a
 * file, a memory buffer or (for diskless replication) a socket. The reader
 * pulls bytes from a callback or a memory buffer and hands out one
 * (db, key, value, expire) at a time; it never touches a server. Both
 * checksum with CRC-64 and report errors as "offset N: reason".
 *
 * Writing picks the encodings redis-server 7.0 itself writes for the same
 * value: listpacks for small hashes and sorted sets, quicklist 2 for lists,
 * intsets for small integer sets, else the plain types (set, zset2, hash). Reading accepts everything redis-server
 * 7.0 writes for the five data types: integer and LZF strings, intsets,
 * ziplists, listpacks and quicklists (types 0-5, 10-14, 16-18). */
#ifndef KV_RDB_H
#define KV_RDB_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "kstr.h"
#include "object.h"

struct srv;

#define RDB_VERSION 10          /* redis-server 7.0 */
#define RDB_REDIS_VER "7.0.15"  /* what we claim in the redis-ver AUX field */

/* RDB value types. */
enum {
    RDB_TYPE_STRING = 0,
    RDB_TYPE_LIST = 1,
    RDB_TYPE_SET = 2,
    RDB_TYPE_ZSET = 3,
    RDB_TYPE_HASH = 4,
    RDB_TYPE_ZSET_2 = 5,
    RDB_TYPE_MODULE = 6,
    RDB_TYPE_MODULE_2 = 7,
    RDB_TYPE_HASH_ZIPMAP = 9,
    RDB_TYPE_LIST_ZIPLIST = 10,
    RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12,
    RDB_TYPE_HASH_ZIPLIST = 13,
    RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_STREAM_LISTPACKS = 15,
    RDB_TYPE_HASH_LISTPACK = 16,
    RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18,
    RDB_TYPE_STREAM_LISTPACKS_2 = 19,
};

/* Opcodes that may appear where a value type is expected. */
enum {
    RDB_OPCODE_FUNCTION2 = 245,
    RDB_OPCODE_FUNCTION = 246,
    RDB_OPCODE_MODULE_AUX = 247,
    RDB_OPCODE_IDLE = 248,
    RDB_OPCODE_FREQ = 249,
    RDB_OPCODE_AUX = 250,
    RDB_OPCODE_RESIZEDB = 251,
    RDB_OPCODE_EXPIRETIME_MS = 252,
    RDB_OPCODE_EXPIRETIME = 253,
    RDB_OPCODE_SELECTDB = 254,
    RDB_OPCODE_EOF = 255,
};

/* The AUX fields: given to the writer, filled in by the reader. */
typedef struct rdb_meta {
    char redis_ver[32];
    int redis_bits;
    int64_t ctime;              /* unix seconds */
    long long used_mem;
    int has_repl;               /* write / found repl-id and repl-offset */
    char repl_id[41];
    long long repl_offset;
    int repl_stream_db;
    int aof_base;
} rdb_meta;

/* ---- writer ---- */

/* Must write all len bytes; returns 0, or -1 with errno set. */
typedef int rdb_write_fn(void *priv, const void *buf, size_t len);

typedef struct rdb_writer {
    rdb_write_fn *write;
    void *priv;
    int compress;               /* rdbcompression */
    int checksum;               /* rdbchecksum */
    uint64_t crc;
    unsigned char *buf;         /* output staged before the callback */
    size_t used, cap;
    unsigned char *scratch;     /* LZF output */
    size_t scratch_cap;
    uint64_t written;           /* bytes handed to the callback */
    uint64_t keys;              /* keys written */
    /* Compact encodings, chosen as redis-server 7.0 would for the same
     * value (its defaults until rdb_write_snapshot copies the config):
     * small hashes / sorted sets as listpacks, lists as quicklist nodes of
     * listpacks, integer sets as intsets. 0 entries = always plain. */
    long long hash_max_listpack_entries, hash_max_listpack_value;
    long long zset_max_listpack_entries, zset_max_listpack_value;
    long long list_max_listpack_size;   /* Redis semantics; 0 = plain lists */
    long long set_max_intset_entries;
    unsigned char *lp;          /* blob under construction */
    size_t lp_len, lp_cap;
    int failed;
    char err[256];
} rdb_writer;

void rdb_writer_init(rdb_writer *w, rdb_write_fn *fn, void *priv, int compress, int checksum);
void rdb_writer_release(rdb_writer *w);
/* All return 0, or -1 with w->err set (and every later call fails too). */
int rdb_write_header(rdb_writer *w, const rdb_meta *meta);
int rdb_write_select_db(rdb_writer *w, int dbid, uint64_t keys, uint64_t expires);
/* expire_ms < 0: no TTL. */
int rdb_write_key(rdb_writer *w, const char *key, size_t klen, const obj *val, int64_t expire_ms);
/* Type byte and value, as in a key record (also the body of DUMP). */
int rdb_write_value(rdb_writer *w, const obj *val);
/* EOF opcode and checksum, then flush. */
int rdb_write_end(rdb_writer *w);
/* A length in Redis' variable encoding (1, 2, 5 or 9 bytes). */
int rdb_write_len(rdb_writer *w, uint64_t len);
/* A string, integer-encoded or LZF-compressed when that is shorter. */
int rdb_write_string(rdb_writer *w, const char *s, size_t len);
/* Flush staged bytes to the callback. */
int rdb_write_flush(rdb_writer *w);
/* A whole snapshot of s: header, every non-empty db, EOF. */
int rdb_write_snapshot(rdb_writer *w, struct srv *s, const rdb_meta *meta);
/* The server's encoding thresholds: values are then written as
 * redis-server would write them under the same config. */
void rdb_writer_use_config(rdb_writer *w, const struct srv *s);
/* One value as DUMP's body (type byte and value) at s's thresholds, LZF
 * when compress; NULL if the writer failed. */
kstr rdb_serialize_value(const struct srv *s, const obj *val, int compress);
/* DUMP / FUNCTION DUMP payload footer: RDB version (2 bytes) and the
 * CRC-64 of everything before it (8), little endian. */
#define RDB_DUMP_FOOTER_LEN 10
kstr rdb_dump_footer_append(kstr payload);
/* A footer with a version no newer than ours and a matching CRC-64. */
int rdb_dump_footer_ok(const void *payload, size_t len);
/* One function library (FUNCTION2 opcode and its code). */
int rdb_write_function(rdb_writer *w, const char *code, size_t len);
/* Write callback for a file descriptor (priv is an int* fd). */
int rdb_fd_write(void *priv, const void *buf, size_t len);
/* Write callback appending to a kstr (priv is a kstr*). */
int rdb_kstr_write(void *priv, const void *buf, size_t len);

/* ---- reader ---- */

/* Reads up to cap bytes; returns >0, 0 at end of input, -1 on error. */
typedef ssize_t rdb_read_fn(void *priv, void *buf, size_t cap);
/* Takes ownership of key and val. Return 0 to continue, -1 to stop (the
 * callback should then fill the reader's err via rdb_reader_fail). */
typedef int rdb_key_fn(void *priv, int dbid, kstr key, obj *val, int64_t expire_ms);
typedef void rdb_resize_fn(void *priv, int dbid, uint64_t keys, uint64_t expires);
typedef void rdb_progress_fn(void *priv, uint64_t offset);
/* A function library's code (FUNCTION2 record); takes ownership. 0 to
 * continue, -1 to stop (after rdb_reader_fail). */
typedef int rdb_function_fn(void *priv, kstr code);

typedef struct rdb_reader {
    rdb_read_fn *read;
    void *rpriv;
    unsigned char *buf;
    size_t cap, pos, len;       /* buf[pos..len) is unread */
    size_t crc_pos;             /* buf[..crc_pos) is already in crc */
    int own_buf;
    uint64_t base_off;          /* input offset of buf[0] */
    uint64_t size_hint;         /* total input size when known, else 0 */
    uint64_t crc;
    int verify_checksum;        /* default 1 */
    int max_dbs;                /* 0: no limit */

    rdb_key_fn *on_key;
    rdb_resize_fn *on_resize;
    rdb_progress_fn *on_progress;
    rdb_function_fn *on_function;   /* NULL: libraries are skipped (counted) */
    void *cb_priv;
    uint64_t progress_every;    /* bytes between on_progress calls */
    uint64_t next_progress;

    /* results */
    int version;
    rdb_meta meta;
    uint64_t keys_read;
    uint64_t empty_keys_skipped;
    uint64_t functions_skipped;
    uint64_t module_aux_skipped;
    char *tmp[2];               /* reusable element buffers */
    size_t tmp_cap[2];
    int cur_db;
    kstr cur_key;               /* key being read, for messages */
    char err[512];
} rdb_reader;

void rdb_reader_init(rdb_reader *r, rdb_read_fn *fn, void *priv);
/* rdb-key-save-delay / key-load-delay, Redis' test hooks: sleep usec per
 * key; a negative value sleeps 1 us for one key in -usec on average. */
void rdb_debug_delay(long long usec);
void rdb_reader_init_mem(rdb_reader *r, const void *data, size_t len);
void rdb_reader_release(rdb_reader *r);
/* Read header through EOF and checksum. 0, or -1 with r->err holding
 * "offset N: reason". */
int rdb_read_all(rdb_reader *r);
/* Read one value of the given type byte (DUMP/RESTORE bodies). Returns the
 * object, or NULL with r->err set. Empty containers give an error. */
obj *rdb_read_value(rdb_reader *r, int type);
/* Primitives, for callers that frame their own data. */
int rdb_read_len(rdb_reader *r, uint64_t *len);
kstr rdb_read_string(rdb_reader *r);
int rdb_read_opcode(rdb_reader *r, unsigned *op);
/* Record an error at the current offset (for callbacks). Returns -1. */
int rdb_reader_fail(rdb_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t rdb_reader_offset(const rdb_reader *r);
/* Read callback for a file descriptor (priv is an int* fd). */
ssize_t rdb_fd_read(void *priv, void *buf, size_t cap);

/* ---- persistence module (rdb_save.c) ---- */

/* Register cron/INFO hooks and load <dir>/<dbfilename> if it exists. On a
 * corrupt, truncated or too-new file returns -1 with a message naming the
 * file, the offset and the problem; the file is left untouched. */
int rdb_module_init(struct srv *s, char *err, size_t errlen);
void rdb_module_release(struct srv *s);
/* Foreground save to <dir>/<dbfilename> (SAVE, SHUTDOWN SAVE). 0 or -1. */
int rdb_save_now(struct srv *s, char *err, size_t errlen);
int rdb_has_save_points(struct srv *s);
/* DEBUG RELOAD: save, empty every db, load the file back. */
int rdb_debug_reload(struct srv *s, char *err, size_t errlen);
/* 1 while writes must be refused with -MISCONF (last BGSAVE failed and
 * stop-writes-on-bgsave-error is on). */
int rdb_writes_refused(struct srv *s);
#define RDB_MISCONF_ERR "MISCONF Redis is configured to save RDB snapshots, but it's " \
    "currently unable to persist to disk. Commands that may modify the data set are " \
    "disabled, because this instance is configured to report errors during writes if " \
    "RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the " \
    "Redis logs for details about the RDB error."
/* Load a file into s (start-up, DEBUG RELOAD, a replica's full sync). The
 * keys are added to the current dbs, so empty them first; a key already
 * present is an error (as a duplicated key in the file). Keys already
 * expired are dropped when s is a master (s->is_replica == 0). 0 or -1. */
int rdb_load_file(struct srv *s, const char *path, char *err, size_t errlen);
/* The same, reporting where the RDB ended (an AOF base with an RDB preamble
 * may go on with commands after it). */
int rdb_load_file_ex(struct srv *s, const char *path, uint64_t *end_offset, char *err, size_t errlen);
/* Replication supplies repl-id / repl-offset / repl-stream-db for the AUX
 * fields of every snapshot (fn fills the has_repl part of meta). */
typedef void rdb_meta_fn(struct srv *s, rdb_meta *meta, void *priv);
void rdb_set_meta_provider(struct srv *s, rdb_meta_fn *fn, void *priv);
/* Is a BGSAVE child running? (replication waits for it). */
int rdb_bgsave_in_progress(struct srv *s);
/* Start a BGSAVE to path (NULL = the configured file). 0 or -1. */
int rdb_bgsave_start(struct srv *s, const char *path, char *err, size_t errlen);

#endif
