/* acl_keys: the keys of a command with the access each one needs, found
 * as Redis 7.0 finds them for its ACL check: through the command's key
 * specs (begin_search index / keyword, find_keys range / keynum, read from
 * the COMMAND INFO data of command_info_table.c), or, for the few commands
 * whose specs cannot say (SET and BITFIELD with their variable flags, SORT
 * with its STORE anywhere), through the argument scan Redis uses instead.
 * A key spec's access / insert / update / delete flags decide the
 * permissions: access needs %R, the other three %W (RW, RO, OW and RM do
 * not count, as in 7.0). */
#include <stdlib.h>
#include <string.h>
#include "acl_int.h"
#include "command.h"
#include "mem.h"
#include "util.h"

enum { BS_UNKNOWN, BS_INDEX, BS_KEYWORD };
enum { FK_UNKNOWN, FK_RANGE, FK_KEYNUM };

typedef struct acl_keyspec {
    int need;            /* ACL_READ | ACL_WRITE */
    int flags;           /* every flag of the spec, ACL_KF_* */
    int not_key;         /* shard channels: not keys for ACL */
    int variable;        /* variable_flags: the argument scan decides */
    int bs;
    int index;           /* BS_INDEX */
    char keyword[32];    /* BS_KEYWORD */
    int startfrom;
    int fk;
    int lastkey, keystep, limit;      /* FK_RANGE */
    int keynumidx, firstkey;          /* FK_KEYNUM (keystep shared) */
} acl_keyspec;

typedef struct acl_specs {
    int parsed;
    int bad;             /* unreadable: every key needs R and W */
    int n;
    acl_keyspec *v;
} acl_specs;

static acl_specs *acl_specs_cache;   /* per cmd_info_table entry */

/* ---- a reader for the COMMAND INFO bytes ------------------------------ */

typedef struct blob {
    const char *p, *end;
} blob;

/* The number after the type byte, up to CRLF; 0 on malformed input. */
static int blob_int(blob *b, long long *v)
{
    const char *nl = memchr(b->p, '\r', (size_t)(b->end - b->p));
    if (!nl || nl + 1 >= b->end || !util_str_to_ll(b->p + 1, (size_t)(nl - b->p - 1), v))
        return 0;
    b->p = nl + 2;
    return 1;
}

/* A length (array, bulk); -1 on malformed input. */
static long long blob_num(blob *b)
{
    long long v = 0;
    return blob_int(b, &v) && v >= 0 ? v : -1;
}

/* A bulk or simple string; NULL on another type. */
static const char *blob_str(blob *b, size_t *len)
{
    if (b->p >= b->end)
        return NULL;
    char t = *b->p;
    if (t == '+') {
        const char *s = b->p + 1;
        const char *nl = memchr(s, '\r', (size_t)(b->end - s));
        if (!nl)
            return NULL;
        *len = (size_t)(nl - s);
        b->p = nl + 2;
        return s;
    }
    if (t != '$')
        return NULL;
    long long n = blob_num(b);
    if (n < 0 || b->p + n + 2 > b->end)
        return NULL;
    const char *s = b->p;
    *len = (size_t)n;
    b->p += n + 2;
    return s;
}

static int blob_skip(blob *b)
{
    if (b->p >= b->end)
        return -1;
    char t = *b->p;
    size_t len;
    if (t == '+' || t == '$')
        return blob_str(b, &len) ? 0 : -1;
    long long n = 0;
    if (t == ':')
        return blob_int(b, &n) ? 0 : -1;
    n = blob_num(b);
    if (n < 0)
        return -1;
    for (long long i = 0; i < n; i++)
        if (blob_skip(b) != 0)
            return -1;
    return 0;
}

static int str_is(const char *s, size_t len, const char *want)
{
    return s && strlen(want) == len && memcmp(s, want, len) == 0;
}

/* A flat map's entries: calls fn(key) positioned on each value; fn must
 * consume the value. */
typedef int (*blob_entry_fn)(blob *b, const char *k, size_t kl, acl_keyspec *ks, int fk);

