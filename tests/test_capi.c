/*
 * The public C API (include/lungo.h), in-process: lifecycle and the main
 * goroutine's steps, the on_shard hook, memory limits, service mode and
 * spawning from C, channels held by C (values, blocking, timeouts, close,
 * several C threads), deadlock detection around C-held channels,
 * shutdown with goroutines blocked or spinning, two runtimes at once,
 * misuse, lng_interrupt, lng_blocked, lng_status_string, and the
 * samples/embed program.
 *
 * Only the Criterion macros that tests/shim/criterion/criterion.h also
 * provides are used (the TSan build runs these tests under the shim).
 * Assertions are made on the test's thread only: helper threads record
 * what they saw and the test checks it after joining them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include "lungo.h"

#define T_TIMEOUT 60
#define WAIT_SECS 20.0     /* how long a test waits for an outcome that must come */

/* Under ThreadSanitizer a signal reaches a thread only when it enters an
   intercepted call: a worker spinning in Lua code (liblua is not
   instrumented) never sees SIGURG, so lng_interrupt of a running loop and
   lng_destroy with a spinning goroutine cannot work there. Those tests
   are skipped in the TSan build. */
#if defined(__SANITIZE_THREAD__)
#define LNG_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LNG_TSAN 1
#endif
#endif
#ifdef LNG_TSAN
#define SKIP_UNDER_TSAN() return
#else
#define SKIP_UNDER_TSAN() do {} while (0)
#endif

static const int WORKER_COUNTS[] = {1, 2, 4};
#define NCOUNTS 3

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms) {
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static int contains(const char *hay, const char *needle) {
  return hay && strstr(hay, needle) != NULL;
}

/* What the hook and the C functions it registers share with the test. */
typedef struct ctx {
  lng_runtime *rt;
  lng_channel *held;          /* for the c_* functions called from Lua */
  pthread_t creator;          /* the thread that called lng_new */
  atomic_int calls;           /* on_shard calls */
  atomic_int seen[8];         /* on_shard calls per worker index */
  atomic_int wrong_thread;    /* on_shard ran elsewhere than in lng_new's thread */
  atomic_int bad_ud;
} ctx;

static ctx *ctx_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

static int l_square(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  lua_pushinteger(L, n * n);
  return 1;
}

static int l_worker(lua_State *L) {
  lua_pushinteger(L, lua_tointeger(L, lua_upvalueindex(2)));
  return 1;
}

static void push_value(lua_State *L, const lng_value *v) {
  switch (v->type) {
    case LNG_TBOOLEAN: lua_pushboolean(L, v->boolean); break;
    case LNG_TINTEGER: lua_pushinteger(L, (lua_Integer)v->integer); break;
    case LNG_TNUMBER: lua_pushnumber(L, v->number); break;
    case LNG_TSTRING: lua_pushlstring(L, v->string, v->len); break;
    default: lua_pushnil(L); break;
  }
}

/* c_recv([timeout]) -> status, value: lng_recv on ctx->held from a worker. */
static int l_recv(lua_State *L) {
  ctx *c = ctx_of(L);
  double t = luaL_optnumber(L, 1, -1);
  lng_value v;
  int st = lng_recv(c->held, &v, t);
  lua_pushinteger(L, st);
  push_value(L, &v);
  lng_value_free(&v);
  return 2;
}

/* c_send(n, [timeout]) -> status: lng_send of an integer on ctx->held. */
static int l_send(lua_State *L) {
  ctx *c = ctx_of(L);
  lng_value v = lng_integer(luaL_checkinteger(L, 1));
  double t = luaL_optnumber(L, 2, -1);
  lua_pushinteger(L, lng_send(c->held, &v, t));
  return 1;
}

/* c_spawn(name, n) -> status: lng_spawn(rt, name, held, n) from a worker. */
static int l_spawn(lua_State *L) {
  ctx *c = ctx_of(L);
  lng_value args[2] = { lng_chanvalue(c->held), lng_integer(luaL_checkinteger(L, 2)) };
  lua_pushinteger(L, lng_spawn(c->rt, luaL_checkstring(L, 1), args, 2));
  return 1;
}

/* c_loaded_g(): checks, from C, that the registry's loaded table holds
   _G = the shard's base (C's global table, LUA_RIDX_GLOBALS, as in stock
   Lua: lauxlib names library functions through it), while package.loaded._G
   as Lua sees it is the running goroutine's globals (not the base) and
   agrees with _G read through the base, as module code reads it. Spawned as
   go(c_loaded_g), it runs in a goroutine that has no globals table until
   it asks. */
static atomic_int loaded_g_checks;
static int l_loaded_g(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_getfield(L, -2, "_G");
  if (!lua_rawequal(L, -1, -2)) return luaL_error(L, "the registry's loaded._G is not the base");
  lua_pop(L, 3);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  if (lua_getfield(L, -1, "_G") != LUA_TTABLE) return luaL_error(L, "package.loaded._G is no table");
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  if (lua_rawequal(L, -1, -2)) return luaL_error(L, "package.loaded._G is the shard's base");
  lua_pop(L, 1);
  lua_getglobal(L, "_G");
  if (!lua_rawequal(L, -1, -2)) return luaL_error(L, "_G ~= package.loaded._G");
  lua_pop(L, 1);
  lua_getfield(L, -1, "_G");
  if (!lua_rawequal(L, -1, -2)) return luaL_error(L, "_G._G ~= _G");
  lua_pop(L, 1);
  lua_getfield(L, -2, "_G");
  if (!lua_rawequal(L, -1, -2)) return luaL_error(L, "package.loaded._G changed");
  atomic_fetch_add(&loaded_g_checks, 1);
  return 0;
}

static void reg(lua_State *L, ctx *c, const char *name, lua_CFunction f) {
  lua_pushlightuserdata(L, c);
  lua_pushcclosure(L, f, 1);
  lua_setglobal(L, name);
}

static const char PRELOAD[] =
  "package.preload.cmod = function(name)\n"
  "  return { name = name,\n"
  "           triple = function(ch, n) ch:send(n * 3) end,\n"
  "           fail = function() error('cmod failure') end }\n"
  "end\n"
  "function gsquare(ch, n) ch:send(n * n) end\n";

static void hook(lua_State *L, int worker, void *ud) {
  ctx *c = ud;
  if (!c) return;
  atomic_fetch_add(&c->calls, 1);
  if (worker >= 0 && worker < 8) atomic_fetch_add(&c->seen[worker], 1);
  if (!pthread_equal(pthread_self(), c->creator)) atomic_store(&c->wrong_thread, 1);
  lua_register(L, "c_square", l_square);
  lua_pushlightuserdata(L, c);
  lua_pushinteger(L, worker);
  lua_pushcclosure(L, l_worker, 2);
  lua_setglobal(L, "c_worker");
  reg(L, c, "c_recv", l_recv);
  reg(L, c, "c_send", l_send);
  reg(L, c, "c_spawn", l_spawn);
  lua_register(L, "c_loaded_g", l_loaded_g);
  if (luaL_dostring(L, PRELOAD) != LUA_OK) atomic_store(&c->bad_ud, 1);
}

/* A runtime with the hook; c may be NULL (then no hook). */
static lng_runtime *new_rt(int workers, int service, ctx *c) {
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = workers;
  cfg.service = service;
  if (c) {
    memset(c, 0, sizeof *c);
    c->creator = pthread_self();
    cfg.on_shard = hook;
    cfg.ud = c;
  }
  lng_runtime *rt = lng_new(&cfg);
  cr_assert_not_null(rt, "lng_new failed");
  if (c) c->rt = rt;
  return rt;
}

static int add_code(lng_runtime *rt, const char *code, const char *name) {
  return lng_main_string(rt, code, strlen(code), name);
}

static int set_chan(lng_runtime *rt, const char *name, lng_channel *ch) {
  lng_value v = lng_chanvalue(ch);
  return lng_set_global(rt, name, &v);
}

/* lng_wait on a helper thread, so that a test can give up on it. */
typedef struct waiter {
  lng_runtime *rt;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done, status;
} waiter;

static void *waiter_main(void *p) {
  waiter *w = p;
  int st = lng_wait(w->rt);
  pthread_mutex_lock(&w->mu);
  w->status = st;
  w->done = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static void waiter_start(waiter *w, lng_runtime *rt) {
  memset(w, 0, sizeof *w);
  w->rt = rt;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  cr_assert_eq(pthread_create(&w->thread, NULL, waiter_main, w), 0);
}

static int waiter_done(waiter *w) {
  pthread_mutex_lock(&w->mu);
  int d = w->done;
  pthread_mutex_unlock(&w->mu);
  return d;
}

/* The status lng_wait returned within secs, or -1 (the runtime is then
   stopped with lng_stop so that the helper thread ends). */
static int waiter_finish(waiter *w, double secs) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double end = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + secs;
  ts.tv_sec = (time_t)end;
  ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
  pthread_mutex_lock(&w->mu);
  while (!w->done)
    if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT) break;
  int done = w->done;
  pthread_mutex_unlock(&w->mu);
  if (!done) lng_stop(w->rt);
  pthread_join(w->thread, NULL);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  return done ? w->status : -1;
}

static int wait_for(lng_runtime *rt, double secs) {
  waiter w;
  waiter_start(&w, rt);
  return waiter_finish(&w, secs);
}

/* Non-blocking operations retried until one does not time out (a goroutine
   reached the other side): a way to meet a goroutine without lng_blocked. */
static int poll_send(lng_channel *ch, const lng_value *v) {
  double end = now_sec() + WAIT_SECS;
  int st;
  while ((st = lng_send(ch, v, 0)) == LNG_TIMEOUT && now_sec() < end) sleep_ms(1);
  return st;
}

static int poll_recv(lng_channel *ch, lng_value *v) {
  double end = now_sec() + WAIT_SECS;
  int st;
  while ((st = lng_recv(ch, v, 0)) == LNG_TIMEOUT && now_sec() < end) sleep_ms(1);
  return st;
}

/* Polls lng_blocked until it says 1; returns whether it did. */
static int wait_blocked(lng_runtime *rt, double secs) {
  double end = now_sec() + secs;
  while (now_sec() < end) {
    if (lng_blocked(rt)) return 1;
    sleep_ms(1);
  }
  return lng_blocked(rt);
}

static char msgbuf[16384];

