/* lua_cmsgpack: the `cmsgpack` library Redis exposes to Lua scripts,
 * written from MessagePack's specification and the documented behaviour of
 * Redis' lua_cmsgpack 0.4.0, every encoding checked against redis-server
 * 7.0.
 *
 * Encoding (cmsgpack.pack(v1, v2, ...) -> one string, the values one after
 * another):
 *   - a number equal to an int64 is an integer in its smallest form
 *     (fixint, uint8..64 when >= 0, int8..64 when < 0; -0.0 is 0); any
 *     other number is a float32 when a float holds it exactly (3.5, inf,
 *     2^63), else a float64 (0.1, NaN);
 *   - strings: fixstr, str8, str16, str32; booleans and nil as such;
 *   - a table whose keys are exactly 1..n is an array, any other a map;
 *     tables nested 16 deep encode as nil (so cycles end);
 *   - functions, userdata and threads encode as nil.
 * Decoding reads every MessagePack type but bin and ext ("Bad data format
 * in input."); a short input is "Missing bytes in input."; uint64 reads as
 * int64 as Redis does; nesting is bounded by the Lua stack (an error, never
 * a C stack overflow); tables are sized by what the input can hold, never
 * by the count it claims. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lua_libs.h"

#define CMSGPACK_MAX_NESTING 16   /* deeper tables encode as nil */
/* A decoder bound far below any C stack limit: the Lua stack check
 * (about 4000 levels) stops first; this only guards a changed Lua. */
#define CMSGPACK_MAX_DECODE_DEPTH 10000

/* ---- encoding buffer ----
 * A userdata, so a Lua error in the middle of encoding (out of memory,
 * stack overflow) frees it with the garbage collector instead of leaking. */

typedef struct mp_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
} mp_buf;

static int mp_buf_gc(lua_State *L)
{
    mp_buf *b = lua_touserdata(L, 1);
    free(b->data);
    b->data = NULL;
    return 0;
}

static mp_buf *mp_buf_push(lua_State *L)
{
    mp_buf *b = lua_newuserdata(L, sizeof(*b));
    memset(b, 0, sizeof(*b));
    if (luaL_newmetatable(L, "kvfleet.cmsgpack.buf")) {
        lua_pushcfunction(L, mp_buf_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return b;
}

static void mp_buf_append(lua_State *L, mp_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2)
                luaL_error(L, "MessagePack output too large");
            cap *= 2;
        }
        unsigned char *grown = realloc(b->data, cap);
        if (grown == NULL)
            luaL_error(L, "not enough memory");
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* A type byte followed by `width` bytes of v, big-endian (width 0..8). */
static void mp_put_header(lua_State *L, mp_buf *b, unsigned char type, uint64_t v, int width)
{
    unsigned char out[9];
    out[0] = type;
    for (int i = 0; i < width; i++)
        out[1 + i] = (unsigned char)(v >> (8 * (width - 1 - i)));
    mp_buf_append(L, b, out, (size_t)width + 1);
}

/* ---- encoding ---- */

static void mp_encode_string(lua_State *L, mp_buf *b, const char *s, size_t len)
{
    if (len < 32)
        mp_put_header(L, b, (unsigned char)(0xa0 | len), 0, 0);
    else if (len <= 0xff)
        mp_put_header(L, b, 0xd9, len, 1);
    else if (len <= 0xffff)
        mp_put_header(L, b, 0xda, len, 2);
    else
        mp_put_header(L, b, 0xdb, len, 4);
    mp_buf_append(L, b, s, len);
}

static void mp_encode_int(lua_State *L, mp_buf *b, int64_t v)
{
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        if (u <= 127)
            mp_put_header(L, b, (unsigned char)u, 0, 0);
        else if (u <= 0xff)
            mp_put_header(L, b, 0xcc, u, 1);
        else if (u <= 0xffff)
            mp_put_header(L, b, 0xcd, u, 2);
        else if (u <= 0xffffffffu)
            mp_put_header(L, b, 0xce, u, 4);
        else
            mp_put_header(L, b, 0xcf, u, 8);
    } else if (v >= -32) {
        mp_put_header(L, b, (unsigned char)(uint8_t)(int8_t)v, 0, 0);
    } else if (v >= INT8_MIN) {
        mp_put_header(L, b, 0xd0, (uint64_t)v, 1);
    } else if (v >= INT16_MIN) {
        mp_put_header(L, b, 0xd1, (uint64_t)v, 2);
    } else if (v >= INT32_MIN) {
        mp_put_header(L, b, 0xd2, (uint64_t)v, 4);
    } else {
        mp_put_header(L, b, 0xd3, (uint64_t)v, 8);
    }
}

