/* aof_load: reading an AOF back. aof_read_command is a pure machine (bytes
 * in, one command or "need more" or a format error out) so every corrupt
 * input can be unit-tested; the loader around it streams a file through a
 * bounded buffer and replays each command on a fake client, the way
 * redis-server 7.0 replays its AOF at start-up.
 *
 * What a crash can leave behind is a command cut short at the end of the
 * last file written (the incr file being appended to). That, and only
 * that, is "truncated": with aof-load-truncated yes the file is cut back
 * to its last complete command and loading goes on; anything malformed
 * elsewhere is corruption, and the server refuses to start without
 * touching the files. A MULTI without its EXEC at the end is a truncated
 * transaction: it is cut at the MULTI, never half-applied. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "aof.h"
#include "aof_manifest.h"
#include "client.h"
#include "command.h"
#include "log.h"
#include "mem.h"
#include "multi.h"
#include "rdb.h"
#include "server.h"
#include "util.h"

/* ---- the pure reader ------------------------------------------------- */

/* Longest "*<n>\r\n" / "$<n>\r\n" line worth waiting for: 19 digits, a sign,
 * the prefix and CRLF. */
#define AOF_HEADER_MAX 32
/* An annotation line ("#TS:..." in 7.0) longer than this is garbage. */
#define AOF_ANNOTATION_MAX 4096

void aof_cmd_init(aof_cmd *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
}

void aof_cmd_release(aof_cmd *cmd)
{
    mem_free(cmd->argv);
    aof_cmd_init(cmd);
}

static int aof_read_fail(char *err, size_t errlen, size_t off, const char *reason)
{
    snprintf(err, errlen, "offset %zu: %s", off, reason);
    return AOF_READ_ERR;
}

/* Parse "<prefix><digits>\r\n" at buf[*pos]. 1 = parsed, 0 = need more,
 * -1 = malformed. */
static int aof_read_header(const char *buf, size_t len, size_t *pos, char prefix, long long *out)
{
    size_t p = *pos;
    if (p >= len)
        return 0;
    if (buf[p] != prefix)
        return -1;
    size_t limit = len - p < AOF_HEADER_MAX ? len - p : AOF_HEADER_MAX;
    const char *nl = memchr(buf + p, '\n', limit);
    if (!nl)
        return len - p < AOF_HEADER_MAX ? 0 : -1;
    size_t end = (size_t)(nl - buf);
    if (end < p + 3 || buf[end - 1] != '\r')
        return -1;
    long long v = 0;
    int neg = 0;
    size_t i = p + 1;
    if (buf[i] == '-') {
        neg = 1;
        i++;
    }
    if (i == end - 1)
        return -1;
    for (; i < end - 1; i++) {
        if (buf[i] < '0' || buf[i] > '9' || v > (LLONG_MAX - 9) / 10)
            return -1;
        v = v * 10 + (buf[i] - '0');
    }
    *out = neg ? -v : v;
    *pos = end + 1;
    return 1;
}

static void aof_cmd_push(aof_cmd *cmd, const char *ptr, size_t len)
{
    if (cmd->argc == cmd->cap) {
        cmd->cap = cmd->cap ? cmd->cap * 2 : 8;
        cmd->argv = mem_realloc(cmd->argv, sizeof(*cmd->argv) * (size_t)cmd->cap);
    }
    cmd->argv[cmd->argc].ptr = ptr;
    cmd->argv[cmd->argc].len = len;
    cmd->argc++;
}

static int aof_skip_annotation(const char *buf, size_t len, size_t *consumed, char *err, size_t errlen)
{
    size_t limit = len < AOF_ANNOTATION_MAX ? len : AOF_ANNOTATION_MAX;
    const char *nl = memchr(buf, '\n', limit);
    if (!nl)
        return len < AOF_ANNOTATION_MAX ? AOF_READ_MORE : aof_read_fail(err, errlen, 0, "annotation line too long");
    *consumed = (size_t)(nl - buf) + 1;
    return AOF_READ_SKIP;
}

