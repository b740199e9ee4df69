/* function: the FUNCTION commands, FCALL and the library registry
 * (function.h). Error texts are redis-server 7.0.15's. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "function.h"
#include "script.h"
#include "script_lua.h"
#include "client.h"
#include "command.h"
#include "server.h"
#include "reply.h"
#include "dict.h"
#include "rdb.h"
#include "repl.h"
#include "monitor.h"
#include "strmatch.h"
#include "mem.h"
#include "resp.h"
#include "util.h"


typedef struct fn_library fn_library;

typedef struct fn_function {
    kstr name;                /* as registered (FUNCTION LIST shows it so) */
    kstr desc;                /* NULL: no description */
    int flags;                /* SCRIPT_FLAG_* */
    int ref;                  /* the callback in the functions' Lua state */
    fn_library *lib;
} fn_function;

struct fn_library {
    kstr name;
    kstr code;                /* the whole FUNCTION LOAD payload, shebang included */
    fn_function **funcs;
    int nfuncs;
};

/* Libraries in load order (FUNCTION LIST and DUMP order); functions by
 * lower-cased name for FCALL. */
typedef struct fn_registry {
    fn_library **libs;
    int nlibs, cap;
    dict *by_name;            /* lower-cased function name -> fn_function */
} fn_registry;

static fn_registry *fn_registry_of(srv *s)
{
    if (s->functions == NULL) {
        fn_registry *r = mem_calloc(sizeof(*r));
        r->by_name = dict_create(&dict_type_plain);
        s->functions = r;
    }
    return s->functions;
}

static int fn_arg_is(const resp_arg *a, const char *s)
{
    return strlen(s) == a->len && strncasecmp(a->ptr, s, a->len) == 0;
}

/* ---- the registry ---------------------------------------------------------- */

static kstr fn_lower(const char *p, size_t len)
{
    kstr k = kstr_new(p, len);
    for (size_t i = 0; i < len; i++)
        k[i] = (char)tolower((unsigned char)k[i]);
    return k;
}

static fn_function *fn_find(fn_registry *r, const char *name, size_t len)
{
    kstr k = fn_lower(name, len);
    dict_entry *de = dict_find(r->by_name, k, kstr_len(k));
    kstr_free(k);
    return de ? de->v.ptr : NULL;
}

static fn_library *fn_library_new(const char *name, size_t name_len, const char *code, size_t code_len)
{
    fn_library *lib = mem_calloc(sizeof(*lib));
    lib->name = kstr_new(name, name_len);
    lib->code = kstr_new(code, code_len);
    return lib;
}

/* Free a library that is not (or no longer) linked into the registry,
 * releasing its callbacks in the functions' Lua state. */
static void fn_library_free(srv *s, fn_library *lib)
{
    if (lib == NULL)
        return;
    script_lua *engine = s->scripting ? script_functions_engine(s) : NULL;
    for (int i = 0; i < lib->nfuncs; i++) {
        fn_function *f = lib->funcs[i];
        if (engine != NULL)
            script_lua_release(engine, f->ref);
        kstr_free(f->name);
        kstr_free(f->desc);
        mem_free(f);
    }
    mem_free(lib->funcs);
    kstr_free(lib->name);
    kstr_free(lib->code);
    mem_free(lib);
}

static int fn_library_index(fn_registry *r, const char *name, size_t len)
{
    for (int i = 0; i < r->nlibs; i++)
        if (kstr_len(r->libs[i]->name) == len && memcmp(r->libs[i]->name, name, len) == 0)
            return i;
    return -1;
}

/* Take the library out of the registry (its functions too), keeping it. */
static fn_library *fn_unlink(fn_registry *r, int idx)
{
    fn_library *lib = r->libs[idx];
    for (int i = 0; i < lib->nfuncs; i++) {
        kstr k = fn_lower(lib->funcs[i]->name, kstr_len(lib->funcs[i]->name));
        dict_delete(r->by_name, k, kstr_len(k));
        kstr_free(k);
    }
    memmove(r->libs + idx, r->libs + idx + 1, sizeof(*r->libs) * (size_t)(r->nlibs - idx - 1));
    r->nlibs--;
    return lib;
}

