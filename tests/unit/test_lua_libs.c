/* Unit tests for agent/lua_struct.c and agent/lua_cmsgpack.c in a plain
 * Lua 5.1 state. The expected bytes in the *_redis tables were obtained
 * from redis-server 7.0.15 (`redis-cli EVAL "return <expr>" 0`, hex-dumped
 * in Lua), so the encodings are Redis' own; the rest are round trips and
 * every error path, including hostile inputs (truncated, huge claimed
 * sizes, deep nesting, bad formats) that must raise a Lua error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>
#include "lua_libs.h"

/* Prelude: hex(s) for comparing bytes. */
static const char *prelude =
    "function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end\n";

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    luaopen_struct(L);
    luaopen_cmsgpack(L);
    lua_settop(L, 0);
    assert_int_equal(luaL_dostring(L, prelude), 0);
    return L;
}

/* Runs `code`; returns NULL on success (its first result left in *out as a
 * malloc'd string if out is given) or the malloc'd error message. */
static char *run_lua(lua_State *L, const char *code, char **out)
{
    lua_settop(L, 0);
    if (luaL_loadstring(L, code) != 0 || lua_pcall(L, 0, 1, 0) != 0) {
        const char *msg = lua_tostring(L, -1);
        return strdup(msg ? msg : "(non-string error)");
    }
    if (out) {
        const char *s = lua_isboolean(L, -1) ? (lua_toboolean(L, -1) ? "true" : "false")
                                             : lua_tostring(L, -1);
        *out = strdup(s ? s : "(nil)");
    }
    return NULL;
}

static void lua_expect_value(lua_State *L, const char *expr, const char *expected)
{
    char code[4096];
    char *got = NULL;
    snprintf(code, sizeof(code), "return %s", expr);
    char *err = run_lua(L, code, &got);
    if (err) {
        print_error("%s raised: %s\n", expr, err);
        free(err);
        fail();
    }
    if (strcmp(got, expected) != 0) {
        print_error("%s\n  expected %s\n  got      %s\n", expr, expected, got);
        free(got);
        fail();
    }
    free(got);
}

static void lua_expect_hex(lua_State *L, const char *expr, const char *hex)
{
    char wrapped[4096];
    snprintf(wrapped, sizeof(wrapped), "hex(%s)", expr);
    lua_expect_value(L, wrapped, hex);
}

/* A chunk that must run and return true (its asserts say why not). */
static void lua_expect_true(lua_State *L, const char *code)
{
    char *got = NULL;
    char *err = run_lua(L, code, &got);
    if (err) {
        print_error("chunk raised: %s\n%s\n", err, code);
        free(err);
        fail();
    }
    if (strcmp(got, "(nil)") == 0 || strcmp(got, "false") == 0) {
        print_error("chunk returned %s\n%s\n", got, code);
        free(got);
        fail();
    }
    free(got);
}

static void lua_expect_error(lua_State *L, const char *code, const char *fragment)
{
    char *err = run_lua(L, code, NULL);
    if (err == NULL) {
        print_error("no error from: %s\n", code);
        fail();
    }
    if (strstr(err, fragment) == NULL) {
        print_error("%s\n  error %s\n  lacks %s\n", code, err, fragment);
        free(err);
        fail();
    }
    free(err);
}

typedef struct expr_bytes {
    const char *expr;
    const char *hex;
} expr_bytes;

/* ---- cmsgpack ---- */

