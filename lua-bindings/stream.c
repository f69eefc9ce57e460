/*
 * Streams over pipes (runtime/pipe.h): go.exec's proc.stdin, .stdout and
 * .stderr, with the conn methods of go.net in LuaSocket's convention:
 *
 *   s:receive([pattern [, prefix]])  "*l"/"l" (default) a line without
 *       "\n" (a "\r" before it dropped), "*L"/"L" with it, "*a"/"a" until
 *       the end ("" at the end), or a byte count; -> data | nil, err, partial
 *   s:send(s1, ...)  -> bytes sent | nil, err, sent   (written whole: never
 *       interleaved with another goroutine's send)
 *   s:close()
 *
 * err is "closed" (the other end closed, or close() was called) or the
 * system's text. Every operation tries the system call first and parks
 * on the netpoller only on EAGAIN; several receivers (or senders) take
 * turns. Where Lua cannot suspend, an operation that would wait raises
 * the "cannot block" error, as a channel's does.
 *
 * This is go.net's conn contract written for pipes; when the two meet,
 * one set of methods can serve both (the buffer and turn logic here does
 * not depend on the fd being a pipe).
 */
#include <errno.h>
#include <string.h>
#include <lauxlib.h>
#include "bindings.h"
#include "../runtime/pipe.h"
#include "../vm/vm.h"
#include "../vm/block.h"
#include "../vm/args.h"
#include "../vm/proxy.h"

#define SOP "lungo.streamop"

/* An operation in flight, on the goroutine's stack: its netpoller wait,
   its reference to the pipe and whether it holds the pipe's turn. */
typedef struct sop {
  lng_iowait iw;
  lng_pipe *p;
  int dir;
  int held;                  /* the turn is ours */
  int forturn;               /* parked waiting for the turn (not readiness) */
  size_t sent;
} sop;

static void sop_release(sop *o) {
  if (o->held) { lng_pollfd_release(o->p->pd, o->dir, -1); o->held = 0; }
}

static int sop_gc(lua_State *L) {
  sop *o = luaL_checkudata(L, 1, SOP);
  sop_release(o);
  if (o->p) { lng_obj_unref(&o->p->obj); o->p = NULL; }
  return 0;
}

/* An interrupted goroutine (lng_interrupt) lets go of the turn at once. */
static int sop_cancel(void *obj, lng_waiter *w) {
  (void)w;
  sop *o = obj;
  int was = lng_pollfd_cancel(&o->iw);
  if (was) sop_release(o);
  return was;
}

static lng_pipe *checkpipe(lua_State *L, int idx) {
  return (lng_pipe *)lng_proxy_check(L, &lng_shard_of(L)->proxies, idx, LNG_OBJ_PIPE, "pipe");
}

static sop *newsop(lua_State *L, lng_pipe *p, int dir) {
  sop *o = lua_newuserdatauv(L, sizeof *o, 0);
  memset(o, 0, sizeof *o);
  luaL_setmetatable(L, SOP);
  o->p = p;
  lng_obj_ref(&p->obj);
  o->dir = dir;
  if (lng_block_possible(L)) lng_block_bind(L, &o->iw.w, 1);
  return o;
}

static lng_iowait *iwof(lua_State *L, sop *o) {
  return o->iw.w.g && lng_block_possible(L) ? &o->iw : NULL;
}

/* nil, err, prefix .. partial */
static int fail(lua_State *L, const char *err, const char *partial, size_t n) {
  luaL_pushfail(L);
  lua_pushstring(L, err);
  lua_pushvalue(L, 3);
  lua_pushlstring(L, partial, n);
  lua_concat(L, 2);
  return 3;
}

static const char *errtext(ssize_t n) {
  return n == -EBADF || n == -EPIPE ? "closed" : strerror((int)-n);
}

/* ---- receive ---- */

enum { PAT_LINE, PAT_LINEKEEP, PAT_ALL, PAT_COUNT };

/* The receive's result from the buffer, pushed (the count returned), or
   -1 when more bytes are needed. */