/* Runs code as the main goroutine; returns the status, message in msgbuf. */
static int run_code(int workers, const char *code, int *exit_code) {
  ctx c;
  lng_runtime *rt = new_rt(workers, 0, &c);
  cr_assert_eq(add_code(rt, code, "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int st = wait_for(rt, WAIT_SECS);
  cr_assert_neq(st, -1, "the program did not end");
  cr_assert_eq(lng_status(rt), st);
  snprintf(msgbuf, sizeof msgbuf, "%s", lng_message(rt));
  if (exit_code) *exit_code = lng_exit_code(rt);
  lng_destroy(rt);
  return st;
}

/* Receives an integer from ch (blocking, bounded) and returns it. */
static long long recv_int(lng_channel *ch) {
  lng_value v;
  int st = lng_recv(ch, &v, WAIT_SECS);
  cr_assert_eq(st, LNG_OK, "lng_recv: %s", lng_status_string(st));
  cr_assert_eq(v.type, LNG_TINTEGER, "received type %d", v.type);
  return v.integer;
}

/* Receives a string from ch into buf (blocking, bounded). */
static void recv_str(lng_channel *ch, char *buf, size_t n) {
  lng_value v;
  int st = lng_recv(ch, &v, WAIT_SECS);
  cr_assert_eq(st, LNG_OK, "lng_recv: %s", lng_status_string(st));
  cr_assert_eq(v.type, LNG_TSTRING, "received type %d", v.type);
  snprintf(buf, n, "%s", v.string);
  lng_value_free(&v);
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */

Test(capi, config_defaults, .timeout = T_TIMEOUT) {
  lng_config cfg;
  memset(&cfg, 0x5a, sizeof cfg);
  lng_config_init(&cfg);
  cr_assert_eq(cfg.workers, 0);
  cr_assert_eq(cfg.mem_limit, 0);
  cr_assert_null((void *)cfg.on_shard);
  cr_assert_null(cfg.ud);
  cr_assert_eq(cfg.service, 0);
  cr_assert_geq(lng_cpu_count(), 1);
  cr_assert_str_eq(LUNGO_VERSION, "lungo 0.1");
}

Test(capi, worker_counts, .timeout = T_TIMEOUT) {
  char code[128];
  for (int i = 0; i < NCOUNTS; i++) {
    int n = WORKER_COUNTS[i];
    snprintf(code, sizeof code, "assert(go.workers() == %d, go.workers())", n);
    int st = run_code(n, code, NULL);
    cr_assert_eq(st, LNG_OK, "%d workers: %s", n, msgbuf);
  }
  /* 0: one per CPU */
  snprintf(code, sizeof code, "assert(go.workers() == %d, go.workers())", lng_cpu_count());
  cr_assert_eq(run_code(0, code, NULL), LNG_OK, "%s", msgbuf);
  /* lng_new(NULL): the defaults */
  lng_runtime *rt = lng_new(NULL);
  cr_assert_not_null(rt);
  cr_assert_eq(add_code(rt, code, "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_destroy(rt);
  /* a bad config */
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = -1;
  cr_assert_null(lng_new(&cfg));
}

Test(capi, new_destroy_without_start, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], i == 1, &c);
    cr_assert_eq(add_code(rt, "print('never')", "=main"), LNG_OK);
    cr_assert_eq(lng_main_file(rt, "/nonexistent/never.lua"), LNG_OK);
    cr_assert_eq(lng_main_require(rt, "cmod", NULL), LNG_OK);
    lng_channel *ch = lng_channel_new(rt, 2);
    cr_assert_not_null(ch);
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    lng_value v = lng_string("kept", 4);
    cr_assert_eq(lng_send(ch, &v, 0), LNG_OK);       /* a buffered value, never received */
    /* before the start: nothing runs, nothing ends */
    cr_assert_eq(lng_wait(rt), LNG_ERRMISUSE);
    cr_assert_eq(lng_stop(rt), LNG_ERRMISUSE);
    cr_assert_eq(lng_interrupt(rt), LNG_ERRMISUSE);
    cr_assert_eq(lng_blocked(rt), 0);
    cr_assert_eq(lng_status(rt), LNG_OK);
    cr_assert_eq(lng_exit_code(rt), 0);
    cr_assert_str_eq(lng_message(rt), "");
    lng_channel_release(ch);
    lng_destroy(rt);
    cr_assert_eq(atomic_load(&c.calls), WORKER_COUNTS[i]);
  }
  lng_destroy(NULL);
}

static const char MODFILE_CODE[] =
  "trace[#trace + 1] = 'file:' .. table.concat({...}, ',')\n"
  "assert(arg[0] == SCRIPT and arg[1] == 'a' and arg[2] == 'b' and arg[-1] == 'prog')\n";

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
}

Test(capi, main_steps_in_order, .timeout = T_TIMEOUT) {
  char path[64], code[256];
  snprintf(path, sizeof path, "/tmp/lungo-capi-%d.lua", (int)getpid());
  write_file(path, MODFILE_CODE);
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 4);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  char prog[] = "prog", a[] = "a", b[] = "b";
  char *argv[] = { prog, path, a, b, NULL };
  cr_assert_eq(lng_main_args(rt, 4, argv, 1), LNG_OK);
  snprintf(code, sizeof code, "trace = {'s1'}; SCRIPT = '%s'", path);
  cr_assert_eq(add_code(rt, code, "=s1"), LNG_OK);
  cr_assert_eq(lng_main_require(rt, "cmod", "mm"), LNG_OK);
  cr_assert_eq(lng_main_require(rt, "cmod", NULL), LNG_OK);
  cr_assert_eq(add_code(rt, "trace[#trace + 1] = mm.name .. '/' .. cmod.name", "=s2"), LNG_OK);
  cr_assert_eq(lng_main_file(rt, path), LNG_OK);
  cr_assert_eq(add_code(rt, "out:send(table.concat(trace, ' '))", "=s3"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  char got[256];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, "s1 cmod/cmod file:a,b");
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  cr_assert_str_eq(lng_message(rt), "");
  cr_assert_eq(lng_exit_code(rt), 0);
  lng_channel_release(out);
  lng_destroy(rt);
  unlink(path);
}

Test(capi, main_args_without_script, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(1, 0, &c);
  char p[] = "prog", e[] = "-e";
  char *argv[] = { p, e, NULL };
  cr_assert_eq(lng_main_args(rt, 2, argv, 2), LNG_OK);   /* script == argc: no script */
  cr_assert_eq(add_code(rt, "assert(arg[0] == 'prog' and arg[1] == '-e' and arg[-1] == nil)"
                            "assert(select('#', ...) == 0)", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_destroy(rt);
}

Test(capi, main_file_stdin, .timeout = T_TIMEOUT) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/lungo-capi-stdin-%d.lua", (int)getpid());
  write_file(path, "out:send('from stdin ' .. go.id())\n");
  int fd = open(path, O_RDONLY);
  cr_assert_geq(fd, 0);
  cr_assert_geq(dup2(fd, 0), 0);
  close(fd);
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 1);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(lng_main_file(rt, NULL), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  char got[64];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, "from stdin 1");
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_channel_release(out);
  lng_destroy(rt);
  unlink(path);
}

Test(capi, error_syntax, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 4);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(add_code(rt, "out:send('step 1 ran')", "=first"), LNG_OK);
  cr_assert_eq(add_code(rt, "x = = 1", "=bad"), LNG_OK);
  cr_assert_eq(add_code(rt, "out:send('step 3 ran') os.exit(7)", "=third"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int st = wait_for(rt, WAIT_SECS);
  cr_assert_eq(st, LNG_ERRSYNTAX, "%s: %s", lng_status_string(st), lng_message(rt));
  cr_assert(contains(lng_message(rt), "bad:1:"), "%s", lng_message(rt));
  cr_assert(contains(lng_message(rt), "near '='"), "%s", lng_message(rt));
  cr_assert_eq(lng_exit_code(rt), 1);
  char got[64];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, "step 1 ran");
  lng_value v;
  cr_assert_eq(lng_recv(out, &v, 0), LNG_TIMEOUT, "a step after the failing one ran");
  lng_channel_release(out);
  lng_destroy(rt);
}

Test(capi, error_file, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(1, 0, &c);
  cr_assert_eq(lng_main_file(rt, "/nonexistent/dir/missing.lua"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int st = wait_for(rt, WAIT_SECS);
  cr_assert_eq(st, LNG_ERRFILE, "%s: %s", lng_status_string(st), lng_message(rt));
  cr_assert(contains(lng_message(rt), "missing.lua"), "%s", lng_message(rt));
  cr_assert_eq(lng_exit_code(rt), 1);
  lng_destroy(rt);
}

Test(capi, error_runtime, .timeout = T_TIMEOUT) {
  int code;
  int st = run_code(2, "local function f(x)\n  error('boom ' .. x)\nend\nf(42)\n", &code);
  cr_assert_eq(st, LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "main:2: boom 42"), "%s", msgbuf);
  cr_assert(contains(msgbuf, "stack traceback:"), "%s", msgbuf);
  cr_assert(contains(msgbuf, "main:4:"), "%s", msgbuf);
  cr_assert_eq(code, 1);
  /* error values that are not strings */
  st = run_code(1, "error({})", NULL);
  cr_assert_eq(st, LNG_ERRRUN);
  cr_assert(contains(msgbuf, "error object is a table value"), "%s", msgbuf);
  st = run_code(1, "error(setmetatable({}, {__tostring = function() return 'custom' end}))", NULL);
  cr_assert_eq(st, LNG_ERRRUN);
  cr_assert(contains(msgbuf, "custom"), "%s", msgbuf);
  /* in a goroutine started by Lua: the goroutine's id comes first */
  st = run_code(2, "local c = chan()\ngo(function() error('in goroutine') end)\nc:recv()\n", NULL);
  cr_assert_eq(st, LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "goroutine 2: main:2: in goroutine"), "%s", msgbuf);
}

Test(capi, os_exit, .timeout = T_TIMEOUT) {
  int code;
  cr_assert_eq(run_code(2, "os.exit(3)", &code), LNG_EXIT);
  cr_assert_eq(code, 3);
  cr_assert_eq(run_code(1, "os.exit(true)", &code), LNG_EXIT);
  cr_assert_eq(code, 0);
  cr_assert_eq(run_code(1, "os.exit(false)", &code), LNG_EXIT);
  cr_assert_eq(code, 1);
  cr_assert_eq(run_code(1, "os.exit()", &code), LNG_EXIT);
  cr_assert_eq(code, 0);
  /* from a goroutine while main waits */
  for (int i = 0; i < NCOUNTS; i++) {
    int st = run_code(WORKER_COUNTS[i],
                      "local c = chan()\ngo(function() go.sleep(0.01) os.exit(5) end)\nc:recv()\n", &code);
    cr_assert_eq(st, LNG_EXIT, "%s", msgbuf);
    cr_assert_eq(code, 5);
  }
  /* a normal end */
  cr_assert_eq(run_code(2, "local x = 1", &code), LNG_OK);
  cr_assert_eq(code, 0);
  cr_assert_str_eq(msgbuf, "");
}

Test(capi, deadlock_report, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    int code;
    int st = run_code(WORKER_COUNTS[i],
                      "local a, b = chan(), chan()\n"
                      "go(function() b:send(1) end)\n"
                      "a:recv()\n", &code);
    cr_assert_eq(st, LNG_DEADLOCK, "%s", msgbuf);
    cr_assert_eq(strncmp(msgbuf, "fatal error: all goroutines are asleep - deadlock!", 50), 0,
                 "%s", msgbuf);
    cr_assert(contains(msgbuf, "goroutine 1 [chan receive]:\n\tmain:3"), "%s", msgbuf);
    cr_assert(contains(msgbuf, "goroutine 2 [chan send]:\n\tmain:2"), "%s", msgbuf);
    cr_assert_eq(code, 1);
  }
}