static const expr_bytes cmsgpack_redis[] = {
    {"cmsgpack.pack(3.0)", "03"},
    {"cmsgpack.pack(2^53)", "cf0020000000000000"},
    {"cmsgpack.pack(2^63)", "ca5f000000"},
    {"cmsgpack.pack(-2^63)", "d38000000000000000"},
    {"cmsgpack.pack(2^64)", "ca5f800000"},
    {"cmsgpack.pack(3.5)", "ca40600000"},
    {"cmsgpack.pack(0.1)", "cb3fb999999999999a"},
    {"cmsgpack.pack(1/0)", "ca7f800000"},
    {"cmsgpack.pack(-0.0)", "00"},
    {"cmsgpack.pack(-33)", "d0df"},
    {"cmsgpack.pack(-129)", "d1ff7f"},
    {"cmsgpack.pack(-32769)", "d2ffff7fff"},
    {"cmsgpack.pack(-2147483649)", "d3ffffffff7fffffff"},
    {"cmsgpack.pack(4294967296)", "cf0000000100000000"},
    {"cmsgpack.pack(string.rep('a', 31)):sub(1, 2)", "bf61"},
    {"cmsgpack.pack(string.rep('a', 32)):sub(1, 3)", "d92061"},
    {"cmsgpack.pack(string.rep('a', 255)):sub(1, 3)", "d9ff61"},
    {"cmsgpack.pack(string.rep('a', 256)):sub(1, 4)", "da010061"},
    {"cmsgpack.pack(string.rep('a', 65536)):sub(1, 6)", "db0001000061"},
    {"cmsgpack.pack({})", "90"},
    {"cmsgpack.pack({1,2,3})", "93010203"},
    {"cmsgpack.pack({1,2,3,4,5,6,7,8,9,10,11,12,13,14,15})", "9f0102030405060708090a0b0c0d0e0f"},
    {"cmsgpack.pack({1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16})",
     "dc00100102030405060708090a0b0c0d0e0f10"},
    {"cmsgpack.pack({a=1})", "81a16101"},
    {"cmsgpack.pack({[1]=1,[3]=3})", "8201010303"},
    {"cmsgpack.pack({1,nil,3})", "8201010303"},
    {"cmsgpack.pack({[1.5]=1})", "81ca3fc0000001"},
    {"cmsgpack.pack({[0]=1})", "810001"},
    {"cmsgpack.pack({[-1]=1})", "81ff01"},
    {"cmsgpack.pack({[true]=1})", "81c301"},
    {"cmsgpack.pack(1,'a',true,false)", "01a161c3c2"},
    {"cmsgpack.pack(cmsgpack.pack)", "c0"},
    {"(function() local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end c[1] = 5 "
     "return cmsgpack.pack(t) end)()",
     "91919191919191919191919191919191c0"},
    {"(function() local t = {} t[1] = t return cmsgpack.pack(t) end)()",
     "91919191919191919191919191919191c0"},
};

static const expr_bytes cmsgpack_ints[] = {
    {"cmsgpack.pack(0)", "00"},
    {"cmsgpack.pack(127)", "7f"},
    {"cmsgpack.pack(128)", "cc80"},
    {"cmsgpack.pack(255)", "ccff"},
    {"cmsgpack.pack(256)", "cd0100"},
    {"cmsgpack.pack(65535)", "cdffff"},
    {"cmsgpack.pack(65536)", "ce00010000"},
    {"cmsgpack.pack(4294967295)", "ceffffffff"},
    {"cmsgpack.pack(-1)", "ff"},
    {"cmsgpack.pack(-32)", "e0"},
    {"cmsgpack.pack(-128)", "d080"},
    {"cmsgpack.pack(-32768)", "d18000"},
    {"cmsgpack.pack(-2147483648)", "d280000000"},
    {"cmsgpack.pack(nil)", "c0"},
    {"cmsgpack.pack(0/0):sub(1,1)", "cb"},
    {"cmsgpack.pack('')", "a0"},
};

static void test_cmsgpack_bytes_as_redis(void **state)
{
    (void)state;
    lua_State *L = new_state();
    for (size_t i = 0; i < sizeof(cmsgpack_redis) / sizeof(cmsgpack_redis[0]); i++)
        lua_expect_hex(L, cmsgpack_redis[i].expr, cmsgpack_redis[i].hex);
    for (size_t i = 0; i < sizeof(cmsgpack_ints) / sizeof(cmsgpack_ints[0]); i++)
        lua_expect_hex(L, cmsgpack_ints[i].expr, cmsgpack_ints[i].hex);
    /* Big tables: array32, map16, map32 headers. */
    lua_expect_hex(L, "(function() local t = {} for i = 1, 65536 do t[i] = i end "
                  "return cmsgpack.pack(t):sub(1, 5) end)()", "dd00010000");
    lua_expect_hex(L, "(function() local t = {} for i = 1, 16 do t['k'..i] = 1 end "
                  "return cmsgpack.pack(t):sub(1, 3) end)()", "de0010");
    lua_expect_hex(L, "(function() local t = {} for i = 1, 65536 do t['k'..i] = 1 end "
                  "return cmsgpack.pack(t):sub(1, 5) end)()", "df00010000");
    lua_close(L);
}

