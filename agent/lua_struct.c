/* lua_struct: the `struct` library Redis exposes to Lua scripts, written
 * from the documented format language of Roberto Ierusalimschy's struct
 * library (the version Redis 7.0 embeds), with every output checked
 * against redis-server 7.0.
 *
 * A format is a sequence of options, spaces ignored:
 *   >  <      big / little endian for what follows (default: native)
 *   ![n]      maximum alignment n (a power of 2; default: the native one)
 *   x         one padding byte
 *   b B       signed / unsigned char      h H   short      l L   long
 *   T         size_t                      i[n] I[n]  integer of n bytes
 *   f d       float / double              s     zero-terminated string
 *   c[n]      n bytes of a string; c0 packs the whole string and unpacks
 *             as many bytes as the number unpacked just before it says
 *
 * An item of size k is aligned to min(k, alignment) from the start of the
 * packed string (strings never are). Integers are written through a 64-bit
 * value: bytes past the eighth are zero, and on unpacking only the low
 * eight bytes count, as in Redis. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lua_libs.h"

#define STRUCT_MAX_INT_SIZE 32      /* the library's limit for i<n> / I<n> */
#define STRUCT_NATIVE_ALIGN 8       /* alignment of double / long on x86-64 */

typedef struct struct_header {
    int big_endian;
    size_t align;
} struct_header;

/* One parsed option: its letter and its size in bytes (0 for s and c0). */
typedef struct struct_item {
    char opt;
    size_t size;
} struct_item;

static int native_big_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 0;
}

/* Reads the decimal number at *fmt if there is one, else returns dflt.
 * Overflowing an int is an error, as in Redis (its fix for CVE-2020-14147). */
static size_t struct_read_number(lua_State *L, const char **fmt, size_t dflt)
{
    if (**fmt < '0' || **fmt > '9')
        return dflt;
    int n = 0;
    while (**fmt >= '0' && **fmt <= '9') {
        int digit = **fmt - '0';
        if (n > INT_MAX / 10 || n * 10 > INT_MAX - digit)
            luaL_error(L, "integral size overflow");
        n = n * 10 + digit;
        (*fmt)++;
    }
    return (size_t)n;
}

static size_t struct_int_size(lua_State *L, const char **fmt)
{
    size_t n = struct_read_number(L, fmt, sizeof(int));
    if (n > STRUCT_MAX_INT_SIZE)
        luaL_error(L, "integral size %d is larger than limit of %d", (int)n, STRUCT_MAX_INT_SIZE);
    return n;
}

/* Applies a header-changing option (> < ! space); returns 0 if opt is not
 * one, so the caller parses it as an item. */
static int struct_header_option(lua_State *L, char opt, const char **fmt, struct_header *h)
{
    switch (opt) {
    case ' ':
        return 1;
    case '>':
        h->big_endian = 1;
        return 1;
    case '<':
        h->big_endian = 0;
        return 1;
    case '!': {
        size_t a = struct_read_number(L, fmt, STRUCT_NATIVE_ALIGN);
        if (a == 0 || (a & (a - 1)) != 0)
            luaL_error(L, "alignment %d is not a power of 2", (int)a);
        h->align = a;
        return 1;
    }
    default:
        return 0;
    }
}

/* How a caller walks a format: pack and unpack reject unknown options;
 * size counts unknown letters and digits as nothing, as Redis' does (other
 * unknown characters are errors there too); unpack checks, before each
 * non-item character as well, that its position is within the data, so
 * "data string too short" wins over a bad option the way it does in Redis. */
typedef enum struct_walk { STRUCT_PACK, STRUCT_UNPACK, STRUCT_SIZE } struct_walk;

typedef struct struct_cursor {
    const char *fmt;
    struct_header h;
    struct_walk walk;
    const size_t *pos;  /* unpack only: the read position ... */
    size_t len;         /* ... and the data length */
} struct_cursor;

static void struct_cursor_init(struct_cursor *c, const char *fmt, struct_walk walk)
{
    c->fmt = fmt;
    c->h.big_endian = native_big_endian();
    c->h.align = 1;
    c->walk = walk;
    c->pos = NULL;
    c->len = 0;
}

