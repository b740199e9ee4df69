/* aof: append-only file persistence as redis-server 7.0 does it: a
 * multi-part AOF in <dir>/<appenddirname> described by a manifest
 * (aof_manifest.h), a base file (RDB with aof-use-rdb-preamble, else
 * commands), and incremental files holding every propagated write in RESP.
 *
 * aof.c owns the running side: the feed from srv_propagate, the per-loop
 * write (and fsync for appendfsync always) before replies leave, the
 * background fsync thread for everysec, BGREWRITEAOF and automatic
 * rewrites, CONFIG SET appendonly/appendfsync, INFO fields.
 * aof_load.c owns start-up: the pure command reader and the replay of the
 * base and incremental files into the dbs. */
#ifndef KV_AOF_H
#define KV_AOF_H
#include <stddef.h>
#include <sys/types.h>
#include "kstr.h"
#include "resp.h"

struct srv;

/* ---- pure AOF command reader (aof_load.c) ---- */

enum {
    AOF_READ_ERR = -1,          /* not an AOF: bad format (err says where) */
    AOF_READ_OK = 0,            /* one command in cmd */
    AOF_READ_MORE = 1,          /* the input ends inside a command */
    AOF_READ_SKIP = 2,          /* an annotation line (#...), skipped */
};

/* Arguments point into the caller's buffer. argv grows with the arguments
 * actually present, never with the count the input claims. */
typedef struct aof_cmd {
    int argc;
    int cap;
    resp_arg *argv;
} aof_cmd;

void aof_cmd_init(aof_cmd *cmd);
void aof_cmd_release(aof_cmd *cmd);
/* Read one command from buf[0..len). On OK/SKIP *consumed is its size. A
 * bulk longer than max_bulk is a format error. */
int aof_read_command(const char *buf, size_t len, size_t max_bulk, aof_cmd *cmd,
                     size_t *consumed, char *err, size_t errlen);

/* ---- start-up (aof_load.c) ---- */

/* With appendonly yes: load the manifest and its files into s (dir is the
 * cwd). No manifest: nothing loaded. Returns 0, or -1 with err on a
 * corrupt or unreadable AOF (files left untouched, except a truncated tail
 * of the last file with aof-load-truncated yes, which is cut off). *loaded
 * says whether an AOF was found. */
struct aof_manifest;
int aof_load_all(struct srv *s, struct aof_manifest *m, int *found, long long *total_size,
                 char *err, size_t errlen);
/* Replay one file (RDB preamble or commands) into s. is_last: a truncated
 * tail may be cut with aof-load-truncated. */
int aof_load_file(struct srv *s, const char *path, const char *name, int is_last,
                  char *err, size_t errlen);

/* ---- the running module (aof.c) ---- */

/* Register hooks; with appendonly yes load the AOF (refusing a corrupt
 * one) and open it for appending. Call after srv_init, before the loop. */
int aof_module_init(struct srv *s, char *err, size_t errlen);
void aof_module_release(struct srv *s);
/* DEBUG LOADAOF: empty the data set and load it back from the AOF on disk
 * (a running rewrite is waited for). Returns -1 with err when it cannot. */
int aof_debug_loadaof(struct srv *s, char *err, size_t errlen);
/* srv_propagate's AOF feed. */
void aof_feed(struct srv *s, int dbid, int argc, const resp_arg *argv);
/* Before replies leave: write the buffer (and fsync for always). */
void aof_before_write(struct srv *s);
/* The INFO persistence AOF lines (rdb_info calls it). */
kstr aof_info(struct srv *s, kstr out);
/* Is an AOF rewrite child running? (BGSAVE waits for it.) */
int aof_rewrite_in_progress(struct srv *s);
/* A replica loaded its master's RDB: rebuild the AOF from the new data. */
void aof_dataset_replaced(struct srv *s);
/* Final write + fsync at shutdown. */
void aof_flush_for_shutdown(struct srv *s);

#endif
