/*
 * go.select(case, ...): a channel receives, {ch, value} sends, nil (or
 * {nil, value}) is never ready, go.default makes it non-blocking. Returns
 * the chosen position, then v, ok as ch:recv() would (nil, true for a
 * send). The cases' state lives in a userdata kept on the stack, so it
 * survives the park.
 */
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "../runtime/select.h"
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/block.h"
#include "../vm/args.h"
#include "../vm/copy.h"
#include "../vm/proxy.h"

static const char SELSHARD_KEY = 's';  /* the registry's selshard */

typedef struct selstate {
  int n;
  lng_selgroup grp;
  lng_msg out;           /* the received value */
  lng_selcase *cs;
  lng_waiter *ws;
  lng_msg *msgs;         /* send values, one per case */
  int *order;
  lng_chan **locks;
} selstate;

/* What select keeps per shard: a userdata in the registry (at
   &SELSHARD_KEY), so that it lives as long as the shard's state and is
   freed with it (__gc). (Not an upvalue: go.select is copied between
   shards, which only a C function without upvalues can be.) */
typedef struct selshard {
  selstate *scratch;     /* the state of selects that do not park (most of them) */
  int cap, busy;         /* its room in cases; in use (see go_select) */
  uint64_t rng;          /* xorshift: the poll order */
} selshard;

static uint64_t rnd(selshard *ss) {
  uint64_t x = ss->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return ss->rng = x;
}

static int sel_gc(lua_State *L) {
  selstate *st = lua_touserdata(L, 1);
  for (int i = 0; i < st->n; i++) lng_msg_free(&st->msgs[i]);
  lng_msg_free(&st->out);
  return 0;
}

static size_t statesize(int n) {
  return sizeof(selstate) + (size_t)n * (sizeof(lng_selcase) + sizeof(lng_waiter) +
                                         sizeof(lng_msg) + sizeof(int) + sizeof(lng_chan *));
}

/* Lays out a zeroed block of statesize(n) bytes as a state for n cases. */
static selstate *layout(void *block, int n) {
  selstate *st = block;
  memset(st, 0, statesize(n));
  char *p = (char *)(st + 1);
  st->ws = (lng_waiter *)p;   p += (size_t)n * sizeof(lng_waiter);
  st->msgs = (lng_msg *)p;    p += (size_t)n * sizeof(lng_msg);
  st->cs = (lng_selcase *)p;  p += (size_t)n * sizeof(lng_selcase);
  st->locks = (lng_chan **)p; p += (size_t)n * sizeof(lng_chan *);
  st->order = (int *)p;
  st->n = n;
  lng_msg_init(&st->out);
  for (int i = 0; i < n; i++) lng_msg_init(&st->msgs[i]);
  return st;
}

