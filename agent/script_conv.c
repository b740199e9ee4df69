/* script_conv: RESP2/RESP3 <-> Lua value conversions for scripts
 * (script_conv.h has the table of rules). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "script_conv.h"
#include "util.h"

/* ---- RESP -> Lua -------------------------------------------------------- */

/* The line at buf (without CRLF): its length in *line_len, and the bytes up
 * to and including CRLF as the return value; 0 when incomplete. */
static size_t conv_line(const char *buf, size_t len, size_t *line_len)
{
    const char *cr = memchr(buf, '\r', len);
    if (cr == NULL || (size_t)(cr - buf) + 1 >= len || cr[1] != '\n')
        return 0;
    *line_len = (size_t)(cr - buf);
    return *line_len + 2;
}

static int conv_line_ll(const char *p, size_t len, long long *v)
{
    return util_str_to_ll(p, len, v);
}

static size_t conv_resp_value(lua_State *L, const char *buf, size_t len, int depth);

/* {field = line} for a status or error reply. */
static void conv_push_tagged(lua_State *L, const char *field, const char *p, size_t len)
{
    lua_createtable(L, 0, 1);
    lua_pushstring(L, field);
    lua_pushlstring(L, p, len);
    lua_rawset(L, -3);
}

/* The body of a length-prefixed string ($ or =) of n bytes at buf[head]:
 * its total size with the header, or 0 when short or malformed. */
static size_t conv_blob_end(const char *buf, size_t len, size_t head, long long n)
{
    if (n < 0 || (unsigned long long)n + 2 > len - head || buf[head + (size_t)n] != '\r' ||
        buf[head + (size_t)n + 1] != '\n')
        return 0;
    return head + (size_t)n + 2;
}

/* RESP3 map (%) or set (~): {map = {k = v}} / {set = {k = true}}, keyed by
 * the converted keys as Redis does. A pair whose key is nil (a RESP3 null)
 * cannot be stored in a Lua table and is dropped. */
static size_t conv_resp_map_or_set(lua_State *L, const char *buf, size_t len, size_t head,
                                   long long n, int is_map, int depth)
{
    if (n < 0 || depth >= SCRIPT_CONV_MAX_DEPTH || !lua_checkstack(L, 6))
        return 0;
    lua_createtable(L, 0, 1);
    lua_pushstring(L, is_map ? "map" : "set");
    lua_createtable(L, 0, n > 1024 ? 1024 : (int)n);
    size_t pos = head;
    for (long long i = 0; i < n; i++) {
        size_t used = conv_resp_value(L, buf + pos, len - pos, depth + 1);
        if (used == 0) {
            lua_pop(L, 3);
            return 0;
        }
        pos += used;
        if (is_map) {
            used = conv_resp_value(L, buf + pos, len - pos, depth + 1);
            if (used == 0) {
                lua_pop(L, 4);
                return 0;
            }
            pos += used;
        } else {
            lua_pushboolean(L, 1);
        }
        if (lua_isnil(L, -2))
            lua_pop(L, 2);
        else
            lua_rawset(L, -3);
    }
    lua_rawset(L, -3);
    return pos;
}

/* RESP3 double: {double = number}; "inf"/"-inf" as Redis prints them. */
static int conv_push_double(lua_State *L, const char *p, size_t len)
{
    double d;
    if (!util_str_to_double(p, len, &d))
        return 0;
    lua_createtable(L, 0, 1);
    lua_pushstring(L, "double");
    lua_pushnumber(L, (lua_Number)d);
    lua_rawset(L, -3);
    return 1;
}

/* RESP3 verbatim string "fmt:text": {verbatim_string = {format = fmt,
 * string = text}}. */
static int conv_push_verbatim(lua_State *L, const char *p, size_t len)
{
    if (len < 4 || p[3] != ':')
        return 0;
    lua_createtable(L, 0, 1);
    lua_pushstring(L, "verbatim_string");
    lua_createtable(L, 0, 2);
    lua_pushstring(L, "format");
    lua_pushlstring(L, p, 3);
    lua_rawset(L, -3);
    lua_pushstring(L, "string");
    lua_pushlstring(L, p + 4, len - 4);
    lua_rawset(L, -3);
    lua_rawset(L, -3);
    return 1;
}

/* RESP3 attribute (|): its pairs are parsed and dropped (scripts do not see
 * them), then the value it annotates is converted. */