static void test_cmsgpack_round_trips(void **state)
{
    (void)state;
    lua_State *L = new_state();
    lua_expect_true(L,
        "local vals = {0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, -32768, -32769,"
        "  4294967295, 4294967296, -2147483648, -2147483649, 2^53, -2^53, -2^63, 2^62,"
        "  3.5, 0.1, -0.25, 1e300, -1e-300, 1/0, -1/0, 3.4028234663852886e38 }\n"
        "for _, v in ipairs(vals) do\n"
        "  local back = cmsgpack.unpack(cmsgpack.pack(v))\n"
        "  assert(back == v, 'round trip of ' .. tostring(v) .. ' gave ' .. tostring(back))\n"
        "end\n"
        "local nan = cmsgpack.unpack(cmsgpack.pack(0/0)); assert(nan ~= nan)\n"
        "for _, n in ipairs({0, 1, 31, 32, 255, 256, 65535, 65536, 70000}) do\n"
        "  local s = string.rep('x', n)\n"
        "  assert(cmsgpack.unpack(cmsgpack.pack(s)) == s, 'string of ' .. n)\n"
        "end\n"
        "assert(cmsgpack.unpack(cmsgpack.pack(true)) == true)\n"
        "assert(cmsgpack.unpack(cmsgpack.pack(false)) == false)\n"
        "assert(cmsgpack.unpack(cmsgpack.pack(nil)) == nil)\n"
        "for _, n in ipairs({0, 15, 16, 65535, 65536}) do\n"
        "  local a, m = {}, {}\n"
        "  for i = 1, n do a[i] = i; m['k' .. i] = -i end\n"
        "  local ba, bm = cmsgpack.unpack(cmsgpack.pack(a, m))\n"
        "  assert(#ba == n, 'array ' .. n)\n"
        "  for i = 1, n do assert(ba[i] == i and bm['k' .. i] == -i) end\n"
        "end\n"
        "local t = cmsgpack.unpack(cmsgpack.pack({a = {1, {b = 'c'}}, [5] = true}))\n"
        "assert(t.a[1] == 1 and t.a[2].b == 'c' and t[5] == true)\n"
        "return true");
    /* Values from their wire forms, incl. uint64 read as int64 as Redis. */
    lua_expect_value(L, "tostring(cmsgpack.unpack(string.char(0xcf,255,255,255,255,255,255,255,255)))", "-1");
    lua_expect_value(L, "tostring(cmsgpack.unpack(string.char(0xce,255,255,255,255)))", "4294967295");
    lua_expect_value(L, "tostring(cmsgpack.unpack(string.char(0xd3,0x80,0,0,0,0,0,0,0)))",
                 "-9.2233720368548e+18");
    lua_expect_value(L, "tostring(cmsgpack.unpack(string.char(0xd0,0x80)))", "-128");
    lua_expect_value(L, "tostring(cmsgpack.unpack(string.char(0xd1,0xff,0x7f)))", "-129");
    lua_expect_value(L, "tostring(cmsgpack.unpack(string.char(0xca,0x40,0x60,0,0)))", "3.5");
    lua_expect_value(L, "cmsgpack.unpack(string.char(0xa3) .. 'abc')", "abc");
    lua_expect_value(L, "cmsgpack.unpack(string.char(0xda,0,2) .. 'ab')", "ab");
    lua_expect_value(L, "cmsgpack.unpack(string.char(0xdb,0,0,0,2) .. 'ab')", "ab");
    lua_close(L);
}

