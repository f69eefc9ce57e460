/*
 * Goroutines in a shard: each is a Lua thread of the worker's lua_State
 * with its own globals table. This file starts them (decoding the spawn
 * message, or running the main goroutine's steps), resumes them for the
 * scheduler and turns their failures into the program's outcome. How
 * they block (park) is block.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "vm.h"
#include "block.h"
#include "copy.h"
#include "args.h"

static const char EXIT_SENTINEL = 'x';   /* error value of a non-yieldable os.exit */

lng_gvm *lng_gor_current(lua_State *L) {
  lng_shard *sh = lng_shard_of(L);
  return sh->current ? sh->current->vm : NULL;
}

int64_t lng_gor_id(lua_State *L) {
  lng_shard *sh = lng_shard_of(L);
  return sh->current ? sh->current->id : 0;
}

int lng_gor_exit(lua_State *L, int code) {
  lng_shard *sh = lng_shard_of(L);
  lng_sched_fail(sh->rt->sched, LNG_EXIT, code, NULL);
  if (lng_block_possible(L)) {
    lng_gor_current(L)->pending = LNG_PEND_EXIT;
    return lua_yield(L, 0);
  }
  lua_pushlightuserdata(L, (void *)&EXIT_SENTINEL);
  return lua_error(L);
}

/* ---- where goroutines were created ----
   For the deadlock report's "created by" line. A parked goroutine's
   memory is a key figure and its record had 4 bytes to spare, so the site
   of the go() call is kept in 32 bits: the line (20 bits, larger ones
   clamped) and the index + 1 of its chunk name in rt->sites (12 bits).
   A go() from the chunk this worker spawned from last costs a compare of
   the short name; a new name, a search under rt->sitemu. 0: unknown. */
#define SITE_LINE_BITS 20
#define SITE_LINE_MAX ((1u << SITE_LINE_BITS) - 1)
#define SITE_NAMES_MAX ((1u << (32 - SITE_LINE_BITS)) - 1)

static uint32_t site_name(lng_runtime *rt, lng_shard *sh, const char *name) {
  if (sh->sitename && strcmp(sh->sitename, name) == 0) return sh->siteidx;
  uint32_t idx = 0;
  pthread_mutex_lock(&rt->sitemu);
  for (uint32_t i = 0; i < rt->nsites && !idx; i++)
    if (strcmp(rt->sites[i], name) == 0) idx = i + 1;
  if (!idx && rt->nsites < SITE_NAMES_MAX) {
    if (rt->nsites == rt->sitecap) {
      uint32_t cap = rt->sitecap ? 2 * rt->sitecap : 8;
      char **a = realloc(rt->sites, cap * sizeof *a);
      if (a) { rt->sites = a; rt->sitecap = cap; }
    }
    char *copy = rt->nsites < rt->sitecap ? strdup(name) : NULL;
    if (copy) {
      rt->sites[rt->nsites++] = copy;
      idx = rt->nsites;
    }
  }
  if (idx) {                   /* (the strings never move: no lock to read them) */
    sh->sitename = rt->sites[idx - 1];
    sh->siteidx = idx;
  }
  pthread_mutex_unlock(&rt->sitemu);
  return idx;
}

/* The first Lua function up L's stack from go(): its chunk and line. */
static uint32_t spawn_site(lua_State *L, lng_shard *sh) {
  lua_Debug ar;
  for (int level = 1; level <= 8 && lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar)) break;
    if (ar.currentline <= 0) continue;
    uint32_t idx = site_name(sh->rt, sh, ar.short_src);
    if (!idx) return 0;
    uint32_t line = (uint32_t)ar.currentline > SITE_LINE_MAX ? SITE_LINE_MAX : (uint32_t)ar.currentline;
    return idx << SITE_LINE_BITS | line;
  }
  return 0;
}

