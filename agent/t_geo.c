/* t_geo: the geo commands of Redis 7.0.15 over sorted sets whose scores
 * are 52-bit geohashes (geohash.h). GEOADD is ZADD with encoded scores (it
 * runs t_zset's ZADD and reaches replicas as ZADD, as in Redis); the
 * searches scan the nine cells Redis would scan, in its order, so replies
 * without ASC/DESC list members in the same order, and COUNT ... ANY stops
 * at the same members.
 *
 * Reply formats: distances "%.4f" in the requested unit, coordinates as
 * human-friendly long doubles ("%.17Lf" without trailing zeros), hashes as
 * integers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "client.h"
#include "command.h"
#include "db.h"
#include "geohash.h"
#include "mem.h"
#include "object.h"
#include "reply.h"
#include "server.h"
#include "util.h"
#include "zset.h"

#define ARG(i) (c->argv[(i)].ptr)
#define ARGLEN(i) (c->argv[(i)].len)

#define ERR_GEO_MEMBER "ERR could not decode requested zset member"

static int tg_is(const client *c, int i, const char *word)
{
    return util_strcasecmp_len(ARG(i), ARGLEN(i), word) == 0;
}

/* Look a sorted set up for reading; -1 after a WRONGTYPE reply. */
static int tg_lookup(client *c, int i, obj **o)
{
    *o = db_lookup_read(c->db, ARG(i), ARGLEN(i));
    if (*o && (*o)->type != OBJ_ZSET) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    return 0;
}

/* A coordinate in the "human" long double form: a RESP3 double, a bulk
 * string in RESP2 (distances stay strings in both). */
static void tg_reply_coord(client *c, double v)
{
    reply_human_ldouble(c, (long double)v);
}

static void tg_reply_distance(client *c, double d)
{
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%.4f", d);
    reply_bulk(c, buf, (size_t)n);
}

/* Two arguments as longitude, latitude within the WGS84 limits. */
static int tg_parse_lonlat(client *c, int i, double xy[2])
{
    for (int j = 0; j < 2; j++) {
        if (!util_str_to_double(ARG(i + j), ARGLEN(i + j), &xy[j])) {
            reply_error(c, ERR_NOT_FLOAT);
            return -1;
        }
    }
    if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN || xy[1] > GEO_LAT_MAX) {
        reply_errorf(c, "ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
        return -1;
    }
    return 0;
}