int aof_read_command(const char *buf, size_t len, size_t max_bulk, aof_cmd *cmd,
                     size_t *consumed, char *err, size_t errlen)
{
    size_t pos = 0;
    long long argc;
    cmd->argc = 0;
    if (len == 0)
        return AOF_READ_MORE;
    if (buf[0] == '#')
        return aof_skip_annotation(buf, len, consumed, err, errlen);
    int rc = aof_read_header(buf, len, &pos, '*', &argc);
    if (rc == 0)
        return AOF_READ_MORE;
    if (rc < 0 || argc < 1 || argc > INT_MAX / 2)
        return aof_read_fail(err, errlen, 0, "expected a multibulk count");
    for (long long i = 0; i < argc; i++) {
        long long blen;
        size_t at = pos;
        rc = aof_read_header(buf, len, &pos, '$', &blen);
        if (rc == 0)
            return AOF_READ_MORE;
        if (rc < 0)
            return aof_read_fail(err, errlen, at, "expected a bulk length");
        if (blen < 0 || (unsigned long long)blen > max_bulk)
            return aof_read_fail(err, errlen, at, "invalid bulk length");
        /* Compare without adding, so a huge length cannot wrap. */
        if (len - pos < (size_t)blen + 2)
            return AOF_READ_MORE;
        if (buf[pos + (size_t)blen] != '\r' || buf[pos + (size_t)blen + 1] != '\n')
            return aof_read_fail(err, errlen, pos + (size_t)blen, "bulk not terminated by CRLF");
        aof_cmd_push(cmd, buf + pos, (size_t)blen);
        pos += (size_t)blen + 2;
    }
    *consumed = pos;
    return AOF_READ_OK;
}

/* ---- replaying a command file ---------------------------------------- */

#define AOF_READ_CHUNK (64 * 1024)
/* Fake client replies pile up; start a fresh client this often. */
#define AOF_CLIENT_RECYCLE 1024

typedef struct aof_replay {
    srv *s;
    const char *name;
    int fd;
    char *buf;
    size_t cap, start, end;     /* buf[start..end) unread */
    off_t file_off;             /* file offset of buf[0] */
    int eof;
    client *c;
    int dbid;                   /* the fake client's db, kept across recycling */
    long long commands;
    off_t valid_up_to;          /* just after the last complete command */
    off_t valid_before_multi;   /* where an open MULTI began */
    int64_t last_log_ms;
    off_t total;
} aof_replay;

/* Read more bytes, keeping buf[start..end); the buffer grows only when a
 * single command is bigger than it, and never beyond what the file held. */
static int aof_replay_fill(aof_replay *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->file_off += (off_t)r->start;
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->end < AOF_READ_CHUNK) {
        r->cap = r->cap * 2 > r->end + AOF_READ_CHUNK ? r->cap * 2 : r->end + AOF_READ_CHUNK;
        r->buf = mem_realloc(r->buf, r->cap);
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            r->eof = 1;
        r->end += (size_t)n;
        return 0;
    }
}

static int aof_arity_ok(const cmd_def *cmd, int argc)
{
    return cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
}

static void aof_replay_new_client(aof_replay *r)
{
    if (r->c)
        client_free(r->c);
    r->c = client_create(r->s);
    client_select_db(r->c, r->dbid);
}

/* Run one command as redis-server's loader does: MULTI queues, EXEC runs
 * the queue, everything else runs directly (no stats, no propagation). */
static int aof_replay_exec(aof_replay *r, aof_cmd *cmd, char *err, size_t errlen)
{
    const cmd_def *def = cmd_lookup(cmd->argv[0].ptr, cmd->argv[0].len);
    if (!def) {
        snprintf(err, errlen, "Unknown command '%.*s' reading the append only file %s",
                 (int)(cmd->argv[0].len > 128 ? 128 : cmd->argv[0].len), cmd->argv[0].ptr, r->name);
        return -1;
    }
    if (!aof_arity_ok(def, cmd->argc)) {
        snprintf(err, errlen, "Bad file format reading the append only file %s: wrong number of "
                 "arguments for '%s': make a backup of your AOF file, then use ./redis-check-aof "
                 "--fix <filename.manifest>", r->name, def->name);
        return -1;
    }
    client *c = r->c;
    if (!(c->flags & CLIENT_MULTI) && r->commands % AOF_CLIENT_RECYCLE == 0) {
        aof_replay_new_client(r);
        c = r->c;
    }
    client_set_argv(c, cmd->argc, cmd->argv);
    c->cmd = def;
    if ((c->flags & CLIENT_MULTI) && strcmp(def->name, "exec") != 0 &&
        strcmp(def->name, "discard") != 0 && strcmp(def->name, "multi") != 0)
        multi_queue(c, def);
    else
        def->proc(c);
    r->dbid = c->db->id;
    r->commands++;
    return 0;
}

static void aof_replay_progress(aof_replay *r, off_t at)
{
    int64_t now = util_ms_now();
    if (now - r->last_log_ms < 2000)
        return;
    r->last_log_ms = now;
    log_msg(LOG_NOTICE, "Loading AOF %s: %lld of %lld bytes, %lld commands", r->name,
            (long long)at, (long long)r->total, r->commands);
}