/* ------------------------------------------------------------------ */
/* the on_shard hook                                                   */

Test(capi, on_shard_once_per_worker, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    int n = WORKER_COUNTS[i];
    ctx c;
    lng_runtime *rt = new_rt(n, 0, &c);
    cr_assert_eq(atomic_load(&c.calls), n);
    for (int w = 0; w < n; w++) cr_assert_eq(atomic_load(&c.seen[w]), 1, "worker %d", w);
    cr_assert_eq(atomic_load(&c.wrong_thread), 0);
    cr_assert_eq(atomic_load(&c.bad_ud), 0);
    /* each shard got its own registration: c_worker() is the shard's index */
    cr_assert_eq(add_code(rt,
                          "local done = chan()\n"
                          "for i = 1, 64 do\n"
                          "  go(function()\n"
                          "    for k = 1, 10 do\n"
                          "      assert(c_worker() == go.worker() - 1)\n"
                          "      assert(c_square(k) == k * k)\n"
                          "      go.yield()\n"
                          "    end\n"
                          "    done:send(true)\n"
                          "  end)\n"
                          "end\n"
                          "for i = 1, 64 do done:recv() end\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_destroy(rt);
    cr_assert_eq(atomic_load(&c.calls), n, "the hook ran again after lng_new");
  }
}

/* package.loaded._G from C, in the main goroutine and in goroutines
   whose function (a C function) gives them no globals table up front */
Test(capi, loaded_g_is_the_goroutines_globals, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    atomic_store(&loaded_g_checks, 0);
    cr_assert_eq(add_code(rt,
                          "c_loaded_g()\n"
                          "for i = 1, 32 do go(c_loaded_g) end\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_destroy(rt);
    cr_assert_eq(atomic_load(&loaded_g_checks), 33);
  }
}

/* ------------------------------------------------------------------ */
/* memory limit                                                        */

static const char HOG[] =
  "local t = {}\n"
  "for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end\n";

Test(capi, mem_limit_uncaught, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    lng_config cfg;
    lng_config_init(&cfg);
    cfg.workers = WORKER_COUNTS[i];
    cfg.mem_limit = 4u << 20;
    lng_runtime *rt = lng_new(&cfg);
    cr_assert_not_null(rt);
    cr_assert_eq(add_code(rt, HOG, "=hog"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    int st = wait_for(rt, WAIT_SECS);
    cr_assert(st == LNG_ERRMEM || (st == LNG_ERRRUN && contains(lng_message(rt), "not enough memory")),
              "status %d: %s", st, lng_message(rt));
    lng_destroy(rt);
  }
}

Test(capi, mem_limit_caught_runtime_usable, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    lng_config cfg;
    lng_config_init(&cfg);
    cfg.workers = WORKER_COUNTS[i];
    cfg.mem_limit = 4u << 20;
    lng_runtime *rt = lng_new(&cfg);
    cr_assert_not_null(rt);
    lng_channel *out = lng_channel_new(rt, 4);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "local ok, err = pcall(function()\n"
                          "  local t = {}\n"
                          "  for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end\n"
                          "end)\n"
                          "assert(not ok)\n"
                          "out:send(tostring(err))\n"
                          "collectgarbage()\n"
                          "local res = chan()\n"
                          "for k = 1, 20 do go(function(n) res:send(n * n) end, k) end\n"
                          "local sum = 0\n"
                          "for k = 1, 20 do sum = sum + res:recv() end\n"
                          "out:send(sum)\n", "=mem"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    char err[256];
    recv_str(out, err, sizeof err);
    cr_assert(contains(err, "not enough memory"), "%s", err);
    cr_assert_eq(recv_int(out), 2870);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(out);
    lng_destroy(rt);
  }
}

/* BUG (vm/shard.c:176, lng_shard_open): luaL_openlibs runs unprotected, so
   a memory limit too small for a shard makes Lua panic and shard_panic
   (vm/shard.c:162) abort() the whole process, instead of lng_new
   returning NULL as lungo.h promises. */
Test(capi, mem_limit_too_small_for_a_shard, .timeout = T_TIMEOUT) {
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = 1;
  cfg.mem_limit = 16 * 1024;                              /* a shard needs about 28 KB */
  lng_runtime *rt = lng_new(&cfg);
  cr_assert_null(rt, "lng_new with a limit too small for a shard");
}

/* BUG (vm/gor.c:279-284, goroutine_failed): the error message and its
   traceback are built on the shard's main thread outside any protected
   call; when an out-of-memory error leaves no headroom (many small
   allocations), luaL_traceback's own allocation fails, Lua panics and
   shard_panic aborts the process. */
Test(capi, mem_limit_error_without_headroom, .timeout = T_TIMEOUT) {
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = 1;
  cfg.mem_limit = 1u << 20;
  lng_runtime *rt = lng_new(&cfg);
  cr_assert_not_null(rt);
  cr_assert_eq(add_code(rt, "local l\nwhile true do l = {l} end\n", "=hog"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int st = wait_for(rt, WAIT_SECS);
  cr_assert(st == LNG_ERRMEM || (st == LNG_ERRRUN && contains(lng_message(rt), "not enough memory")),
            "status %d: %s", st, lng_message(rt));
  lng_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* service mode and spawning from C                                    */

Test(capi, service_spawn_and_stop, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 1, &c);
    lng_channel *ch = lng_channel_new(rt, 0);
    cr_assert_eq(lng_start(rt), LNG_OK);
    waiter w;
    waiter_start(&w, rt);
    /* no goroutine is left, yet the program goes on */
    sleep_ms(100);
    cr_assert_eq(waiter_done(&w), 0, "lng_wait returned in service mode");
    cr_assert_eq(lng_status(rt), LNG_OK);

    lng_value args[2] = { lng_chanvalue(ch), lng_integer(7) };
    cr_assert_eq(lng_spawn(rt, "gsquare", args, 2), LNG_OK);
    cr_assert_eq(recv_int(ch), 49);
    args[1] = lng_integer(5);
    cr_assert_eq(lng_spawn(rt, "cmod.triple", args, 2), LNG_OK);
    cr_assert_eq(recv_int(ch), 15);
    static const char code[] = "local ch, a, b = ...\nch:send(a + b + go.id() * 0)\n";
    lng_value sargs[3] = { lng_chanvalue(ch), lng_integer(2), lng_integer(3) };
    cr_assert_eq(lng_spawn_string(rt, code, sizeof code - 1, "=spawned", sargs, 3), LNG_OK);
    cr_assert_eq(recv_int(ch), 5);
    /* no arguments, no chunk name */
    static const char code2[] = "assert(select('#', ...) == 0)";
    cr_assert_eq(lng_spawn_string(rt, code2, sizeof code2 - 1, NULL, NULL, 0), LNG_OK);
    /* many at once */
    for (int k = 1; k <= 100; k++) {
      args[1] = lng_integer(k);
      cr_assert_eq(lng_spawn(rt, k % 2 ? "gsquare" : "cmod.triple", args, 2), LNG_OK);
    }
    long long sum = 0;
    for (int k = 1; k <= 100; k++) sum += recv_int(ch);
    long long expect = 0;
    for (int k = 1; k <= 100; k++) expect += k % 2 ? k * k : 3 * k;
    cr_assert_eq(sum, expect);

    sleep_ms(20);
    cr_assert_eq(waiter_done(&w), 0);
    cr_assert_eq(lng_stop(rt), LNG_OK);
    cr_assert_eq(waiter_finish(&w, WAIT_SECS), LNG_OK);
    cr_assert_eq(lng_status(rt), LNG_OK);
    cr_assert_str_eq(lng_message(rt), "");
    cr_assert_eq(lng_stop(rt), LNG_OK);                     /* again: no effect */
    cr_assert_eq(lng_spawn(rt, "gsquare", args, 2), LNG_ERRMISUSE);
    cr_assert_eq(lng_spawn_string(rt, code, sizeof code - 1, NULL, sargs, 3), LNG_ERRMISUSE);
    lng_channel_release(ch);
    lng_destroy(rt);
  }
}

Test(capi, service_with_main_chunk, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *ch = lng_channel_new(rt, 1);
  cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
  cr_assert_eq(add_code(rt, "ch:send('main done')", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  char got[64];
  recv_str(ch, got, sizeof got);
  cr_assert_str_eq(got, "main done");
  sleep_ms(50);
  cr_assert_eq(lng_status(rt), LNG_OK);
  /* the global set before the start is seen by goroutines spawned now */
  static const char code[] = "ch:send(c_square(9))";
  cr_assert_eq(lng_spawn_string(rt, code, sizeof code - 1, "=late", NULL, 0), LNG_OK);
  cr_assert_eq(recv_int(ch), 81);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_channel_release(ch);
  lng_destroy(rt);
}

Test(capi, spawn_into_running_program, .timeout = T_TIMEOUT) {
  /* not a service: the program ends when main and the spawned ones end */
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *ch = lng_channel_new(rt, 0), *g = lng_channel_new(rt, 0);
  cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
  cr_assert_eq(set_chan(rt, "g", g), LNG_OK);
  cr_assert_eq(add_code(rt, "local n = g:recv()\nch:send(n + 1)\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value args[2] = { lng_chanvalue(g), lng_integer(4) };
  cr_assert_eq(lng_spawn(rt, "gsquare", args, 2), LNG_OK);   /* sends 16 to main */
  cr_assert_eq(recv_int(ch), 17);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_channel_release(ch);
  lng_channel_release(g);
  lng_destroy(rt);
}

/* Spawns in a fresh service runtime and returns the status it ends with. */
static int spawn_fails(const char *function, const char *code) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value arg = lng_integer(1);
  if (function) cr_assert_eq(lng_spawn(rt, function, &arg, 1), LNG_OK);
  else cr_assert_eq(lng_spawn_string(rt, code, strlen(code), "=sp", &arg, 1), LNG_OK);
  int st = wait_for(rt, WAIT_SECS);
  snprintf(msgbuf, sizeof msgbuf, "%s", lng_message(rt));
  lng_destroy(rt);
  return st;
}

Test(capi, spawn_errors, .timeout = T_TIMEOUT) {
  cr_assert_eq(spawn_fails("nosuch", NULL), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "'nosuch' is not a function"), "%s", msgbuf);
  cr_assert_eq(spawn_fails("nomod.f", NULL), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "module 'nomod' not found"), "%s", msgbuf);
  cr_assert_eq(spawn_fails("cmod.nosuch", NULL), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "'cmod.nosuch' is not a function"), "%s", msgbuf);
  cr_assert_eq(spawn_fails("cmod.fail", NULL), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "cmod failure"), "%s", msgbuf);
  cr_assert(contains(msgbuf, "stack traceback:"), "%s", msgbuf);
  cr_assert_eq(spawn_fails(NULL, "local x = = 1"), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "sp:1:"), "%s", msgbuf);
  cr_assert_eq(spawn_fails(NULL, "local n = ...\nerror('spawned ' .. n)"), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "goroutine 2: sp:2: spawned 1"), "%s", msgbuf);
  cr_assert(contains(msgbuf, "stack traceback:"), "%s", msgbuf);
  cr_assert_eq(spawn_fails(NULL, "os.exit(9)"), LNG_EXIT, "%s", msgbuf);
}