/* Metres per unit; -1 after an error reply. */
static double tg_parse_unit(client *c, int i)
{
    if (tg_is(c, i, "m"))
        return 1;
    if (tg_is(c, i, "km"))
        return 1000;
    if (tg_is(c, i, "ft"))
        return 0.3048;
    if (tg_is(c, i, "mi"))
        return 1609.34;
    reply_error(c, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

static int tg_parse_radius(client *c, int i, geo_shape *s)
{
    double d;
    if (!util_str_to_double(ARG(i), ARGLEN(i), &d)) {
        reply_error(c, "ERR need numeric radius");
        return -1;
    }
    if (d < 0) {
        reply_error(c, "ERR radius cannot be negative");
        return -1;
    }
    s->radius = d;
    double conv = tg_parse_unit(c, i + 1);
    if (conv < 0)
        return -1;
    s->conversion = conv;
    return 0;
}

static int tg_parse_box(client *c, int i, geo_shape *s)
{
    double w, h;
    if (!util_str_to_double(ARG(i), ARGLEN(i), &w)) {
        reply_error(c, "ERR need numeric width");
        return -1;
    }
    if (!util_str_to_double(ARG(i + 1), ARGLEN(i + 1), &h)) {
        reply_error(c, "ERR need numeric height");
        return -1;
    }
    if (h < 0 || w < 0) {
        reply_error(c, "ERR height or width cannot be negative");
        return -1;
    }
    s->width = w;
    s->height = h;
    double conv = tg_parse_unit(c, i + 2);
    if (conv < 0)
        return -1;
    s->conversion = conv;
    return 0;
}

/* The score a member of a plain sorted set stands for as a geohash. Redis
 * casts the double to uint64_t, which on x86-64 turns every score from 2^64
 * up (and +inf) into 0: the south-west cell, where searches from such a
 * member then find the members near it. Smaller scores decode alike here
 * and in geohash.c. */
static double tg_geo_score(double score)
{
    return score >= 18446744073709551616.0 ? 0 : score;
}

/* The decoded position of a member; -1 when it is not in the set. */
static int tg_member_xy(obj *o, const char *m, size_t len, double xy[2])
{
    double score;
    if (!zset_score(o->v.ptr, m, len, &score))
        return -1;
    geo_decode_score(tg_geo_score(score), xy);
    return 0;
}

/* ---- GEOADD ---- */

/* Rewrite "GEOADD key [NX|XX] [CH] lon lat member ..." as "ZADD key
 * [options] score member ..." and run ZADD on it. */
static void cmd_geoadd(client *c)
{
    int first = 2, nx = 0, xx = 0;
    for (; first < c->argc; first++) {
        if (tg_is(c, first, "nx"))
            nx = 1;
        else if (tg_is(c, first, "xx"))
            xx = 1;
        else if (!tg_is(c, first, "ch"))
            break;
    }
    if ((c->argc - first) % 3 || (nx && xx)) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    int elements = (c->argc - first) / 3;
    int argc = first + elements * 2;
    resp_arg *argv = mem_calloc(sizeof(resp_arg) * (size_t)argc);
    char (*scores)[24] = mem_calloc(sizeof(*scores) * (size_t)(elements ? elements : 1));
    argv[0].ptr = "zadd";
    argv[0].len = 4;
    for (int i = 1; i < first; i++)
        argv[i] = c->argv[i];
    for (int i = 0; i < elements; i++) {
        double xy[2];
        int at = first + i * 3;
        if (tg_parse_lonlat(c, at, xy) < 0)
            goto out;
        geo_hash h;
        geo_encode_wgs84(xy[0], xy[1], GEO_STEP_MAX, &h);
        int n = snprintf(scores[i], sizeof(scores[i]), "%llu", (unsigned long long)geo_align52(h));
        argv[first + i * 2].ptr = scores[i];
        argv[first + i * 2].len = (size_t)n;
        argv[first + i * 2 + 1] = c->argv[at + 2];
    }
    const cmd_def *zadd = cmd_lookup("zadd", 4);
    if (!zadd) {
        reply_error(c, "ERR unknown command 'zadd'");
        goto out;
    }
    int saved_argc = c->argc;
    resp_arg *saved_argv = c->argv;
    c->argc = argc;
    c->argv = argv;
    cmd_rewrite_argv(c, argc, argv);
    zadd->proc(c);
    c->argc = saved_argc;
    c->argv = saved_argv;
out:
    mem_free(scores);
    mem_free(argv);
}

/* ---- GEOPOS / GEODIST / GEOHASH ---- */

static void cmd_geopos(client *c)
{
    obj *o;
    if (tg_lookup(c, 1, &o) < 0)
        return;
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double xy[2];
        if (!o || tg_member_xy(o, ARG(j), ARGLEN(j), xy) < 0) {
            reply_null_array(c);
            continue;
        }
        reply_array(c, 2);
        tg_reply_coord(c, xy[0]);
        tg_reply_coord(c, xy[1]);
    }
}

static void cmd_geodist(client *c)
{
    double conv = 1;
    if (c->argc == 5) {
        conv = tg_parse_unit(c, 4);
        if (conv < 0)
            return;
    } else if (c->argc > 5) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    obj *o;
    if (tg_lookup(c, 1, &o) < 0)
        return;
    double a[2], b[2];
    if (!o || tg_member_xy(o, ARG(2), ARGLEN(2), a) < 0 || tg_member_xy(o, ARG(3), ARGLEN(3), b) < 0) {
        reply_null(c);
        return;
    }
    tg_reply_distance(c, geo_distance(a[0], a[1], b[0], b[1]) / conv);
}

static void cmd_geohash(client *c)
{
    obj *o;
    if (tg_lookup(c, 1, &o) < 0)
        return;
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double score;
        if (!o || !zset_score(o->v.ptr, ARG(j), ARGLEN(j), &score)) {
            reply_null(c);
            continue;
        }
        char buf[12];
        geo_score_to_string(tg_geo_score(score), buf);
        reply_bulk(c, buf, 11);
    }
}

/* ---- the searches ---- */

enum {
    TG_RADIUS_COORDS = 1 << 0,   /* GEORADIUS: center from arguments */
    TG_RADIUS_MEMBER = 1 << 1,   /* GEORADIUSBYMEMBER: center from a member */
    TG_NOSTORE = 1 << 2,         /* the _RO variants */
    TG_SEARCH = 1 << 3,          /* GEOSEARCH */
    TG_SEARCHSTORE = 1 << 4,     /* GEOSEARCHSTORE */
};

enum { TG_SORT_NONE, TG_SORT_ASC, TG_SORT_DESC };

/* One match. Laid out like Redis' own record (five 8-byte fields) so the
 * C library's qsort orders equal distances the same way for both. */
typedef struct tg_point {
    double lon, lat;
    double dist;
    double score;
    kstr member;      /* borrowed from the set */
} tg_point;