/* Whether n is a whole number in int64's range (what Redis' cast-and-compare
 * test accepts: -2^63 is, 2^63 is not). */
static int mp_is_int64(lua_Number n)
{
    return n >= -9223372036854775808.0 && n < 9223372036854775808.0 && floor(n) == n;
}

static void mp_encode_double(lua_State *L, mp_buf *b, double d)
{
    /* float32 when it holds d exactly; the range test keeps the
     * conversion defined (NaN fails it and is written as float64). */
    if (isinf(d) || fabs(d) <= FLT_MAX) {
        float f = (float)d;
        if ((double)f == d) {
            uint32_t bits;
            memcpy(&bits, &f, sizeof(bits));
            mp_put_header(L, b, 0xca, bits, 4);
            return;
        }
    }
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    mp_put_header(L, b, 0xcb, bits, 8);
}

static void mp_encode_number(lua_State *L, mp_buf *b, lua_Number n)
{
    if (mp_is_int64(n))
        mp_encode_int(L, b, (int64_t)n);
    else
        mp_encode_double(L, b, n);
}

static void mp_encode_value(lua_State *L, mp_buf *b, int idx, int level);

/* The array length of the table at idx if its keys are exactly 1..n
 * (positive whole numbers within an int, as many as the largest), else -1.
 * The empty table is an empty array. */
static long mp_table_array_length(lua_State *L, int idx)
{
    long count = 0;
    lua_Number max = 0;
    int is_array = 1;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        lua_Number k;
        if (lua_type(L, -1) == LUA_TNUMBER && (k = lua_tonumber(L, -1)) > 0 &&
            k <= 2147483647.0 && floor(k) == k) {
            count++;
            if (k > max)
                max = k;
        } else {
            is_array = 0;  /* keep iterating: lua_next needs to finish */
        }
    }
    return is_array && max == (lua_Number)count ? count : -1;
}

static void mp_put_length(lua_State *L, mp_buf *b, size_t n, unsigned char fix,
                          unsigned char w16, unsigned char w32)
{
    if (n <= 15)
        mp_put_header(L, b, (unsigned char)(fix | n), 0, 0);
    else if (n <= 0xffff)
        mp_put_header(L, b, w16, n, 2);
    else
        mp_put_header(L, b, w32, n, 4);
}

static void mp_encode_table(lua_State *L, mp_buf *b, int idx, int level)
{
    luaL_checkstack(L, 4, "in function mp_encode_table");
    long n = mp_table_array_length(L, idx);
    if (n >= 0) {
        mp_put_length(L, b, (size_t)n, 0x90, 0xdc, 0xdd);
        for (long i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (int)i);
            mp_encode_value(L, b, lua_gettop(L), level + 1);
            lua_pop(L, 1);
        }
        return;
    }
    size_t pairs = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        pairs++;
    }
    mp_put_length(L, b, pairs, 0x80, 0xde, 0xdf);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int top = lua_gettop(L);
        mp_encode_value(L, b, top - 1, level + 1);
        mp_encode_value(L, b, top, level + 1);
        lua_pop(L, 1);
    }
}

static void mp_encode_value(lua_State *L, mp_buf *b, int idx, int level)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        mp_encode_string(L, b, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        mp_put_header(L, b, lua_toboolean(L, idx) ? 0xc3 : 0xc2, 0, 0);
        break;
    case LUA_TNUMBER:
        mp_encode_number(L, b, lua_tonumber(L, idx));
        break;
    case LUA_TTABLE:
        if (level < CMSGPACK_MAX_NESTING)
            mp_encode_table(L, b, idx, level);
        else
            mp_put_header(L, b, 0xc0, 0, 0);  /* too deep: nil, so cycles end */
        break;
    default:
        mp_put_header(L, b, 0xc0, 0, 0);
        break;
    }
}