/* ------------------------------------------------------------------ */
/* channels: values                                                    */

static const char ECHO[] =
  "local inp, out = ...\n"
  "for v in inp:range() do\n"
  "  out:send(v)\n"
  "  local d = type(v)\n"
  "  if math.type(v) == 'integer' then d = 'integer:' .. v\n"
  "  elseif d == 'number' then d = 'float:' .. string.format('%.17g', v)\n"
  "  elseif d == 'string' then d = 'string:' .. #v\n"
  "  elseif d == 'boolean' then d = tostring(v)\n"
  "  elseif d == 'userdata' then d = tostring(v):match('^channel') or d end\n"
  "  out:send(d)\n"
  "end\n";

static void check_desc(lng_channel *out, const char *want) {
  char got[128];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, want);
}

Test(capi, values_c_to_lua_and_back, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 1, &c);
    lng_channel *inp = lng_channel_new(rt, 0), *out = lng_channel_new(rt, 2);
    lng_channel *other = lng_channel_new(rt, 1);
    cr_assert_eq(lng_start(rt), LNG_OK);
    lng_value args[2] = { lng_chanvalue(inp), lng_chanvalue(out) };
    cr_assert_eq(lng_spawn_string(rt, ECHO, sizeof ECHO - 1, "=echo", args, 2), LNG_OK);

    static const char bin[] = "a\0b\0\xff";
    char *big = malloc(100001);
    for (int k = 0; k < 100000; k++) big[k] = (char)(k % 251);
    big[100000] = 0;
    lng_value vals[] = {
      lng_boolean(1), lng_boolean(0), lng_boolean(42),
      lng_integer(0), lng_integer(-7), lng_integer(LLONG_MAX), lng_integer(LLONG_MIN),
      lng_number(1.5), lng_number(3.0), lng_number(-0.0), lng_number(1e300),
      lng_string(bin, 5), lng_string("", 0), lng_string(NULL, 0), lng_string(big, 100000),
      lng_chanvalue(other),
    };
    const char *desc[] = {
      "true", "false", "true",
      "integer:0", "integer:-7", "integer:9223372036854775807", "integer:-9223372036854775808",
      "float:1.5", "float:3", "float:-0", "float:1.0000000000000001e+300",
      "string:5", "string:0", "string:0", "string:100000",
      "channel",
    };
    int n = (int)(sizeof vals / sizeof vals[0]);
    for (int k = 0; k < n; k++) {
      cr_assert_eq(lng_send(inp, &vals[k], WAIT_SECS), LNG_OK, "value %d", k);
      lng_value back;
      cr_assert_eq(lng_recv(out, &back, WAIT_SECS), LNG_OK, "value %d", k);
      int want = vals[k].type;
      cr_assert_eq(back.type, want, "value %d came back as type %d", k, back.type);
      switch (want) {
        case LNG_TBOOLEAN: cr_assert_eq(back.boolean, vals[k].boolean != 0); break;
        case LNG_TINTEGER: cr_assert_eq(back.integer, vals[k].integer); break;
        case LNG_TNUMBER:
          cr_assert_eq(memcmp(&back.number, &vals[k].number, sizeof(double)), 0, "value %d", k);
          break;
        case LNG_TSTRING:
          cr_assert_eq(back.len, vals[k].len);
          cr_assert_not_null(back.string);
          cr_assert_eq(back.string[back.len], 0, "a received string ends with a 0");
          if (back.len) cr_assert_eq(memcmp(back.string, vals[k].string, back.len), 0);
          break;
        case LNG_TCHANNEL: {
          /* a handle of the same channel: usable both ways */
          cr_assert_not_null(back.channel);
          lng_value x = lng_integer(1234), y;
          cr_assert_eq(lng_send(back.channel, &x, 0), LNG_OK);
          cr_assert_eq(lng_recv(other, &y, 0), LNG_OK);
          cr_assert_eq(y.integer, 1234);
          cr_assert_eq(lng_send(other, &x, 0), LNG_OK);
          cr_assert_eq(lng_recv(back.channel, &y, 0), LNG_OK);
          cr_assert_eq(y.integer, 1234);
          break;
        }
      }
      lng_value_free(&back);
      cr_assert_eq(back.type, LNG_TNIL);
      check_desc(out, desc[k]);
    }
    free(big);
    cr_assert_eq(lng_close(inp), LNG_OK);
    cr_assert_eq(lng_stop(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(inp);
    lng_channel_release(out);
    lng_channel_release(other);
    lng_destroy(rt);
  }
}

Test(capi, values_lua_to_c, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 0);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(add_code(rt,
                        "out:send(1)\n"
                        "out:send(1.0)\n"
                        "out:send(2^63)\n"
                        "out:send(math.maxinteger)\n"
                        "out:send(math.mininteger)\n"
                        "out:send(-1.25)\n"
                        "out:send('a\\0b\\0')\n"
                        "out:send('')\n"
                        "out:send(true)\n"
                        "out:send(false)\n"
                        "local mine = chan(1)\n"
                        "out:send(mine)\n"
                        "out:send('got ' .. mine:recv())\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value v;
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TINTEGER && v.integer == 1);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TNUMBER && v.number == 1.0, "1.0 came as type %d", v.type);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TNUMBER && v.number == 9223372036854775808.0);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TINTEGER && v.integer == LLONG_MAX);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TINTEGER && v.integer == LLONG_MIN);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TNUMBER && v.number == -1.25);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TSTRING && v.len == 4 && memcmp(v.string, "a\0b\0", 5) == 0);
  lng_value_free(&v);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TSTRING && v.len == 0 && v.string && v.string[0] == 0);
  lng_value_free(&v);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TBOOLEAN && v.boolean == 1);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TBOOLEAN && v.boolean == 0);
  /* a channel made in Lua, used from C */
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert_eq(v.type, LNG_TCHANNEL);
  lng_value x = lng_string("from C", 6);
  cr_assert_eq(lng_send(v.channel, &x, WAIT_SECS), LNG_OK);
  lng_value_free(&v);
  char got[64];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, "got from C");
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_channel_release(out);
  lng_destroy(rt);
}

Test(capi, set_global_values, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_value v;
  v = lng_integer(3);
  cr_assert_eq(lng_set_global(rt, "gi", &v), LNG_OK);
  v = lng_number(3.0);
  cr_assert_eq(lng_set_global(rt, "gf", &v), LNG_OK);
  v = lng_string("x\0y", 3);
  cr_assert_eq(lng_set_global(rt, "gs", &v), LNG_OK);
  v = lng_boolean(1);
  cr_assert_eq(lng_set_global(rt, "gb", &v), LNG_OK);
  v = lng_integer(1);
  cr_assert_eq(lng_set_global(rt, "gn", &v), LNG_OK);
  v = lng_nil();
  cr_assert_eq(lng_set_global(rt, "gn", &v), LNG_OK);          /* nil unsets it */
  lng_channel *ch = lng_channel_new(rt, 64);
  cr_assert_eq(set_chan(rt, "gc", ch), LNG_OK);
  cr_assert_eq(add_code(rt,
                        "local function check()\n"
                        "  assert(math.type(gi) == 'integer' and gi == 3)\n"
                        "  assert(math.type(gf) == 'float' and gf == 3)\n"
                        "  assert(gs == 'x\\0y')\n"
                        "  assert(gb == true and gn == nil)\n"
                        "  gc:send(go.worker())\n"
                        "end\n"
                        "check()\n"
                        "local done = chan()\n"
                        "for i = 1, 16 do go(function() check() done:send(1) end) end\n"
                        "for i = 1, 16 do done:recv() end\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  for (int k = 0; k < 17; k++) {
    long long w = recv_int(ch);
    cr_assert(w == 1 || w == 2);
  }
  lng_channel_release(ch);
  lng_destroy(rt);
}

Test(capi, value_free, .timeout = T_TIMEOUT) {
  lng_value_free(NULL);
  lng_value v = lng_nil();
  lng_value_free(&v);
  cr_assert_eq(v.type, LNG_TNIL);
  v = lng_integer(5);
  lng_value_free(&v);
  cr_assert_eq(v.type, LNG_TNIL);
  cr_assert_eq(lng_boolean(7).boolean, 1);
  cr_assert_eq(lng_string("ab", 2).len, 2);
  cr_assert_eq(lng_number(2.5).type, LNG_TNUMBER);
  /* a received string and a received channel handle are owned */
  ctx c;
  lng_runtime *rt = new_rt(1, 0, &c);
  lng_channel *ch = lng_channel_new(rt, 2);
  v = lng_string("owned", 5);
  cr_assert_eq(lng_send(ch, &v, 0), LNG_OK);
  v = lng_chanvalue(ch);
  cr_assert_eq(lng_send(ch, &v, 0), LNG_OK);
  lng_value a, b;
  cr_assert_eq(lng_recv(ch, &a, 0), LNG_OK);
  cr_assert_eq(lng_recv(ch, &b, 0), LNG_OK);
  cr_assert_str_eq(a.string, "owned");
  cr_assert(b.type == LNG_TCHANNEL && b.channel != ch);
  lng_value_free(&a);
  lng_value_free(&b);
  cr_assert(a.type == LNG_TNIL && b.type == LNG_TNIL);
  lng_channel_release(ch);
  lng_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* channels: blocking, timeouts, close                                 */

Test(capi, blocking_recv_and_send, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *ch = lng_channel_new(rt, 0), *back = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    cr_assert_eq(set_chan(rt, "back", back), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "go.sleep(0.1)\n"
                          "ch:send('late')\n"
                          "go.sleep(0.1)\n"
                          "back:send(ch:recv() + 1)\n", "=main"), LNG_OK);
    /* Lower bounds only, from clock readings taken before the sleeps
       can start (a loaded machine may stall this thread anywhere). */
    double t0 = now_sec();
    cr_assert_eq(lng_start(rt), LNG_OK);
    lng_value v;
    double t1 = now_sec();          /* the second sleep starts after this recv takes 'late' */
    cr_assert_eq(lng_recv(ch, &v, -1), LNG_OK);           /* waits for the goroutine */
    cr_assert_geq(now_sec() - t0, 0.09);
    cr_assert_str_eq(v.string, "late");
    lng_value_free(&v);
    lng_value x = lng_integer(41);
    cr_assert_eq(lng_send(ch, &x, -1), LNG_OK);           /* unbuffered: until taken */
    cr_assert_geq(now_sec() - t1, 0.09);
    cr_assert_eq(recv_int(back), 42);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(ch);
    lng_channel_release(back);
    lng_destroy(rt);
  }
}