typedef struct tg_found {
    tg_point *p;
    size_t used, cap;
} tg_found;

static void tg_found_push(tg_found *f, const tg_point *p)
{
    if (f->used == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->p = mem_realloc(f->p, f->cap * sizeof(tg_point));
    }
    f->p[f->used++] = *p;
}

/* Members of one cell [min, max) that lie in the shape. */
static void tg_scan_cell(zset *z, geo_hash cell, const geo_shape *s, tg_found *f, size_t limit)
{
    uint64_t min, max;
    geo_cell_scores(cell, &min, &max);
    zset_range r = {(double)min, (double)max, 0, 1};
    for (zset_node *x = zset_first_in_range(z, &r); x; x = zset_next(x)) {
        double score = zset_node_score(x);
        if (!zset_range_lte_max(score, &r))
            break;
        double xy[2], dist;
        if (!geo_in_shape(s, score, xy, &dist))
            continue;
        tg_point p = {xy[0], xy[1], dist, score, zset_node_member(x)};
        tg_found_push(f, &p);
        if (limit && f->used >= limit)
            break;
    }
}

static void tg_scan(zset *z, const geo_shape *s, tg_found *f, size_t limit)
{
    geo_hash cells[9];
    geo_search_cells(s, cells);
    int last = 0;
    for (int i = 0; i < 9; i++) {
        if (cells[i].bits == 0 && cells[i].step == 0)
            continue;
        /* Huge radii make neighbours coincide: skip a repeat of the last. */
        if (last && cells[i].bits == cells[last].bits && cells[i].step == cells[last].step)
            continue;
        if (f->used && limit && f->used >= limit)
            break;
        tg_scan_cell(z, cells[i], s, f, limit);
        last = i;
    }
}

static int tg_cmp_asc(const void *a, const void *b)
{
    const tg_point *pa = a, *pb = b;
    if (pa->dist > pb->dist)
        return 1;
    if (pa->dist == pb->dist)
        return 0;
    return -1;
}

static int tg_cmp_desc(const void *a, const void *b)
{
    return -tg_cmp_asc(a, b);
}

typedef struct tg_opts {
    int withdist, withhash, withcoord;
    int sort, any;
    long long count;
    int store;          /* argv index of the destination, 0 for none */
    int storedist;
    int frommember, fromloc, byradius, bybox;
} tg_opts;

/* The center given as a member (GEORADIUSBYMEMBER, FROMMEMBER). */
static int tg_center_member(client *c, obj *o, int i, geo_shape *s)
{
    if (tg_member_xy(o, ARG(i), ARGLEN(i), s->xy) < 0) {
        reply_error(c, ERR_GEO_MEMBER);
        return -1;
    }
    return 0;
}