static int take(lua_State *L, lng_pipe *p, int pat, size_t count) {
  const char *b = p->buf + p->off;
  size_t have = lng_pipe_buffered(p);
  size_t n;
  if (pat == PAT_LINE || pat == PAT_LINEKEEP) {
    const char *nl = have ? memchr(b, '\n', have) : NULL;
    if (!nl) {
      if (!p->eof) return -1;
      p->off = p->len;
      return fail(L, "closed", b, have);
    }
    n = (size_t)(nl - b);
    size_t keep = pat == PAT_LINEKEEP ? n + 1 : (n > 0 && b[n - 1] == '\r' ? n - 1 : n);
    lua_pushvalue(L, 3);
    lua_pushlstring(L, b, keep);
    p->off += n + 1;
  } else if (pat == PAT_ALL) {
    if (!p->eof) return -1;
    lua_pushvalue(L, 3);
    lua_pushlstring(L, b, have);
    p->off = p->len;
  } else {
    if (have < count) {
      if (!p->eof) return -1;
      p->off = p->len;
      return fail(L, "closed", b, have);
    }
    lua_pushvalue(L, 3);
    lua_pushlstring(L, b, count);
    p->off += count;
  }
  lua_concat(L, 2);
  return 1;
}

static int recv_run(lua_State *L);

static int recv_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  sop *o = lua_touserdata(L, 4);
  if (o->forturn) {
    o->forturn = 0;
    if (o->iw.w.result != LNG_RES_OK) return fail(L, "closed", "", 0);
    o->held = 1;                      /* handed over by the one before */
  } else if (o->iw.w.result == LNG_RES_TIMEOUT) {
    sop_release(o);
    return fail(L, "timeout", "", 0);
  }
  return recv_run(L);
}

static const lng_waitkind recv_kind = { "pipe:receive", "IO wait", sop_cancel, recv_done };

/* Stack: 1 the pipe, 2 the pattern, 3 the prefix (a string), 4 the sop. */
static int recv_run(lua_State *L) {
  sop *o = lua_touserdata(L, 4);
  lng_pipe *p = o->p;
  int pat = PAT_COUNT;
  size_t count = 0;
  if (lua_type(L, 2) == LUA_TNUMBER) {
    count = (size_t)lua_tointeger(L, 2);
  } else {
    const char *s = lua_tostring(L, 2);
    if (*s == '*') s++;
    pat = *s == 'l' ? PAT_LINE : *s == 'L' ? PAT_LINEKEEP : PAT_ALL;
  }
  if (!o->held) {
    int r = lng_pollfd_acquire(p->pd, LNG_POLL_READ, iwof(L, o));
    if (r == LNG_RES_CLOSED) return fail(L, "closed", "", 0);
    if (r != LNG_RES_OK) {
      o->forturn = r == LNG_RES_PARKED;
      return lng_block_on(L, &recv_kind, o, r);
    }
    o->held = 1;
  }
  for (;;) {
    int n = take(L, p, pat, count);
    if (n >= 0) { sop_release(o); return n; }
    ssize_t got = lng_pipe_fill(p);
    if (got >= 0) continue;
    if (got == -EAGAIN) {
      int r = lng_pollfd_wait(p->pd, LNG_POLL_READ, iwof(L, o));
      if (r == LNG_RES_OK) continue;
      if (r == LNG_RES_PARKED || r == LNG_RES_WOULDBLOCK) {
        if (r == LNG_RES_WOULDBLOCK) sop_release(o);
        return lng_block_on(L, &recv_kind, o, r);
      }
      got = -EBADF;                   /* closed (or timed out: the same to the caller) */
    }
    /* an error: what was buffered is the partial result */
    const char *b = p->buf ? p->buf + p->off : "";
    size_t have = lng_pipe_buffered(p);
    p->off = p->len;
    int r = fail(L, errtext(got), b, have);
    sop_release(o);
    return r;
  }
}