Test(capi, nonblocking, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *un = lng_channel_new(rt, 0), *buf = lng_channel_new(rt, 1);
  lng_value v, x = lng_integer(1);
  /* before the start too: only C is involved */
  cr_assert_eq(lng_recv(un, &v, 0), LNG_TIMEOUT);
  cr_assert_eq(v.type, LNG_TNIL);
  cr_assert_eq(lng_send(un, &x, 0), LNG_TIMEOUT);
  cr_assert_eq(lng_send(buf, &x, 0), LNG_OK);
  cr_assert_eq(lng_send(buf, &x, 0), LNG_TIMEOUT);        /* full */
  cr_assert_eq(lng_recv(buf, &v, 0), LNG_OK);
  cr_assert_eq(v.integer, 1);
  cr_assert_eq(lng_recv(buf, &v, 0), LNG_TIMEOUT);
  cr_assert_eq(lng_start(rt), LNG_OK);
  /* a goroutine waiting to receive: a non-blocking send completes */
  static const char code[] = "local un, buf = ...\nbuf:send(un:recv() * 2)\n";
  lng_value args[2] = { lng_chanvalue(un), lng_chanvalue(buf) };
  cr_assert_eq(lng_spawn_string(rt, code, sizeof code - 1, "=nb", args, 2), LNG_OK);
  x = lng_integer(21);
  cr_assert_eq(poll_send(un, &x), LNG_OK);
  cr_assert_eq(recv_int(buf), 42);
  /* a goroutine waiting to send: a non-blocking receive completes */
  static const char code2[] = "local un = ...\nun:send('ready')\n";
  cr_assert_eq(lng_spawn_string(rt, code2, sizeof code2 - 1, "=nb2", args, 1), LNG_OK);
  cr_assert_eq(poll_recv(un, &v), LNG_OK);
  cr_assert_str_eq(v.string, "ready");
  lng_value_free(&v);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_channel_release(un);
  lng_channel_release(buf);
  lng_destroy(rt);
}

Test(capi, timed, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *un = lng_channel_new(rt, 0), *buf = lng_channel_new(rt, 1);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value v, x = lng_integer(9);
  double t0 = now_sec();
  cr_assert_eq(lng_recv(un, &v, 0.05), LNG_TIMEOUT);
  double dt = now_sec() - t0;
  cr_assert_geq(dt, 0.045);
  cr_assert_lt(dt, 5.0);
  cr_assert_eq(v.type, LNG_TNIL);
  t0 = now_sec();
  cr_assert_eq(lng_send(un, &x, 0.05), LNG_TIMEOUT);
  dt = now_sec() - t0;
  cr_assert_geq(dt, 0.045);
  cr_assert_lt(dt, 5.0);
  cr_assert_eq(lng_send(buf, &x, 0), LNG_OK);
  cr_assert_eq(lng_send(buf, &x, 0.05), LNG_TIMEOUT);     /* full */
  cr_assert_eq(lng_recv(buf, &v, 0), LNG_OK);
  /* the value of a timed-out send is not delivered later */
  static const char code[] = "local un, buf = ...\n"
                             "buf:send('receiver up')\n"
                             "buf:send(un:recv())\n";
  lng_value args[2] = { lng_chanvalue(un), lng_chanvalue(buf) };
  cr_assert_eq(lng_spawn_string(rt, code, sizeof code - 1, "=t", args, 2), LNG_OK);
  char got[64];
  recv_str(buf, got, sizeof got);
  cr_assert_str_eq(got, "receiver up");
  x = lng_integer(10);
  /* a timed operation that completes in time */
  cr_assert_eq(lng_send(un, &x, 5.0), LNG_OK);
  cr_assert_eq(recv_int(buf), 10);
  static const char code2[] = "local un = ...\ngo.sleep(0.05)\nun:send(11)\n";
  cr_assert_eq(lng_spawn_string(rt, code2, sizeof code2 - 1, "=t2", args, 1), LNG_OK);
  cr_assert_eq(lng_recv(un, &v, 5.0), LNG_OK);
  cr_assert_eq(v.integer, 11);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_channel_release(un);
  lng_channel_release(buf);
  lng_destroy(rt);
}

typedef struct blocked_op {
  lng_channel *ch;
  int send, status, vtype;
  pthread_t t;
} blocked_op;

static void *blocked_op_main(void *p) {
  blocked_op *b = p;
  lng_value v = lng_integer(1);
  if (b->send) {
    b->status = lng_send(b->ch, &v, -1);
  } else {
    b->status = lng_recv(b->ch, &v, -1);
    b->vtype = v.type;
    lng_value_free(&v);
  }
  return NULL;
}

Test(capi, close, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *ch = lng_channel_new(rt, 2);
  lng_value v, x = lng_integer(1);
  cr_assert_eq(lng_send(ch, &x, 0), LNG_OK);
  cr_assert_eq(lng_close(ch), LNG_OK);
  cr_assert_eq(lng_close(ch), LNG_CLOSED);
  cr_assert_eq(lng_send(ch, &x, 0), LNG_CLOSED);
  cr_assert_eq(lng_send(ch, &x, -1), LNG_CLOSED);
  cr_assert_eq(lng_recv(ch, &v, 0), LNG_OK);             /* buffered values first */
  cr_assert_eq(v.integer, 1);
  v = lng_integer(99);
  cr_assert_eq(lng_recv(ch, &v, 0), LNG_CLOSED);
  cr_assert_eq(v.type, LNG_TNIL);
  cr_assert_eq(lng_recv(ch, &v, -1), LNG_CLOSED);
  cr_assert_eq(lng_recv(ch, &v, 0.05), LNG_CLOSED);
  lng_channel_release(ch);

  /* closing wakes C threads blocked on both sides */
  lng_channel *r = lng_channel_new(rt, 0), *s = lng_channel_new(rt, 0);
  blocked_op br = { .ch = r, .send = 0 }, bs = { .ch = s, .send = 1 };
  pthread_create(&br.t, NULL, blocked_op_main, &br);
  pthread_create(&bs.t, NULL, blocked_op_main, &bs);
  sleep_ms(50);
  cr_assert_eq(lng_close(r), LNG_OK);
  cr_assert_eq(lng_close(s), LNG_OK);
  pthread_join(br.t, NULL);
  pthread_join(bs.t, NULL);
  cr_assert_eq(br.status, LNG_CLOSED);
  cr_assert_eq(br.vtype, LNG_TNIL);
  cr_assert_eq(bs.status, LNG_CLOSED);
  lng_channel_release(r);
  lng_channel_release(s);

  /* Lua closes, C sees it; C closes, Lua sees it */
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_channel *a = lng_channel_new(rt, 0), *b = lng_channel_new(rt, 0), *rep = lng_channel_new(rt, 4);
  static const char code[] =
    "local a, b, rep = ...\n"
    "a:send('before close')\n"
    "a:close()\n"
    "local v, ok = b:recv()\n"
    "rep:send(tostring(v) .. ' ' .. tostring(ok))\n"
    "local ok2, err = pcall(b.send, b, 1)\n"
    "rep:send(tostring(err))\n"
    "local ok3, err3 = pcall(b.close, b)\n"
    "rep:send(tostring(err3))\n";
  lng_value args[3] = { lng_chanvalue(a), lng_chanvalue(b), lng_chanvalue(rep) };
  cr_assert_eq(lng_spawn_string(rt, code, sizeof code - 1, "=close", args, 3), LNG_OK);
  cr_assert_eq(lng_recv(a, &v, WAIT_SECS), LNG_OK);
  lng_value_free(&v);
  cr_assert_eq(lng_recv(a, &v, WAIT_SECS), LNG_CLOSED);
  sleep_ms(20);                                           /* most likely in b:recv() by now */
  cr_assert_eq(lng_close(b), LNG_OK);
  char got[128];
  recv_str(rep, got, sizeof got);
  cr_assert_str_eq(got, "nil false");
  recv_str(rep, got, sizeof got);
  cr_assert(contains(got, "send on closed channel"), "%s", got);
  recv_str(rep, got, sizeof got);
  cr_assert(contains(got, "close of closed channel"), "%s", got);
  /* a goroutine blocked sending when C closes raises */
  static const char code2[] =
    "local a, rep = ...\n"
    "rep:send(select(2, pcall(a.send, a, 'x')))\n";
  lng_channel *d = lng_channel_new(rt, 0);
  lng_value args2[2] = { lng_chanvalue(d), lng_chanvalue(rep) };
  cr_assert_eq(lng_spawn_string(rt, code2, sizeof code2 - 1, "=close2", args2, 2), LNG_OK);
  sleep_ms(20);                                           /* most likely in a:send() by now */
  cr_assert_eq(lng_close(d), LNG_OK);
  recv_str(rep, got, sizeof got);
  cr_assert(contains(got, "send on closed channel"), "%s", got);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_channel_release(a);
  lng_channel_release(b);
  lng_channel_release(d);
  lng_channel_release(rep);
  lng_destroy(rt);
}

Test(capi, errtype_table_dropped, .timeout = T_TIMEOUT) {
  for (int cap = 0; cap <= 4; cap += 4) {
    ctx c;
    lng_runtime *rt = new_rt(2, 0, &c);
    lng_channel *ch = lng_channel_new(rt, (size_t)cap);
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "ch:send({1, 2, x = 'y'})\n"
                          "ch:send(function() return 1 end)\n"
                          "ch:send(go.mutex())\n"
                          "ch:send(7)\n"
                          "ch:send({})\n"
                          "ch:send('after')\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    lng_value v;
    cr_assert_eq(lng_recv(ch, &v, WAIT_SECS), LNG_ERRTYPE);
    cr_assert_eq(v.type, LNG_TNIL);
    cr_assert_eq(lng_recv(ch, &v, WAIT_SECS), LNG_ERRTYPE);
    cr_assert_eq(v.type, LNG_TNIL);
    cr_assert_eq(lng_recv(ch, &v, WAIT_SECS), LNG_ERRTYPE);
    cr_assert_eq(v.type, LNG_TNIL);
    cr_assert_eq(recv_int(ch), 7);
    cr_assert_eq(lng_recv(ch, &v, WAIT_SECS), LNG_ERRTYPE);
    char got[32];
    recv_str(ch, got, sizeof got);
    cr_assert_str_eq(got, "after");
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(ch);
    lng_destroy(rt);
  }
}

/* ------------------------------------------------------------------ */
/* several C threads at once                                           */

#define NT 4
#define PER 2000

typedef struct cthread {
  pthread_t t;
  lng_channel *ch;
  int index;
  int bad;                      /* a failing status or value */
  long long count, sum;
} cthread;

static void *c_sender(void *p) {
  cthread *c = p;
  for (int i = 0; i < PER; i++) {
    lng_value v = lng_integer((long long)c->index * PER + i + 1);
    if (lng_send(c->ch, &v, -1) != LNG_OK) { c->bad++; break; }
    c->count++;
    c->sum += v.integer;
  }
  return NULL;
}