static int struct_is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void struct_check_position(lua_State *L, const struct_cursor *c)
{
    if (c->walk == STRUCT_UNPACK)
        luaL_argcheck(L, *c->pos <= c->len, 2, "data string too short");
}

/* The size of a known item option; returns 0 for an unknown one. */
static int struct_item_size(lua_State *L, char opt, const char **fmt, size_t *size)
{
    switch (opt) {
    case 'x': case 'b': case 'B': *size = 1; return 1;
    case 'h': case 'H': *size = sizeof(short); return 1;
    case 'l': case 'L': *size = sizeof(long); return 1;
    case 'T': *size = sizeof(size_t); return 1;
    case 'f': *size = sizeof(float); return 1;
    case 'd': *size = sizeof(double); return 1;
    case 's': *size = 0; return 1;
    case 'i': case 'I': *size = struct_int_size(L, fmt); return 1;
    case 'c': *size = struct_read_number(L, fmt, 1); return 1;
    default: return 0;
    }
}

/* Parses the next item of the format, applying header options on the
 * way. Returns 0 at the end of the format. */
static int struct_next_item(lua_State *L, struct_cursor *c, struct_item *it)
{
    for (;;) {
        char opt = *c->fmt;
        if (opt == '\0')
            return 0;
        c->fmt++;
        it->opt = opt;
        if (struct_item_size(L, opt, &c->fmt, &it->size))
            return 1;
        if (c->walk == STRUCT_SIZE && struct_is_alnum(opt)) {
            it->size = 0;
            return 1;
        }
        struct_check_position(L, c);
        if (!struct_header_option(L, opt, &c->fmt, &c->h))
            return luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
    }
}

/* Padding before an item at offset `at`. The formula assumes power-of-2
 * sizes, as the original does; odd sizes (i3) give its same results. */
static size_t struct_padding(size_t at, const struct_header *h, const struct_item *it)
{
    size_t size = it->size;
    if (size == 0 || it->opt == 'c')
        return 0;
    if (size > h->align)
        size = h->align;
    return (size - (at & (size - 1))) & (size - 1);
}

static int struct_is_integer(char opt)
{
    return strchr("bBhHlLTiI", opt) != NULL;
}

/* A Lua number as the 64-bit pattern the library writes: negative values
 * through int64, others through uint64; out-of-range values give what the
 * x86-64 conversions give (0 above 2^64, INT64_MIN below -2^63 and for
 * NaN) without relying on undefined behaviour. */
static uint64_t struct_number_bits(lua_Number n)
{
    if (n != n || n < -9223372036854775808.0)
        return (uint64_t)1 << 63;
    if (n < 0)
        return (uint64_t)(int64_t)n;
    if (n >= 18446744073709551616.0)
        return 0;
    return (uint64_t)n;
}

static void struct_put_bytes(luaL_Buffer *b, const unsigned char *little, size_t n, int big_endian)
{
    for (size_t i = 0; i < n; i++)
        luaL_addchar(b, (char)little[big_endian ? n - 1 - i : i]);
}

static void struct_put_integer(luaL_Buffer *b, lua_Number n, size_t size, int big_endian)
{
    uint64_t v = struct_number_bits(n);
    unsigned char little[STRUCT_MAX_INT_SIZE] = {0};
    for (size_t i = 0; i < size && i < 8; i++)
        little[i] = (unsigned char)(v >> (8 * i));
    struct_put_bytes(b, little, size, big_endian);
}

/* Floats and doubles are stored in memory order; reversed when the
 * requested order differs from the machine's. */
static void struct_put_float(luaL_Buffer *b, const void *native, size_t size, int big_endian)
{
    unsigned char little[sizeof(double)];
    const unsigned char *p = native;
    for (size_t i = 0; i < size; i++)
        little[i] = native_big_endian() ? p[size - 1 - i] : p[i];
    struct_put_bytes(b, little, size, big_endian);
}