uint32_t lng_gor_site(lua_State *L) {
  lng_shard *sh = lng_shard_of(L);
  return sh ? spawn_site(L, sh) : 0;
}

static void gor_origin(void *ud, lng_g *g, char *buf, size_t n) {
  lng_runtime *rt = ud;
  uint32_t idx = g->site >> SITE_LINE_BITS;
  if (n) buf[0] = 0;
  pthread_mutex_lock(&rt->sitemu);
  if (idx && idx <= rt->nsites)
    snprintf(buf, n, "%s:%u", rt->sites[idx - 1], (unsigned)(g->site & SITE_LINE_MAX));
  pthread_mutex_unlock(&rt->sitemu);
}

int lng_gor_spawn(lua_State *L, int first, int64_t *id) {
  return lng_gor_spawn_flags(L, first, id, 0);
}

int lng_gor_spawn_flags(lua_State *L, int first, int64_t *id, int flags) {
  lng_shard *sh = lng_shard_of(L);
  lng_g *g = lng_sched_newg(sh->rt->sched);
  if (!g) return luaL_error(L, "not enough memory");
  g->flags |= flags;
  g->site = spawn_site(L, sh);
  lng_shard_peekenv(L);
  int env = lua_gettop(L);
  /* Into the shard's scratch message, whose storage stays for the next
     spawn; a spawn from inside the encoding (a finalizer) uses its own. */
  int scratch = !sh->spawnbusy;
  lng_msg *m = scratch ? &sh->spawnmsg : &g->u.start;
  sh->spawnbusy = 1;
  if (lng_copy_encode(L, first, env - first, env, 1, m) < 0) {
    if (scratch) {
      lng_msg_free(m);
      sh->spawnbusy = 0;
    }
    lng_sched_freeg(g);
    return lng_error_here(L);     /* at the go() call, like its other errors */
  }
  lua_pop(L, 1);
  *id = g->id;
  if (scratch) {
    lng_sched_spawnmsg(sh->rt->sched, g, m, sh->index);
    if (m->ext && m->u.x.cap > 4096) lng_msg_free(m);   /* keep no huge buffer */
    sh->spawnbusy = 0;
  } else {
    lng_sched_spawn(sh->rt->sched, g, sh->index);
  }
  return 0;
}

/* ---- the main goroutine's steps ---- */

static int main_step(lua_State *L, int status, lua_KContext ctx);

/* The script's `...`: arg[1..#arg] as the program left them, like lua.c. */
static void push_script_args(lua_State *L, lng_gvm *gv, int *n) {
  lng_runtime *rt = lng_shard_of(L)->rt;
  *n = 0;
  if (rt->script >= rt->argc) return;     /* no script: standard input, no arguments */
  lua_rawgeti(L, LUA_REGISTRYINDEX, gv->envref);
  if (lua_getfield(L, -1, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  lua_remove(L, -2);
  int k = (int)luaL_len(L, -1);
  luaL_checkstack(L, k + 3, "too many arguments to script");
  for (int i = 1; i <= k; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -k - 1);
  *n = k;
}

static void setenv_upvalue(lua_State *L, lng_gvm *gv) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, gv->envref);
  if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
}

static int load_failed(lua_State *L, lng_gvm *gv, int status) {
  gv->failstatus = status == LUA_ERRFILE ? LNG_ERRFILE :
                 status == LUA_ERRMEM ? LNG_ERRMEM : LNG_ERRSYNTAX;
  return lua_error(L);
}

static int main_required(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  const lng_step *st = (const lng_step *)ctx;
  lng_gvm *gv = lng_gor_current(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, gv->envref);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, st->name);
  return main_step(L, LUA_OK, (lua_KContext)st->next);
}