static int cmsgpack_pack(lua_State *L)
{
    int nargs = lua_gettop(L);
    if (nargs == 0)
        return luaL_argerror(L, 0, "MessagePack pack needs input.");
    mp_buf *b = mp_buf_push(L);
    for (int i = 1; i <= nargs; i++)
        mp_encode_value(L, b, i, 0);
    lua_pushlstring(L, (const char *)b->data, b->len);
    return 1;
}

/* ---- decoding ----
 * A cursor over the input; every read checks what is left first. */

typedef struct mp_cur {
    const unsigned char *p;
    size_t left;
} mp_cur;

static void mp_missing(lua_State *L)
{
    luaL_error(L, "Missing bytes in input.");
}

static const unsigned char *mp_take(lua_State *L, mp_cur *c, size_t n)
{
    if (n > c->left)
        mp_missing(L);
    const unsigned char *p = c->p;
    c->p += n;
    c->left -= n;
    return p;
}

static uint64_t mp_take_uint(lua_State *L, mp_cur *c, int width)
{
    const unsigned char *p = mp_take(L, c, (size_t)width);
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | p[i];
    return v;
}

static void mp_decode_value(lua_State *L, mp_cur *c, int depth);

static void mp_decode_string(lua_State *L, mp_cur *c, uint64_t len)
{
    if (len > c->left)
        mp_missing(L);
    const unsigned char *p = mp_take(L, c, (size_t)len);
    lua_pushlstring(L, (const char *)p, (size_t)len);
}

/* Pre-sizes a table by what the input can still hold (each element takes
 * a byte at least), so a claimed count of 2^32 costs nothing. */
static int mp_table_hint(uint64_t claimed, size_t left)
{
    uint64_t n = claimed < left ? claimed : left;
    return n > 1024 ? 1024 : (int)n;
}

static void mp_decode_array(lua_State *L, mp_cur *c, uint64_t n, int depth)
{
    luaL_checkstack(L, 2, "in function mp_decode_to_lua_array");
    lua_createtable(L, mp_table_hint(n, c->left), 0);
    for (uint64_t i = 1; i <= n; i++) {
        lua_pushnumber(L, (lua_Number)i);
        mp_decode_value(L, c, depth + 1);
        lua_rawset(L, -3);
    }
}

static void mp_decode_map(lua_State *L, mp_cur *c, uint64_t n, int depth)
{
    luaL_checkstack(L, 3, "in function mp_decode_to_lua_hash");
    lua_createtable(L, 0, mp_table_hint(n, c->left / 2));
    for (uint64_t i = 0; i < n; i++) {
        mp_decode_value(L, c, depth + 1);
        mp_decode_value(L, c, depth + 1);
        lua_rawset(L, -3);  /* a nil or NaN key raises Lua's own error */
    }
}

/* Pushes an integer read as its MessagePack type says: signed types sign
 * extended; uint64 taken as int64, as Redis' decoder does. */
static void mp_decode_int(lua_State *L, mp_cur *c, int width, int is_signed)
{
    uint64_t v = mp_take_uint(L, c, width);
    if (is_signed && width < 8) {
        uint64_t sign = (uint64_t)1 << (width * 8 - 1);
        v = (v ^ sign) - sign;
    }
    if (is_signed || width == 8)
        lua_pushnumber(L, (lua_Number)(int64_t)v);
    else
        lua_pushnumber(L, (lua_Number)v);
}

static void mp_decode_float(lua_State *L, mp_cur *c, int width)
{
    uint64_t bits = mp_take_uint(L, c, width);
    if (width == 4) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof(f));
        lua_pushnumber(L, (lua_Number)f);
    } else {
        double d;
        memcpy(&d, &bits, sizeof(d));
        lua_pushnumber(L, (lua_Number)d);
    }
}

/* The types identified by their first byte alone. */
static int mp_decode_fixed(lua_State *L, mp_cur *c, unsigned char t, int depth)
{
    if (t <= 0x7f)
        lua_pushnumber(L, t);
    else if (t >= 0xe0)
        lua_pushnumber(L, (int)t - 256);
    else if (t <= 0x8f)
        mp_decode_map(L, c, t & 0x0f, depth);
    else if (t <= 0x9f)
        mp_decode_array(L, c, t & 0x0f, depth);
    else if (t <= 0xbf)
        mp_decode_string(L, c, t & 0x1f);
    else
        return 0;
    return 1;
}