/* A state that survives a park: a userdata, whose __gc frees what it holds. */
static selstate *newstate(lua_State *L, int n) {
  selstate *st = layout(lua_newuserdatauv(L, statesize(n), 0), n);
  if (luaL_newmetatable(L, "lungo.selstate")) {
    lua_pushcfunction(L, sel_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return st;
}

static void freemsgs(selstate *st) {
  for (int i = 0; i < st->n; i++) lng_msg_free(&st->msgs[i]);
  lng_msg_free(&st->out);
}

/* The shard's state for selects that do not park (most of them): no
   allocation, no finalizer. What an error left in it is freed on reuse. */
static selstate *scratch(lua_State *L, selshard *ss, int n) {
  selstate *st = ss->scratch;
  if (st) freemsgs(st);
  if (!st || n > ss->cap) {
    int cap = n < 8 ? 8 : n;
    void *b = realloc(st, statesize(cap));
    if (!b) luaL_error(L, "not enough memory");
    ss->scratch = b;
    ss->cap = cap;
  }
  return layout(ss->scratch, n);
}

static int selshard_gc(lua_State *L) {
  selshard *ss = lua_touserdata(L, 1);
  if (ss->scratch) freemsgs(ss->scratch);
  free(ss->scratch);
  ss->scratch = NULL;
  return 0;
}

static lng_chan *tochan(lua_State *L, int idx) {
  lng_obj *o = lng_proxy_test(L, idx);
  return o && o->kind == LNG_OBJ_CHAN ? (lng_chan *)o : NULL;
}

/* Pushes the outcome of case i (0-based): a send's, or a receive's with
   the value in out (then freed). */
static int outcome(lua_State *L, int send, int i, int res, lng_msg *out) {
  if (send) {
    if (res == LNG_RES_CLOSED) return luaL_error(L, "send on closed channel");
    lua_pushinteger(L, i + 1);
    lua_pushnil(L);
    lua_pushboolean(L, 1);
    return 3;
  }
  lua_pushinteger(L, i + 1);
  if (res == LNG_RES_CLOSED) {
    lua_pushnil(L);
    lua_pushboolean(L, 0);
    return 3;
  }
  int k = lng_copy_decode(L, out, LNG_COPY_LAZYENV);
  lng_msg_free(out);
  if (k < 0) return lua_error(L);
  lua_pushboolean(L, 1);
  return 2 + k;
}

static int result(lua_State *L, selstate *st, int i, int res) {
  return outcome(L, st->cs[i].send, i, res, &st->out);
}

/* After a parked select: its state is the userdata on top (the stack is
   as the park left it); finishing takes every other case's waiter back. */
static int select_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;          /* (the cases' own waiters say what happened) */
  selstate *st = lua_touserdata(L, lua_gettop(L));
  int i = lng_select_finish(st->cs, st->n, st->ws, &st->grp, &res);
  return result(L, st, i, res);
}

/* How lng_interrupt takes a parked select back: no case may complete any
   more, and every case's waiter leaves its channel (the state they live
   in is freed with the stack once the error unwinds it). */
static int cancel_select(void *obj, lng_waiter *w) {
  (void)w;
  selstate *st = obj;
  if (!lng_select_abort(&st->grp)) return 0;
  int res;
  lng_select_finish(st->cs, st->n, st->ws, &st->grp, &res);
  return 1;
}

static const lng_waitkind select_kind[] = {
  { "go.select", "select (no cases)", cancel_select, select_done },
  { "go.select", "select", cancel_select, select_done },
};

/* Takes the received value out of the scratch state and frees the rest
   before anything can run (a __gc could select on this shard again). */
static int scratch_result(lua_State *L, selstate *st, int i, int res) {
  int send = st->cs[i].send;
  lng_msg out;
  lng_msg_move(&out, &st->out);
  freemsgs(st);
  return outcome(L, send, i, res, &out);
}

/* Fills st from the cases at 1..n; returns the go.default position or -1. */
static int fill(lua_State *L, selshard *ss, selstate *st, int n) {
  int dflt = -1;
  lng_shard_peekenv(L);
  int env = lua_gettop(L);
  for (int i = 0; i < n; i++) {
    int a = i + 1;
    lng_selcase *c = &st->cs[i];
    if (lua_touserdata(L, a) == LNG_COPY_DEFAULT) {
      if (dflt >= 0) return lng_argerror(L, a, "more than one go.default");
      dflt = i;
    } else if (lua_isnil(L, a)) {
      /* never ready */
    } else if (lua_istable(L, a)) {
      lua_rawgeti(L, a, 1);
      if (!lua_isnil(L, -1) && !(c->c = tochan(L, -1)))
        return lng_argerror(L, a, "send case: channel or nil expected at [1]");
      lua_pop(L, 1);
      c->send = 1;
      c->msg = &st->msgs[i];
      if (lua_rawgeti(L, a, 2) == LUA_TNIL) return luaL_error(L, "cannot send nil on a channel");
      if (lng_copy_encode(L, lua_gettop(L), 1, env, 0, c->msg) < 0) return lng_error_here(L);
      lua_pop(L, 1);
    } else if (!(c->c = tochan(L, a))) {
      return lng_argerror(L, a, "channel, {channel, value}, nil or go.default expected");
    }
  }
  lua_pop(L, 1);
  /* A random poll order makes the choice among ready cases uniform. */
  for (int i = 0; i < n; i++) st->order[i] = i;
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(rnd(ss) % (uint64_t)(i + 1));
    int t = st->order[i]; st->order[i] = st->order[j]; st->order[j] = t;
  }
  return dflt;
}