static size_t conv_resp_attribute(lua_State *L, const char *buf, size_t len, size_t head,
                                  long long n, int depth)
{
    size_t used = conv_resp_map_or_set(L, buf, len, head, n, 1, depth);
    if (used == 0)
        return 0;
    lua_pop(L, 1);
    size_t value = conv_resp_value(L, buf + used, len - used, depth + 1);
    return value == 0 ? 0 : used + value;
}

static size_t conv_resp_array(lua_State *L, const char *buf, size_t len, size_t head, long long n,
                              int depth)
{
    if (n < 0) {
        lua_pushboolean(L, 0);
        return head;
    }
    if (depth >= SCRIPT_CONV_MAX_DEPTH || !lua_checkstack(L, 4))
        return 0;
    lua_createtable(L, n > 1024 ? 1024 : (int)n, 0);
    size_t pos = head;
    for (long long i = 1; i <= n; i++) {
        size_t used = conv_resp_value(L, buf + pos, len - pos, depth + 1);
        if (used == 0) {
            lua_pop(L, 1);
            return 0;
        }
        lua_rawseti(L, -2, (int)i);
        pos += used;
    }
    return pos;
}

static size_t conv_resp_value(lua_State *L, const char *buf, size_t len, int depth)
{
    size_t line_len;
    if (len == 0)
        return 0;
    size_t head = conv_line(buf, len, &line_len);
    if (head == 0)
        return 0;
    const char *body = buf + 1;
    size_t body_len = line_len - 1;
    long long n;
    switch (buf[0]) {
    case '+':
        conv_push_tagged(L, "ok", body, body_len);
        return head;
    case '-':
        conv_push_tagged(L, "err", body, body_len);
        return head;
    case ':':
        if (!conv_line_ll(body, body_len, &n))
            return 0;
        lua_pushnumber(L, (lua_Number)n);
        return head;
    case '$': {
        if (!conv_line_ll(body, body_len, &n))
            return 0;
        if (n < 0) {
            lua_pushboolean(L, 0);
            return head;
        }
        size_t end = conv_blob_end(buf, len, head, n);
        if (end)
            lua_pushlstring(L, buf + head, (size_t)n);
        return end;
    }
    case '*':
        if (!conv_line_ll(body, body_len, &n))
            return 0;
        return conv_resp_array(L, buf, len, head, n, depth);
    /* RESP3, after redis.setresp(3). */
    case '_':
        lua_pushnil(L);
        return head;
    case '#':
        if (body_len != 1 || (body[0] != 't' && body[0] != 'f'))
            return 0;
        lua_pushboolean(L, body[0] == 't');
        return head;
    case ',':
        return conv_push_double(L, body, body_len) ? head : 0;
    case '(':
        conv_push_tagged(L, "big_number", body, body_len);
        return head;
    case '=': {
        if (!conv_line_ll(body, body_len, &n))
            return 0;
        size_t end = conv_blob_end(buf, len, head, n);
        if (end == 0 || !conv_push_verbatim(L, buf + head, (size_t)n))
            return 0;
        return end;
    }
    case '%':
    case '~':
        if (!conv_line_ll(body, body_len, &n))
            return 0;
        return conv_resp_map_or_set(L, buf, len, head, n, buf[0] == '%', depth);
    case '|':
        if (!conv_line_ll(body, body_len, &n))
            return 0;
        return conv_resp_attribute(L, buf, len, head, n, depth);
    default:
        return 0;
    }
}

size_t script_conv_resp_to_lua(lua_State *L, const char *buf, size_t len)
{
    int top = lua_gettop(L);
    size_t used = conv_resp_value(L, buf, len, 0);
    if (used == 0)
        lua_settop(L, top);
    return used;
}

/* ---- Lua -> RESP -------------------------------------------------------- */

kstr script_conv_cat_line(kstr out, const char *s, size_t len)
{
    size_t start = kstr_len(out);
    out = kstr_cat(out, s, len);
    for (size_t i = start; i < start + len; i++)
        if (out[i] == '\r' || out[i] == '\n')
            out[i] = ' ';
    return out;
}

const char *script_conv_table_string(lua_State *L, int idx, const char *name, size_t *len)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return NULL;
    lua_pushstring(L, name);
    lua_rawget(L, idx < 0 && idx > LUA_REGISTRYINDEX ? idx - 1 : idx);
    const char *s = NULL;
    /* Only a real string: a number field is not taken for a message. */
    if (lua_type(L, -1) == LUA_TSTRING)
        s = lua_tolstring(L, -1, len);
    lua_pop(L, 1);   /* the table still references the string */
    return s;
}