static void test_cmsgpack_unpack_forms(void **state)
{
    (void)state;
    lua_State *L = new_state();
    /* Observed from redis-server 7.0: offsets are 0-based, -1 at the end. */
    lua_expect_value(L, "table.concat({cmsgpack.unpack(cmsgpack.pack(1,2,'x'))}, ',')", "1,2,x");
    lua_expect_value(L, "select('#', cmsgpack.unpack(''))", "0");
    lua_expect_value(L, "table.concat({cmsgpack.unpack_one(cmsgpack.pack(1,2,'x'))}, ',')", "1,1");
    lua_expect_value(L, "table.concat({cmsgpack.unpack_one(cmsgpack.pack(1,2,'x'), 1)}, ',')", "2,2");
    lua_expect_value(L, "table.concat({cmsgpack.unpack_one(cmsgpack.pack(1,2,'x'), 2)}, ',')", "-1,x");
    lua_expect_value(L, "table.concat({cmsgpack.unpack_one(cmsgpack.pack(1,2,'x'), 4)}, ',')", "-1");
    lua_expect_value(L, "table.concat({cmsgpack.unpack_one('')}, ',')", "-1");
    lua_expect_value(L, "table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1,2,'x'), 2)}, ',')", "2,1,2");
    lua_expect_value(L, "table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1,2,'x'), 0)}, ',')", "1,2,x");
    lua_expect_value(L, "table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1,2,'x'), 5, 1)}, ',')", "-1,2,x");
    lua_expect_value(L, "table.concat({cmsgpack.unpack(12)}, ',')", "49,50");
    /* Limit 0 means "all" only from offset 0. */
    lua_expect_value(L, "table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1,2,'x'), 0, 1)}, ',')", "1");
    lua_expect_value(L, "table.concat({cmsgpack.unpack_limit(string.char(194), 0, 1)}, ',')", "-1");
    lua_expect_value(L, "cmsgpack._VERSION", "lua-cmsgpack 0.4.0");
    lua_expect_value(L, "cmsgpack._NAME", "cmsgpack");
    lua_close(L);
}

static void test_cmsgpack_errors(void **state)
{
    (void)state;
    lua_State *L = new_state();
    lua_expect_error(L, "cmsgpack.pack()", "bad argument #0 to 'pack' (MessagePack pack needs input.)");
    lua_expect_error(L, "cmsgpack.unpack()", "bad argument #1 to 'unpack' (string expected, got no value)");
    lua_expect_error(L, "cmsgpack.unpack({})", "string expected, got table");
    lua_expect_error(L, "cmsgpack.unpack_limit('')", "bad argument #2 to 'unpack_limit'");
    lua_expect_error(L, "cmsgpack.unpack_one('abcd', 5)", "Start offset 5 greater than input length 4.");
    lua_expect_error(L, "cmsgpack.unpack_one('abcd', -1)",
                 "Invalid request to unpack with offset of -1 and limit of 4.");
    lua_expect_error(L, "cmsgpack.unpack_limit('abcd', -1)",
                 "Invalid request to unpack with offset of 0 and limit of 4.");
    /* Unknown types: 0xc1, bin, ext, fixext. */
    static const char *bad[] = { "0xc1", "0xc4,1,97", "0xc5,0,1,97", "0xc6,0,0,0,1,97",
                                 "0xc7,1,1,97", "0xc8,0,1,1,97", "0xc9,0,0,0,1,1,97",
                                 "0xd4,1,97", "0xd5,1,97,97", "0xd8,1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char code[256];
        snprintf(code, sizeof(code), "cmsgpack.unpack(string.char(%s))", bad[i]);
        lua_expect_error(L, code, "Bad data format in input.");
    }
    /* Truncated: every header and payload form. */
    static const char *short_inputs[] = { "0xcc", "0xcd,1", "0xce,1,2,3", "0xcf,1,2,3,4,5,6,7",
                                          "0xd0", "0xd1,1", "0xd2,1", "0xd3,1", "0xca,1,2", "0xcb,1",
                                          "0xa2,97", "0xd9", "0xd9,2,97", "0xda,0", "0xda,0,3,97",
                                          "0xdb,0,0,0", "0xdb,255,255,255,255", "0x92,1",
                                          "0xdc,0", "0xdc,0,2,1", "0xdd,255,255,255,255",
                                          "0x81,1", "0xde,0,1,1", "0xdf,255,255,255,255,1,2" };
    for (size_t i = 0; i < sizeof(short_inputs) / sizeof(short_inputs[0]); i++) {
        char code[256];
        snprintf(code, sizeof(code), "cmsgpack.unpack(string.char(%s))", short_inputs[i]);
        lua_expect_error(L, code, "Missing bytes in input.");
    }
    lua_expect_error(L, "cmsgpack.unpack(string.char(0x81,0xc0,1))", "table index is nil");
    lua_expect_error(L, "cmsgpack.unpack(string.char(0x81,0xcb,0xff,0xf8,0,0,0,0,0,0,1))", "table index is NaN");
    /* Deep nesting (arrays and maps) and too many values: Lua errors. */
    lua_expect_error(L, "cmsgpack.unpack(string.rep(string.char(0x91), 100000) .. string.char(1))",
                 "stack overflow");
    lua_expect_error(L, "cmsgpack.unpack(string.rep(string.char(0x81, 1), 100000) .. string.char(1))",
                 "stack overflow");
    lua_expect_error(L, "cmsgpack.unpack(string.rep(string.char(1), 100000))",
                 "too many return values at once; use unpack_one or unpack_limit instead.");
    /* ... while what Redis accepts still decodes. */
    lua_expect_true(L, "local t = cmsgpack.unpack(string.rep(string.char(0x91), 3000) .. string.char(1))\n"
                   "for i = 1, 3000 do t = t[1] end\n"
                   "return t == 1");
    lua_close(L);
}

