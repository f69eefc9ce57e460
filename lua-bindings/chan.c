/*
 * Channels as Lua sees them: chan([cap]) and the methods send, recv,
 * close, len, cap, range. Values are copied through vm/copy.h; a blocking
 * operation queues the goroutine's own waiter and parks it (vm/block.h).
 */
#include <lauxlib.h>
#include "../runtime/chan.h"
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/block.h"
#include "../vm/args.h"
#include "../vm/copy.h"
#include "../vm/proxy.h"

#define RECV_VALUE 0    /* ch:recv(): v, ok */
#define RECV_RANGE 1    /* iterator of ch:range(): v, or nil at the end */

static lng_chan *checkchan(lua_State *L, int idx) {
  return (lng_chan *)lng_proxy_check(L, &lng_shard_of(L)->proxies, idx, LNG_OBJ_CHAN, "channel");
}

static int chan_new(lua_State *L) {
  lua_Integer cap = lng_optinteger(L, 1, 0);
  lng_argcheck(L, cap >= 0, 1, "capacity must not be negative");
  lng_chan *c = lng_chan_new((size_t)cap);
  if (!c) return luaL_error(L, "not enough memory for a channel of capacity %I", cap);
  if (cap > 0) c->obj.home = lng_shard_of(L)->rt->objtrack;   /* its buffer may hold a cycle */
  lng_proxy_pushnew(L, &c->obj);
  lng_obj_unref(&c->obj);     /* the proxy holds its own reference */
  return 1;
}

/* After a send: sent, or the channel is closed (a parked send's value is
   still in box). */
static int send_done(lua_State *L, int res, lng_msg *box) {
  if (res == LNG_RES_CLOSED) {
    if (box) lng_msg_free(box);
    return luaL_error(L, "send on closed channel");
  }
  return 0;
}

static const lng_waitkind send_kind = { "chan:send", "chan send", NULL, send_done };

/* The waiter to queue if the operation must wait, or NULL. A buffered
   channel rarely makes anyone wait: there the operation is tried first and
   the waiter (which asks Lua whether the caller may suspend) is made only
   when needed, at the cost of taking the lock twice in the rare case. */
static lng_waiter *first_waiter(lua_State *L, lng_chan *c) {
  return c->cap ? NULL : lng_block_waiter(L);
}

static int chan_send(lua_State *L) {
  lng_shard *sh = lng_shard_of(L);
  lng_chan *c = (lng_chan *)lng_proxy_check(L, &sh->proxies, 1, LNG_OBJ_CHAN, "channel");
  lng_msg m;
  lng_msg_init(&m);
  if (!lng_copy_encode_int(L, 2, &m)) {      /* the commonest send, in place */
    int t = lua_type(L, 2), env = 0;
    if (t <= LUA_TNIL) return luaL_error(L, "cannot send nil on a channel");
    /* lua_settop costs more than the rest of a small send: only when needed */
    if (t == LUA_TTABLE || t == LUA_TFUNCTION) {
      lua_settop(L, 2);
      lng_shard_peekenv(L);                /* may hold _G */
      env = 3;
    }
    if (lng_copy_encode_values(L, 2, 1, env, 0, &m) < 0) {
      lng_msg_free(&m);
      return lng_error_here(L);
    }
  }
  lng_waiter *w = first_waiter(L, c);
  int r = lng_chan_send(c, &m, w, sh->index);
  if (r == LNG_RES_WOULDBLOCK && !w && (w = lng_block_waiter(L)))
    r = lng_chan_send(c, &m, w, sh->index);
  if (r == LNG_RES_OK) return 0;
  if (r != LNG_RES_PARKED) lng_msg_free(&m);   /* (parked: the waiter's box holds it) */
  return lng_block_on(L, &send_kind, &c->wait, r);
}

/* Pushes the value held by m (then freed), plus ok=true for RECV_VALUE. */
static int push_received(lua_State *L, lng_msg *m, lua_KContext mode) {
  int n = lng_copy_decode(L, m, LNG_COPY_LAZYENV);
  lng_msg_free(m);
  if (n < 0) return lua_error(L);
  if (mode == RECV_RANGE) return n;
  lua_pushboolean(L, 1);
  return n + 1;
}