static kstr conv_cat_len(kstr out, char prefix, long long n)
{
    char buf[32];
    int w = snprintf(buf, sizeof(buf), "%c%lld\r\n", prefix, n);
    return kstr_cat(out, buf, (size_t)w);
}

/* Lua numbers become integers by truncation, as Redis casts them. What a
 * long long cannot hold (NaN, infinities, beyond +-2^63) is LLONG_MIN, the
 * value redis-server's cast gives on x86-64, without the C undefined
 * behaviour of that cast. */
static long long conv_number_to_ll(lua_Number n)
{
    if (isnan(n) || n >= 9223372036854775808.0 || n < -9223372036854775808.0)
        return LLONG_MIN;
    return (long long)n;
}

/* The protocols a script result is converted between: the caller's (what
 * the bytes are written in) and the script's own (redis.setresp), which
 * decides what a Lua boolean means. */
typedef struct conv_proto {
    int caller;
    int script;
} conv_proto;

static kstr conv_lua_value(lua_State *L, int idx, kstr out, int depth, const conv_proto *p);

static kstr conv_null(kstr out, const conv_proto *p)
{
    return p->caller >= 3 ? kstr_cat(out, "_\r\n", 3) : kstr_cat(out, "$-1\r\n", 5);
}

static kstr conv_bulk(kstr out, const char *s, size_t len)
{
    out = conv_cat_len(out, '$', (long long)len);
    out = kstr_cat(out, s, len);
    return kstr_cat(out, "\r\n", 2);
}

/* {double = n}: a RESP3 double, or the bulk string RESP2 clients get. */
static kstr conv_double(kstr out, lua_Number n, const conv_proto *p)
{
    char buf[64];
    int w = util_double_to_str(buf, sizeof(buf), (double)n);
    if (p->caller < 3)
        return conv_bulk(out, buf, (size_t)w);
    out = kstr_cat(out, ",", 1);
    out = kstr_cat(out, buf, (size_t)w);
    return kstr_cat(out, "\r\n", 2);
}

/* {big_number = s}: RESP3 "(s", a bulk string in RESP2; CR and LF become
 * spaces in both, as Redis maps them before either. */
static kstr conv_big_number(kstr out, const char *s, size_t len, const conv_proto *p)
{
    out = kstr_cat(out, p->caller < 3 ? "$" : "(", 1);
    if (p->caller < 3) {
        char head[32];
        int w = snprintf(head, sizeof(head), "%zu\r\n", len);
        out = kstr_cat(out, head, (size_t)w);
    }
    out = script_conv_cat_line(out, s, len);
    return kstr_cat(out, "\r\n", 2);
}

/* {verbatim_string = {format = f, string = s}}: only when both fields are
 * strings (returns out unchanged and *done 0 otherwise). The format is its
 * first three bytes, padded with spaces if shorter. */
static kstr conv_verbatim(lua_State *L, int idx, kstr out, const conv_proto *p, int *done)
{
    *done = 0;
    lua_pushstring(L, "verbatim_string");
    lua_rawget(L, idx);
    if (lua_type(L, -1) == LUA_TTABLE) {
        size_t flen, slen;
        const char *fmt = script_conv_table_string(L, -1, "format", &flen);
        const char *s = script_conv_table_string(L, -1, "string", &slen);
        if (fmt != NULL && s != NULL) {
            *done = 1;
            if (p->caller < 3) {
                out = conv_bulk(out, s, slen);
            } else {
                char ext[4] = "   :";
                memcpy(ext, fmt, flen < 3 ? flen : 3);
                out = conv_cat_len(out, '=', (long long)slen + 4);
                out = kstr_cat(out, ext, 4);
                out = kstr_cat(out, s, slen);
                out = kstr_cat(out, "\r\n", 2);
            }
        }
    }
    lua_pop(L, 1);
    return out;
}

/* {map = t} / {set = t}: every key of t (with its value for a map), in
 * lua_next order as Redis walks it. Returns out unchanged, *done 0, when
 * the field is not a table. */
static kstr conv_map_or_set(lua_State *L, int idx, kstr out, int depth, const conv_proto *p,
                            int is_map, int *done)
{
    *done = 0;
    lua_pushstring(L, is_map ? "map" : "set");
    lua_rawget(L, idx);
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        return out;
    }
    *done = 1;
    int t = lua_gettop(L);
    long long n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        n++;
    }
    if (is_map)
        out = p->caller >= 3 ? conv_cat_len(out, '%', n) : conv_cat_len(out, '*', n * 2);
    else
        out = conv_cat_len(out, p->caller >= 3 ? '~' : '*', n);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        out = conv_lua_value(L, lua_gettop(L) - 1, out, depth + 1, p);
        if (is_map)
            out = conv_lua_value(L, lua_gettop(L), out, depth + 1, p);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return out;
}