static int blob_map(blob *b, blob_entry_fn fn, acl_keyspec *ks, int fk)
{
    if (b->p >= b->end || *b->p != '*')
        return -1;
    long long n = blob_num(b);
    for (long long i = 0; i + 1 < n; i += 2) {
        size_t kl;
        const char *k = blob_str(b, &kl);
        if (!k || fn(b, k, kl, ks, fk) != 0)
            return -1;
    }
    return 0;
}

static int spec_int_entry(blob *b, const char *k, size_t kl, acl_keyspec *ks, int fk)
{
    if (b->p < b->end && *b->p == ':') {
        long long v = 0;
        if (!blob_int(b, &v))
            return -1;
        if (str_is(k, kl, "index")) ks->index = (int)v;
        else if (str_is(k, kl, "startfrom")) ks->startfrom = (int)v;
        else if (str_is(k, kl, "lastkey")) ks->lastkey = (int)v;
        else if (str_is(k, kl, "keystep")) ks->keystep = (int)v;
        else if (str_is(k, kl, "limit")) ks->limit = (int)v;
        else if (str_is(k, kl, "keynumidx")) ks->keynumidx = (int)v;
        else if (str_is(k, kl, "firstkey")) ks->firstkey = (int)v;
        return 0;
    }
    if (!fk && str_is(k, kl, "keyword")) {
        size_t l;
        const char *s = blob_str(b, &l);
        if (!s || l >= sizeof(ks->keyword))
            return -1;
        memcpy(ks->keyword, s, l);
        ks->keyword[l] = '\0';
        return 0;
    }
    return blob_skip(b);
}

/* begin_search / find_keys: {type, <name>, spec, {...}}. */
static int spec_search_entry(blob *b, const char *k, size_t kl, acl_keyspec *ks, int fk)
{
    if (str_is(k, kl, "type")) {
        size_t l;
        const char *t = blob_str(b, &l);
        if (!t)
            return -1;
        if (!fk)
            ks->bs = str_is(t, l, "index") ? BS_INDEX : str_is(t, l, "keyword") ? BS_KEYWORD : BS_UNKNOWN;
        else
            ks->fk = str_is(t, l, "range") ? FK_RANGE : str_is(t, l, "keynum") ? FK_KEYNUM : FK_UNKNOWN;
        return 0;
    }
    if (str_is(k, kl, "spec"))
        return blob_map(b, spec_int_entry, ks, fk);
    return blob_skip(b);
}

static const char *const acl_kf_names[ACL_KF_COUNT] = {
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete",
    "variable_flags",
};

const char *acl_key_flag_name(int i)
{
    return i >= 0 && i < ACL_KF_COUNT ? acl_kf_names[i] : "";
}

static int spec_flag_bit(const char *f, size_t l)
{
    for (int i = 0; i < ACL_KF_COUNT; i++)
        if (str_is(f, l, acl_kf_names[i]))
            return 1 << i;
    return 0;
}

static int spec_entry(blob *b, const char *k, size_t kl, acl_keyspec *ks, int fk)
{
    (void)fk;
    if (str_is(k, kl, "flags")) {
        long long n = blob_num(b);
        for (long long i = 0; i < n; i++) {
            size_t l;
            const char *f = blob_str(b, &l);
            if (!f)
                return -1;
            ks->flags |= spec_flag_bit(f, l);
            if (str_is(f, l, "access"))
                ks->need |= ACL_READ;
            else if (str_is(f, l, "insert") || str_is(f, l, "update") || str_is(f, l, "delete"))
                ks->need |= ACL_WRITE;
            else if (str_is(f, l, "not_key"))
                ks->not_key = 1;
            else if (str_is(f, l, "variable_flags"))
                ks->variable = 1;
        }
        return 0;
    }
    if (str_is(k, kl, "begin_search"))
        return blob_map(b, spec_search_entry, ks, 0);
    if (str_is(k, kl, "find_keys"))
        return blob_map(b, spec_search_entry, ks, 1);
    return blob_skip(b);
}