static int main_step(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  lng_gvm *gv = lng_gor_current(L);
  const lng_step *st = (const lng_step *)ctx;
  lua_settop(L, 0);
  if (!st) return 0;
  int r, nargs = 0;
  switch (st->kind) {
    case LNG_STEP_STRING:
      r = luaL_loadbufferx(L, st->text, st->len, st->name, NULL);
      if (r != LUA_OK) return load_failed(L, gv, r);
      setenv_upvalue(L, gv);
      break;
    case LNG_STEP_FILE:
      r = luaL_loadfilex(L, st->text, NULL);
      if (r != LUA_OK) return load_failed(L, gv, r);
      setenv_upvalue(L, gv);
      push_script_args(L, gv, &nargs);
      break;
    default:  /* LNG_STEP_REQUIRE */
      lng_shard_pushenv(L);
      lua_getfield(L, -1, "require");
      lua_remove(L, -2);
      lua_pushstring(L, st->text);
      lua_callk(L, 1, 1, (lua_KContext)st, main_required);
      return main_required(L, LUA_OK, (lua_KContext)st);
  }
  lua_callk(L, nargs, 0, (lua_KContext)st->next, main_step);
  return main_step(L, LUA_OK, (lua_KContext)st->next);
}

static int main_driver(lua_State *L) {
  return main_step(L, LUA_OK, (lua_KContext)lng_shard_of(L)->rt->steps);
}

/* The `arg` table, laid out as lua.c does: the script at 0, or without a
   script the interpreter at 0 and the options after it. */
static void push_argtable(lua_State *L, lng_runtime *rt) {
  int script = rt->script == rt->argc ? 0 : rt->script;
  lua_createtable(L, rt->argc > 0 ? rt->argc : 0, script + 1);
  for (int i = 0; i < rt->argc; i++) {
    lua_pushstring(L, rt->argv[i]);
    lua_rawseti(L, -2, i - script);
  }
}

/* ---- starting and resuming ---- */

/* A goroutine spawned from C: co holds env, then the function's name (or
   source and chunk name), then the arguments. Leaves env, the function and
   the arguments; returns their count without env. */
static int resolve_cspawn(lua_State *L, lua_State *co, lng_g *g, int n) {
  if (g->flags & LNG_G_CCODE) {
    size_t len;
    const char *src = lua_tolstring(co, 2, &len);
    const char *name = lua_tostring(co, 3);
    if (!src || !name) return luaL_error(L, "bad spawn message");
    if (luaL_loadbufferx(L, src, len, name, "t") != LUA_OK) return lua_error(L);
    lua_pushvalue(co, 1);
    lua_xmove(co, L, 1);
    lua_setupvalue(L, -2, 1);
    lua_xmove(L, co, 1);
    lua_replace(co, 2);
    lua_remove(co, 3);
    return n - 1;
  }
  const char *fn = lua_tostring(co, 2);
  if (!fn) return luaL_error(L, "bad spawn message");
  const char *dot = strrchr(fn, '.');
  if (dot) {
    lua_getglobal(L, "require");
    lua_pushlstring(L, fn, (size_t)(dot - fn));
    lua_call(L, 1, 1);
    if (!lua_istable(L, -1)) return luaL_error(L, "module '%s' is not a table", lua_tostring(L, -2));
    lua_getfield(L, -1, dot + 1);
  } else {
    lua_getglobal(L, fn);
  }
  if (lua_type(L, -1) != LUA_TFUNCTION) return luaL_error(L, "'%s' is not a function", fn);
  lua_xmove(L, co, 1);
  lua_replace(co, 2);
  return n;
}

/* Runs protected on the shard's own thread: errors in the new thread
   propagate there (Lua hands them to the main thread's handler). */