/* The first of lib's functions another library already has, or NULL. */
static fn_function *fn_collision(fn_registry *r, const fn_library *lib)
{
    for (int i = 0; i < lib->nfuncs; i++) {
        fn_function *f = fn_find(r, lib->funcs[i]->name, kstr_len(lib->funcs[i]->name));
        if (f != NULL)
            return lib->funcs[i];
    }
    return NULL;
}

static void fn_link(fn_registry *r, fn_library *lib)
{
    if (r->nlibs == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->libs = mem_realloc(r->libs, sizeof(*r->libs) * (size_t)r->cap);
    }
    r->libs[r->nlibs++] = lib;
    for (int i = 0; i < lib->nfuncs; i++) {
        kstr k = fn_lower(lib->funcs[i]->name, kstr_len(lib->funcs[i]->name));
        dict_entry *de = dict_add(r->by_name, k, kstr_len(k), NULL);
        kstr_free(k);
        if (de != NULL)
            de->v.ptr = lib->funcs[i];
    }
}

/* ---- loading a library -------------------------------------------------------- */

/* Library and function names: letters, digits and '_', at least one. */
static int fn_name_ok(const char *p, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '_')
            return 0;
    return 1;
}

#define FN_ERR_NAME "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

/* The shebang of a library: "#!<engine> name=<library>", its first line,
 * split into words with the inline rules (quotes, escapes) as 7.0 splits
 * it. On success engine and name point into scratch, and *body is where
 * the Lua code starts (the newline ending the shebang, so Lua's line
 * numbers count it as line 1). fn_meta_release frees the words. */
typedef struct fn_meta {
    const char *engine;
    size_t engine_len;
    const char *name;
    size_t name_len;
    size_t body;
    char *scratch;
    resp_arg *words;
} fn_meta;

static void fn_meta_release(fn_meta *m)
{
    mem_free(m->scratch);
    mem_free(m->words);
    m->scratch = NULL;
    m->words = NULL;
}

static int fn_meta_fail(fn_meta *m, kstr *err, kstr msg)
{
    fn_meta_release(m);
    *err = msg;
    return -1;
}

static int fn_parse_meta(const char *code, size_t len, fn_meta *m, kstr *err)
{
    memset(m, 0, sizeof(*m));
    if (len < 2 || code[0] != '#' || code[1] != '!')
        return fn_meta_fail(m, err, kstr_from_cstr("ERR Missing library metadata"));
    const char *nl = memchr(code, '\n', len);
    if (nl == NULL)
        return fn_meta_fail(m, err, kstr_from_cstr("ERR Invalid library metadata"));
    size_t line_len = (size_t)(nl - code);
    int max_words = (int)(line_len / 2 + 1);
    m->body = line_len;
    m->scratch = mem_alloc(line_len + 1);
    m->words = mem_alloc(sizeof(resp_arg) * (size_t)max_words);
    int n = resp_split_inline(code, line_len, m->scratch, m->words, max_words);
    if (n <= 0)
        return fn_meta_fail(m, err, kstr_from_cstr("ERR Invalid library metadata"));
    /* The first word is "#!<engine>": the engine is what follows the two
     * characters, possibly nothing. */
    m->engine = m->words[0].ptr + 2;
    m->engine_len = m->words[0].len - 2;
    for (int i = 1; i < n; i++) {
        const resp_arg *w = &m->words[i];
        if (w->len >= 5 && strncasecmp(w->ptr, "name=", 5) == 0) {
            if (m->name != NULL)
                return fn_meta_fail(m, err, kstr_from_cstr(
                    "ERR Invalid metadata value, name argument was given multiple times"));
            m->name = w->ptr + 5;
            m->name_len = w->len - 5;
            continue;
        }
        return fn_meta_fail(m, err, kstr_catfmt(kstr_empty(64), "ERR Invalid metadata value given: %s", w->ptr));
    }
    if (m->name == NULL)
        return fn_meta_fail(m, err, kstr_from_cstr("ERR Library name was not given"));
    return 0;
}

