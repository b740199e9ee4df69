/* aof_manifest: parse and render the multi-part AOF manifest (see
 * aof_manifest.h). Pure: bytes in, a manifest or an error out. The loader
 * must never trust a manifest it cannot fully understand, so every line is
 * checked the way redis-server 7.0 checks it before anything is loaded. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "aof_manifest.h"
#include "mem.h"
#include "resp.h"

void aof_manifest_init(aof_manifest *m)
{
    memset(m, 0, sizeof(*m));
}

static void aof_info_list_free(aof_file_info *list, int count)
{
    for (int i = 0; i < count; i++)
        kstr_free(list[i].name);
    mem_free(list);
}

void aof_manifest_release(aof_manifest *m)
{
    if (m->base) {
        kstr_free(m->base->name);
        mem_free(m->base);
    }
    aof_info_list_free(m->incr, m->incr_count);
    aof_info_list_free(m->hist, m->hist_count);
    aof_manifest_init(m);
}

static aof_file_info *aof_info_list_copy(const aof_file_info *src, int count)
{
    if (count == 0)
        return NULL;
    aof_file_info *dst = mem_alloc(sizeof(*dst) * (size_t)count);
    for (int i = 0; i < count; i++) {
        dst[i] = src[i];
        dst[i].name = kstr_dup(src[i].name);
    }
    return dst;
}

void aof_manifest_copy(aof_manifest *dst, const aof_manifest *src)
{
    aof_manifest_init(dst);
    if (src->base) {
        dst->base = mem_alloc(sizeof(*dst->base));
        *dst->base = *src->base;
        dst->base->name = kstr_dup(src->base->name);
    }
    dst->incr = aof_info_list_copy(src->incr, src->incr_count);
    dst->incr_count = src->incr_count;
    dst->hist = aof_info_list_copy(src->hist, src->hist_count);
    dst->hist_count = src->hist_count;
    dst->base_seq = src->base_seq;
    dst->incr_seq = src->incr_seq;
}

static void aof_info_list_push(aof_file_info **list, int *count, aof_file_info info)
{
    *list = mem_realloc(*list, sizeof(**list) * (size_t)(*count + 1));
    (*list)[(*count)++] = info;
}

/* ---- parsing --------------------------------------------------------- */

static int aof_manifest_fail(char *err, size_t errlen, int linenum, const char *reason)
{
    if (linenum > 0)
        snprintf(err, errlen, "line %d: %s", linenum, reason);
    else
        snprintf(err, errlen, "%s", reason);
    return -1;
}

/* A name is a plain file name: no directory part. */
static int aof_is_basename(const char *name)
{
    return strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Strict decimal, as the seq must be positive to count as present. */
static long long aof_parse_seq(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s)
        return 0;
    return v;
}

/* One non-comment line, already stripped of surrounding blanks. Fills
 * info (name owned by the caller on success). */
static const char *aof_manifest_parse_line(const char *line, size_t len, aof_file_info *info)
{
    char scratch[AOF_MANIFEST_MAX_LINE + 1];
    resp_arg args[AOF_MANIFEST_MAX_LINE / 2 + 1];
    int argc = resp_split_inline(line, len, scratch, args, (int)(sizeof(args) / sizeof(args[0])));
    /* Pairs only, at least the three we need (more: a newer version). */
    if (argc < 6 || argc % 2)
        return "Invalid AOF manifest file format";
    const char *name = NULL;
    memset(info, 0, sizeof(*info));
    for (int i = 0; i < argc; i += 2) {
        const char *k = args[i].ptr, *v = args[i + 1].ptr;
        if (!strcasecmp(k, "file")) {
            if (!aof_is_basename(v))
                return "File can't be a path, just a filename";
            name = v;
        } else if (!strcasecmp(k, "seq")) {
            info->seq = aof_parse_seq(v);
        } else if (!strcasecmp(k, "type")) {
            info->type = v[0];
        }
    }
    if (!name || !name[0] || info->seq == 0 || info->type == 0)
        return "Invalid AOF manifest file format";
    info->name = kstr_from_cstr(name);
    return NULL;
}

static const char *aof_manifest_add(aof_manifest *m, aof_file_info info)
{
    switch (info.type) {
    case AOF_FILE_BASE:
        if (m->base)
            return "Found duplicate base file information";
        m->base = mem_alloc(sizeof(*m->base));
        *m->base = info;
        m->base_seq = info.seq;
        return NULL;
    case AOF_FILE_HIST:
        aof_info_list_push(&m->hist, &m->hist_count, info);
        return NULL;
    case AOF_FILE_INCR:
        /* Replay order is file order: a seq going back means a manifest
         * someone edited wrongly, and loading it would reorder writes. */
        if (m->incr_count > 0 && info.seq <= m->incr[m->incr_count - 1].seq)
            return "Found a non-monotonic sequence number";
        if (info.seq < 0)
            return "Found a non-monotonic sequence number";
        aof_info_list_push(&m->incr, &m->incr_count, info);
        m->incr_seq = info.seq;
        return NULL;
    default:
        return "Unknown AOF file type";
    }
}

static int aof_is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