static void *c_receiver(void *p) {
  cthread *c = p;
  for (;;) {
    lng_value v;
    int st = lng_recv(c->ch, &v, -1);
    if (st == LNG_CLOSED) break;
    if (st != LNG_OK || v.type != LNG_TINTEGER) { c->bad++; lng_value_free(&v); continue; }
    c->count++;
    c->sum += v.integer;
  }
  return NULL;
}

static const long long TOTAL_SUM = (long long)NT * PER * (NT * PER + 1) / 2;

Test(capi, threads_through_lua, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *inp = lng_channel_new(rt, 8), *out = lng_channel_new(rt, i == 0 ? 0 : 8);
    cr_assert_eq(set_chan(rt, "inp", inp), LNG_OK);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "local done = chan()\n"
                          "for i = 1, 6 do\n"
                          "  go(function(inp, out)\n"
                          "    for v in inp:range() do out:send(c_square(1) * v * 2) end\n"
                          "    done:send(true)\n"
                          "  end, inp, out)\n"
                          "end\n"
                          "for i = 1, 6 do done:recv() end\n"
                          "out:close()\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cthread snd[NT], rcv[NT];
    memset(snd, 0, sizeof snd);
    memset(rcv, 0, sizeof rcv);
    for (int k = 0; k < NT; k++) {
      snd[k].ch = inp; snd[k].index = k;
      rcv[k].ch = out; rcv[k].index = k;
      cr_assert_eq(pthread_create(&rcv[k].t, NULL, c_receiver, &rcv[k]), 0);
      cr_assert_eq(pthread_create(&snd[k].t, NULL, c_sender, &snd[k]), 0);
    }
    long long scount = 0, ssum = 0, rcount = 0, rsum = 0;
    int bad = 0;
    for (int k = 0; k < NT; k++) {
      pthread_join(snd[k].t, NULL);
      scount += snd[k].count; ssum += snd[k].sum; bad += snd[k].bad;
    }
    cr_assert_eq(lng_close(inp), LNG_OK);
    for (int k = 0; k < NT; k++) {
      pthread_join(rcv[k].t, NULL);
      rcount += rcv[k].count; rsum += rcv[k].sum; bad += rcv[k].bad;
    }
    cr_assert_eq(bad, 0);
    cr_assert_eq(scount, NT * PER);
    cr_assert_eq(ssum, TOTAL_SUM);
    cr_assert_eq(rcount, NT * PER);
    cr_assert_eq(rsum, 2 * TOTAL_SUM);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(inp);
    lng_channel_release(out);
    lng_destroy(rt);
  }
}