static void mp_decode_value(lua_State *L, mp_cur *c, int depth)
{
    if (depth > CMSGPACK_MAX_DECODE_DEPTH)
        luaL_error(L, "MessagePack input nested too deeply.");
    unsigned char t = *mp_take(L, c, 1);
    if (mp_decode_fixed(L, c, t, depth))
        return;
    switch (t) {
    case 0xc0: lua_pushnil(L); break;
    case 0xc2: lua_pushboolean(L, 0); break;
    case 0xc3: lua_pushboolean(L, 1); break;
    case 0xca: mp_decode_float(L, c, 4); break;
    case 0xcb: mp_decode_float(L, c, 8); break;
    case 0xcc: mp_decode_int(L, c, 1, 0); break;
    case 0xcd: mp_decode_int(L, c, 2, 0); break;
    case 0xce: mp_decode_int(L, c, 4, 0); break;
    case 0xcf: mp_decode_int(L, c, 8, 0); break;
    case 0xd0: mp_decode_int(L, c, 1, 1); break;
    case 0xd1: mp_decode_int(L, c, 2, 1); break;
    case 0xd2: mp_decode_int(L, c, 4, 1); break;
    case 0xd3: mp_decode_int(L, c, 8, 1); break;
    case 0xd9: mp_decode_string(L, c, mp_take_uint(L, c, 1)); break;
    case 0xda: mp_decode_string(L, c, mp_take_uint(L, c, 2)); break;
    case 0xdb: mp_decode_string(L, c, mp_take_uint(L, c, 4)); break;
    case 0xdc: mp_decode_array(L, c, mp_take_uint(L, c, 2), depth); break;
    case 0xdd: mp_decode_array(L, c, mp_take_uint(L, c, 4), depth); break;
    case 0xde: mp_decode_map(L, c, mp_take_uint(L, c, 2), depth); break;
    case 0xdf: mp_decode_map(L, c, mp_take_uint(L, c, 4), depth); break;
    default:  /* 0xc1, bin 0xc4-0xc6, ext 0xc7-0xc9 and 0xd4-0xd8 */
        luaL_error(L, "Bad data format in input.");
    }
}

/* Decodes up to `limit` values from byte `offset` of argument 1.
 * With a limit, the next offset (-1 once the input is used up) is returned
 * before the values. Offsets and limits are ints, as in Redis, whose
 * messages (including calling the input length "limit") are kept. */
static int mp_unpack_values(lua_State *L, lua_Integer limit_arg, lua_Integer offset_arg)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int limit = (int)limit_arg;
    int offset = (int)offset_arg;
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                          offset, (int)len);
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.", offset, (int)len);
    lua_settop(L, 1);
    mp_cur c = { (const unsigned char *)s + offset, len - (size_t)offset };
    /* A limit of 0 means "all, like unpack" only from offset 0 (Redis'
     * rule); from another offset it decodes nothing and returns it. */
    int decode_all = limit == 0 && offset == 0;
    int count = 0;
    while (c.left > 0 && (decode_all || count < limit)) {
        luaL_checkstack(L, 2, "too many return values at once; use unpack_one or unpack_limit instead.");
        mp_decode_value(L, &c, 0);
        count++;
    }
    if (decode_all)
        return count;
    lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
    lua_insert(L, -(count + 1));
    return count + 1;
}

static int cmsgpack_unpack(lua_State *L)
{
    return mp_unpack_values(L, 0, 0);
}

static int cmsgpack_unpack_one(lua_State *L)
{
    return mp_unpack_values(L, 1, luaL_optinteger(L, 2, 0));
}

static int cmsgpack_unpack_limit(lua_State *L)
{
    lua_Integer limit = luaL_checkinteger(L, 2);
    return mp_unpack_values(L, limit, luaL_optinteger(L, 3, 0));
}

static const luaL_Reg cmsgpack_functions[] = {
    { "pack", cmsgpack_pack },
    { "unpack", cmsgpack_unpack },
    { "unpack_one", cmsgpack_unpack_one },
    { "unpack_limit", cmsgpack_unpack_limit },
    { NULL, NULL },
};

int luaopen_cmsgpack(lua_State *L)
{
    luaL_register(L, "cmsgpack", cmsgpack_functions);
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    return 1;
}