/* redis.register_function's receiver while a library loads. */
static const char *fn_on_register(void *priv, const script_lua_function *f)
{
    fn_library *lib = priv;
    if (!fn_name_ok(f->name, f->name_len))
        return FN_ERR_NAME;
    for (int i = 0; i < lib->nfuncs; i++)
        if (kstr_len(lib->funcs[i]->name) == f->name_len &&
            strncasecmp(lib->funcs[i]->name, f->name, f->name_len) == 0)
            return "Function already exists in the library";
    fn_function *fn = mem_calloc(sizeof(*fn));
    fn->name = kstr_new(f->name, f->name_len);
    fn->desc = f->desc ? kstr_new(f->desc, f->desc_len) : NULL;
    fn->flags = f->flags;
    fn->ref = f->ref;
    fn->lib = lib;
    lib->funcs = mem_realloc(lib->funcs, sizeof(*lib->funcs) * (size_t)(lib->nfuncs + 1));
    lib->funcs[lib->nfuncs++] = fn;
    return NULL;
}

/* Compile and run code into a new library (not linked yet). NULL with *err
 * on failure. */
static fn_library *fn_library_create(srv *s, const char *code, size_t len, const fn_meta *m, kstr *err)
{
    script_lua *engine = script_functions_engine(s);
    if (engine == NULL) {
        *err = kstr_from_cstr("ERR Lua scripting is unavailable (out of memory)");
        return NULL;
    }
    fn_library *lib = fn_library_new(m->name, m->name_len, code, len);
    if (script_lua_load_library(engine, code + m->body, len - m->body, FUNCTION_LOAD_TIMEOUT_MS,
                                fn_on_register, lib, err) != 0) {
        fn_library_free(s, lib);
        return NULL;
    }
    if (lib->nfuncs == 0) {
        *err = kstr_from_cstr("ERR No functions registered");
        fn_library_free(s, lib);
        return NULL;
    }
    return lib;
}

/* FUNCTION LOAD's steps in 7.0's order: metadata, name, engine, an existing
 * library (refused unless replace), the code, then no function name taken
 * by another library. A replaced library comes back if the new one fails. */
static int fn_load_parsed(srv *s, const char *code, size_t len, const fn_meta *m, int replace, kstr *err);

int function_load_code(srv *s, const char *code, size_t len, int replace, kstr *err)
{
    fn_meta m;
    if (fn_parse_meta(code, len, &m, err) != 0)
        return -1;
    int rc = fn_load_parsed(s, code, len, &m, replace, err);
    fn_meta_release(&m);
    return rc;
}

static int fn_load_parsed(srv *s, const char *code, size_t len, const fn_meta *mp, int replace, kstr *err)
{
    fn_meta m = *mp;
    if (!fn_name_ok(m.name, m.name_len)) {
        *err = kstr_from_cstr("ERR " FN_ERR_NAME);
        return -1;
    }
    if (m.engine_len != 3 || strncasecmp(m.engine, "lua", 3) != 0) {
        *err = kstr_catfmt(kstr_empty(64), "ERR Engine '%.*s' not found", (int)m.engine_len, m.engine);
        return -1;
    }
    fn_registry *r = fn_registry_of(s);
    int old_idx = fn_library_index(r, m.name, m.name_len);
    if (old_idx >= 0 && !replace) {
        *err = kstr_catfmt(kstr_empty(64), "ERR Library '%.*s' already exists", (int)m.name_len, m.name);
        return -1;
    }
    fn_library *old = old_idx >= 0 ? fn_unlink(r, old_idx) : NULL;
    fn_library *lib = fn_library_create(s, code, len, &m, err);
    fn_function *clash = lib ? fn_collision(r, lib) : NULL;
    if (clash != NULL) {
        *err = kstr_catfmt(kstr_empty(64), "ERR Function %s already exists", clash->name);
        fn_library_free(s, lib);
        lib = NULL;
    }
    if (lib == NULL) {
        if (old != NULL)
            fn_link(r, old);
        return -1;
    }
    fn_library_free(s, old);
    fn_link(r, lib);
    return 0;
}

void function_flush_all(srv *s)
{
    fn_registry *r = s->functions;
    if (r == NULL)
        return;
    while (r->nlibs > 0)
        fn_library_free(s, fn_unlink(r, r->nlibs - 1));
}

size_t function_count(srv *s)
{
    fn_registry *r = s->functions;
    return r ? dict_size(r->by_name) : 0;
}

size_t function_library_count(srv *s)
{
    fn_registry *r = s->functions;
    return r ? (size_t)r->nlibs : 0;
}