/* Random bytes and every prefix of valid encodings: an error or a value,
 * never a crash (run under valgrind/ASan by make test). */
static void test_cmsgpack_hostile_fuzz(void **state)
{
    (void)state;
    lua_State *L = new_state();
    lua_expect_true(L,
        "math.randomseed(14)\n"
        "local ok_count = 0\n"
        "local sample = cmsgpack.pack({1, 'two', {three = 3.5, [4] = {true, false}}, -2^40, 0.1},"
        "                             string.rep('z', 300), 2^53)\n"
        "for i = 0, #sample do pcall(cmsgpack.unpack, sample:sub(1, i)) end\n"
        "for round = 1, 3000 do\n"
        "  local n = math.random(0, 24)\n"
        "  local bytes = {}\n"
        "  for i = 1, n do bytes[i] = string.char(math.random(0, 255)) end\n"
        "  local s = table.concat(bytes)\n"
        "  if pcall(cmsgpack.unpack, s) then ok_count = ok_count + 1 end\n"
        "  pcall(cmsgpack.unpack_one, s, math.random(0, 3))\n"
        "  pcall(cmsgpack.unpack_limit, s, math.random(0, 3), math.random(0, 3))\n"
        "end\n"
        "return ok_count > 0");
    lua_close(L);
}

/* ---- struct ---- */

static const expr_bytes struct_redis[] = {
    {"struct.pack('>i', 1)", "00000001"},
    {"struct.pack('<i', -2)", "feffffff"},
    {"struct.pack('bBhHlLiI', -1, 255, -2, 65535, -3, 7, -4, 9)",
     "fffffefffffffdffffffffffffff0700000000000000fcffffff09000000"},
    {"struct.pack('>i3', -2)", "fffffe"},
    {"struct.pack('>I3', 2^24+5)", "000005"},
    {"struct.pack('<i10', -2)", "feffffffffffffff0000"},
    {"struct.pack('>i10', -2)", "0000fffffffffffffffe"},
    {"struct.pack('s', 'ab')", "616200"},
    {"struct.pack('s', 'a\\0b')", "61006200"},
    {"struct.pack('c0', 'ab')", "6162"},
    {"struct.pack('c3', 'abcd')", "616263"},
    {"struct.pack('c', 'ab')", "61"},
    {"struct.pack('>f d', 1.5, 0.1)", "3fc000003fb999999999999a"},
    {"struct.pack('b x h', 1, 2)", "01000200"},
    {"struct.pack('!b h', 1, 2)", "01000200"},
    {"struct.pack('!2 b d', 1, 2)", "01000000000000000040"},
    {"struct.pack('!4 b d b i', 1, 2, 3, 4)", "0100000000000000000000400300000004000000"},
    {"struct.pack('T', 5)", "0500000000000000"},
    {"struct.pack('b', 300)", "2c"},
    {"struct.pack('b', 1.7)", "01"},
    {"struct.pack('b', -1.7)", "ff"},
    {"struct.pack('i0', 1)", ""},
    {"struct.pack('>I8', 2^64)", "0000000000000000"},
    {"struct.pack('>i8', -2^63)", "8000000000000000"},
    {"struct.pack('>I8', -1)", "ffffffffffffffff"},
    {"struct.pack('>i', 1e20)", "00000000"},
    {"struct.pack('!', 1)", ""},
    {"struct.pack('b', 1, 2)", "01"},
    {"struct.pack('c0', 12)", "3132"},
    {"struct.pack('<d', 0.1)", "9a9999999999b93f"},
    {"struct.pack('>h <h', 1, 1)", "00010100"},
};