/* COMMAND INFO's 9th field, the key specs. */
static void acl_specs_parse(const cmd_info_entry *e, acl_specs *out)
{
    blob b = {e->resp2, e->resp2 + e->resp2_len};
    out->parsed = 1;
    out->bad = 1;
    if (b.p >= b.end || *b.p != '*' || blob_num(&b) < 9)
        return;
    for (int i = 0; i < 8; i++)
        if (blob_skip(&b) != 0)
            return;
    long long n = b.p < b.end && *b.p == '*' ? blob_num(&b) : -1;
    if (n < 0)
        return;
    out->v = mem_calloc(sizeof(acl_keyspec) * (size_t)(n + 1));
    for (long long i = 0; i < n; i++) {
        if (blob_map(&b, spec_entry, &out->v[i], 0) != 0)
            return;
        out->n++;
    }
    out->bad = 0;
}

static const acl_specs *acl_specs_of(const char *fullname)
{
    const cmd_info_entry *e = cmd_info_lookup(fullname, strlen(fullname));
    if (!e)
        return NULL;
    if (!acl_specs_cache)
        acl_specs_cache = mem_calloc(sizeof(acl_specs) * (cmd_info_table_len + 1));
    acl_specs *s = &acl_specs_cache[e - cmd_info_table];
    if (!s->parsed)
        acl_specs_parse(e, s);
    return s;
}

/* ---- Redis' getKeysUsingKeySpecs --------------------------------------- */

/* The first key of a keyword spec: after the keyword, searched forwards
 * from startfrom up to the last-but-one argument, or backwards from the end
 * (negative startfrom) down to argument 2; 0 when absent. */
static int spec_keyword_first(const acl_keyspec *ks, int argc, const resp_arg *argv)
{
    int start = ks->startfrom > 0 ? ks->startfrom : argc + ks->startfrom;
    int stop = ks->startfrom > 0 ? argc - 1 : 1;
    for (int i = start; i != stop; i = start <= stop ? i + 1 : i - 1) {
        if (i >= argc || i < 1)
            break;
        if (util_strcasecmp_len(argv[i].ptr, argv[i].len, ks->keyword) == 0)
            return i + 1;
    }
    return 0;
}

/* One spec's keys appended to out; -1 when the arguments do not fit it
 * (Redis then falls back to the command's own key finder). */
static int spec_keys(const acl_keyspec *ks, int arity, int argc, const resp_arg *argv, acl_keyref *out, int *n, int cap)
{
    int first, last, step;
    if (ks->bs == BS_INDEX)
        first = ks->index;
    else if (ks->bs == BS_KEYWORD) {
        first = spec_keyword_first(ks, argc, argv);
        if (!first)
            return 0;
    } else
        return -1;
    if (ks->fk == FK_RANGE) {
        step = ks->keystep;
        if (ks->lastkey >= 0)
            last = first + ks->lastkey;
        else if (!ks->limit)
            last = argc + ks->lastkey;
        else
            last = first + ((argc - first) / ks->limit + ks->lastkey);
    } else if (ks->fk == FK_KEYNUM) {
        long long num;
        int at = first + ks->keynumidx;
        if (at >= argc || !util_str_to_ll(argv[at].ptr, argv[at].len, &num) || num < 0 || num > argc)
            return -1;
        first += ks->firstkey;
        last = first + (int)num - 1;
        step = ks->keystep;
    } else
        return -1;
    if (last >= argc || last < first || first >= argc || step <= 0)
        return -1;
    for (int i = first; i <= last; i += step) {
        if (i >= argc) {
            if (arity < 0)
                continue;
            return -1;
        }
        if (*n >= cap)
            return -1;
        out[*n].pos = i;
        out[*n].need = ks->need;
        out[*n].flags = ks->flags;
        (*n)++;
    }
    return 0;
}

/* SET: R and W with GET, else W only (Redis' setGetKeys). */
static int acl_set_keys(int argc, const resp_arg *argv, acl_keyref *out)
{
    out[0].pos = 1;
    out[0].need = ACL_WRITE;
    out[0].flags = ACL_KF_OW | ACL_KF_UPDATE;
    for (int i = 3; i < argc; i++)
        if (util_strcasecmp_len(argv[i].ptr, argv[i].len, "get") == 0) {
            out[0].need = ACL_READ | ACL_WRITE;
            out[0].flags = ACL_KF_RW | ACL_KF_ACCESS | ACL_KF_UPDATE;
        }
    return 1;
}

/* BITFIELD: R only when every operation is a GET (or OVERFLOW), as
 * bitfieldGetKeys decides; anything else, even a syntax error, R and W. */