static int push_closed(lua_State *L, lua_KContext mode) {
  lua_pushnil(L);
  if (mode == RECV_RANGE) return 1;
  lua_pushboolean(L, 0);
  return 2;
}

/* After a receive that did not find a value at once: one arrived in box
   (the receive parked), or the channel is closed. */
static int recv_done(lua_State *L, int res, lng_msg *box, lua_KContext mode) {
  if (res == LNG_RES_CLOSED) return push_closed(L, mode);
  return push_received(L, box, mode);
}

static int recv_value_done(lua_State *L, int res, lng_msg *box) {
  return recv_done(L, res, box, RECV_VALUE);
}

static int recv_range_done(lua_State *L, int res, lng_msg *box) {
  return recv_done(L, res, box, RECV_RANGE);
}

static const lng_waitkind recv_kind[] = {
  [RECV_VALUE] = { "chan:recv", "chan receive", NULL, recv_value_done },
  [RECV_RANGE] = { "chan:range", "chan receive", NULL, recv_range_done },
};

static int recv_common(lua_State *L, lua_KContext mode) {
  lng_shard *sh = lng_shard_of(L);
  lng_chan *c = (lng_chan *)lng_proxy_check(L, &sh->proxies, 1, LNG_OBJ_CHAN, "channel");
  lng_waiter *w = first_waiter(L, c);
  lng_msg local, *out = w ? w->slot : &local;
  lng_msg_init(&local);
  int r = lng_chan_recv(c, out, w, sh->index);
  if (r == LNG_RES_WOULDBLOCK && !w && (w = lng_block_waiter(L))) {
    out = w->slot;
    r = lng_chan_recv(c, out, w, sh->index);
  }
  if (r == LNG_RES_OK) return push_received(L, out, mode);
  return lng_block_on(L, &recv_kind[mode], &c->wait, r);
}

static int chan_recv(lua_State *L) { return recv_common(L, RECV_VALUE); }
static int chan_rangeiter(lua_State *L) { return recv_common(L, RECV_RANGE); }

static int chan_range(lua_State *L) {
  checkchan(L, 1);
  lua_pushcfunction(L, chan_rangeiter);     /* one function for all: it has a name */
  lua_pushvalue(L, 1);
  return 2;
}

static int chan_close(lua_State *L) {
  lng_chan *c = checkchan(L, 1);
  if (lng_chan_close(c, lng_shard_of(L)->index) == LNG_RES_CLOSED)
    return luaL_error(L, "close of closed channel");
  return 0;
}

static int chan_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lng_chan_len(checkchan(L, 1)));
  return 1;
}

static int chan_cap(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lng_chan_cap(checkchan(L, 1)));
  return 1;
}

static int chan_tostring(lua_State *L) {
  lua_pushfstring(L, "channel: %p", (void *)checkchan(L, 1));
  return 1;
}

void lng_open_chan(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"send", chan_send}, {"recv", chan_recv}, {"close", chan_close},
    {"len", chan_len}, {"cap", chan_cap}, {"range", chan_range}, {NULL, NULL}
  };
  lua_newtable(L);                        /* the metatable */
  luaL_newlibtable(L, methods);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, methods, 1);
  lng_setnames(L, -1, "ch:", methods);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, chan_len, 1);
  lng_setname(L, -1, "ch:len");
  lua_setfield(L, -2, "__len");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, chan_tostring, 1);
  lng_setname(L, -1, "ch:__tostring");
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "channel");
  lua_setfield(L, -2, "__name");
  lng_proxy_register(L, LNG_OBJ_CHAN);
  lua_pushcfunction(L, chan_new);
  lng_setname(L, -1, "chan");
  lua_pushcfunction(L, chan_rangeiter);
  lng_setname(L, -1, "range iterator");
  lua_pop(L, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "chan");            /* the global */
  lua_getfield(L, -2, "go");
  lua_insert(L, -2);
  lua_setfield(L, -2, "chan");            /* go.chan */
  lua_pop(L, 1);
}