/* The values pack reads: the next argument and how many were given. The
 * buffer keeps pieces on the stack above the arguments, so an index past
 * the last argument must never be read: it is reported the way Redis
 * reports it ("got nil"). */
typedef struct struct_args {
    int next;
    int count;
} struct_args;

static int struct_next_arg(lua_State *L, struct_args *a, const char *type)
{
    int arg = a->next++;
    if (arg > a->count)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s expected, got nil", type));
    return arg;
}

static lua_Number struct_arg_number(lua_State *L, struct_args *a)
{
    return luaL_checknumber(L, struct_next_arg(L, a, "number"));
}

static const char *struct_arg_string(lua_State *L, struct_args *a, size_t *len)
{
    return luaL_checklstring(L, struct_next_arg(L, a, "string"), len);
}

/* A double as a float the way the x86-64 conversion rounds it, beyond
 * float's range to an infinity, without the undefined behaviour of an
 * out-of-range cast. */
static float struct_to_float(lua_Number d)
{
    if (d > FLT_MAX)
        return INFINITY;
    if (d < -FLT_MAX)
        return -INFINITY;
    return (float)d;
}

/* Packs one item taking its value from the arguments; returns the number
 * of bytes written (not counting padding). */
static size_t struct_pack_item(lua_State *L, luaL_Buffer *b, const struct_header *h,
                               const struct_item *it, struct_args *args)
{
    if (struct_is_integer(it->opt)) {
        struct_put_integer(b, struct_arg_number(L, args), it->size, h->big_endian);
        return it->size;
    }
    switch (it->opt) {
    case 'x':
        luaL_addchar(b, '\0');
        return 1;
    case 'f': {
        float f = struct_to_float(struct_arg_number(L, args));
        struct_put_float(b, &f, sizeof(f), h->big_endian);
        return sizeof(f);
    }
    case 'd': {
        double d = struct_arg_number(L, args);
        struct_put_float(b, &d, sizeof(d), h->big_endian);
        return sizeof(d);
    }
    case 'c': {
        size_t len;
        const char *s = struct_arg_string(L, args, &len);
        size_t size = it->size == 0 ? len : it->size;
        /* Redis names the argument after the string: one past it. */
        luaL_argcheck(L, len >= size, args->next, "string too short");
        luaL_addlstring(b, s, size);
        return size;
    }
    default: {  /* 's' */
        size_t len;
        const char *s = struct_arg_string(L, args, &len);
        luaL_addlstring(b, s, len);
        luaL_addchar(b, '\0');
        return len + 1;
    }
    }
}

static int struct_pack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    struct_cursor c;
    struct_item it;
    size_t total = 0;
    luaL_Buffer b;
    struct_args args = { 2, lua_gettop(L) };
    luaL_buffinit(L, &b);
    struct_cursor_init(&c, fmt, STRUCT_PACK);
    while (struct_next_item(L, &c, &it)) {
        size_t pad = struct_padding(total, &c.h, &it);
        for (size_t i = 0; i < pad; i++)
            luaL_addchar(&b, '\0');
        total += pad + struct_pack_item(L, &b, &c.h, &it, &args);
    }
    luaL_pushresult(&b);
    return 1;
}

/* The integer of `size` bytes at p, as the library reads it: only the low
 * eight bytes count; signed values of fewer than eight bytes are sign
 * extended. */
static lua_Number struct_get_integer(const unsigned char *p, size_t size, int big_endian, int is_signed)
{
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++)
        v = (v << 8) | p[big_endian ? i : size - 1 - i];
    if (!is_signed)
        return (lua_Number)v;
    if (size > 0 && size < 8) {
        uint64_t sign = (uint64_t)1 << (size * 8 - 1);
        v = (v ^ sign) - sign;
    }
    return (lua_Number)(int64_t)v;
}

static void struct_get_float(const unsigned char *p, void *native, size_t size, int big_endian)
{
    unsigned char *out = native;
    int reverse = big_endian != native_big_endian();
    for (size_t i = 0; i < size; i++)
        out[i] = p[reverse ? size - 1 - i : i];
}

