/* Helpers of the public C API tests; see capi_util.h. */
#include "capi_util.h"

ctx *ctx_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

int l_square(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  lua_pushinteger(L, n * n);
  return 1;
}

int l_worker(lua_State *L) {
  lua_pushinteger(L, lua_tointeger(L, lua_upvalueindex(2)));
  return 1;
}

void push_value(lua_State *L, const lng_value *v) {
  switch (v->type) {
    case LNG_TBOOLEAN: lua_pushboolean(L, v->boolean); break;
    case LNG_TINTEGER: lua_pushinteger(L, (lua_Integer)v->integer); break;
    case LNG_TNUMBER: lua_pushnumber(L, v->number); break;
    case LNG_TSTRING: lua_pushlstring(L, v->string, v->len); break;
    default: lua_pushnil(L); break;
  }
}

/* c_recv([timeout]) -> status, value: lng_recv on ctx->held from a worker. */
int l_recv(lua_State *L) {
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
int l_send(lua_State *L) {
  ctx *c = ctx_of(L);
  lng_value v = lng_integer(luaL_checkinteger(L, 1));
  double t = luaL_optnumber(L, 2, -1);
  lua_pushinteger(L, lng_send(c->held, &v, t));
  return 1;
}

/* c_spawn(name, n) -> id or -status: lng_spawn(rt, name, held, n) from a worker. */
int l_spawn(lua_State *L) {
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
atomic_int loaded_g_checks;
int l_loaded_g(lua_State *L) {
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

void reg(lua_State *L, ctx *c, const char *name, lua_CFunction f) {
  lua_pushlightuserdata(L, c);
  lua_pushcclosure(L, f, 1);
  lua_setglobal(L, name);
}

const char PRELOAD[] =
  "package.preload.cmod = function(name)\n"
  "  return { name = name,\n"
  "           triple = function(ch, n) ch:send(n * 3) end,\n"
  "           fail = function() error('cmod failure') end }\n"
  "end\n"
  "function gsquare(ch, n) ch:send(n * n) end\n";

void hook(lua_State *L, int worker, void *ud) {
  ctx *c = ud;
  if (!c) return;
  atomic_fetch_add(&c->calls, 1);
  if (worker >= 1 && worker <= 8) atomic_fetch_add(&c->seen[worker - 1], 1);
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
lng_runtime *new_rt(int workers, int service, ctx *c) {
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

int add_code(lng_runtime *rt, const char *code, const char *name) {
  return lng_main_string(rt, code, strlen(code), name);
}

int set_chan(lng_runtime *rt, const char *name, lng_channel *ch) {
  lng_value v = lng_chanvalue(ch);
  return lng_set_global(rt, name, &v);
}

void *waiter_main(void *p) {
  waiter *w = p;
  int st = lng_wait(w->rt);
  pthread_mutex_lock(&w->mu);
  w->status = st;
  w->done = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

void waiter_start(waiter *w, lng_runtime *rt) {
  memset(w, 0, sizeof *w);
  w->rt = rt;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  cr_assert_eq(pthread_create(&w->thread, NULL, waiter_main, w), 0);
}

int waiter_done(waiter *w) {
  pthread_mutex_lock(&w->mu);
  int d = w->done;
  pthread_mutex_unlock(&w->mu);
  return d;
}

/* The status lng_wait returned within secs, or -1 (the runtime is then
   stopped with lng_stop so that the helper thread ends). */
int waiter_finish(waiter *w, double secs) {
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

int wait_for(lng_runtime *rt, double secs) {
  waiter w;
  waiter_start(&w, rt);
  return waiter_finish(&w, secs);
}

/* Non-blocking operations retried until one does not time out (a goroutine
   reached the other side): a way to meet a goroutine without lng_blocked. */
int poll_send(lng_channel *ch, const lng_value *v) {
  double end = now_sec() + WAIT_SECS;
  int st;
  while ((st = lng_send(ch, v, 0)) == LNG_TIMEOUT && now_sec() < end) sleep_ms(1);
  return st;
}

int poll_recv(lng_channel *ch, lng_value *v) {
  double end = now_sec() + WAIT_SECS;
  int st;
  while ((st = lng_recv(ch, v, 0)) == LNG_TIMEOUT && now_sec() < end) sleep_ms(1);
  return st;
}

/* Polls lng_blocked until it says 1; returns whether it did. */
int wait_blocked(lng_runtime *rt, double secs) {
  double end = now_sec() + secs;
  while (now_sec() < end) {
    if (lng_blocked(rt)) return 1;
    sleep_ms(1);
  }
  return lng_blocked(rt);
}

char msgbuf[16384];

/* Runs code as the main goroutine; returns the status, message in msgbuf. */
int run_code(int workers, const char *code, int *exit_code) {
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
long long recv_int(lng_channel *ch) {
  lng_value v;
  int st = lng_recv(ch, &v, WAIT_SECS);
  cr_assert_eq(st, LNG_OK, "lng_recv: %s", lng_status_string(st));
  cr_assert_eq(v.type, LNG_TINTEGER, "received type %d", v.type);
  return v.integer;
}

/* Receives a string from ch into buf (blocking, bounded). */
void recv_str(lng_channel *ch, char *buf, size_t n) {
  lng_value v;
  int st = lng_recv(ch, &v, WAIT_SECS);
  cr_assert_eq(st, LNG_OK, "lng_recv: %s", lng_status_string(st));
  cr_assert_eq(v.type, LNG_TSTRING, "received type %d", v.type);
  snprintf(buf, n, "%s", v.string);
  lng_value_free(&v);
}