/* The RESP3 typed tables a script may return ({double=}, {big_number=},
 * {verbatim_string=}, {map=}, {set=}), checked in Redis' order. Returns 1
 * when idx was one of them (converted into *out). */
static int conv_lua_typed_table(lua_State *L, int idx, kstr *out, int depth, const conv_proto *p)
{
    lua_pushstring(L, "double");
    lua_rawget(L, idx);
    if (lua_type(L, -1) == LUA_TNUMBER) {
        *out = conv_double(*out, lua_tonumber(L, -1), p);
        lua_pop(L, 1);
        return 1;
    }
    lua_pop(L, 1);
    size_t len;
    const char *s = script_conv_table_string(L, idx, "big_number", &len);
    if (s != NULL) {
        *out = conv_big_number(*out, s, len, p);
        return 1;
    }
    int done;
    *out = conv_verbatim(L, idx, *out, p, &done);
    if (done)
        return 1;
    *out = conv_map_or_set(L, idx, *out, depth, p, 1, &done);
    if (done)
        return 1;
    *out = conv_map_or_set(L, idx, *out, depth, p, 0, &done);
    return done;
}

static kstr conv_lua_table(lua_State *L, int idx, kstr out, int depth, const conv_proto *p)
{
    size_t len;
    const char *s = script_conv_table_string(L, idx, "err", &len);
    if (s != NULL) {
        out = kstr_cat(out, "-", 1);
        out = script_conv_cat_line(out, s, len);
        return kstr_cat(out, "\r\n", 2);
    }
    s = script_conv_table_string(L, idx, "ok", &len);
    if (s != NULL) {
        out = kstr_cat(out, "+", 1);
        out = script_conv_cat_line(out, s, len);
        return kstr_cat(out, "\r\n", 2);
    }
    if (depth >= SCRIPT_CONV_MAX_DEPTH || !lua_checkstack(L, 4))
        return kstr_cat_cstr(out, "-ERR reached lua stack limit\r\n");
    if (conv_lua_typed_table(L, idx, &out, depth, p))
        return out;
    /* The length is known once the first nil is found: count first. */
    long long n = 0;
    for (;;) {
        lua_rawgeti(L, idx, (int)(n + 1));
        int nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil)
            break;
        n++;
    }
    out = conv_cat_len(out, '*', n);
    for (long long i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, (int)i);
        out = conv_lua_value(L, lua_gettop(L), out, depth + 1, p);
        lua_pop(L, 1);
    }
    return out;
}

/* A boolean: in a RESP2 script true is 1 and false a null; a RESP3
 * script's booleans are booleans (integers 1/0 to a RESP2 caller). */
static kstr conv_bool(kstr out, int b, const conv_proto *p)
{
    if (p->script < 3)
        return b ? kstr_cat(out, ":1\r\n", 4) : conv_null(out, p);
    if (p->caller >= 3)
        return kstr_cat(out, b ? "#t\r\n" : "#f\r\n", 4);
    return kstr_cat(out, b ? ":1\r\n" : ":0\r\n", 4);
}

static kstr conv_lua_value(lua_State *L, int idx, kstr out, int depth, const conv_proto *p)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        return conv_cat_len(out, ':', conv_number_to_ll(lua_tonumber(L, idx)));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return conv_bulk(out, s, len);
    }
    case LUA_TBOOLEAN:
        return conv_bool(out, lua_toboolean(L, idx), p);
    case LUA_TTABLE:
        return conv_lua_table(L, idx, out, depth, p);
    default:
        return conv_null(out, p);
    }
}

kstr script_conv_lua_to_resp_proto(lua_State *L, int idx, kstr out, int caller_resp, int script_resp)
{
    if (idx < 0 && idx > LUA_REGISTRYINDEX)
        idx = lua_gettop(L) + idx + 1;
    conv_proto p = { caller_resp, script_resp };
    return conv_lua_value(L, idx, out, 0, &p);
}

kstr script_conv_lua_to_resp(lua_State *L, int idx, kstr out)
{
    return script_conv_lua_to_resp_proto(L, idx, out, 2, 2);
}

size_t script_conv_number_arg(lua_Number n, char *buf, size_t size)
{
    int w = snprintf(buf, size, "%.17g", (double)n);
    if (w < 0)
        return 0;
    return (size_t)w < size ? (size_t)w : size - 1;
}