static const expr_bytes struct_unpack_redis[] = {
    {"table.concat({struct.unpack('>i', string.char(0,0,0,1))}, ',')", "1,5"},
    {"table.concat({struct.unpack('<i', string.char(0xfe,0xff,0xff,0xff))}, ',')", "-2,5"},
    {"table.concat({struct.unpack('<I', string.char(0xfe,0xff,0xff,0xff))}, ',')", "4294967294,5"},
    {"table.concat({struct.unpack('>i3 b B', string.char(0xff,0xff,0xfe,0x80,0x80))}, ',')", "-2,-128,128,6"},
    {"table.concat({struct.unpack('s b', 'ab\\0' .. string.char(5))}, ',')", "ab,5,5"},
    {"table.concat({struct.unpack('b c0', string.char(2) .. 'xyz')}, ',')", "xy,4"},
    {"table.concat({struct.unpack('bc0', string.char(0) .. 'xyz')}, ',')", ",2"},
    {"table.concat({struct.unpack('s c0', '2\\0xyz')}, ',')", "xy,5"},
    {"table.concat({struct.unpack('c2', 'xyz')}, ',')", "xy,3"},
    {"table.concat({struct.unpack('b', 'xyz', 3)}, ',')", "122,4"},
    {"table.concat({struct.unpack('b', 'a', 1.5)}, ',')", "97,2"},
    {"table.concat({struct.unpack('x b', 'xyz')}, ',')", "121,3"},
    {"table.concat({struct.unpack('!b i', string.char(1,0,0,0,7,0,0,0))}, ',')", "1,7,9"},
    {"table.concat({struct.unpack('<i10', string.char(0xfe,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff))}, ',')",
     "-2,11"},
    {"tostring(struct.unpack('<I8', string.rep(string.char(255), 8)))", "1.844674407371e+19"},
    {"tostring(struct.unpack('<i8', string.char(0,0,0,0,0,0,0,0x80)))", "-9.2233720368548e+18"},
    {"tostring(struct.unpack('<I9', string.char(1,0,0,0,0,0,0,0,1)))", "1"},
    {"tostring(struct.unpack('>I9', string.char(1,0,0,0,0,0,0,0,1)))", "1"},
    {"tostring(struct.unpack('>i9', string.char(0x80,0,0,0,0,0,0,0,1)))", "1"},
    {"tostring(struct.unpack('<f', struct.pack('<f', 0.1)))", "0.10000000149012"},
    {"table.concat({struct.unpack('', 'abc')}, ',')", "1"},
    {"table.concat({struct.unpack('>', '')}, ',')", "1"},
    {"table.concat({struct.size('bhi'), struct.size('!bhi'), struct.size('>d'), struct.size('c7'),"
     " struct.size('x'), struct.size('!8bd'), struct.size('c')}, ',')", "7,8,8,7,1,16,1"},
    {"struct.size('c2147483647c2147483647c2147483647')", "6442450941"},
    {"table.concat({struct.size('!16 b d'), struct.size('! b d'), struct.size('!1 b d')}, ',')", "16,16,9"},
    {"#struct.pack('!32 b i32', 1, 2)", "64"},
    /* size counts unknown letters and digits as nothing; pack/unpack don't. */
    {"table.concat({struct.size('q'), struct.size('9d87'), struct.size('dL3d '), struct.size('<b8B')}, ',')",
     "0,8,24,2"},
};