/* Whether filling allocates nothing in the Lua state, so that no __gc can
   run (and select again on this shard) while the scratch state is in use:
   no value to send is a table or a function. */
static int noalloc(lua_State *L, int n) {
  for (int a = 1; a <= n; a++) {
    if (!lua_istable(L, a)) continue;
    int t = lua_rawgeti(L, a, 2);
    lua_pop(L, 1);
    if (t == LUA_TTABLE || t == LUA_TFUNCTION) return 0;
  }
  return 1;
}

/* Parks on the cases of st (the userdata on top) or completes at once. */
static int wait_on(lua_State *L, selstate *st) {
  lng_shard *sh = lng_shard_of(L);
  int n = st->n, res;
  lng_block_bind(L, st->ws, n);
  int i = lng_select_run(st->cs, n, st->order, st->locks, &st->out, st->ws, &st->grp, sh->index, &res);
  if (i >= 0) return result(L, st, i, res);
  int any = 0;
  for (int k = 0; k < n; k++) any |= st->cs[k].c != NULL;
  return lng_block_on(L, &select_kind[any], st, res);
}

static int go_select(lua_State *L) {
  int n = lua_gettop(L);
  lng_shard *sh = lng_shard_of(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &SELSHARD_KEY);
  selshard *ss = lua_touserdata(L, -1);
  lua_pop(L, 1);
  int res;
  if (ss->busy || !noalloc(L, n)) {   /* the general way: a state of its own from the start */
    selstate *st = newstate(L, n);
    int dflt = fill(L, ss, st, n);
    int i = lng_select_run(st->cs, n, st->order, st->locks, &st->out, NULL, &st->grp, sh->index, &res);
    if (i >= 0) return result(L, st, i, res);
    if (dflt >= 0) {
      lua_pushinteger(L, dflt + 1);
      return 1;
    }
    if (!lng_block_possible(L)) return lng_block_on(L, &select_kind[0], NULL, LNG_RES_WOULDBLOCK);
    return wait_on(L, st);
  }
  /* Most selects: a poll on the shard's scratch state. */
  selstate *st = scratch(L, ss, n);
  int dflt = fill(L, ss, st, n);
  int i = lng_select_run(st->cs, n, st->order, st->locks, &st->out, NULL, &st->grp, sh->index, &res);
  if (i >= 0) return scratch_result(L, st, i, res);
  if (dflt >= 0 || !lng_block_possible(L)) {
    freemsgs(st);
    if (dflt < 0) return lng_block_on(L, &select_kind[0], NULL, LNG_RES_WOULDBLOCK);
    lua_pushinteger(L, dflt + 1);
    return 1;
  }
  /* Nothing ready: the wait needs a state of its own. The cases and their
     values move over; the poll runs again with the waiters, under the
     channels' locks, so nothing that became ready meanwhile is missed. */
  /* newstate may run a __gc that selects: that one takes the general way.
     (Should newstate raise, busy stays set and every later select on
     this worker takes the general way: slower, never wrong.) */
  ss->busy = 1;
  selstate *pst = newstate(L, n);
  memcpy(pst->cs, st->cs, (size_t)n * sizeof *st->cs);
  memcpy(pst->order, st->order, (size_t)n * sizeof *st->order);
  for (int k = 0; k < n; k++) {
    lng_msg_move(&pst->msgs[k], &st->msgs[k]);
    if (pst->cs[k].send) pst->cs[k].msg = &pst->msgs[k];
  }
  ss->busy = 0;
  return wait_on(L, pst);
}

void lng_open_select(lua_State *L) {
  lua_getfield(L, -1, "go");
  selshard *ss = lua_newuserdatauv(L, sizeof *ss, 0);
  lng_shard *sh = lng_shard_of(L);
  *ss = (selshard){ .rng = 0x9e3779b97f4a7c15ull * (uint64_t)(sh->index + 1) ^ (uint64_t)(uintptr_t)sh };
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, selshard_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &SELSHARD_KEY);
  lua_pushcfunction(L, go_select);
  lng_setname(L, -1, "go.select");
  lua_setfield(L, -2, "select");
  lua_pushlightuserdata(L, LNG_COPY_DEFAULT);
  lua_setfield(L, -2, "default");
  lua_pop(L, 1);
}