static int start_protected(lua_State *L) {
  lng_g *g = lua_touserdata(L, 1);
  lng_shard *sh = lng_shard_of(L);
  lng_gvm *gv = g->vm;
  if (sh->npool > 0) {
    sh->npool--;
    gv->co = sh->pool[sh->npool];
    gv->coref = sh->poolref[sh->npool];
  } else {
    gv->co = lua_newthread(L);
    gv->coref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_State *co = gv->co;
  if (g->flags & LNG_G_MAIN) {
    /* The main chunk gets a complete table, as in plain Lua (pairs(_G),
       rawget); other goroutines read through until they need otherwise. */
    lng_shard_pushenv(L);
    lng_shard_materialize(L, -1);
    push_argtable(L, sh->rt);
    lua_setfield(L, -2, "arg");
    lua_pop(L, 1);
    lua_pushcfunction(co, main_driver);
    lua_pushinteger(L, 0);
  } else if (g->flags & (LNG_G_CNAME | LNG_G_CCODE)) {
    lng_shard_pushenv(L);
    lua_xmove(L, co, 1);
    lng_msg view;
    int n = lng_copy_decode(co, lng_g_startmsg(g, &view), 1);
    if (n < 0) {
      lua_xmove(co, L, 1);
      return lua_error(L);
    }
    n = resolve_cspawn(L, co, g, n);
    lua_remove(co, 1);
    lua_pushinteger(L, n - 1);
  } else {
    /* The globals table is made when something first needs it: a function
       that names no global never does, and its goroutine is ~100 bytes
       smaller and quicker to start. */
    lng_msg view;
    int n = lng_copy_decode(co, lng_g_startmsg(g, &view), LNG_COPY_LAZYENV);
    if (n < 0) {
      lua_xmove(co, L, 1);
      return lua_error(L);
    }
    lua_pushinteger(L, n - 1);
  }
  return 1;
}

/* Turns an error value into a message without calling anything (the
   statuses other than a plain run-time error). */
static const char *errmsg(lua_State *L, lua_State *co) {
  if (lua_type(co, -1) == LUA_TSTRING || lua_type(co, -1) == LUA_TNUMBER)
    lua_pushstring(L, lua_tostring(co, -1));
  else
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(co, -1));
  return lua_tostring(L, -1);
}

/* lua.c's message handler, run on the failed goroutine's thread, whose
   frames are still there: what __tostring says (no traceback), else the
   message or "(error object is a T value)" with a traceback. Called
   through lua_pcall with itself as the handler, so a __tostring that fails
   is reported as lua does it: its own error, traceback from where it
   failed; and __tostring sees the stack lua.c gives it (debug.getinfo(4)
   is the function that raised). */