int aof_manifest_parse(aof_manifest *m, const char *buf, size_t len, char *err, size_t errlen)
{
    aof_manifest_init(m);
    size_t pos = 0;
    int linenum = 0;
    if (len == 0)
        return aof_manifest_fail(err, errlen, 0, "Found an empty AOF manifest");
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        size_t line_len = end - pos;
        const char *line = buf + pos;
        linenum++;
        pos = nl ? end + 1 : len;
        if (line_len > 0 && line[0] == '#')
            continue;
        /* Redis reads with a 1024-byte buffer and wants the newline in it. */
        if (!nl || line_len + 1 > AOF_MANIFEST_MAX_LINE) {
            aof_manifest_release(m);
            return aof_manifest_fail(err, errlen, linenum, "The AOF manifest file contains too long line");
        }
        while (line_len > 0 && aof_is_blank(line[0])) {
            line++;
            line_len--;
        }
        while (line_len > 0 && aof_is_blank(line[line_len - 1]))
            line_len--;
        const char *reason = "Invalid AOF manifest file format";
        aof_file_info info;
        if (line_len > 0 && memchr(line, '\0', line_len) == NULL)
            reason = aof_manifest_parse_line(line, line_len, &info);
        if (!reason) {
            reason = aof_manifest_add(m, info);
            if (reason)
                kstr_free(info.name);
        }
        if (reason) {
            aof_manifest_release(m);
            return aof_manifest_fail(err, errlen, linenum, reason);
        }
    }
    return 0;
}

/* ---- rendering ------------------------------------------------------- */

/* As sdsneedsrepr: quote a name holding blanks, quotes or non-printables. */
static int aof_name_needs_quoting(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\\' || ch == '"' || ch == '\n' || ch == '\r' || ch == '\t' || ch == '\a' ||
            ch == '\b' || !isprint(ch) || isspace(ch))
            return 1;
    }
    return 0;
}

static kstr aof_cat_quoted(kstr out, const char *s, size_t len)
{
    return kstr_cat_repr(out, s, len);
}

static kstr aof_info_format(kstr out, const aof_file_info *info)
{
    out = kstr_cat_cstr(out, "file ");
    size_t len = kstr_len(info->name);
    if (aof_name_needs_quoting(info->name, len))
        out = aof_cat_quoted(out, info->name, len);
    else
        out = kstr_cat(out, info->name, len);
    return kstr_catfmt(out, " seq %lld type %c\n", info->seq, info->type);
}

kstr aof_manifest_format(const aof_manifest *m, kstr out)
{
    if (m->base)
        out = aof_info_format(out, m->base);
    for (int i = 0; i < m->hist_count; i++)
        out = aof_info_format(out, &m->hist[i]);
    for (int i = 0; i < m->incr_count; i++)
        out = aof_info_format(out, &m->incr[i]);
    return out;
}

/* ---- changes --------------------------------------------------------- */

const char *aof_manifest_new_base(aof_manifest *m, const char *fn, int rdb_format)
{
    if (m->base) {
        /* History is kept newest first, as Redis lists it. */
        aof_file_info old = *m->base;
        old.type = AOF_FILE_HIST;
        m->hist = mem_realloc(m->hist, sizeof(*m->hist) * (size_t)(m->hist_count + 1));
        memmove(m->hist + 1, m->hist, sizeof(*m->hist) * (size_t)m->hist_count);
        m->hist[0] = old;
        m->hist_count++;
    } else {
        m->base = mem_alloc(sizeof(*m->base));
    }
    m->base_seq++;
    m->base->seq = m->base_seq;
    m->base->type = AOF_FILE_BASE;
    m->base->name = kstr_catfmt(kstr_empty(64), "%s.%lld.base.%s", fn, m->base_seq,
                                rdb_format ? "rdb" : "aof");
    return m->base->name;
}

const char *aof_manifest_new_incr(aof_manifest *m, const char *fn)
{
    aof_file_info info;
    info.seq = ++m->incr_seq;
    info.type = AOF_FILE_INCR;
    info.name = kstr_catfmt(kstr_empty(64), "%s.%lld.incr.aof", fn, info.seq);
    aof_info_list_push(&m->incr, &m->incr_count, info);
    return info.name;
}

void aof_manifest_incr_to_history(aof_manifest *m, int keep_last)
{
    int move = m->incr_count - keep_last;
    if (move <= 0)
        return;
    /* Walk from the newest moved file so history stays newest first. */
    for (int i = move - 1; i >= 0; i--) {
        aof_file_info h = m->incr[i];
        h.type = AOF_FILE_HIST;
        m->hist = mem_realloc(m->hist, sizeof(*m->hist) * (size_t)(m->hist_count + 1));
        memmove(m->hist + 1, m->hist, sizeof(*m->hist) * (size_t)m->hist_count);
        m->hist[0] = h;
        m->hist_count++;
    }
    memmove(m->incr, m->incr + move, sizeof(*m->incr) * (size_t)keep_last);
    m->incr_count = keep_last;
}

void aof_manifest_clear_history(aof_manifest *m)
{
    aof_info_list_free(m->hist, m->hist_count);
    m->hist = NULL;
    m->hist_count = 0;
}

void aof_manifest_name(char *buf, size_t len, const char *fn)
{
    snprintf(buf, len, "%s.manifest", fn);
}