/* The length c0 takes from the value unpacked just before it (popped). */
static size_t struct_c0_length(lua_State *L, int results)
{
    if (results == 0 || !lua_isnumber(L, -1))
        luaL_error(L, "format 'c0' needs a previous size");
    lua_Number n = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(n >= 0) || n >= 18446744073709551616.0)
        return SIZE_MAX;  /* Redis' cast makes it huge: "too short" */
    return (size_t)n;
}

static void struct_check_room(lua_State *L, size_t pos, size_t size, size_t len)
{
    luaL_argcheck(L, pos <= len && size <= len - pos, 2, "data string too short");
}

/* Unpacks one item at *pos, pushing its value (or none for x); returns the
 * change in the number of values pushed. */
static int struct_unpack_item(lua_State *L, const struct_header *h, const struct_item *it,
                              const unsigned char *data, size_t len, size_t *pos, int results)
{
    const unsigned char *p = data + *pos;
    if (struct_is_integer(it->opt)) {
        lua_pushnumber(L, struct_get_integer(p, it->size, h->big_endian, it->opt >= 'a'));
        *pos += it->size;
        return 1;
    }
    switch (it->opt) {
    case 'x':
        *pos += 1;
        return 0;
    case 'f': {
        float f;
        struct_get_float(p, &f, sizeof(f), h->big_endian);
        lua_pushnumber(L, f);
        *pos += sizeof(f);
        return 1;
    }
    case 'd': {
        double d;
        struct_get_float(p, &d, sizeof(d), h->big_endian);
        lua_pushnumber(L, d);
        *pos += sizeof(d);
        return 1;
    }
    case 'c': {
        size_t size = it->size;
        int delta = 1;
        if (size == 0) {
            size = struct_c0_length(L, results);
            delta = 0;  /* the length value is replaced by the string */
        }
        struct_check_room(L, *pos, size, len);
        lua_pushlstring(L, (const char *)p, size);
        *pos += size;
        return delta;
    }
    default: {  /* 's' */
        const unsigned char *end = memchr(p, '\0', len - *pos);
        if (end == NULL)
            luaL_error(L, "unfinished string in data");
        lua_pushlstring(L, (const char *)p, (size_t)(end - p));
        *pos += (size_t)(end - p) + 1;
        return 1;
    }
    }
}

static int struct_unpack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    size_t len;
    const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 2, &len);
    /* As an unsigned size, like the original: -1 is huge, so "too short". */
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    struct_cursor c;
    struct_item it;
    int results = 0;
    struct_cursor_init(&c, fmt, STRUCT_UNPACK);
    c.pos = &pos;
    c.len = len;
    while (struct_next_item(L, &c, &it)) {
        luaL_checkstack(L, 2, "too many results");
        size_t pad = struct_padding(pos, &c.h, &it);
        struct_check_room(L, pos, pad, len);
        pos += pad;
        struct_check_room(L, pos, it.size, len);
        results += struct_unpack_item(L, &c.h, &it, data, len, &pos, results);
    }
    lua_pushinteger(L, (lua_Integer)(pos + 1));
    return results + 1;
}

static int struct_size(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    struct_cursor c;
    struct_item it;
    size_t total = 0;
    struct_cursor_init(&c, fmt, STRUCT_SIZE);
    while (struct_next_item(L, &c, &it)) {
        if (it.opt == 's')
            luaL_argerror(L, 1, "option 's' has no fixed size");
        if (it.opt == 'c' && it.size == 0)
            luaL_argerror(L, 1, "option 'c0' has no fixed size");
        total += struct_padding(total, &c.h, &it) + it.size;
    }
    lua_pushinteger(L, (lua_Integer)total);
    return 1;
}

static const luaL_Reg struct_functions[] = {
    { "pack", struct_pack },
    { "unpack", struct_unpack },
    { "size", struct_size },
    { NULL, NULL },
};

int luaopen_struct(lua_State *L)
{
    luaL_register(L, "struct", struct_functions);
    return 1;
}