static int report_handler(lua_State *co) {
  const char *msg = lua_tostring(co, 1);
  if (msg == NULL) {
    if (luaL_callmeta(co, 1, "__tostring") && lua_type(co, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(co, "(error object is a %s value)", luaL_typename(co, 1));
  }
  luaL_traceback(co, co, msg, 1);
  return 1;
}

/* The message of a run-time error, from report_handler run on co; pushed
   on L. Calls on a thread that ended in an error leave the frames of the
   error below them, which is what the handler needs (lua.c runs its own at
   the same place, before the stack unwinds). */
static const char *runerr_msg(lua_State *L, lua_State *co) {
  if (!lua_checkstack(co, 3)) luaL_error(L, "not enough memory");
  lua_pushcfunction(co, report_handler);
  lua_pushcfunction(co, report_handler);
  lua_pushvalue(co, -3);
  lua_pcall(co, 1, 1, -3);
  const char *msg = lua_tostring(co, -1);
  lua_pushstring(L, msg ? msg : "(error object is not a string)");
  lua_pop(co, 2);
  return lua_tostring(L, -1);
}

/* A goroutine failed: the program ends with its error, unless it is not
   main and the embedder's on_error hook says to go on. */
static void fail(lng_shard *sh, lng_g *g, int status, const char *msg) {
  lng_runtime *rt = sh->rt;
  if (rt->cfg.on_error && !(g->flags & LNG_G_MAIN) &&
      (status == LNG_ERRRUN || status == LNG_ERRMEM) && !lng_sched_stopping(rt->sched) &&
      rt->cfg.on_error(rt, (long long)g->id, status, msg ? msg : "", rt->cfg.ud) == 0)
    return;
  lng_sched_fail(rt->sched, status, 1, msg);
}

/* Builds the report of a failed goroutine (protected: memory may be what
   ran out). Arguments: the goroutine record, its thread, its status. */
static int build_report(lua_State *L) {
  lng_g *g = lua_touserdata(L, 1);
  lua_State *co = lua_touserdata(L, 2);
  int status = (int)lua_tointeger(L, 3);
  const char *msg = status == LNG_ERRRUN ? runerr_msg(L, co) : errmsg(L, co);
  if ((status == LNG_ERRRUN || status == LNG_ERRMEM) && !(g->flags & LNG_G_MAIN))
    msg = lua_pushfstring(L, "goroutine %I: %s", (LUA_INTEGER)g->id, msg);
  /* Its to-be-closed variables are closed now, with the error, as lua
     closes the main chunk's before it reports (and Go runs a panicking
     goroutine's deferred calls): the report above was taken first, while
     the frames were still there. An error in a closing method is added. */
  int st = lua_status(co);
  if (st == LUA_OK || st == LUA_YIELD || !lua_checkstack(co, 1)) return 1;
  lua_pushvalue(co, -1);              /* the error, to tell a new one from it */
  lua_xmove(co, L, 1);
  if (lua_resetthread(co) != LUA_OK) {
    lua_pushvalue(co, -1);
    lua_xmove(co, L, 1);
    if (!lua_rawequal(L, -1, -2)) {
      const char *cm = lua_tostring(L, -1);
      lua_pushfstring(L, "%s\n(and while closing: %s)", msg, cm ? cm : "(error object is not a string)");
      return 1;
    }
  }
  lua_pushstring(L, msg);
  return 1;
}

static lng_runres goroutine_failed(lng_shard *sh, lng_g *g, lng_gvm *gv, lua_State *co, int st) {
  lua_State *L = sh->L;
  int top = lua_gettop(L);
  if (lua_touserdata(co, -1) == &EXIT_SENTINEL) return LNG_RUN_DONE;   /* outcome set */
  int status = gv->failstatus ? gv->failstatus : st == LUA_ERRMEM ? LNG_ERRMEM : LNG_ERRRUN;
  lua_pushcfunction(L, build_report);
  lua_pushlightuserdata(L, g);
  lua_pushlightuserdata(L, co);
  lua_pushinteger(L, status);
  if (lua_pcall(L, 3, 1, 0) == LUA_OK) {
    fail(sh, g, status, lua_tostring(L, -1));
  } else {
    char buf[128];
    snprintf(buf, sizeof buf, "goroutine %lld: not enough memory", (long long)g->id);
    fail(sh, g, LNG_ERRMEM, buf);
  }
  lua_settop(L, top);
  return LNG_RUN_DONE;
}

static lng_runres gor_run(void *ud, int worker, lng_g *g) {
  lng_runtime *rt = ud;
  lng_shard *sh = &rt->shards[worker];
  lua_State *L = sh->L;
  int nargs = 0;
  lng_gvm *gv = g->vm;
  if (!gv->started) {
    gv->started = 1;
    gv->coref = gv->envref = LUA_NOREF;
    sh->current = g;                  /* the decoder may make its globals */
    lua_pushcfunction(L, start_protected);
    lua_pushlightuserdata(L, g);
    int r = lua_pcall(L, 1, 1, 0);
    sh->current = NULL;
    if (r != LUA_OK) {
      char buf[512];
      snprintf(buf, sizeof buf, "goroutine %lld: cannot start: %s", (long long)g->id,
               lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
      lua_pop(L, 1);
      lng_g_begin(g);             /* the start message is dropped, as once started */
      fail(sh, g, r == LUA_ERRMEM ? LNG_ERRMEM : LNG_ERRRUN, buf);
      return LNG_RUN_DONE;
    }
    nargs = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    lng_g_begin(g);
  }
  gv->pending = LNG_PEND_NONE;
  if (g->flags & LNG_G_MAIN) lng_sched_disarm(g);   /* (the others never arm: block.c) */
  lng_interrupt_bind(sh);
  atomic_store_explicit(&sh->preempt, 0, memory_order_relaxed);   /* meant for the one before */
  /* (main never moves: stored once, not with a fence per resume) */
  if ((g->flags & LNG_G_MAIN) && atomic_load_explicit(&rt->mainworker, memory_order_relaxed) != worker)
    atomic_store(&rt->mainworker, worker);
  sh->current = g;
  sh->running = gv->co;
  if (g->flags & LNG_G_MAIN) lng_interrupt_resume(rt, gv);
  int nres = 0;
  int st = lua_resume(gv->co, NULL, nargs, &nres);
  sh->running = NULL;
  sh->current = NULL;
  if (st == LUA_YIELD) {
    if (nres) lua_pop(gv->co, nres);     /* (parks yield nothing) */
    switch (gv->pending) {
      case LNG_PEND_PARK: return LNG_RUN_PARK;
      case LNG_PEND_EXIT: return LNG_RUN_DONE;
      default: return LNG_RUN_YIELD;
    }
  }
  if (st == LUA_OK) return LNG_RUN_DONE;
  return goroutine_failed(sh, g, gv, gv->co, st);
}

static void gor_drop(void *ud, int worker, lng_g *g) {
  lng_runtime *rt = ud;
  lng_gvm *gv = g->vm;
  if (g->flags & LNG_G_MAIN) {
    pthread_mutex_lock(&rt->mainmu);
    rt->maing = NULL;
    pthread_mutex_unlock(&rt->mainmu);
  }
  if (!gv->started) return;
  lng_shard *sh = &rt->shards[worker];
  lua_State *L = sh->L;
  if (L && gv->co && (g->flags & LNG_G_MAIN) && atomic_load(&rt->exitclose))
    lua_resetthread(gv->co);     /* os.exit(code, true): close its to-be-closed variables */
  if (L) {
    lua_State *co = gv->co;
    /* A thread whose function returned is as good as new: keep it. */
    if (co && sh->npool < LNG_THREAD_POOL && !lng_sched_stopping(rt->sched) &&
        lua_status(co) == LUA_OK && lua_gettop(co) == 0) {
      lua_sethook(co, NULL, 0, 0);
      sh->pool[sh->npool] = co;
      sh->poolref[sh->npool++] = gv->coref;
    } else {
      luaL_unref(L, LUA_REGISTRYINDEX, gv->coref);
    }
    if (gv->envref >= 0 && sh->nenvfree < LNG_THREAD_POOL) {
      lua_pushboolean(L, 0);       /* the slot, kept for the next globals (shard.c) */
      lua_rawseti(L, LUA_REGISTRYINDEX, gv->envref);
      sh->envfree[sh->nenvfree++] = gv->envref;
    } else {
      luaL_unref(L, LUA_REGISTRYINDEX, gv->envref);
    }
  }
  free(gv->chain);
  gv->chain = NULL;
  gv->started = 0;
}

static void gor_describe(void *ud, int worker, lng_g *g, char *buf, size_t n) {
  (void)ud; (void)worker;
  lng_gvm *gv = g->vm;
  lua_State *T = gv->started ? gv->parkedL : NULL;
  lua_Debug ar;
  snprintf(buf, n, "?");
  if (!T) return;
  for (int level = 0; lua_getstack(T, level, &ar); level++) {
    if (!lua_getinfo(T, "Sl", &ar)) break;
    if (ar.currentline > 0) {
      snprintf(buf, n, "%s:%d", ar.short_src, ar.currentline);
      return;
    }
  }
}

const lng_vmops lng_gor_ops = { gor_run, gor_drop, gor_describe, sizeof(lng_gvm), gor_origin };