/* Options after the fixed arguments, in Redis' order of checks. */
static int tg_parse_options(client *c, int base, int flags, obj *o, geo_shape *s, tg_opts *op)
{
    int remaining = c->argc - base;
    for (int i = 0; i < remaining; i++) {
        int a = base + i;
        if (tg_is(c, a, "withdist")) {
            op->withdist = 1;
        } else if (tg_is(c, a, "withhash")) {
            op->withhash = 1;
        } else if (tg_is(c, a, "withcoord")) {
            op->withcoord = 1;
        } else if (tg_is(c, a, "any")) {
            op->any = 1;
        } else if (tg_is(c, a, "asc")) {
            op->sort = TG_SORT_ASC;
        } else if (tg_is(c, a, "desc")) {
            op->sort = TG_SORT_DESC;
        } else if (tg_is(c, a, "count") && i + 1 < remaining) {
            if (!util_str_to_ll(ARG(a + 1), ARGLEN(a + 1), &op->count)) {
                reply_error(c, ERR_NOT_INT);
                return -1;
            }
            if (op->count <= 0) {
                reply_error(c, "ERR COUNT must be > 0");
                return -1;
            }
            i++;
        } else if ((tg_is(c, a, "store") || tg_is(c, a, "storedist")) && i + 1 < remaining &&
                   !(flags & TG_NOSTORE) && !(flags & TG_SEARCH)) {
            op->store = a + 1;
            op->storedist = tg_is(c, a, "storedist");
            i++;
        } else if (tg_is(c, a, "storedist") && (flags & TG_SEARCH) && (flags & TG_SEARCHSTORE)) {
            op->storedist = 1;
        } else if (tg_is(c, a, "frommember") && i + 1 < remaining && (flags & TG_SEARCH) && !op->fromloc) {
            /* Without a source key the member is not looked up: the
             * arguments are still checked so the right reply is chosen. */
            if (o && tg_center_member(c, o, a + 1, s) < 0)
                return -1;
            op->frommember = 1;
            i++;
        } else if (tg_is(c, a, "fromlonlat") && i + 2 < remaining && (flags & TG_SEARCH) && !op->frommember) {
            if (tg_parse_lonlat(c, a + 1, s->xy) < 0)
                return -1;
            op->fromloc = 1;
            i += 2;
        } else if (tg_is(c, a, "byradius") && i + 2 < remaining && (flags & TG_SEARCH) && !op->bybox) {
            if (tg_parse_radius(c, a + 1, s) < 0)
                return -1;
            s->type = GEO_SHAPE_RADIUS;
            op->byradius = 1;
            i += 2;
        } else if (tg_is(c, a, "bybox") && i + 3 < remaining && (flags & TG_SEARCH) && !op->byradius) {
            if (tg_parse_box(c, a + 1, s) < 0)
                return -1;
            s->type = GEO_SHAPE_BOX;
            op->bybox = 1;
            i += 3;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* Options that cannot go together, checked after parsing as Redis does. */
static int tg_check_options(client *c, int flags, const tg_opts *op)
{
    if (op->store && (op->withdist || op->withhash || op->withcoord)) {
        reply_errorf(c, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                     (flags & TG_SEARCHSTORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return -1;
    }
    if ((flags & TG_SEARCH) && !(op->frommember || op->fromloc)) {
        reply_errorf(c, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                     (int)ARGLEN(0), ARG(0));
        return -1;
    }
    if ((flags & TG_SEARCH) && !(op->byradius || op->bybox)) {
        reply_errorf(c, "ERR exactly one of BYRADIUS and BYBOX can be specified for %.*s", (int)ARGLEN(0),
                     ARG(0));
        return -1;
    }
    if (op->any && !op->count) {
        reply_error(c, "ERR the ANY argument requires COUNT argument");
        return -1;
    }
    return 0;
}

static void tg_reply_points(client *c, const tg_found *f, size_t n, const geo_shape *s, const tg_opts *op)
{
    int extra = op->withdist + op->withhash + op->withcoord;
    reply_array(c, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const tg_point *p = &f->p[i];
        if (extra)
            reply_array(c, extra + 1);
        reply_bulk(c, p->member, kstr_len(p->member));
        if (op->withdist)
            tg_reply_distance(c, p->dist / s->conversion);
        if (op->withhash)
            reply_int(c, (long long)p->score);
        if (op->withcoord) {
            reply_array(c, 2);
            tg_reply_coord(c, p->lon);
            tg_reply_coord(c, p->lat);
        }
    }
}

/* GEOSEARCHSTORE says so; GEORADIUS[BYMEMBER] ... STORE says georadiusstore. */
static const char *tg_store_event(const client *c)
{
    return strcmp(c->cmd->name, "geosearchstore") == 0 ? "geosearchstore" : "georadiusstore";
}

/* An empty result deletes the destination. */
static void tg_store_deleted(client *c, int dst)
{
    if (db_delete(c->db, ARG(dst), ARGLEN(dst))) {
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", ARG(dst), ARGLEN(dst));
        c->srv->dirty++;
    }
}

static void tg_store_points(client *c, const tg_found *f, size_t n, const geo_shape *s, const tg_opts *op)
{
    int dst = op->store;
    if (!n) {
        tg_store_deleted(c, dst);
        reply_int(c, 0);
        return;
    }
    size_t maxlen = 0;
    for (size_t i = 0; i < n; i++)
        if (kstr_len(f->p[i].member) > maxlen)
            maxlen = kstr_len(f->p[i].member);
    /* The encoding is chosen from the result's size before it is filled,
     * as Redis creates it: a skiplist from the start keeps -0 scores. */
    long long me = c->srv->config.zset_max_listpack_entries, mv = c->srv->config.zset_max_listpack_value;
    obj *res = obj_zset_new();
    zset_set_compact(res->v.ptr, (long long)n <= me && (long long)maxlen <= mv);
    for (size_t i = 0; i < n; i++) {
        const tg_point *p = &f->p[i];
        double score = op->storedist ? p->dist / s->conversion : p->score;
        zset_add(res->v.ptr, p->member, kstr_len(p->member), score);
    }
    db_set(c->db, ARG(dst), ARGLEN(dst), res, 0);
    db_signal_list_ready(c->db, ARG(dst), ARGLEN(dst));
    notify_keyspace_event(c->db, CFG_NOTIFY_ZSET, tg_store_event(c), ARG(dst), ARGLEN(dst));
    c->srv->dirty += (long long)n;
    reply_int(c, (long long)n);
}

/* The center and shape from the fixed arguments; returns the index of the
 * first option, or -1 after an error reply. */
static int tg_fixed_args(client *c, int flags, obj *o, geo_shape *s, tg_opts *op)
{
    if (flags & TG_RADIUS_COORDS) {
        s->type = GEO_SHAPE_RADIUS;
        if (tg_parse_lonlat(c, 2, s->xy) < 0 || tg_parse_radius(c, 4, s) < 0)
            return -1;
        return 6;
    }
    if (flags & TG_RADIUS_MEMBER) {
        if (!o)
            return 5;   /* nothing to search: the options still decide the reply */
        s->type = GEO_SHAPE_RADIUS;
        if (tg_center_member(c, o, 2, s) < 0 || tg_parse_radius(c, 3, s) < 0)
            return -1;
        return 5;
    }
    if (flags & TG_SEARCHSTORE) {
        op->store = 1;
        return 3;
    }
    return 2;
}

static void tg_search(client *c, int flags)
{
    int src = (flags & TG_SEARCHSTORE) ? 2 : 1;
    obj *o;
    if (tg_lookup(c, src, &o) < 0)
        return;
    geo_shape s;
    tg_opts op;
    memset(&s, 0, sizeof(s));
    memset(&op, 0, sizeof(op));
    int base = tg_fixed_args(c, flags, o, &s, &op);
    if (base < 0 || tg_parse_options(c, base, flags, o, &s, &op) < 0 || tg_check_options(c, flags, &op) < 0)
        return;
    if (!o) {
        if (op.store) {
            tg_store_deleted(c, op.store);
            reply_int(c, 0);
        } else {
            reply_empty_array(c);
        }
        return;
    }
    /* COUNT means "the closest N" unless ANY: sort for it. */
    if (op.count && op.sort == TG_SORT_NONE && !op.any)
        op.sort = TG_SORT_ASC;
    tg_found f = {NULL, 0, 0};
    tg_scan(o->v.ptr, &s, &f, op.any ? (size_t)op.count : 0);
    if (f.used == 0 && !op.store) {
        reply_empty_array(c);
        mem_free(f.p);
        return;
    }
    size_t n = (op.count == 0 || f.used < (size_t)op.count) ? f.used : (size_t)op.count;
    if (op.sort != TG_SORT_NONE && f.used > 1)
        qsort(f.p, f.used, sizeof(tg_point), op.sort == TG_SORT_ASC ? tg_cmp_asc : tg_cmp_desc);
    if (op.store)
        tg_store_points(c, &f, n, &s, &op);
    else
        tg_reply_points(c, &f, n, &s, &op);
    mem_free(f.p);
}

static void cmd_georadius(client *c)
{
    tg_search(c, TG_RADIUS_COORDS);
}

static void cmd_georadius_ro(client *c)
{
    tg_search(c, TG_RADIUS_COORDS | TG_NOSTORE);
}

static void cmd_georadiusbymember(client *c)
{
    tg_search(c, TG_RADIUS_MEMBER);
}

static void cmd_georadiusbymember_ro(client *c)
{
    tg_search(c, TG_RADIUS_MEMBER | TG_NOSTORE);
}

static void cmd_geosearch(client *c)
{
    tg_search(c, TG_SEARCH);
}

static void cmd_geosearchstore(client *c)
{
    tg_search(c, TG_SEARCH | TG_SEARCHSTORE);
}

const cmd_def t_geo_commands[] = {
    {"geoadd", cmd_geoadd, -5, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @geo @slow"},
    {"geopos", cmd_geopos, -2, CMD_READONLY, 1, 1, 1, "@read @geo @slow"},
    {"geodist", cmd_geodist, -4, CMD_READONLY, 1, 1, 1, "@read @geo @slow"},
    {"geohash", cmd_geohash, -2, CMD_READONLY, 1, 1, 1, "@read @geo @slow"},
    {"georadius", cmd_georadius, -6, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @geo @slow"},
    {"georadius_ro", cmd_georadius_ro, -6, CMD_READONLY, 1, 1, 1, "@read @geo @slow"},
    {"georadiusbymember", cmd_georadiusbymember, -5, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @geo @slow"},
    {"georadiusbymember_ro", cmd_georadiusbymember_ro, -5, CMD_READONLY, 1, 1, 1, "@read @geo @slow"},
    {"geosearch", cmd_geosearch, -7, CMD_READONLY, 1, 1, 1, "@read @geo @slow"},
    {"geosearchstore", cmd_geosearchstore, -8, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, "@write @geo @slow"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