static int s_receive(lua_State *L) {
  lng_pipe *p = checkpipe(L, 1);
  lua_settop(L, 3);
  if (lua_isnil(L, 2)) {
    lua_pushliteral(L, "*l");
    lua_replace(L, 2);
  } else if (lua_type(L, 2) == LUA_TNUMBER) {
    lng_argcheck(L, lng_checkinteger(L, 2) >= 0, 1, "byte count must not be negative");
  } else {
    const char *s = luaL_checkstring(L, 2);
    if (*s == '*') s++;
    lng_argcheck(L, (s[0] == 'l' || s[0] == 'L' || s[0] == 'a') && s[1] == 0, 1, "invalid receive pattern");
  }
  if (lua_isnil(L, 3)) lua_pushliteral(L, "");
  else lua_pushstring(L, luaL_checkstring(L, 3));
  lua_replace(L, 3);
  newsop(L, p, LNG_POLL_READ);
  return recv_run(L);
}

/* ---- send ---- */

static int send_run(lua_State *L);

static int send_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  sop *o = lua_touserdata(L, 3);
  if (o->forturn) {
    o->forturn = 0;
    if (o->iw.w.result != LNG_RES_OK) goto closed;
    o->held = 1;
  } else if (o->iw.w.result != LNG_RES_OK) {
    sop_release(o);
    goto closed;
  }
  return send_run(L);
closed:
  luaL_pushfail(L);
  lua_pushliteral(L, "closed");
  lua_pushinteger(L, (lua_Integer)o->sent);
  return 3;
}

static const lng_waitkind send_kind = { "pipe:send", "IO wait", sop_cancel, send_done };

/* Stack: 1 the pipe, 2 the data, 3 the sop. */
static int send_run(lua_State *L) {
  sop *o = lua_touserdata(L, 3);
  size_t len;
  const char *s = lua_tolstring(L, 2, &len);
  if (!o->held) {
    int r = lng_pollfd_acquire(o->p->pd, LNG_POLL_WRITE, iwof(L, o));
    if (r == LNG_RES_CLOSED) {
      luaL_pushfail(L);
      lua_pushliteral(L, "closed");
      lua_pushinteger(L, 0);
      return 3;
    }
    if (r != LNG_RES_OK) {
      o->forturn = r == LNG_RES_PARKED;
      return lng_block_on(L, &send_kind, o, r);
    }
    o->held = 1;
  }
  while (o->sent < len) {
    ssize_t n = lng_pipe_write(o->p, s + o->sent, len - o->sent);
    if (n >= 0) { o->sent += (size_t)n; continue; }
    if (n == -EAGAIN) {
      int r = lng_pollfd_wait(o->p->pd, LNG_POLL_WRITE, iwof(L, o));
      if (r == LNG_RES_OK) continue;
      if (r == LNG_RES_PARKED || r == LNG_RES_WOULDBLOCK) {
        if (r == LNG_RES_WOULDBLOCK) sop_release(o);
        return lng_block_on(L, &send_kind, o, r);
      }
      n = -EBADF;
    }
    sop_release(o);
    luaL_pushfail(L);
    lua_pushstring(L, errtext(n));
    lua_pushinteger(L, (lua_Integer)o->sent);
    return 3;
  }
  sop_release(o);
  lua_pushinteger(L, (lua_Integer)o->sent);
  return 1;
}

static int s_send(lua_State *L) {
  lng_pipe *p = checkpipe(L, 1);
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 2; i <= n; i++) {
    int t = lua_type(L, i);
    lng_argexpected(L, t == LUA_TSTRING || t == LUA_TNUMBER, i, "string");
    lua_pushvalue(L, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_copy(L, -1, 2);
  lua_settop(L, 2);
  newsop(L, p, LNG_POLL_WRITE);
  return send_run(L);
}

static int s_close(lua_State *L) {
  lng_pipe *p = checkpipe(L, 1);
  lng_pollfd_close(p->pd, lng_shard_of(L)->index);
  lua_pushboolean(L, 1);
  return 1;
}

static int s_tostring(lua_State *L) {
  lua_pushfstring(L, "pipe: %p", (void *)checkpipe(L, 1));
  return 1;
}

void lng_open_stream(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"receive", s_receive}, {"send", s_send}, {"close", s_close}, {NULL, NULL}
  };
  luaL_newmetatable(L, SOP);
  lua_pushcfunction(L, sop_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_newtable(L);                   /* the proxies' metatable */
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lng_setnames(L, -1, "pipe:", methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, s_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "pipe");
  lua_setfield(L, -2, "__name");
  lng_proxy_register(L, LNG_OBJ_PIPE);
}
