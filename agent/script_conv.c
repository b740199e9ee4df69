/* script_conv: RESP2 <-> Lua value conversions for scripts (script_conv.h
 * has the table of rules). */
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
    case '$':
        if (!conv_line_ll(body, body_len, &n))
            return 0;
        if (n < 0) {
            lua_pushboolean(L, 0);
            return head;
        }
        if ((unsigned long long)n + 2 > len - head || buf[head + (size_t)n] != '\r' ||
            buf[head + (size_t)n + 1] != '\n')
            return 0;
        lua_pushlstring(L, buf + head, (size_t)n);
        return head + (size_t)n + 2;
    case '*':
        if (!conv_line_ll(body, body_len, &n))
            return 0;
        return conv_resp_array(L, buf, len, head, n, depth);
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

static kstr conv_lua_value(lua_State *L, int idx, kstr out, int depth);

static kstr conv_lua_table(lua_State *L, int idx, kstr out, int depth)
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
    if (depth >= SCRIPT_CONV_MAX_DEPTH || !lua_checkstack(L, 2))
        return kstr_cat_cstr(out, "-ERR reached lua stack limit\r\n");
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
        out = conv_lua_value(L, lua_gettop(L), out, depth + 1);
        lua_pop(L, 1);
    }
    return out;
}

static kstr conv_lua_value(lua_State *L, int idx, kstr out, int depth)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        return conv_cat_len(out, ':', conv_number_to_ll(lua_tonumber(L, idx)));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        out = conv_cat_len(out, '$', (long long)len);
        out = kstr_cat(out, s, len);
        return kstr_cat(out, "\r\n", 2);
    }
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx))
            return kstr_cat(out, ":1\r\n", 4);
        return kstr_cat(out, "$-1\r\n", 5);
    case LUA_TTABLE:
        return conv_lua_table(L, idx, out, depth);
    default:
        return kstr_cat(out, "$-1\r\n", 5);
    }
}

kstr script_conv_lua_to_resp(lua_State *L, int idx, kstr out)
{
    if (idx < 0 && idx > LUA_REGISTRYINDEX)
        idx = lua_gettop(L) + idx + 1;
    return conv_lua_value(L, idx, out, 0);
}

size_t script_conv_number_arg(lua_Number n, char *buf, size_t size)
{
    int w = snprintf(buf, size, "%.17g", (double)n);
    if (w < 0)
        return 0;
    return (size_t)w < size ? (size_t)w : size - 1;
}