static int acl_bitfield_keys(int argc, const resp_arg *argv, acl_keyref *out)
{
    int readonly = 1;
    for (int i = 2; i < argc && readonly; i++) {
        int rem = argc - i - 1;
        const resp_arg *a = &argv[i];
        if (util_strcasecmp_len(a->ptr, a->len, "get") == 0 && rem >= 2)
            i += 2;
        else if (util_strcasecmp_len(a->ptr, a->len, "overflow") == 0 && rem >= 1)
            i += 1;
        else
            readonly = 0;
    }
    out[0].pos = 1;
    out[0].need = readonly ? ACL_READ : ACL_READ | ACL_WRITE;
    out[0].flags = readonly ? ACL_KF_RO | ACL_KF_ACCESS : ACL_KF_RW | ACL_KF_ACCESS | ACL_KF_UPDATE;
    return 1;
}

/* The keys COMMAND GETKEYS finds, each needing what any spec needs (SORT:
 * its key R, its STORE key W). */
static int acl_fallback_keys(const cmd_def *cmd, const acl_specs *sp, int argc, const resp_arg *argv, acl_keyref *out)
{
    int *pos = mem_alloc(sizeof(int) * (size_t)(argc + 1));
    const char *err = NULL;
    int n = cmd_getkeys(argc, argv, pos, &err);
    int need = 0;
    for (int i = 0; sp && i < sp->n; i++)
        need |= sp->v[i].need;
    if (!need)
        need = ACL_READ | ACL_WRITE;
    int sort = strcmp(cmd->name, "sort") == 0;
    /* Flags as Redis' own key finders give them: SORT's key RO access, its
     * STORE key OW update; otherwise the first spec's. */
    int flags = sp && sp->n ? sp->v[0].flags & ~ACL_KF_INCOMPLETE : 0;
    for (int i = 0; i < n; i++) {
        out[i].pos = pos[i];
        out[i].need = sort ? (i == 0 ? ACL_READ : ACL_WRITE) : need;
        out[i].flags = sort ? (i == 0 ? ACL_KF_RO | ACL_KF_ACCESS : ACL_KF_OW | ACL_KF_UPDATE) : flags;
    }
    mem_free(pos);
    return n > 0 ? n : 0;
}

int acl_keys_of(const cmd_def *cmd, int argc, const resp_arg *argv, acl_keyref **outp)
{
    const acl_specs *sp = NULL;
    int set = strcmp(cmd->name, "set") == 0, bitfield = strcmp(cmd->name, "bitfield") == 0;
    if (!set && !bitfield)
        sp = acl_specs_of(acl_fullname(cmd, argc, argv));
    /* Each spec finds at most argc keys; the fallback at most argc + 1. */
    int cap = (argc + 1) * ((sp ? sp->n : 0) + 1);
    acl_keyref *out = mem_alloc(sizeof(acl_keyref) * (size_t)cap);
    *outp = out;
    if (set)
        return acl_set_keys(argc, argv, out);
    if (bitfield)
        return acl_bitfield_keys(argc, argv, out);
    if (!sp || sp->bad)
        return acl_fallback_keys(cmd, NULL, argc, argv, out);
    int n = 0;
    for (int i = 0; i < sp->n; i++) {
        if (sp->v[i].not_key)
            continue;
        /* A variable-flags or incomplete spec cannot say: the command's own
         * key finder decides (MIGRATE's KEYS form, SORT's STORE). */
        if (sp->v[i].variable || (sp->v[i].flags & ACL_KF_INCOMPLETE) ||
            spec_keys(&sp->v[i], cmd->arity, argc, argv, out, &n, cap) != 0)
            return acl_fallback_keys(cmd, sp, argc, argv, out);
    }
    return n;
}

int acl_keys_unreadable(void)
{
    int bad = 0;
    for (size_t i = 0; i < cmd_info_table_len; i++)
        bad += acl_specs_of(cmd_info_table[i].fullname)->bad;
    return bad;
}

void acl_keys_reset(void)
{
    if (!acl_specs_cache)
        return;
    for (size_t i = 0; i < cmd_info_table_len; i++)
        mem_free(acl_specs_cache[i].v);
    mem_free(acl_specs_cache);
    acl_specs_cache = NULL;
}