/* Cut the file back to its last complete command (aof-load-truncated). */
static int aof_replay_truncate(aof_replay *r, const char *path, off_t at, char *err, size_t errlen)
{
    log_msg(LOG_WARNING, "!!! Truncating the AOF %s at offset %lld !!!", r->name, (long long)at);
    if (truncate(path, at) != 0) {
        snprintf(err, errlen, "Error truncating the AOF file %s: %s", r->name, strerror(errno));
        return -1;
    }
    log_msg(LOG_WARNING, "AOF %s loaded anyway because aof-load-truncated is enabled", r->name);
    return 0;
}

static int aof_replay_truncated(aof_replay *r, const char *path, int is_last, char *err, size_t errlen)
{
    off_t cut = r->valid_up_to;
    if (r->c && (r->c->flags & CLIENT_MULTI)) {
        log_msg(LOG_WARNING, "Revert incomplete MULTI/EXEC transaction in AOF file %s", r->name);
        cut = r->valid_before_multi;
        multi_discard(r->c);
    }
    if (is_last && r->s->config.aof_load_truncated) {
        log_msg(LOG_WARNING, "!!! Warning: short read while loading the AOF file %s!!!", r->name);
        return aof_replay_truncate(r, path, cut, err, errlen);
    }
    snprintf(err, errlen, "Unexpected end of file reading the append only file %s. You can: "
             "1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. "
             "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and "
             "restart the server.", r->name);
    return -1;
}

static int aof_replay_commands(aof_replay *r, const char *path, int is_last, char *err, size_t errlen)
{
    aof_cmd cmd;
    char why[128];
    int rc = 0;
    aof_cmd_init(&cmd);
    for (;;) {
        size_t used = 0;
        int st = aof_read_command(r->buf + r->start, r->end - r->start, r->s->config.proto_max_bulk_len,
                                  &cmd, &used, why, sizeof(why));
        if (st == AOF_READ_MORE) {
            if (r->eof) {
                if (r->end == r->start && !(r->c && (r->c->flags & CLIENT_MULTI)))
                    break;   /* clean end */
                rc = aof_replay_truncated(r, path, is_last, err, errlen);
                break;
            }
            if (aof_replay_fill(r) != 0) {
                snprintf(err, errlen, "Unrecoverable error reading the append only file %s: %s",
                         r->name, strerror(errno));
                rc = -1;
                break;
            }
            continue;
        }
        off_t cmd_off = r->file_off + (off_t)r->start;
        if (st == AOF_READ_ERR) {
            snprintf(err, errlen, "Bad file format reading the append only file %s (command at byte %lld, "
                     "%s): make a backup of your AOF file, then use ./redis-check-aof --fix "
                     "<filename.manifest>", r->name, (long long)cmd_off, why);
            rc = -1;
            break;
        }
        if (st == AOF_READ_OK) {
            /* Handlers may read arguments as C strings: the CR after each
             * bulk is ours to overwrite once the command is parsed. */
            for (int i = 0; i < cmd.argc; i++)
                ((char *)cmd.argv[i].ptr)[cmd.argv[i].len] = '\0';
            int opening_multi = !(r->c->flags & CLIENT_MULTI);
            if (aof_replay_exec(r, &cmd, err, errlen) != 0) {
                rc = -1;
                break;
            }
            if (opening_multi && (r->c->flags & CLIENT_MULTI))
                r->valid_before_multi = cmd_off;
        }
        r->start += used;
        r->valid_up_to = r->file_off + (off_t)r->start;
        aof_replay_progress(r, r->valid_up_to);
    }
    aof_cmd_release(&cmd);
    return rc;
}