static void test_struct_as_redis(void **state)
{
    (void)state;
    lua_State *L = new_state();
    for (size_t i = 0; i < sizeof(struct_redis) / sizeof(struct_redis[0]); i++)
        lua_expect_hex(L, struct_redis[i].expr, struct_redis[i].hex);
    for (size_t i = 0; i < sizeof(struct_unpack_redis) / sizeof(struct_unpack_redis[0]); i++)
        lua_expect_value(L, struct_unpack_redis[i].expr, struct_unpack_redis[i].hex);
    lua_close(L);
}

static void test_struct_round_trips(void **state)
{
    (void)state;
    lua_State *L = new_state();
    lua_expect_true(L,
        "for _, e in ipairs({'<', '>', '!', '<!4', '>!2'}) do\n"
        "  local fmt = e .. 'b B h H l L i I i3 I5 i8 f d s c3 c0 x T'\n"
        "  local s = struct.pack(fmt, -5, 250, -300, 65000, -7e9, 7e9, -70000, 70000,"
        "                        -1000, 2^39 + 1, -2^62, 0.5, 0.1, 'zero', 'abc', 'rest', 99)\n"
        "  local vals = {struct.unpack(fmt:gsub('c0', 'c4'), s)}\n"
        "  local want = {-5, 250, -300, 65000, -7e9, 7e9, -70000, 70000, -1000, 2^39 + 1, -2^62,"
        "                0.5, 0.1, 'zero', 'abc', 'rest', 99}\n"
        "  for i = 1, 17 do assert(vals[i] == want[i], e .. ' item ' .. i .. ': ' .. tostring(vals[i])) end\n"
        "  assert(#vals == 18 and vals[18] == #s + 1, 'position ' .. vals[#vals])\n"
        "  assert(struct.size(e .. 'b h i d') == #struct.pack(e .. 'b h i d', 1, 2, 3, 4))\n"
        "end\n"
        "return true");
    lua_close(L);
}

