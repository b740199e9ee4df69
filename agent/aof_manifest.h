/* aof_manifest: the manifest of Redis 7.0's multi-part AOF, as a pure
 * parser and writer (no I/O), plus the file-naming rules.
 *
 * A manifest lists the files of one AOF directory, one per line:
 *   file <name> seq <n> type b|h|i
 * b is the base (at most one, the snapshot of the last rewrite), i the
 * incremental files in increasing seq order (replayed after the base), h
 * history files waiting for deletion. Names that need quoting are written
 * as Redis writes them ("..." with escapes). Lines starting with '#' are
 * comments; unknown key/value pairs are ignored (forward compatibility),
 * as redis-server 7.0 does.
 *
 * Names: <appendfilename>.<seq>.base.rdb|.aof, <appendfilename>.<seq>.incr.aof,
 * <appendfilename>.manifest. */
#ifndef KV_AOF_MANIFEST_H
#define KV_AOF_MANIFEST_H
#include <stddef.h>
#include "kstr.h"

enum { AOF_FILE_BASE = 'b', AOF_FILE_HIST = 'h', AOF_FILE_INCR = 'i' };

/* Redis refuses manifest lines longer than this. */
#define AOF_MANIFEST_MAX_LINE 1024

typedef struct aof_file_info {
    kstr name;
    long long seq;
    char type;
} aof_file_info;

typedef struct aof_manifest {
    aof_file_info *base;        /* NULL: no base */
    aof_file_info *incr;        /* in replay order */
    int incr_count;
    aof_file_info *hist;
    int hist_count;
    long long base_seq;         /* highest base seq seen/assigned */
    long long incr_seq;         /* highest incr seq seen/assigned */
} aof_manifest;

void aof_manifest_init(aof_manifest *m);
void aof_manifest_release(aof_manifest *m);
/* Deep copy (a change is built on a copy, then swapped in once on disk). */
void aof_manifest_copy(aof_manifest *dst, const aof_manifest *src);
/* Parse a whole manifest. 0, or -1 with err ("line N: reason" using Redis'
 * reasons: "Invalid AOF manifest file format", "Unknown AOF file type",
 * "Found duplicate base file information", "Found a non-monotonic sequence
 * number", "The AOF manifest file contains too long line", "Found an empty
 * AOF manifest", "File can't be a path, just a filename"). */
int aof_manifest_parse(aof_manifest *m, const char *buf, size_t len, char *err, size_t errlen);
/* Render as Redis does: base, then history, then incr files. */
kstr aof_manifest_format(const aof_manifest *m, kstr out);

/* Make a new base <fn>.<++base_seq>.base.<rdb|aof>; an existing base
 * becomes history. Returns the new name (owned by m). */
const char *aof_manifest_new_base(aof_manifest *m, const char *fn, int rdb_format);
/* Append a new incr <fn>.<++incr_seq>.incr.aof; returns its name. */
const char *aof_manifest_new_incr(aof_manifest *m, const char *fn);
/* After a rewrite: every incr but the last `keep_last` ones becomes history. */
void aof_manifest_incr_to_history(aof_manifest *m, int keep_last);
/* Forget the history list (after the files were deleted). */
void aof_manifest_clear_history(aof_manifest *m);

/* "<fn>.manifest" into buf. */
void aof_manifest_name(char *buf, size_t len, const char *fn);

#endif