static int aof_is_rdb_preamble(int fd, int *is_rdb)
{
    char magic[5];
    size_t got = 0;
    while (got < sizeof(magic)) {
        ssize_t n = pread(fd, magic + got, sizeof(magic) - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *is_rdb = got == sizeof(magic) && memcmp(magic, "REDIS", 5) == 0;
    return 0;
}

int aof_load_file(srv *s, const char *path, const char *name, int is_last, char *err, size_t errlen)
{
    struct stat sb;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "Fatal error: can't open the append log file %s for reading: %s", name,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int is_rdb = 0;
    if (aof_is_rdb_preamble(fd, &is_rdb) != 0) {
        snprintf(err, errlen, "Unrecoverable error reading the append only file %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    off_t tail = 0;
    if (is_rdb) {
        uint64_t end = 0;
        log_msg(LOG_NOTICE, "Reading RDB base file on AOF loading...");
        if (rdb_load_file_ex(s, path, &end, err, errlen) != 0) {
            close(fd);
            return -1;
        }
        if ((off_t)end >= sb.st_size) {
            close(fd);
            return 0;
        }
        /* An old single-file AOF: commands follow the preamble. */
        log_msg(LOG_NOTICE, "Reading the remaining AOF tail...");
        tail = (off_t)end;
        if (lseek(fd, tail, SEEK_SET) != tail) {
            snprintf(err, errlen, "Unrecoverable error reading the append only file %s: %s", name,
                     strerror(errno));
            close(fd);
            return -1;
        }
    }
    aof_replay r;
    memset(&r, 0, sizeof(r));
    r.file_off = tail;
    r.valid_up_to = tail;
    r.s = s;
    r.name = name;
    r.fd = fd;
    r.total = sb.st_size;
    r.last_log_ms = util_ms_now();
    aof_replay_new_client(&r);
    s->loading = 1;
    int rc = aof_replay_commands(&r, path, is_last, err, errlen);
    s->loading = 0;
    if (r.c)
        client_free(r.c);
    mem_free(r.buf);
    close(fd);
    return rc;
}

/* ---- the whole directory --------------------------------------------- */

static int aof_read_manifest(const char *path, aof_manifest *m, char *err, size_t errlen)
{
    char why[256];
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "Fatal error: can't open the AOF manifest file %s for reading: %s", path,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* A manifest lists a handful of files; anything huge is not one. */
    if (sb.st_size > 16 * 1024 * 1024) {
        close(fd);
        snprintf(err, errlen, "*** FATAL AOF MANIFEST FILE ERROR *** %s: too large (%lld bytes)", path,
                 (long long)sb.st_size);
        return -1;
    }
    char *buf = mem_alloc((size_t)sb.st_size + 1);
    size_t got = util_read_full(fd, buf, (size_t)sb.st_size);
    close(fd);
    int rc = aof_manifest_parse(m, buf, got, why, sizeof(why));
    mem_free(buf);
    if (rc != 0)
        snprintf(err, errlen, "*** FATAL AOF MANIFEST FILE ERROR *** reading %s, %s", path, why);
    return rc;
}

static int aof_load_one(srv *s, const aof_file_info *f, int is_last, const char *kind, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", s->config.appenddirname, f->name);
    int64_t start = util_mono_us();
    if (aof_load_file(s, path, f->name, is_last, err, errlen) != 0)
        return -1;
    log_msg(LOG_NOTICE, "DB loaded from %s file %s: %.3f seconds", kind, f->name,
            (double)(util_mono_us() - start) / 1e6);
    return 0;
}

/* Every file the manifest names must exist before anything is loaded: a
 * missing one means a write history with a hole in it. */
static int aof_check_files(srv *s, const aof_manifest *m, long long *total, char *err, size_t errlen)
{
    char path[4096];
    struct stat sb;
    *total = 0;
    for (int i = -1; i < m->incr_count; i++) {
        const aof_file_info *f = i < 0 ? m->base : &m->incr[i];
        if (!f)
            continue;
        snprintf(path, sizeof(path), "%s/%s", s->config.appenddirname, f->name);
        if (stat(path, &sb) != 0) {
            snprintf(err, errlen, "Unable to obtain the AOF file %s length. stat: %s", f->name, strerror(errno));
            return -1;
        }
        *total += (long long)sb.st_size;
    }
    return 0;
}

int aof_load_all(srv *s, aof_manifest *m, int *found, long long *total_size, char *err, size_t errlen)
{
    char name[1024], path[4096];
    struct stat sb;
    *found = 0;
    *total_size = 0;
    aof_manifest_init(m);
    aof_manifest_name(name, sizeof(name), s->config.appendfilename);
    snprintf(path, sizeof(path), "%s/%s", s->config.appenddirname, name);
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        snprintf(err, errlen, "Fatal error: can't open the AOF manifest file %s for reading: %s", path,
                 strerror(errno));
        return -1;
    }
    if (aof_read_manifest(path, m, err, errlen) != 0)
        return -1;
    if (!m->base && m->incr_count == 0)
        return 0;
    if (aof_check_files(s, m, total_size, err, errlen) != 0)
        return -1;
    *found = 1;
    int64_t start = util_mono_us();
    if (m->base && aof_load_one(s, m->base, m->incr_count == 0, "base", err, errlen) != 0)
        return -1;
    for (int i = 0; i < m->incr_count; i++)
        if (aof_load_one(s, &m->incr[i], i == m->incr_count - 1, "incr", err, errlen) != 0)
            return -1;
    /* A truncated tail was cut: count what is left. */
    if (aof_check_files(s, m, total_size, err, errlen) != 0)
        return -1;
    log_msg(LOG_NOTICE, "DB loaded from append only file: %.3f seconds", (double)(util_mono_us() - start) / 1e6);
    return 0;
}