static void test_struct_errors(void **state)
{
    (void)state;
    lua_State *L = new_state();
    lua_expect_error(L, "struct.pack('c5', 'abcd')", "bad argument #3 to 'pack' (string too short)");
    lua_expect_error(L, "struct.pack('!3 b d', 1, 2)", "alignment 3 is not a power of 2");
    lua_expect_error(L, "struct.pack('!0 b', 1)", "alignment 0 is not a power of 2");
    lua_expect_error(L, "struct.pack('B', 'x')", "bad argument #2 to 'pack' (number expected, got string)");
    lua_expect_error(L, "struct.pack('i33', 1)", "integral size 33 is larger than limit of 32");
    lua_expect_error(L, "struct.pack('q', 1)", "bad argument #1 to 'pack' (invalid format option 'q')");
    lua_expect_error(L, "struct.pack('=b', 1)", "invalid format option '='");
    lua_expect_error(L, "struct.pack('i99999999999', 1)", "integral size overflow");
    lua_expect_error(L, "struct.size('c99999999999')", "integral size overflow");
    lua_expect_error(L, "struct.pack('!99999999999', 1)", "integral size overflow");
    lua_expect_error(L, "struct.pack('b')", "bad argument #2 to 'pack' (number expected, got nil)");
    lua_expect_error(L, "struct.pack('bbbb', 1)", "bad argument #3 to 'pack' (number expected, got nil)");
    lua_expect_error(L, "struct.pack()", "bad argument #1 to 'pack' (string expected, got no value)");
    lua_expect_error(L, "struct.pack(string.rep('b', 100000))", "bad argument #2 to 'pack' (number expected, got nil)");
    lua_expect_error(L, "struct.unpack('s', 'ab')", "unfinished string in data");
    lua_expect_error(L, "struct.unpack('c0', 'xyz')", "format 'c0' needs a previous size");
    lua_expect_error(L, "struct.unpack('c0', 'xyz', 1)", "format 'c0' needs a previous size");
    lua_expect_error(L, "struct.unpack('s c0', 'ab\\0xyz')", "format 'c0' needs a previous size");
    lua_expect_error(L, "struct.unpack('b c0 c0', string.char(1) .. 'xyz')", "format 'c0' needs a previous size");
    lua_expect_error(L, "struct.unpack('b c0', string.char(250))", "data string too short");
    lua_expect_error(L, "struct.unpack('b c0', string.char(255) .. 'ab')", "data string too short");
    lua_expect_error(L, "struct.unpack('c4', 'xyz')", "bad argument #2 to 'unpack' (data string too short)");
    lua_expect_error(L, "struct.unpack('i', 'xyz')", "data string too short");
    lua_expect_error(L, "struct.unpack('d', 'abc')", "data string too short");
    lua_expect_error(L, "struct.unpack('b', '')", "data string too short");
    lua_expect_error(L, "struct.unpack('b', 'xyz', 4)", "data string too short");
    lua_expect_error(L, "struct.unpack('b', 'xyz', 0)", "bad argument #3 to 'unpack' (offset must be 1 or greater)");
    lua_expect_error(L, "struct.unpack('b', 'xyz', -1)", "data string too short");
    lua_expect_error(L, "struct.unpack('s', 'xyz', -1)", "data string too short");
    lua_expect_error(L, "struct.unpack('!8 b d', 'xyz', 2^62)", "data string too short");
    lua_expect_error(L, "struct.unpack('b', 'xyz', 2^32 + 1)", "data string too short");
    lua_expect_error(L, "struct.unpack(string.rep('b', 10000), string.rep('a', 10000))",
                 "stack overflow (too many results)");
    lua_expect_error(L, "struct.size('s')", "bad argument #1 to 'size' (option 's' has no fixed size)");
    lua_expect_error(L, "struct.size('c0')", "bad argument #1 to 'size' (option 'c0' has no fixed size)");
    lua_expect_error(L, "struct.size('i40')", "integral size 40 is larger than limit of 32");
    lua_expect_error(L, "struct.size('b=h')", "bad argument #1 to 'size' (invalid format option '=')");
    lua_expect_error(L, "struct.pack('b4', 1)", "invalid format option '4'");
    lua_expect_error(L, "struct.unpack('6', 'ab')", "invalid format option '6'");
    /* Redis checks the position before the option: "too short" wins. */
    lua_expect_error(L, "struct.unpack('7', 'ab', 4)", "data string too short");
    lua_expect_error(L, "struct.unpack(' ', 'ab', 4)", "data string too short");
    lua_expect_error(L, "struct.unpack('94s2b', 'ab', -1)", "data string too short");
    /* Random formats and data: errors, never crashes. */
    lua_expect_true(L,
        "math.randomseed(7)\n"
        "local letters = 'bBhHlLTiIfdscx<>! 0123456789qz'\n"
        "for round = 1, 3000 do\n"
        "  local f = {}\n"
        "  for i = 1, math.random(1, 8) do local k = math.random(1, #letters); f[i] = letters:sub(k, k) end\n"
        "  local fmt = table.concat(f)\n"
        "  local data = string.rep(string.char(math.random(0, 255)), math.random(0, 40))\n"
        "  pcall(struct.unpack, fmt, data, math.random(-2, 5))\n"
        "  pcall(struct.size, fmt)\n"
        "  pcall(struct.pack, fmt, 1, 2, 'abc', 3, 4, 'def', 5)\n"
        "end\n"
        "return true");
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmsgpack_bytes_as_redis),
        cmocka_unit_test(test_cmsgpack_round_trips),
        cmocka_unit_test(test_cmsgpack_unpack_forms),
        cmocka_unit_test(test_cmsgpack_errors),
        cmocka_unit_test(test_cmsgpack_hostile_fuzz),
        cmocka_unit_test(test_struct_as_redis),
        cmocka_unit_test(test_struct_round_trips),
        cmocka_unit_test(test_struct_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