Test(capi, threads_c_to_c, .timeout = T_TIMEOUT) {
  /* C threads on both sides of one channel, no goroutine involved */
  for (size_t cap = 0; cap <= 16; cap += 16) {
    ctx c;
    lng_runtime *rt = new_rt(1, 1, &c);
    lng_channel *ch = lng_channel_new(rt, cap);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cthread snd[NT], rcv[NT];
    memset(snd, 0, sizeof snd);
    memset(rcv, 0, sizeof rcv);
    for (int k = 0; k < NT; k++) {
      snd[k].ch = ch; snd[k].index = k;
      rcv[k].ch = ch; rcv[k].index = k;
      pthread_create(&rcv[k].t, NULL, c_receiver, &rcv[k]);
      pthread_create(&snd[k].t, NULL, c_sender, &snd[k]);
    }
    for (int k = 0; k < NT; k++) pthread_join(snd[k].t, NULL);
    cr_assert_eq(lng_close(ch), LNG_OK);
    long long rcount = 0, rsum = 0;
    int bad = 0;
    for (int k = 0; k < NT; k++) {
      pthread_join(rcv[k].t, NULL);
      rcount += rcv[k].count; rsum += rcv[k].sum; bad += rcv[k].bad + snd[k].bad;
    }
    cr_assert_eq(bad, 0);
    cr_assert_eq(rcount, NT * PER);
    cr_assert_eq(rsum, TOTAL_SUM);
    cr_assert_eq(lng_stop(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
    lng_channel_release(ch);
    lng_destroy(rt);
  }
}

/* ------------------------------------------------------------------ */
/* deadlock detection and channels held by C                           */

Test(capi, held_channel_is_not_a_deadlock, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *ch = lng_channel_new(rt, 0), *g = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    cr_assert_eq(set_chan(rt, "g", g), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "go(function() g:send(g:recv() + 1) end)\n"
                          "local v = ch:recv()\n"
                          "assert(v == 'wake', v)\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert(wait_blocked(rt, WAIT_SECS));
    sleep_ms(100);
    cr_assert_eq(lng_status(rt), LNG_OK, "reported: %s", lng_message(rt));
    cr_assert_eq(lng_blocked(rt), 1);
    lng_value x = lng_integer(1);
    cr_assert_eq(lng_send(g, &x, WAIT_SECS), LNG_OK);
    cr_assert_eq(recv_int(g), 2);
    cr_assert(wait_blocked(rt, WAIT_SECS));
    sleep_ms(50);
    cr_assert_eq(lng_status(rt), LNG_OK, "reported: %s", lng_message(rt));
    x = lng_string("wake", 4);
    cr_assert_eq(lng_send(ch, &x, WAIT_SECS), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(ch);
    lng_channel_release(g);
    lng_destroy(rt);
  }
}

Test(capi, released_channel_is_a_deadlock, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *ch = lng_channel_new(rt, 0);
    lng_channel *other = lng_channel_new(rt, 0);          /* held, but nobody waits on it */
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    cr_assert_eq(add_code(rt, "go(function() ch:recv() end)\nch:recv()\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert(wait_blocked(rt, WAIT_SECS));
    sleep_ms(50);
    cr_assert_eq(lng_status(rt), LNG_OK);
    lng_channel_release(ch);
    /* `other` is still held: C could still wake someone through it only if
       it reached them, but holding any channel counts as a possible waker */
    sleep_ms(50);
    cr_assert_eq(lng_status(rt), LNG_OK);
    lng_channel_release(other);
    int st = wait_for(rt, WAIT_SECS);
    cr_assert_eq(st, LNG_DEADLOCK, "%s: %s", lng_status_string(st), lng_message(rt));
    cr_assert(contains(lng_message(rt), "goroutine 1 [chan receive]:\n\tmain:2"), "%s",
              lng_message(rt));
    cr_assert(contains(lng_message(rt), "[chan receive]:\n\tmain:1"), "%s", lng_message(rt));
    lng_destroy(rt);
  }
}

Test(capi, received_handle_holds, .timeout = T_TIMEOUT) {
  /* a handle that C received from Lua also keeps the program alive */
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 1);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(add_code(rt, "local mine = chan()\nout:send(mine)\nout = nil\n"
                            "assert(mine:recv() == 'hello')\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value v;
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert_eq(v.type, LNG_TCHANNEL);
  lng_channel_release(out);
  cr_assert(wait_blocked(rt, WAIT_SECS));
  sleep_ms(50);
  cr_assert_eq(lng_status(rt), LNG_OK, "%s", lng_message(rt));
  lng_value hello = lng_string("hello", 5);
  cr_assert_eq(lng_send(v.channel, &hello, WAIT_SECS), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_value_free(&v);
  lng_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* shutdown                                                            */

static const char BLOCKERS[] =
  "local a, b, c = chan(), chan(), chan(1)\n"
  "c:send(0)\n"
  "local wg = go.waitgroup()\n"
  "wg:add(1)\n"
  "go(function() ready:send('recv') a:recv() end)\n"
  "go(function() ready:send('send') b:send(1) end)\n"
  "go(function() ready:send('full') c:send(2) end)\n"
  "go(function() ready:send('sleep') go.sleep(1000) end)\n"
  "go(function() ready:send('select') go.select(a, b) end)\n"
  "go(function() ready:send('wg') wg:wait() end)\n"
  "go(function() ready:send('held') held:recv() end)\n"
  "go(function() ready:send('nested') coroutine.wrap(function() a:recv() end)() end)\n"
  "for i = 1, 200 do go(function() a:recv() end) end\n"
  "ready:send('main')\n"
  "held:recv()\n";
#define NBLOCKERS 9

Test(capi, destroy_with_blocked_goroutines, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    for (int stop = 0; stop <= 1; stop++) {
      ctx c;
      lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
      lng_channel *ready = lng_channel_new(rt, 0), *held = lng_channel_new(rt, 0);
      cr_assert_eq(set_chan(rt, "ready", ready), LNG_OK);
      cr_assert_eq(set_chan(rt, "held", held), LNG_OK);
      cr_assert_eq(add_code(rt, BLOCKERS, "=blockers"), LNG_OK);
      cr_assert_eq(lng_start(rt), LNG_OK);
      char got[32];
      for (int k = 0; k < NBLOCKERS; k++) recv_str(ready, got, sizeof got);
      sleep_ms(50);
      cr_assert_eq(lng_status(rt), LNG_OK, "%s", lng_message(rt));
      cr_assert_eq(lng_blocked(rt), 0);                   /* the sleep's timer is pending */
      lng_channel_release(ready);
      lng_channel_release(held);
      if (stop) {
        cr_assert_eq(lng_stop(rt), LNG_OK);
        cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
      }
      double t0 = now_sec();
      lng_destroy(rt);
      cr_assert_lt(now_sec() - t0, 10.0);
    }
  }
}

Test(capi, destroy_with_endless_loops, .timeout = T_TIMEOUT) {
  SKIP_UNDER_TSAN();
  for (int i = 0; i < NCOUNTS; i++) {
    int n = WORKER_COUNTS[i];
    ctx c;
    lng_runtime *rt = new_rt(n, 0, &c);
    lng_channel *ready = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "ready", ready), LNG_OK);
    char code[768];
    snprintf(code, sizeof code,
             "for i = 1, %d do\n"
             "  go(function() ready:send(i) while true do end end)\n"
             "end\n"
             "go(function() ready:send(0) while true do pcall(function() while true do end end) end end)\n"
             "go(function() ready:send(0) local t = {3, 2, 1}\n"
             "  table.sort(t, function(a, b) while true do end end) end)\n"
             "ready:send(-1)\n"
             "while true do end\n", n);
    cr_assert_eq(add_code(rt, code, "=loops"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    /* with n workers only n of the n + 3 spinners can run: wait for the
       main chunk and n - 1 others (each worker is busy, then) */
    lng_value v;
    for (int k = 0; k < n; k++) cr_assert_eq(lng_recv(ready, &v, WAIT_SECS), LNG_OK);
    sleep_ms(20);
    cr_assert_eq(lng_status(rt), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(ready);
    double t0 = now_sec();
    lng_destroy(rt);
    cr_assert_lt(now_sec() - t0, 10.0);
  }
}

Test(capi, destroy_after_error_with_spinning_goroutine, .timeout = T_TIMEOUT) {
  SKIP_UNDER_TSAN();
  /* A goroutine keeps its worker while it spins (no preemption): the
     failing one is spawned once the spinner runs, so another worker takes it. */
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *ready = lng_channel_new(rt, 0);
  cr_assert_eq(lng_start(rt), LNG_OK);
  static const char spin[] = "local ready = ...\nready:send(1)\nwhile true do end\n";
  static const char fail[] = "error('stop')";
  lng_value arg = lng_chanvalue(ready);
  cr_assert_eq(lng_spawn_string(rt, spin, sizeof spin - 1, "=spin", &arg, 1), LNG_OK);
  cr_assert_eq(recv_int(ready), 1);
  cr_assert_eq(lng_spawn_string(rt, fail, sizeof fail - 1, "=fail", NULL, 0), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_ERRRUN, "%s", lng_message(rt));
  cr_assert(contains(lng_message(rt), "fail:1: stop"), "%s", lng_message(rt));
  lng_channel_release(ready);
  double t0 = now_sec();
  lng_destroy(rt);
  cr_assert_lt(now_sec() - t0, 10.0);
}

/* ------------------------------------------------------------------ */
/* two runtimes                                                        */

Test(capi, two_runtimes, .timeout = T_TIMEOUT) {
  ctx ca, cb;
  lng_runtime *a = new_rt(2, 0, &ca);
  lng_runtime *b = new_rt(2, 1, &cb);
  lng_channel *outa = lng_channel_new(a, 0), *outb = lng_channel_new(b, 0);
  cr_assert_eq(set_chan(a, "out", outa), LNG_OK);
  cr_assert_eq(set_chan(b, "out", outb), LNG_OK);
  lng_value tag = lng_string("A", 1);
  cr_assert_eq(lng_set_global(a, "tag", &tag), LNG_OK);
  tag = lng_string("B", 1);
  cr_assert_eq(lng_set_global(b, "tag", &tag), LNG_OK);
  static const char code[] =
    "local res = chan()\n"
    "for i = 1, 100 do go(function(k) res:send(c_square(k)) end, i) end\n"
    "local sum = 0\n"
    "for i = 1, 100 do sum = sum + res:recv() end\n"
    "out:send(tag .. go.id() .. ':' .. sum)\n";
  cr_assert_eq(add_code(a, code, "=a"), LNG_OK);
  cr_assert_eq(add_code(a, "os.exit(4)", "=a2"), LNG_OK);
  cr_assert_eq(add_code(b, code, "=b"), LNG_OK);
  cr_assert_eq(lng_start(a), LNG_OK);
  cr_assert_eq(lng_start(b), LNG_OK);
  char got[64];
  recv_str(outb, got, sizeof got);
  cr_assert_str_eq(got, "B1:338350");
  recv_str(outa, got, sizeof got);
  cr_assert_str_eq(got, "A1:338350");
  cr_assert_eq(wait_for(a, WAIT_SECS), LNG_EXIT);
  cr_assert_eq(lng_exit_code(a), 4);
  /* b is not affected by a's end */
  cr_assert_eq(lng_status(b), LNG_OK);
  lng_value args[2] = { lng_chanvalue(outb), lng_integer(12) };
  cr_assert_eq(lng_spawn(b, "gsquare", args, 2), LNG_OK);
  cr_assert_eq(recv_int(outb), 144);
  lng_channel_release(outa);
  lng_destroy(a);
  cr_assert_eq(lng_spawn(b, "cmod.triple", args, 2), LNG_OK);
  cr_assert_eq(recv_int(outb), 36);
  cr_assert_eq(lng_stop(b), LNG_OK);
  cr_assert_eq(wait_for(b, WAIT_SECS), LNG_OK);
  lng_channel_release(outb);
  lng_destroy(b);
}

/* ------------------------------------------------------------------ */
/* misuse                                                              */

Test(capi, misuse_null, .timeout = T_TIMEOUT) {
  lng_value v = lng_integer(1), out;
  char arg0[] = "x";
  char *argv[] = { arg0, NULL };
  cr_assert_eq(lng_main_string(NULL, "x=1", 3, NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_file(NULL, "x.lua"), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_require(NULL, "m", NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(NULL, 1, argv, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_start(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_wait(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_status(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_exit_code(NULL), 1);
  cr_assert_str_eq(lng_message(NULL), "");
  cr_assert_eq(lng_interrupt(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_blocked(NULL), 0);
  cr_assert_eq(lng_stop(NULL), LNG_ERRMISUSE);
  lng_destroy(NULL);
  cr_assert_null(lng_channel_new(NULL, 1));
  lng_channel_release(NULL);
  cr_assert_eq(lng_close(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_send(NULL, &v, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_recv(NULL, &out, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(NULL, "g", &v), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(NULL, "f", &v, 1), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn_string(NULL, "x=1", 3, NULL, NULL, 0), LNG_ERRMISUSE);

  ctx c;
  lng_runtime *rt = new_rt(1, 1, &c);
  lng_channel *ch = lng_channel_new(rt, 1);
  cr_assert_eq(lng_main_string(rt, NULL, 3, NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_require(rt, NULL, "g"), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(rt, -1, argv, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(rt, 1, argv, 2), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(rt, 1, NULL, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_send(ch, NULL, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_recv(ch, NULL, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(rt, NULL, &v), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(rt, "g", NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(rt, NULL, NULL, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(rt, "f", NULL, 1), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(rt, "f", &v, -1), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn_string(rt, NULL, 3, NULL, NULL, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn_string(rt, "x=1", 3, NULL, NULL, 2), LNG_ERRMISUSE);
  /* values that cannot be sent */
  lng_value nil = lng_nil();
  cr_assert_eq(lng_send(ch, &nil, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_send(ch, &nil, -1), LNG_ERRMISUSE);
  lng_value badstr = lng_string(NULL, 3);
  cr_assert_eq(lng_send(ch, &badstr, 0), LNG_ERRMISUSE);
  lng_value badch = lng_chanvalue(NULL);
  cr_assert_eq(lng_send(ch, &badch, 0), LNG_ERRMISUSE);
  lng_value badtype = { .type = 99 };
  cr_assert_eq(lng_send(ch, &badtype, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(rt, "g", &badtype), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(rt, "f", &badtype, 1), LNG_ERRMISUSE);
  /* nothing of the above reached the channel */
  cr_assert_eq(lng_recv(ch, &out, 0), LNG_TIMEOUT);
  lng_channel_release(ch);
  lng_destroy(rt);
}

Test(capi, misuse_after_start, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  char arg0[] = "x";
  char *argv[] = { arg0, NULL };
  lng_value v = lng_integer(1);
  cr_assert_eq(lng_start(rt), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_ERRMISUSE);
  cr_assert_eq(add_code(rt, "x = 1", "=late"), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_file(rt, "x.lua"), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_file(rt, NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_require(rt, "cmod", NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(rt, 1, argv, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(rt, "g", &v), LNG_ERRMISUSE);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  cr_assert_eq(lng_wait(rt), LNG_OK);                        /* again: the same outcome */
  cr_assert_eq(lng_spawn(rt, "gsquare", &v, 1), LNG_ERRMISUSE);
  lng_destroy(rt);
}

Test(capi, misuse_blocking_on_worker, .timeout = T_TIMEOUT) {
  for (int i = 0; i < 2; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    c.held = lng_channel_new(rt, 1);
    lng_channel *out = lng_channel_new(rt, 16);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "out:send(c_recv(-1))\n"      /* blocking: refused */
                          "out:send(c_recv(0.5))\n"     /* timed: refused */
                          "out:send(c_send(1, -1))\n"
                          "out:send(c_send(1, 0.5))\n"
                          "out:send(c_recv(0))\n"       /* non-blocking: allowed */
                          "out:send(c_send(5, 0))\n"
                          "out:send(c_send(6, 0))\n"    /* full */
                          "local st, v = c_recv(0)\n"
                          "out:send(st) out:send(v)\n"
                          "go(function() out:send(c_recv(-1)) end)\n"
                          "out:send(c_spawn('gsquare', 9))\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert_eq(recv_int(out), LNG_ERRMISUSE);
    cr_assert_eq(recv_int(out), LNG_ERRMISUSE);
    cr_assert_eq(recv_int(out), LNG_ERRMISUSE);
    cr_assert_eq(recv_int(out), LNG_ERRMISUSE);
    cr_assert_eq(recv_int(out), LNG_TIMEOUT);
    cr_assert_eq(recv_int(out), LNG_OK);
    cr_assert_eq(recv_int(out), LNG_TIMEOUT);
    cr_assert_eq(recv_int(out), LNG_OK);
    cr_assert_eq(recv_int(out), 5);
    /* in another goroutine too, and lng_spawn from a worker works: in any order */
    long long r1 = recv_int(out), r2 = recv_int(out);
    cr_assert((r1 == LNG_ERRMISUSE && r2 == LNG_OK) || (r1 == LNG_OK && r2 == LNG_ERRMISUSE),
              "%lld %lld", r1, r2);
    cr_assert_eq(recv_int(c.held), 81);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(out);
    lng_channel_release(c.held);
    lng_destroy(rt);
  }
}

/* ------------------------------------------------------------------ */
/* lng_interrupt and lng_blocked                                       */

Test(capi, interrupt_running_loop, .timeout = T_TIMEOUT) {
  SKIP_UNDER_TSAN();
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *out = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "for round = 1, 2 do\n"
                          "  local ok, e = pcall(function()\n"
                          "    out:send('spinning')\n"
                          "    local n = 0\n"
                          "    while true do n = n + 1 end\n"
                          "  end)\n"
                          "  out:send(tostring(e))\n"
                          "end\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    for (int round = 0; round < 2; round++) {
      char got[128];
      recv_str(out, got, sizeof got);
      cr_assert_str_eq(got, "spinning");
      sleep_ms(20);
      cr_assert_eq(lng_blocked(rt), 0);
      cr_assert_eq(lng_interrupt(rt), LNG_OK);
      recv_str(out, got, sizeof got);
      cr_assert(contains(got, "interrupted!"), "%s", got);
    }
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(out);
    lng_destroy(rt);
  }
}

Test(capi, interrupt_blocked, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *out = lng_channel_new(rt, 0), *held = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(set_chan(rt, "held", held), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "local ok, e = pcall(held.recv, held)\n"
                          "out:send(tostring(e))\n"
                          "ok, e = pcall(go.sleep, 1000)\n"
                          "out:send(tostring(e))\n"
                          "ok, e = pcall(go.select, held, chan())\n"
                          "out:send(tostring(e))\n"
                          "ok, e = pcall(held.send, held, 1)\n"
                          "out:send(tostring(e))\n"
                          "held:recv()\n"                 /* uncaught this time */
                          "out:send('not reached')\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    char got[128];
    for (int k = 0; k < 4; k++) {
      if (k != 1) cr_assert(wait_blocked(rt, WAIT_SECS), "step %d", k);
      else sleep_ms(100);                                 /* a sleep's timer: never "blocked" */
      cr_assert_eq(lng_interrupt(rt), LNG_OK);
      recv_str(out, got, sizeof got);
      cr_assert(contains(got, "interrupted!"), "step %d: %s", k, got);
    }
    cr_assert(wait_blocked(rt, WAIT_SECS));
    cr_assert_eq(lng_interrupt(rt), LNG_OK);
    int st = wait_for(rt, WAIT_SECS);
    cr_assert_eq(st, LNG_ERRRUN, "%s", lng_message(rt));
    cr_assert(contains(lng_message(rt), "interrupted!"), "%s", lng_message(rt));
    /* the interrupted operations did not happen */
    lng_value v, x = lng_integer(1);
    cr_assert_eq(lng_recv(held, &v, 0), LNG_TIMEOUT);
    cr_assert_eq(lng_send(held, &x, 0), LNG_TIMEOUT);
    lng_channel_release(out);
    lng_channel_release(held);
    lng_destroy(rt);
  }
}

/* BUG (vm/interrupt.c, lng_interrupt and on_signal): lng_interrupt called
   while the main goroutine is on its way into a blocking operation (in the
   C code of go.select or chan:recv, not yet armed for an abort) finds
   nothing to abort, sets rt->interrupt and signals the worker; the handler
   then sees no running goroutine (main has parked) or sets a hook on a
   thread that parks without running another instruction. Nothing looks at
   rt->interrupt when the goroutine parks: the interrupt is lost and main
   stays blocked. A select over 300 channels makes that way long enough to
   lose the interrupt within a few rounds; with a plain recv it takes some
   thousands.
   BUG (vm/gor.c lng_gor_park, runtime/sched.c lng_sched_abort), after the
   first fix (main checks the flag once armed): main took the flag with
   atomic_exchange and aborted its own wait, while lng_interrupt, slowed
   down between setting the flag and its lng_sched_abort, then aborted the
   next wait too (main runs ahead: `ready` and `out` are buffered). One
   interrupt answered twice; the second interrupt after that found main
   resuming from an abort with the flag set, and the hook raised at the
   return of pcall: main died with "main:6: interrupted!" and `out` stayed
   empty. Seen under TSan with another test beside it, about one run in
   ten. Now the flag is taken only together with the wait (both sides go
   through lng_sched_abort), and each answer names its round. */
#ifdef LNG_TSAN
#define SELECT_CASES "40"     /* TSan's deadlock detector tracks at most 64 held locks */
#else
#define SELECT_CASES "300"
#endif

Test(capi, interrupt_while_entering_select, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(1, 0, &c);
  lng_channel *ready = lng_channel_new(rt, 1), *held = lng_channel_new(rt, 0);
  lng_channel *out = lng_channel_new(rt, 1);
  cr_assert_eq(set_chan(rt, "ready", ready), LNG_OK);
  cr_assert_eq(set_chan(rt, "held", held), LNG_OK);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(add_code(rt,
                        "local cases = {held}\n"       /* a long way into the park */
                        "for k = 2, " SELECT_CASES " do cases[k] = chan() end\n"
                        "local i = 0\n"
                        "while true do\n"
                        "  i = i + 1\n"
                        "  local ok, e = pcall(function() ready:send(i) go.select(table.unpack(cases)) end)\n"
                        "  out:send(i .. ': ' .. tostring(e))\n"
                        "end\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int lost = 0, round, st = LNG_OK;
  char why[512] = "";
  double stop_at = now_sec() + 5.0;                       /* some 50 000 rounds */
  for (round = 1; now_sec() < stop_at && !lost; round++) {
    lng_value r;
    double end = now_sec() + WAIT_SECS;
    while ((st = lng_recv(ready, &r, 0)) == LNG_TIMEOUT && now_sec() < end) {}
    cr_assert_eq(st, LNG_OK, "round %d: no ready (%d)", round, st);
    cr_assert_eq(r.type, LNG_TINTEGER);
    cr_assert_eq(r.integer, round, "main is at round %lld, not %d: an interrupt answered twice",
                 (long long)r.integer, round);
    /* sweep the moment of the interrupt across main's way into recv */
    for (volatile int spin = 0; spin < (round * 37) % 4000; spin++) {}
    cr_assert_eq(lng_interrupt(rt), LNG_OK);
    st = lng_recv(out, &r, 10.0);                  /* generous: sanitizer builds under load */
    if (st == LNG_TIMEOUT) { lost = round; break; }
    cr_assert_eq(st, LNG_OK, "%s", lng_message(rt));
    char want[64];
    snprintf(want, sizeof want, "%d: ", round);
    int ok = strncmp(r.string, want, strlen(want)) == 0 && contains(r.string, "interrupted!");
    if (!ok) snprintf(why, sizeof why, "%s", r.string);
    lng_value_free(&r);
    cr_assert(ok, "round %d answered %s", round, why);
  }
  int blocked = lng_blocked(rt);
  if (lost) {
    /* main may have died: its message tells how (after lng_wait, which orders it) */
    st = wait_for(rt, 1.0);
    snprintf(why, sizeof why, "%s", st == LNG_OK || st == LNG_TIMEOUT ? "" : lng_message(rt));
  }
  lng_close(held);
  lng_channel_release(ready);
  lng_channel_release(held);
  lng_channel_release(out);
  lng_stop(rt);
  wait_for(rt, WAIT_SECS);
  lng_destroy(rt);
  cr_assert_eq(lost, 0, "round %d: the interrupt was lost (lng_blocked %d, status %d: %s)",
               lost, blocked, st, why);
}

Test(capi, blocked_states, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *held = lng_channel_new(rt, 0);
  cr_assert_eq(set_chan(rt, "held", held), LNG_OK);
  cr_assert_eq(add_code(rt,
                        "held:recv()\n"
                        "go.sleep(0.3)\n"
                        "held:recv()\n"
                        "local t0 = os.clock() while os.clock() - t0 < 0.3 do end\n"
                        "held:recv()\n", "=main"), LNG_OK);
  cr_assert_eq(lng_blocked(rt), 0);                       /* not started */
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value x = lng_integer(1);
  cr_assert(wait_blocked(rt, WAIT_SECS));                 /* waiting on held */
  cr_assert_eq(lng_send(held, &x, WAIT_SECS), LNG_OK);
  sleep_ms(50);
  cr_assert_eq(lng_blocked(rt), 0);                       /* sleeping: a timer is pending */
  cr_assert_eq(lng_send(held, &x, WAIT_SECS), LNG_OK);
  sleep_ms(50);
  cr_assert_eq(lng_blocked(rt), 0);                       /* computing */
  cr_assert(wait_blocked(rt, WAIT_SECS));
  cr_assert_eq(lng_send(held, &x, WAIT_SECS), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_channel_release(held);
  lng_destroy(rt);
}

/* BUG (runtime/sched.c, finish()): when the last live goroutine ends,
   `live` drops to 0 but `active` is not decremented, so in service mode
   lng_blocked() stays 0 for ever although nothing runs, and a goroutine
   spawned later that blocks for good is never reported as a deadlock
   (it is when it was the main chunk). */
Test(capi, blocked_in_service_mode, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(1, 1, &c);
  lng_channel *ch = lng_channel_new(rt, 0);
  cr_assert_eq(add_code(rt, "local x = 1", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  sleep_ms(100);                                          /* main ended: nothing runs */
  cr_assert(wait_blocked(rt, 2.0), "lng_blocked() is 0 with no goroutine at all");
  static const char code[] = "local ch = ...\nch:recv()\n";
  lng_value arg = lng_chanvalue(ch);
  cr_assert_eq(lng_spawn_string(rt, code, sizeof code - 1, "=g", &arg, 1), LNG_OK);
  cr_assert(wait_blocked(rt, 2.0), "lng_blocked() is 0 with the only goroutine parked on a C channel");
  lng_close(ch);
  lng_channel_release(ch);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* lng_status_string                                                   */

Test(capi, status_strings, .timeout = T_TIMEOUT) {
  static const int codes[] = { LNG_OK, LNG_ERRRUN, LNG_ERRSYNTAX, LNG_ERRFILE, LNG_ERRMEM,
                               LNG_DEADLOCK, LNG_EXIT, LNG_ERRMISUSE, LNG_CLOSED, LNG_TIMEOUT,
                               LNG_ERRTYPE };
  const int n = (int)(sizeof codes / sizeof codes[0]);
  for (int i = 0; i < n; i++) {
    cr_assert_eq(codes[i], i, "status codes are 0..10 in order");
    const char *s = lng_status_string(codes[i]);
    cr_assert_not_null(s);
    cr_assert_gt(strlen(s), 1);
    cr_assert(strcmp(s, "unknown status") != 0);
    for (int j = 0; j < i; j++) cr_assert(strcmp(s, lng_status_string(codes[j])) != 0, "%d and %d", i, j);
  }
  cr_assert_str_eq(lng_status_string(LNG_OK), "ok");
  cr_assert(contains(lng_status_string(LNG_DEADLOCK), "deadlock"));
  cr_assert(contains(lng_status_string(LNG_ERRMEM), "memory"));
  cr_assert(contains(lng_status_string(LNG_TIMEOUT), "time"));
  cr_assert(contains(lng_status_string(LNG_CLOSED), "closed"));
  cr_assert(contains(lng_status_string(LNG_ERRSYNTAX), "syntax"));
  cr_assert_str_eq(lng_status_string(-1), "unknown status");
  cr_assert_str_eq(lng_status_string(11), "unknown status");
  cr_assert_str_eq(lng_status_string(1000), "unknown status");
}

/* ------------------------------------------------------------------ */
/* samples/embed                                                       */

/* The embed sample next to $LUNGO_BIN (set by `make test`), else build/. */
static void embed_path(char *buf, size_t n) {
  const char *bin = getenv("LUNGO_BIN");
  const char *slash = bin ? strrchr(bin, '/') : NULL;
  if (slash) snprintf(buf, n, "%.*s/embed-sample", (int)(slash - bin), bin);
  else snprintf(buf, n, "build/embed-sample");
}

Test(capi, embed_sample, .timeout = T_TIMEOUT) {
  char path[1024];
  embed_path(path, sizeof path);
  cr_assert_eq(access(path, X_OK), 0, "%s is missing: run make", path);
  for (int i = 0; i < NCOUNTS; i++) {
    char workers[8];
    snprintf(workers, sizeof workers, "%d", WORKER_COUNTS[i]);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      execl(path, path, workers, "5000", (char *)NULL);
      _exit(127);
    }
    close(fds[1]);
    char out[1024];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof out - 1 && (r = read(fds[0], out + len, sizeof out - 1 - len)) != 0) {
      if (r < 0) {
        if (errno == EINTR) continue;
        break;
      }
      len += (size_t)r;
    }
    out[len] = 0;
    close(fds[0]);
    int status;
    double end = now_sec() + 45;
    pid_t w;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_sec() < end) sleep_ms(10);
    if (w == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      cr_assert(0, "embed-sample with %s workers did not finish", workers);
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "embed-sample %s: status 0x%x, output: %s", workers, status, out);
    cr_assert(contains(out, ": OK\n"), "%s", out);
    cr_assert(contains(out, "5000 jobs from 2 C threads"), "%s", out);
  }
}