void function_module_release(srv *s)
{
    fn_registry *r = s->functions;
    if (r == NULL)
        return;
    function_flush_all(s);
    dict_free(r->by_name);
    mem_free(r->libs);
    mem_free(r);
    s->functions = NULL;
}

int function_each_library(srv *s, function_code_fn *fn, void *priv)
{
    fn_registry *r = s->functions;
    for (int i = 0; r != NULL && i < r->nlibs; i++) {
        int rc = fn(priv, r->libs[i]->code, kstr_len(r->libs[i]->code));
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int fn_write_record(void *priv, const char *code, size_t len)
{
    return rdb_write_function(priv, code, len);
}

int function_write_rdb(srv *s, rdb_writer *w)
{
    return function_each_library(s, fn_write_record, w) != 0 ? -1 : 0;
}

/* ---- FUNCTION LOAD / DELETE / FLUSH ------------------------------------------- */

/* 7.0's answer to a subcommand given too many arguments; it names the
 * subcommand as the client spelled it. */
static void fn_reply_subcommand_syntax(client *c)
{
    const resp_arg *sub = &c->argv[1];
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try FUNCTION HELP.",
                 (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
}

/* FUNCTION LOAD and RESTORE carry DENYOOM in 7.0, which the container's
 * one table entry cannot say: refuse them here past maxmemory (our
 * master's stream is always applied). Returns 1 when refused. */
static int fn_refuse_oom(client *c)
{
    srv *s = c->srv;
    if (s->config.maxmemory == 0 || s->loading || (c->flags & CLIENT_MASTER))
        return 0;
    if (srv_evict_if_needed(s) == 0)
        return 0;
    reply_error(c, ERR_OOM);
    return 1;
}

/* LOAD, DELETE, FLUSH and RESTORE are write commands in 7.0, refused (in
 * its order) short of good replicas and on a read-only replica; the
 * container's one table entry cannot say so. Returns 1 when refused. */
static int fn_refuse_write(client *c)
{
    srv *s = c->srv;
    if (c->flags & CLIENT_MASTER)
        return 0;
    if (repl_lacks_good_replicas(s)) {
        reply_error(c, "NOREPLICAS Not enough good replicas to write.");
        return 1;
    }
    if (s->is_replica && s->config.replica_read_only) {
        reply_error(c, "READONLY You can't write against a read only replica.");
        return 1;
    }
    return 0;
}

static void fn_cmd_load(client *c)
{
    if (fn_refuse_oom(c) || fn_refuse_write(c))
        return;
    int replace = 0;
    for (int i = 2; i < c->argc - 1; i++) {
        if (!fn_arg_is(&c->argv[i], "replace")) {
            reply_errorf(c, "ERR Unknown option given: %.*s", (int)(c->argv[i].len > 128 ? 128 : c->argv[i].len),
                         c->argv[i].ptr);
            return;
        }
        replace = 1;
    }
    const resp_arg *code = &c->argv[c->argc - 1];
    kstr err = NULL;
    if (function_load_code(c->srv, code->ptr, code->len, replace, &err) != 0) {
        reply_error(c, err);
        kstr_free(err);
        return;
    }
    fn_meta m;
    kstr ignored = NULL;
    if (fn_parse_meta(code->ptr, code->len, &m, &ignored) != 0) {
        kstr_free(ignored);   /* cannot happen: it was just loaded */
        reply_error(c, "ERR Invalid library metadata");
        return;
    }
    c->srv->dirty++;
    reply_bulk(c, m.name, m.name_len);
    fn_meta_release(&m);
}

static void fn_cmd_delete(client *c)
{
    if (fn_refuse_write(c))
        return;
    fn_registry *r = fn_registry_of(c->srv);
    int idx = fn_library_index(r, c->argv[2].ptr, c->argv[2].len);
    if (idx < 0) {
        reply_error(c, "ERR Library not found");
        return;
    }
    fn_library_free(c->srv, fn_unlink(r, idx));
    c->srv->dirty++;
    reply_ok(c);
}

static void fn_cmd_flush(client *c)
{
    if (fn_refuse_write(c))
        return;
    if (c->argc > 3) {
        fn_reply_subcommand_syntax(c);
        return;
    }
    if (c->argc == 3 && !fn_arg_is(&c->argv[2], "async") && !fn_arg_is(&c->argv[2], "sync")) {
        reply_error(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    function_flush_all(c->srv);
    c->srv->dirty++;
    reply_ok(c);
}

/* ---- FUNCTION LIST / STATS ------------------------------------------------------ */

static void fn_reply_flags(client *c, int flags)
{
    int n = 0, f;
    for (int i = 0; script_lua_flag_name(i, &f) != NULL; i++)
        if (flags & f)
            n++;
    reply_set(c, n);
    const char *name;
    for (int i = 0; (name = script_lua_flag_name(i, &f)) != NULL; i++)
        if (flags & f)
            reply_simple(c, name);
}

static void fn_reply_function(client *c, const fn_function *f)
{
    reply_map(c, 3);
    reply_bulk_cstr(c, "name");
    reply_bulk_kstr(c, f->name);
    reply_bulk_cstr(c, "description");
    if (f->desc != NULL)
        reply_bulk_kstr(c, f->desc);
    else
        reply_null(c);
    reply_bulk_cstr(c, "flags");
    fn_reply_flags(c, f->flags);
}

static void fn_reply_library(client *c, const fn_library *lib, int with_code)
{
    reply_map(c, with_code ? 4 : 3);
    reply_bulk_cstr(c, "library_name");
    reply_bulk_kstr(c, lib->name);
    reply_bulk_cstr(c, "engine");
    reply_bulk_cstr(c, "LUA");
    reply_bulk_cstr(c, "functions");
    reply_array(c, lib->nfuncs);
    for (int i = 0; i < lib->nfuncs; i++)
        fn_reply_function(c, lib->funcs[i]);
    if (with_code) {
        reply_bulk_cstr(c, "library_code");
        reply_bulk_kstr(c, lib->code);
    }
}

static void fn_cmd_list(client *c)
{
    int with_code = 0;
    const resp_arg *pattern = NULL;
    for (int i = 2; i < c->argc; i++) {
        const resp_arg *a = &c->argv[i];
        if (!with_code && fn_arg_is(a, "withcode")) {
            with_code = 1;
        } else if (pattern == NULL && fn_arg_is(a, "libraryname")) {
            if (i == c->argc - 1) {
                reply_error(c, "ERR library name argument was not given");
                return;
            }
            pattern = &c->argv[++i];
        } else {
            reply_errorf(c, "ERR Unknown argument %.*s", (int)(a->len > 128 ? 128 : a->len), a->ptr);
            return;
        }
    }
    fn_registry *r = fn_registry_of(c->srv);
    int n = 0;
    for (int i = 0; i < r->nlibs; i++)
        if (pattern == NULL || strmatch_glob(pattern->ptr, pattern->len, r->libs[i]->name,
                                             kstr_len(r->libs[i]->name), 1))
            n++;
    reply_array(c, n);
    for (int i = 0; i < r->nlibs; i++)
        if (pattern == NULL || strmatch_glob(pattern->ptr, pattern->len, r->libs[i]->name,
                                             kstr_len(r->libs[i]->name), 1))
            fn_reply_library(c, r->libs[i], with_code);
}

static void fn_reply_running(client *c)
{
    script_running_info info;
    if (!script_running(c->srv, &info) || !info.is_function) {
        reply_null(c);
        return;
    }
    reply_map(c, 3);
    reply_bulk_cstr(c, "name");
    reply_bulk_cstr(c, info.name);
    reply_bulk_cstr(c, "command");
    reply_array(c, info.caller->argc);
    for (int i = 0; i < info.caller->argc; i++)
        reply_bulk(c, info.caller->argv[i].ptr, info.caller->argv[i].len);
    reply_bulk_cstr(c, "duration_ms");
    reply_int(c, info.duration_ms);
}

static void fn_cmd_stats(client *c)
{
    reply_map(c, 2);
    reply_bulk_cstr(c, "running_script");
    fn_reply_running(c);
    reply_bulk_cstr(c, "engines");
    reply_map(c, 1);
    reply_bulk_cstr(c, "LUA");
    reply_map(c, 2);
    reply_bulk_cstr(c, "libraries_count");
    reply_int(c, (long long)function_library_count(c->srv));
    reply_bulk_cstr(c, "functions_count");
    reply_int(c, (long long)function_count(c->srv));
}

/* ---- FUNCTION DUMP / RESTORE ------------------------------------------------------ */

/* The libraries as FUNCTION2 records, then DUMP's footer: the payload
 * redis-server 7.0 gives for the same libraries. */
static void fn_cmd_dump(client *c)
{
    kstr out = kstr_empty(64);
    rdb_writer w;
    rdb_writer_init(&w, rdb_kstr_write, &out, c->srv->config.rdbcompression, 0);
    int rc = function_write_rdb(c->srv, &w);
    if (rc == 0)
        rc = rdb_write_flush(&w);
    rdb_writer_release(&w);
    if (rc != 0) {
        kstr_free(out);
        reply_error(c, "ERR DUMP failed to serialize the libraries");
        return;
    }
    out = rdb_dump_footer_append(out);
    reply_bulk_kstr(c, out);
    kstr_free(out);
}

enum { FN_RESTORE_APPEND, FN_RESTORE_REPLACE, FN_RESTORE_FLUSH };

/* Read every library of the payload into a detached list; -1 with *err. */
static int fn_restore_read(const unsigned char *p, size_t len, kstr **codes, int *ncodes, kstr *err)
{
    rdb_reader r;
    rdb_reader_init_mem(&r, p, len - RDB_DUMP_FOOTER_LEN);
    int rc = 0;
    while (rdb_reader_offset(&r) < len - RDB_DUMP_FOOTER_LEN) {
        unsigned op;
        if (rdb_read_opcode(&r, &op) != 0) {
            rc = -1;
            break;
        }
        if (op != RDB_OPCODE_FUNCTION2) {
            *err = kstr_from_cstr("ERR given type is not a function");
            rc = -1;
            break;
        }
        kstr code = rdb_read_string(&r);
        if (code == NULL) {
            rc = -1;
            break;
        }
        *codes = mem_realloc(*codes, sizeof(**codes) * (size_t)(*ncodes + 1));
        (*codes)[(*ncodes)++] = code;
    }
    if (rc != 0 && *err == NULL)
        *err = kstr_from_cstr("ERR payload is not valid");
    rdb_reader_release(&r);
    return rc;
}

/* Restore is all or nothing: the libraries are loaded into an empty
 * registry first, then merged by the policy; on any error the current
 * libraries are left as they were. */
static int fn_restore(srv *s, kstr *codes, int ncodes, int policy, kstr *err)
{
    fn_registry *r = fn_registry_of(s);
    fn_registry saved = *r;
    fn_registry fresh;
    memset(&fresh, 0, sizeof(fresh));
    fresh.by_name = dict_create(&dict_type_plain);
    *r = fresh;                                   /* load into the empty one */
    int rc = 0;
    for (int i = 0; i < ncodes && rc == 0; i++)
        rc = function_load_code(s, codes[i], kstr_len(codes[i]), 0, err);
    fresh = *r;
    *r = saved;
    if (rc == 0 && policy == FN_RESTORE_FLUSH)
        function_flush_all(s);
    for (int i = 0; rc == 0 && policy != FN_RESTORE_FLUSH && i < fresh.nlibs; i++) {
        int idx = fn_library_index(r, fresh.libs[i]->name, kstr_len(fresh.libs[i]->name));
        if (idx >= 0 && policy == FN_RESTORE_APPEND) {
            *err = kstr_catfmt(kstr_empty(64), "ERR Library %s already exists", fresh.libs[i]->name);
            rc = -1;
        }
    }
    /* Function names must not collide with the libraries kept. */
    for (int i = 0; rc == 0 && i < fresh.nlibs; i++) {
        for (int j = 0; rc == 0 && j < fresh.libs[i]->nfuncs; j++) {
            fn_function *f = fn_find(r, fresh.libs[i]->funcs[j]->name, kstr_len(fresh.libs[i]->funcs[j]->name));
            int replaced = f != NULL && policy == FN_RESTORE_REPLACE &&
                           fn_library_index(&fresh, f->lib->name, kstr_len(f->lib->name)) >= 0;
            if (f != NULL && !replaced) {
                *err = kstr_catfmt(kstr_empty(64), "ERR Function %s already exists", f->name);
                rc = -1;
            }
        }
    }
    for (int i = 0; i < fresh.nlibs; i++) {
        if (rc != 0) {
            fn_library_free(s, fresh.libs[i]);
            continue;
        }
        int idx = fn_library_index(r, fresh.libs[i]->name, kstr_len(fresh.libs[i]->name));
        if (idx >= 0)
            fn_library_free(s, fn_unlink(r, idx));
        fn_link(r, fresh.libs[i]);
    }
    mem_free(fresh.libs);
    dict_free(fresh.by_name);
    return rc;
}

static void fn_cmd_restore(client *c)
{
    if (fn_refuse_oom(c) || fn_refuse_write(c))
        return;
    int policy = FN_RESTORE_APPEND;
    if (c->argc == 4) {
        if (fn_arg_is(&c->argv[3], "append"))
            policy = FN_RESTORE_APPEND;
        else if (fn_arg_is(&c->argv[3], "replace"))
            policy = FN_RESTORE_REPLACE;
        else if (fn_arg_is(&c->argv[3], "flush"))
            policy = FN_RESTORE_FLUSH;
        else {
            reply_error(c, "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
            return;
        }
    } else if (c->argc > 4) {
        fn_reply_subcommand_syntax(c);
        return;
    }
    const unsigned char *p = (const unsigned char *)c->argv[2].ptr;
    size_t len = c->argv[2].len;
    if (!rdb_dump_footer_ok(p, len)) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    kstr *codes = NULL, err = NULL;
    int ncodes = 0;
    int rc = fn_restore_read(p, len, &codes, &ncodes, &err);
    if (rc == 0)
        rc = fn_restore(c->srv, codes, ncodes, policy, &err);
    for (int i = 0; i < ncodes; i++)
        kstr_free(codes[i]);
    mem_free(codes);
    if (rc != 0) {
        reply_error(c, err);
        kstr_free(err);
        return;
    }
    c->srv->dirty++;
    reply_ok(c);
}

/* ---- the commands ------------------------------------------------------------------ */

static void fn_cmd_help(client *c)
{
    static const char *lines[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        NULL,
    };
    reply_help(c, "FUNCTION", lines);
}

/* Subcommand arities are checked by the command table (cmd_subcommands). */
static void cmd_function(client *c)
{
    const resp_arg *sub = &c->argv[1];
    if (fn_arg_is(sub, "load"))
        fn_cmd_load(c);
    else if (fn_arg_is(sub, "delete"))
        fn_cmd_delete(c);
    else if (fn_arg_is(sub, "flush"))
        fn_cmd_flush(c);
    else if (fn_arg_is(sub, "list"))
        fn_cmd_list(c);
    else if (fn_arg_is(sub, "stats"))
        fn_cmd_stats(c);
    else if (fn_arg_is(sub, "dump"))
        fn_cmd_dump(c);
    else if (fn_arg_is(sub, "restore"))
        fn_cmd_restore(c);
    else if (fn_arg_is(sub, "kill"))
        script_kill(c, 1);
    else if (fn_arg_is(sub, "help"))
        fn_cmd_help(c);
    else
        reply_errorf(c, "ERR unknown subcommand '%.*s'. Try FUNCTION HELP.",
                     (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
}

static void fcall_generic(client *c, int ro_command)
{
    /* As EVAL: monitors see FCALL before the commands it runs. */
    monitor_feed_args(c, c->db->id, c->argc, c->argv);
    fn_registry *r = fn_registry_of(c->srv);
    fn_function *f = fn_find(r, c->argv[1].ptr, c->argv[1].len);
    if (f == NULL) {
        reply_error(c, "ERR Function not found");
        return;
    }
    script_fcall(c, f->ref, f->name, f->flags, ro_command);
}

static void cmd_fcall(client *c)
{
    fcall_generic(c, 0);
}

static void cmd_fcall_ro(client *c)
{
    fcall_generic(c, 1);
}

/* FUNCTION's subcommands that change libraries are writes (propagated as
 * themselves, counted dirty): the container carries CMD_MAY_REPLICATE and
 * they bump dirty. FCALL, like EVAL, propagates its effects only. */
const cmd_def function_commands[] = {
    {"function", cmd_function, -2, CMD_NOSCRIPT | CMD_MAY_REPLICATE, 0, 0, 0, "@slow @scripting"},
    {"fcall", cmd_fcall, -3, CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE, 0, 0, 0, "@slow @scripting"},
    {"fcall_ro", cmd_fcall_ro, -3, CMD_READONLY | CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE, 0, 0, 0,
     "@slow @scripting"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
