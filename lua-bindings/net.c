/*
 * Sockets as Lua sees them: go.net (also require "lungo.net") with
 * listen, dial and resolve; listeners, connections (streams) and datagram
 * sockets with LuaSocket's conventions. Every operation tries its system
 * call first and parks the goroutine (never the worker) on the poller
 * only after EAGAIN (runtime/netpoll.h, vm/block.h); each one takes its
 * direction's turn first, so concurrent sends are never interleaved and
 * receivers take turns.
 *
 * Results: data | nil, err [, partial]; err is "closed", "timeout" or the
 * system's text. Misuse (bad arguments, an unknown network) raises. Where
 * Lua cannot suspend (require, a metamethod, __gc, a table.sort
 * comparator), an operation that would wait raises the "cannot block"
 * error; one that can complete at once still works. What a receive had
 * buffered stays buffered; a send may have written part of its data.
 *
 * An operation in progress keeps its state in the socket (sock.h, the
 * turn holder's fields) and its arguments on its Lua stack, so that the
 * continuation after a park (the *_done functions) picks up where it was.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <lauxlib.h>
#include "../runtime/spawn.h"
#include "../runtime/sock.h"
#include "../runtime/netaddr.h"
#include "../runtime/blockpool.h"
#include <arpa/inet.h>
#include <netdb.h>
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/block.h"
#include "../vm/args.h"
#include "../vm/proxy.h"

#define RECV_CHUNK 4096     /* receiveany's default */
/* Reads go to the worker's C stack first: a line or a count that one read
   answers is pushed from there, and only what is left over is copied to
   the socket's buffer. No buffer is allocated or freed per message, and
   an idle connection holds none. */
#define RECV_STACK 16384
#define ERRLEN 256

enum { PAT_LINE, PAT_LINEKEEP, PAT_ALL, PAT_COUNT, PAT_ANY, PAT_DGRAM, PAT_FROM };

static const char *const KINDNAME[] = {
  [LNG_OBJ_LISTENER] = "listener", [LNG_OBJ_CONN] = "conn", [LNG_OBJ_PACKET] = "udp socket"
};

/* ---- helpers ---- */

static lng_sock *checksock(lua_State *L, int kind) {
  return (lng_sock *)lng_proxy_check(L, &lng_shard_of(L)->proxies, 1, kind, KINDNAME[kind]);
}

/* conn and udp methods shared by both: self is either. */
static lng_sock *checkio(lua_State *L) {
  lng_shard *sh = lng_shard_of(L);
  lng_obj *o = lng_proxy_get(L, &sh->proxies, 1, LNG_OBJ_CONN);
  if (!o) o = lng_proxy_get(L, &sh->proxies, 1, LNG_OBJ_PACKET);
  if (!o) lng_typeerror(L, 1, "conn");
  return (lng_sock *)o;
}

static lng_sock *checkany(lua_State *L) {
  lng_shard *sh = lng_shard_of(L);
  lng_obj *o = lng_proxy_get(L, &sh->proxies, 1, LNG_OBJ_CONN);
  if (!o) o = lng_proxy_get(L, &sh->proxies, 1, LNG_OBJ_PACKET);
  if (!o) o = lng_proxy_get(L, &sh->proxies, 1, LNG_OBJ_LISTENER);
  if (!o) lng_typeerror(L, 1, "socket");
  return (lng_sock *)o;
}

static int self_index(lua_State *L) { return lng_shard_of(L)->index; }

static lng_netpoll *netpoll(lua_State *L) {
  return lng_sched_netpoll(lng_shard_of(L)->rt->sched);
}

static const char *errtext(int code) {
  return code == LNG_RES_TIMEOUT ? "timeout" : "closed";
}

/* nil, msg[, partial]: the network failure convention. */
static int fail(lua_State *L, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

static int fail_errno(lua_State *L, int e) {
  return fail(L, strerror(e));
}

/* Pushes a proxy for a fresh socket, taking over its creation reference. */
static void push_sock(lua_State *L, lng_sock *sk) {
  lng_proxy_push(L, &sk->obj);
  lng_obj_unref(&sk->obj);
}

/* The errors of a stream that mean the peer has gone. */
static int peer_gone(int e) { return e == EPIPE || e == ECONNRESET; }

/* Binds the turn holder's readiness wait to the running goroutine; NULL
   when it cannot park. */
static lng_iowait *bind_iw(lua_State *L, lng_iowait *iw, int64_t deadline) {
  if (!lng_block_possible(L)) return NULL;
  lng_block_bind(L, &iw->w, 1);
  iw->w.cw = NULL;
  iw->w.slot = NULL;
  iw->deadline = deadline;
  return iw;
}

/* The cancels of an aborted wait (Ctrl-C in the main goroutine): a turn
   wait leaves the queue; a readiness wait leaves it and gives its turn
   back, since the operation ends there with "interrupted!". */
static int cancel_turn(void *obj, lng_waiter *w) {
  (void)w;
  return lng_pollfd_cancel(obj);
}

static int cancel_ready(void *obj, lng_waiter *w) {
  (void)w;
  lng_iowait *iw = obj;
  lng_pollfd *pd = iw->pd;
  int dir = iw->dir;
  if (!lng_pollfd_cancel(iw)) return 0;
  lng_pollfd_release(pd, dir, -1);
  return 1;
}

/* ---- turns ----
   An operation starts by taking its direction's turn. At once if free;
   otherwise it parks with a wait of its own (a userdata on top of its
   stack while it waits) and continues in the kind's done function. */

/* What take_turn says when it did not park: the turn is ours (OK) or the
   operation is over (CLOSED, TIMEOUT). On PARKED the caller returns
   lng_block_on's result, which take_turn leaves in *ret. */
static int take_turn(lua_State *L, lng_sock *sk, int dir, int64_t deadline,
                     const lng_waitkind *kind, int *ret) {
  int r = lng_pollfd_acquire(sk->pd, dir, NULL);
  if (r != LNG_RES_WOULDBLOCK) return r;
  lng_iowait *iw = NULL;
  if (lng_block_possible(L)) {
    iw = lua_newuserdatauv(L, sizeof *iw, 0);
    memset(iw, 0, sizeof *iw);
    bind_iw(L, iw, deadline);
  }
  r = lng_pollfd_acquire(sk->pd, dir, iw);
  if (r == LNG_RES_PARKED || r == LNG_RES_WOULDBLOCK) {
    *ret = lng_block_on(L, kind, iw, r);          /* parks (or raises) */
    return LNG_RES_PARKED;
  }
  if (iw) lua_pop(L, 1);
  return r;
}

/* In a turn wait's continuation: the wait's result, its userdata popped. */
static int turn_result(lua_State *L) {
  lng_iowait *iw = lua_touserdata(L, -1);
  int r = iw->w.result;
  lua_pop(L, 1);
  return r;
}

/* ---- receive ---- */

static int recv_run(lua_State *L, lng_sock *sk);
static int recv_turn_done(lua_State *L, int res, lng_msg *box);
static int recv_io_done(lua_State *L, int res, lng_msg *box);

static const lng_waitkind recv_turn_kind = { "conn:receive", "IO wait", cancel_turn, recv_turn_done };
static const lng_waitkind recv_io_kind = { "conn:receive", "IO wait", cancel_ready, recv_io_done };

/* The stack of a receive: 1 self, 2 pattern, 3 prefix (or nil). */
#define RECV_TOP 3

/* Pushes prefix .. p[0..n). */
static void push_data(lua_State *L, const char *p, size_t n) {
  if (lua_isstring(L, 3)) {
    lua_pushvalue(L, 3);
    lua_pushlstring(L, p, n);
    lua_concat(L, 2);
  } else {
    lua_pushlstring(L, p, n);
  }
}

/* Pushes prefix .. the n unread bytes, and consumes them. */
static void push_taken(lua_State *L, lng_sock *sk, size_t n, size_t skip) {
  push_data(L, sk->rbuf ? sk->rbuf + sk->rpos : "", n);
  sk->rpos += n + skip;
}

/* Ends a receive that failed: nil, err, partial (what was buffered). For
   a datagram, no partial. */
static int recv_fail(lua_State *L, lng_sock *sk, const char *err) {
  lua_pushnil(L);
  lua_pushstring(L, err);
  if (sk->rpat == PAT_DGRAM || sk->rpat == PAT_FROM) lua_pushliteral(L, "");
  else push_taken(L, sk, sk->rlen - sk->rpos, 0);
  lng_sock_rtrim(sk);
  lng_pollfd_release(sk->pd, LNG_POLL_READ, self_index(L));
  return 3;
}

static int recv_done(lua_State *L, lng_sock *sk, int nres) {
  lng_sock_rtrim(sk);
  lng_pollfd_release(sk->pd, LNG_POLL_READ, self_index(L));
  return nres;
}

/* Whether p[0..avail) answers the pattern; if so pushes the result and
   says how many bytes it used. */
static int answer(lua_State *L, lng_sock *sk, const char *p, size_t avail, size_t *used) {
  size_t n;
  switch (sk->rpat) {
    case PAT_LINE: case PAT_LINEKEEP: {
      const char *nl = avail ? memchr(p, '\n', avail) : NULL;
      if (!nl) return 0;
      n = (size_t)(nl - p);
      *used = n + 1;
      if (sk->rpat == PAT_LINE && n > 0 && p[n - 1] == '\r') n--;
      else if (sk->rpat == PAT_LINEKEEP) n++;
      break;
    }
    case PAT_COUNT:
      if (avail < sk->rn) return 0;
      *used = n = sk->rn;
      break;
    case PAT_ANY:
      if (avail == 0) return 0;
      *used = n = avail < sk->rn ? avail : sk->rn;
      break;
    default:
      return 0;
  }
  push_data(L, p, n);
  return 1;
}

/* Whether the unread bytes answer the pattern; if so pushes the result. */
static int recv_satisfied(lua_State *L, lng_sock *sk) {
  size_t used;
  if (!sk->rbuf || !answer(L, sk, sk->rbuf + sk->rpos, sk->rlen - sk->rpos, &used)) return 0;
  sk->rpos += used;
  return 1;
}

/* A datagram (PAT_DGRAM, PAT_FROM): one recvfrom; 1 done (results
   pushed), 0 would block, -1 failed (errno). */
static int recv_dgram(lua_State *L, lng_sock *sk, int fd, int *nres) {
  struct sockaddr_storage from;
  socklen_t flen = sizeof from;
  char tmp[RECV_STACK], *buf = tmp;
  if (sk->rn > sizeof tmp) {
    if (lng_sock_rreserve(sk, sk->rn) != 0) { errno = ENOMEM; return -1; }
    buf = sk->rbuf;
  }
  ssize_t n = recvfrom(fd, buf, sk->rn, 0, (struct sockaddr *)&from, &flen);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  lua_pushlstring(L, buf, (size_t)n);
  *nres = 1;
  if (sk->rpat == PAT_FROM) {
    char text[160];
    lng_netaddr_format((struct sockaddr *)&from, flen, text, sizeof text);
    lua_pushstring(L, text);
    *nres = 2;
  }
  sk->rpos = sk->rlen = 0;
  return 1;
}

/* Runs the receive holding the read turn, until it is answered, fails or
   must wait (then it parks and continues in recv_io_done). */
static int recv_run(lua_State *L, lng_sock *sk) {
  int fd = lng_pollfd_fd(sk->pd);
  for (;;) {
    if (sk->rpat == PAT_DGRAM || sk->rpat == PAT_FROM) {
      int nres = 0, r = recv_dgram(L, sk, fd, &nres);
      if (r > 0) return recv_done(L, sk, nres);
      if (r < 0) return recv_fail(L, sk, strerror(errno));
    } else {
      if (recv_satisfied(L, sk)) return recv_done(L, sk, 1);
      char tmp[RECV_STACK];
      ssize_t n = sk->issock ? recv(fd, tmp, sizeof tmp, 0) : read(fd, tmp, sizeof tmp);
      if (n > 0) {
        size_t used;
        if (sk->rpos == sk->rlen && answer(L, sk, tmp, (size_t)n, &used)) {
          if (used < (size_t)n && lng_sock_rappend(sk, tmp + used, (size_t)n - used) != 0) {
            lua_pop(L, 1);                           /* (no memory: what was read is lost) */
            return recv_fail(L, sk, strerror(ENOMEM));
          }
          return recv_done(L, sk, 1);
        }
        if (lng_sock_rappend(sk, tmp, (size_t)n) != 0) return recv_fail(L, sk, strerror(ENOMEM));
        continue;
      }
      if (n == 0) {                                  /* end of stream */
        if (sk->rpat == PAT_ALL) {
          push_taken(L, sk, sk->rlen - sk->rpos, 0);
          return recv_done(L, sk, 1);
        }
        return recv_fail(L, sk, "closed");
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return recv_fail(L, sk, peer_gone(errno) ? "closed" : strerror(errno));
    }
    /* nothing to read now: wait for the fd (an idle conn keeps no buffer) */
    lng_sock_rtrim(sk);
    lng_iowait *iw = bind_iw(L, &sk->riw, sk->rdeadline);
    int r = lng_pollfd_wait(sk->pd, LNG_POLL_READ, iw);
    if (r == LNG_RES_OK) continue;
    if (r == LNG_RES_PARKED) return lng_block_on(L, &recv_io_kind, iw, r);
    if (r == LNG_RES_WOULDBLOCK) {                   /* cannot park here: raise */
      lng_pollfd_release(sk->pd, LNG_POLL_READ, self_index(L));
      return lng_block_on(L, &recv_io_kind, NULL, r);
    }
    return recv_fail(L, sk, errtext(r));
  }
}

static int recv_io_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  lng_sock *sk = (lng_sock *)lng_proxy_test(L, 1);
  int r = sk->riw.w.result;
  if (r != LNG_RES_OK) return recv_fail(L, sk, errtext(r));
  return recv_run(L, sk);
}

static int recv_begin(lua_State *L, lng_sock *sk, int pat, size_t n) {
  sk->rpat = pat;
  sk->rn = n;
  sk->rdeadline = lng_sock_opdeadline(sk);
  return recv_run(L, sk);
}

static int recv_turn_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  int r = turn_result(L);
  if (r != LNG_RES_OK) {
    lua_pushnil(L);
    lua_pushstring(L, errtext(r));
    lua_pushliteral(L, "");
    return 3;
  }
  /* the pattern and count wait in slots 4 and 5 (recv_start) */
  lng_sock *sk = (lng_sock *)lng_proxy_test(L, 1);
  return recv_begin(L, sk, (int)lua_tointeger(L, 4), (size_t)lua_tointeger(L, 5));
}

/* Takes the turn, then runs the receive; the pattern and count ride at
   stack slots 4 and 5, where the turn wait's continuation finds them. */
static int recv_start(lua_State *L, lng_sock *sk, int pat, size_t n) {
  lua_settop(L, RECV_TOP);
  lua_pushinteger(L, pat);
  lua_pushinteger(L, (lua_Integer)n);
  int ret, r = take_turn(L, sk, LNG_POLL_READ, lng_sock_opdeadline(sk), &recv_turn_kind, &ret);
  if (r == LNG_RES_PARKED) return ret;
  if (r != LNG_RES_OK) {
    lua_pushnil(L);
    lua_pushstring(L, errtext(r));
    lua_pushliteral(L, "");
    return 3;
  }
  return recv_begin(L, sk, pat, n);
}

static int conn_receive(lua_State *L) {
  lng_sock *sk = checkio(L);
  if (sk->obj.kind == LNG_OBJ_PACKET) {
    lua_Integer max = lng_optinteger(L, 2, 65535);
    lng_argcheck(L, max > 0, 2, "size must be positive");
    return recv_start(L, sk, PAT_DGRAM, (size_t)max);
  }
  if (!lua_isnoneornil(L, 3)) lng_checktype(L, 3, LUA_TSTRING);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Integer n = lng_checkinteger(L, 2);
    lng_argcheck(L, n >= 0, 2, "count must not be negative");
    return recv_start(L, sk, PAT_COUNT, (size_t)n);
  }
  const char *p = lng_optstring(L, 2, "*l");
  if (*p == '*') p++;
  int pat;
  if (strcmp(p, "l") == 0) pat = PAT_LINE;
  else if (strcmp(p, "L") == 0) pat = PAT_LINEKEEP;
  else if (strcmp(p, "a") == 0) pat = PAT_ALL;
  else return lng_argerror(L, 2, "invalid receive pattern");
  return recv_start(L, sk, pat, 0);
}

static int conn_receiveany(lua_State *L) {
  lng_sock *sk = checksock(L, LNG_OBJ_CONN);
  lua_Integer max = lng_optinteger(L, 2, RECV_CHUNK * 16);
  lng_argcheck(L, max > 0, 2, "size must be positive");
  return recv_start(L, sk, PAT_ANY, (size_t)max);
}

static int udp_receivefrom(lua_State *L) {
  lng_sock *sk = checksock(L, LNG_OBJ_PACKET);
  lua_Integer max = lng_optinteger(L, 2, 65535);
  lng_argcheck(L, max > 0, 2, "size must be positive");
  return recv_start(L, sk, PAT_FROM, (size_t)max);
}

/* ---- send ---- */

static int send_run(lua_State *L, lng_sock *sk);
static int send_turn_done(lua_State *L, int res, lng_msg *box);
static int send_io_done(lua_State *L, int res, lng_msg *box);

static const lng_waitkind send_turn_kind = { "conn:send", "IO wait", cancel_turn, send_turn_done };
static const lng_waitkind send_io_kind = { "conn:send", "IO wait", cancel_ready, send_io_done };

/* The stack of a send: 1 self, 2 the data (all arguments in one string). */

static int send_fail(lua_State *L, lng_sock *sk, const char *err) {
  lng_pollfd_release(sk->pd, LNG_POLL_WRITE, self_index(L));
  lua_pushnil(L);
  lua_pushstring(L, err);
  lua_pushinteger(L, (lua_Integer)sk->wsent);
  return 3;
}

static int send_run(lua_State *L, lng_sock *sk) {
  size_t len;
  const char *s = lua_tolstring(L, 2, &len);
  int fd = lng_pollfd_fd(sk->pd);
  while (sk->wsent < len || (len == 0 && sk->waddrlen)) {
    ssize_t n;
    if (sk->waddrlen)
      n = sendto(fd, s, len, MSG_NOSIGNAL, (struct sockaddr *)sk->waddr, sk->waddrlen);
    else if (sk->issock)
      n = send(fd, s + sk->wsent, len - sk->wsent, MSG_NOSIGNAL);
    else
      n = lng_write_nosigpipe(fd, s + sk->wsent, len - sk->wsent);   /* a pipe (go.exec) */
    if (n >= 0) {
      if (sk->waddrlen || sk->obj.kind == LNG_OBJ_PACKET) { sk->wsent = len; break; }   /* one datagram */
      sk->wsent += (size_t)n;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return send_fail(L, sk, peer_gone(errno) ? "closed" : strerror(errno));
    lng_iowait *iw = bind_iw(L, &sk->wiw, sk->wdeadline);
    int r = lng_pollfd_wait(sk->pd, LNG_POLL_WRITE, iw);
    if (r == LNG_RES_OK) continue;
    if (r == LNG_RES_PARKED) return lng_block_on(L, &send_io_kind, iw, r);
    if (r == LNG_RES_WOULDBLOCK) {
      lng_pollfd_release(sk->pd, LNG_POLL_WRITE, self_index(L));
      return lng_block_on(L, &send_io_kind, NULL, r);
    }
    return send_fail(L, sk, errtext(r));
  }
  lng_pollfd_release(sk->pd, LNG_POLL_WRITE, self_index(L));
  lua_pushinteger(L, (lua_Integer)len);
  return 1;
}

static int send_io_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  lng_sock *sk = (lng_sock *)lng_proxy_test(L, 1);
  int r = sk->wiw.w.result;
  if (r != LNG_RES_OK) return send_fail(L, sk, errtext(r));
  return send_run(L, sk);
}

/* With the write turn: the address of a sendto (slot 3) or none. */
static int send_begin(lua_State *L, lng_sock *sk) {
  sk->wsent = 0;
  sk->wdeadline = lng_sock_opdeadline(sk);
  sk->waddrlen = 0;
  if (lua_type(L, 3) == LUA_TUSERDATA) {
    size_t n = lua_rawlen(L, 3);
    memcpy(sk->waddr, lua_touserdata(L, 3), n);
    sk->waddrlen = (unsigned)n;
  }
  return send_run(L, sk);
}

static int send_turn_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  int r = turn_result(L);
  if (r != LNG_RES_OK) {
    lua_pushnil(L);
    lua_pushstring(L, errtext(r));
    lua_pushinteger(L, 0);
    return 3;
  }
  return send_begin(L, (lng_sock *)lng_proxy_test(L, 1));
}

static int send_start(lua_State *L, lng_sock *sk) {
  int ret, r = take_turn(L, sk, LNG_POLL_WRITE, lng_sock_opdeadline(sk), &send_turn_kind, &ret);
  if (r == LNG_RES_PARKED) return ret;
  if (r != LNG_RES_OK) {
    lua_pushnil(L);
    lua_pushstring(L, errtext(r));
    lua_pushinteger(L, 0);
    return 3;
  }
  return send_begin(L, sk);
}

static int conn_send(lua_State *L) {
  lng_sock *sk = checkio(L);
  int top = lua_gettop(L);
  if (top < 2) lng_checkany(L, 2);
  for (int i = 2; i <= top; i++) luaL_checklstring(L, i, NULL);
  if (top > 2) {                      /* several pieces: one string, sent whole */
    lua_concat(L, top - 1);
  }
  lua_settop(L, 2);
  lua_pushnil(L);                     /* slot 3: no address */
  return send_start(L, sk);
}

/* ---- addresses of a call ---- */

/* The network at arg (misuse raises). */
static lng_netspec checknetwork(lua_State *L, int arg) {
  const char *network = luaL_checkstring(L, arg);
  lng_netspec ns;
  if (lng_netaddr_network(network, &ns) != 0)
    lng_argerror(L, arg, lua_pushfstring(L, "unknown network '%s'", network));
  return ns;
}

/* A UDP socket's peer for sendto: its family decides. */
static int udp_sendto(lua_State *L) {
  lng_sock *sk = checksock(L, LNG_OBJ_PACKET);
  luaL_checklstring(L, 2, NULL);
  const char *addr = luaL_checkstring(L, 3);
  lng_netspec ns = { sk->family, SOCK_DGRAM };
  struct sockaddr_storage sa;
  socklen_t len;
  char err[ERRLEN];
  if (lng_netaddr_parse(&ns, addr, 0, &sa, &len, err, sizeof err) != 0) return fail(L, err);
  lua_settop(L, 2);
  void *ud = lua_newuserdatauv(L, len, 0);    /* slot 3: the address */
  memcpy(ud, &sa, len);
  return send_start(L, sk);
}

/* ---- accept ---- */

static int accept_run(lua_State *L, lng_sock *ln);
static int accept_turn_done(lua_State *L, int res, lng_msg *box);
static int accept_io_done(lua_State *L, int res, lng_msg *box);

static const lng_waitkind accept_turn_kind = { "ln:accept", "IO wait", cancel_turn, accept_turn_done };
static const lng_waitkind accept_io_kind = { "ln:accept", "IO wait", cancel_ready, accept_io_done };

static int accept_fail(lua_State *L, lng_sock *ln, const char *err) {
  lng_pollfd_release(ln->pd, LNG_POLL_READ, self_index(L));
  return fail(L, err);
}

static void set_nodelay(int fd, int family) {
  if (family == AF_INET || family == AF_INET6) {
    int one = 1;           /* as Go does for every TCP connection */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

static int accept_run(lua_State *L, lng_sock *ln) {
  int lfd = lng_pollfd_fd(ln->pd);
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      set_nodelay(fd, ln->family);
      lng_sock *c = lng_sock_new(netpoll(L), fd, LNG_OBJ_CONN, ln->family, 1);
      if (!c) {
        int e = errno;
        close(fd);
        return accept_fail(L, ln, strerror(e));
      }
      lng_pollfd_release(ln->pd, LNG_POLL_READ, self_index(L));
      push_sock(L, c);
      return 1;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return accept_fail(L, ln, strerror(errno));
    lng_iowait *iw = bind_iw(L, &ln->riw, ln->rdeadline);
    int r = lng_pollfd_wait(ln->pd, LNG_POLL_READ, iw);
    if (r == LNG_RES_OK) continue;
    if (r == LNG_RES_PARKED) return lng_block_on(L, &accept_io_kind, iw, r);
    if (r == LNG_RES_WOULDBLOCK) {
      lng_pollfd_release(ln->pd, LNG_POLL_READ, self_index(L));
      return lng_block_on(L, &accept_io_kind, NULL, r);
    }
    return accept_fail(L, ln, errtext(r));
  }
}

static int accept_io_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  lng_sock *ln = (lng_sock *)lng_proxy_test(L, 1);
  int r = ln->riw.w.result;
  if (r != LNG_RES_OK) return accept_fail(L, ln, errtext(r));
  return accept_run(L, ln);
}

static int accept_begin(lua_State *L, lng_sock *ln) {
  ln->rdeadline = lng_sock_opdeadline(ln);
  return accept_run(L, ln);
}

static int accept_turn_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  int r = turn_result(L);
  if (r != LNG_RES_OK) return fail(L, errtext(r));
  return accept_begin(L, (lng_sock *)lng_proxy_test(L, 1));
}

static int ln_accept(lua_State *L) {
  lng_sock *ln = checksock(L, LNG_OBJ_LISTENER);
  lua_settop(L, 1);
  int ret, r = take_turn(L, ln, LNG_POLL_READ, lng_sock_opdeadline(ln), &accept_turn_kind, &ret);
  if (r == LNG_RES_PARKED) return ret;
  if (r != LNG_RES_OK) return fail(L, errtext(r));
  return accept_begin(L, ln);
}

/* ---- listen ---- */

static int sockfamily(const struct sockaddr_storage *sa) { return sa->ss_family; }

static lua_Number optfield(lua_State *L, int idx, const char *k, lua_Number def, int *isbool) {
  if (lua_isnoneornil(L, idx)) return def;
  lua_getfield(L, idx, k);
  lua_Number v = def;
  if (lua_type(L, -1) == LUA_TNUMBER) v = lua_tonumber(L, -1);
  else if (lua_type(L, -1) == LUA_TBOOLEAN && isbool) { v = lua_toboolean(L, -1); *isbool = 1; }
  else if (!lua_isnil(L, -1)) luaL_error(L, "bad option '%s' (%s expected, got %s)", k,
                                         isbool ? "boolean" : "number", luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

static int net_listen(lua_State *L) {
  lng_netspec ns = checknetwork(L, 1);
  const char *address = luaL_checkstring(L, 2);
  if (!lua_isnoneornil(L, 3)) lng_checktype(L, 3, LUA_TTABLE);
  int isbool = 0;
  int backlog = (int)optfield(L, 3, "backlog", SOMAXCONN, NULL);
  int reuse = (int)optfield(L, 3, "reuseaddr", 1, &isbool);
  struct sockaddr_storage sa;
  socklen_t len;
  char err[ERRLEN];
  if (lng_netaddr_parse(&ns, address, 1, &sa, &len, err, sizeof err) != 0) return fail(L, err);
  lng_netpoll *np = netpoll(L);
  if (!np) return fail_errno(L, errno);
  int fd = socket(sockfamily(&sa), ns.type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail_errno(L, errno);
  if (reuse && ns.family != AF_UNIX) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (bind(fd, (struct sockaddr *)&sa, len) != 0 ||
      (ns.type == SOCK_STREAM && listen(fd, backlog > 0 ? backlog : SOMAXCONN) != 0)) {
    int e = errno;
    close(fd);
    return fail_errno(L, e);
  }
  int kind = ns.type == SOCK_STREAM ? LNG_OBJ_LISTENER : LNG_OBJ_PACKET;
  lng_sock *sk = lng_sock_new(np, fd, kind, sockfamily(&sa), 1);
  if (!sk) {
    int e = errno;
    close(fd);
    if (ns.family == AF_UNIX && address[0] != '@') unlink(address);
    return fail_errno(L, e);
  }
  if (ns.family == AF_UNIX && address[0] != '@' && kind == LNG_OBJ_LISTENER)
    sk->unlinkpath = strdup(address);     /* (without memory, the file stays) */
  push_sock(L, sk);
  return 1;
}

/* ---- dial ---- */

static int dial_io_done(lua_State *L, int res, lng_msg *box);
static const lng_waitkind dial_kind = { "net.dial", "IO wait", cancel_turn, dial_io_done };

/* The stack of a dial: 1 network, 2 address, 3 options, 4 the socket;
   for a name, 5 its addresses (DIAL_LIST). A dial to a name tries each of
   them in turn until one connects, as Go's does: the table holds the
   addresses, which one is tried (i), the first error (err, reported when
   none connects) and the deadline of the whole dial (deadline). */
#define DIAL_LIST 5

static int dial_start(lua_State *L);

/* An attempt failed with err: the next address, or nil and the first
   error. */
static int dial_next(lua_State *L, const char *err) {
  if (lua_gettop(L) < DIAL_LIST || !lua_istable(L, DIAL_LIST)) return fail(L, err);
  if (lua_getfield(L, DIAL_LIST, "err") == LUA_TNIL) {
    lua_pushstring(L, err);
    lua_setfield(L, DIAL_LIST, "err");
  }
  lua_pop(L, 1);
  lua_getfield(L, DIAL_LIST, "i");
  lua_Integer i = lua_tointeger(L, -1) + 1;
  lua_pop(L, 1);
  if (lua_rawgeti(L, DIAL_LIST, i) != LUA_TSTRING) {
    lua_getfield(L, DIAL_LIST, "err");
    return fail(L, lua_tostring(L, -1));    /* (the string stays below fail's results) */
  }
  lua_replace(L, 2);
  lua_pushinteger(L, i);
  lua_setfield(L, DIAL_LIST, "i");
  lua_pushnil(L);
  lua_replace(L, 4);
  lua_settop(L, DIAL_LIST);
  return dial_start(L);
}

static int dial_fail(lua_State *L, lng_sock *sk, const char *err) {
  lng_sock_close(sk, self_index(L));
  return dial_next(L, err);
}

/* The connection is established, has failed, or is still under way. */
static int dial_check(lua_State *L, lng_sock *sk) {
  int fd = lng_pollfd_use(sk->pd);
  if (fd < 0) return dial_fail(L, sk, "closed");
  int soerr = 0;
  socklen_t sl = sizeof soerr;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
  struct sockaddr_storage peer;
  socklen_t pl = sizeof peer;
  if (soerr == 0 && getpeername(fd, (struct sockaddr *)&peer, &pl) != 0) soerr = errno;
  lng_pollfd_unuse(sk->pd);
  if (soerr == 0) {
    lua_settop(L, 4);
    return 1;
  }
  if (soerr != EINPROGRESS && soerr != EALREADY && soerr != EINTR && soerr != ENOTCONN)
    return dial_fail(L, sk, strerror(soerr));
  lng_iowait *iw = bind_iw(L, &sk->wiw, sk->wdeadline);
  int r = lng_pollfd_wait(sk->pd, LNG_POLL_WRITE, iw);
  if (r == LNG_RES_OK) return dial_check(L, sk);
  if (r == LNG_RES_PARKED || r == LNG_RES_WOULDBLOCK) {
    if (r == LNG_RES_WOULDBLOCK) lng_sock_close(sk, self_index(L));
    return lng_block_on(L, &dial_kind, iw, r);
  }
  return dial_fail(L, sk, errtext(r));
}

static int dial_io_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  lng_sock *sk = (lng_sock *)lng_proxy_test(L, 4);
  int r = sk->wiw.w.result;
  if (r != LNG_RES_OK) return dial_fail(L, sk, errtext(r));
  return dial_check(L, sk);
}

/* ---- names: getaddrinfo on the blocking-call pool's DNS lane ----
   A name (not numeric, not "localhost") is looked up on a pool thread
   while the goroutine parks ("dns" in reports); the job is held by a
   userdata on the stack (GAIREF), which lets go of it when collected, so
   an interrupted lookup frees it once the pool thread is done with it. */

#define GAIREF "lungo.net.lookup"

typedef struct gairef { lng_gai_job *j; } gairef;

static int gairef_gc(lua_State *L) {
  gairef *r = lua_touserdata(L, 1);
  if (r->j) lng_bjob_unref(&r->j->job);
  r->j = NULL;
  return 0;
}

static int lookup_cancel(void *obj, lng_waiter *w) { return lng_bpool_cancel(obj, w); }

/* Starts the lookup of host and parks with kind, whose continuation finds
   the gairef on top of the stack. Where the goroutine cannot park, raises
   "cannot block", as the other network operations do. */
static int lookup(lua_State *L, const char *host, int family, int socktype,
                  const lng_waitkind *kind) {
  lng_waiter *w = lng_block_waiter(L);
  if (!w) return lng_block_on(L, kind, NULL, LNG_RES_WOULDBLOCK);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_ADDRCONFIG;
  lng_gai_job *j = lng_gai_job_new(host, NULL, &hints);
  if (!j) return luaL_error(L, "not enough memory");
  gairef *r = lua_newuserdatauv(L, sizeof *r, 0);
  r->j = j;
  luaL_setmetatable(L, GAIREF);
  if (lng_bpool_submit(lng_shard_of(L)->rt->bpool, &j->job, w) != LNG_RES_PARKED) {
    j->job.run(&j->job);            /* no pool thread could start: here, as a last resort */
    return kind->done(L, LNG_RES_OK, NULL);
  }
  return lng_block_on(L, kind, &j->job, LNG_RES_PARKED);
}

/* The finished lookup on top of the stack, or NULL after pushing nil and
   Go's "lookup host: ..." message. */
static lng_gai_job *looked(lua_State *L, const char *host) {
  lng_gai_job *j = ((gairef *)lua_touserdata(L, -1))->j;
  if (j->err == 0 && j->res) return j;
  char err[ERRLEN];
  snprintf(err, sizeof err, "lookup %.200s: %s", host,
           j->err ? gai_strerror(j->err) : "no such host");
  fail(L, err);
  return NULL;
}

/* An address of ai as text, without the port. */
static void ai_text(const struct addrinfo *ai, char *buf, size_t len) {
  const void *a = ai->ai_family == AF_INET6
                      ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                      : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
  if (!inet_ntop(ai->ai_family, a, buf, (socklen_t)len)) buf[0] = 0;
}

static int net_dial(lua_State *L);

/* The host part of "host:port" or "[host]:port" into buf, and where the
   port begins; 0 if address has no such form (the parser then says why). */
static int hostport(const char *address, char *buf, size_t len, const char **port) {
  const char *colon = strrchr(address, ':');
  if (!colon) return 0;
  const char *hs = address, *he = colon;
  if (*hs == '[') {
    if (he == hs || he[-1] != ']') return 0;
    hs++;
    he--;
  }
  if ((size_t)(he - hs) >= len) return 0;
  memcpy(buf, hs, (size_t)(he - hs));
  buf[he - hs] = 0;
  *port = colon + 1;
  return 1;
}

/* A dial to a name, looked up: its addresses of the network's family, as
   text, go in the list (DIAL_LIST), and the first is dialled in place of
   the name. */
static int dial_looked(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  lng_netspec ns;
  lng_netaddr_network(lua_tostring(L, 1), &ns);
  char host[256], text[INET6_ADDRSTRLEN + 16], err[ERRLEN];
  const char *port = NULL;
  hostport(lua_tostring(L, 2), host, sizeof host, &port);
  lng_gai_job *j = looked(L, host);
  if (!j) return 2;
  lua_newtable(L);
  int n = 0;
  for (const struct addrinfo *ai = j->res; ai; ai = ai->ai_next) {
    if (!((ai->ai_family == AF_INET && ns.family != AF_INET6) ||
          (ai->ai_family == AF_INET6 && ns.family != AF_INET)))
      continue;
    char addr[INET6_ADDRSTRLEN];
    ai_text(ai, addr, sizeof addr);
    snprintf(text, sizeof text, ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", addr, port);
    lua_pushstring(L, text);
    lua_rawseti(L, -2, ++n);
  }
  if (n == 0) {
    snprintf(err, sizeof err, "lookup %.200s: no address for the network", host);
    return fail(L, err);
  }
  lua_replace(L, 4);                  /* the lookup's holder goes: the job is done */
  lua_settop(L, 4);
  lua_pushnil(L);
  lua_insert(L, 4);                   /* 4: the socket to be, 5: the list */
  lua_pushinteger(L, 1);
  lua_setfield(L, DIAL_LIST, "i");
  lua_rawgeti(L, DIAL_LIST, 1);
  lua_replace(L, 2);
  return dial_start(L);
}

static const lng_waitkind dial_lookup_kind = { "net.dial", "dns", lookup_cancel, dial_looked };

static int net_dial(lua_State *L) {
  lng_netspec ns = checknetwork(L, 1);
  const char *address = luaL_checkstring(L, 2);
  if (!lua_isnoneornil(L, 3)) lng_checktype(L, 3, LUA_TTABLE);
  optfield(L, 3, "timeout", -1, NULL);   /* (checked now, read by each attempt) */
  lua_settop(L, 3);
  if (ns.family != AF_UNIX) {
    char host[256];
    const char *port;
    if (hostport(address, host, sizeof host, &port) && lng_netaddr_isname(host))
      return lookup(L, host, ns.family, ns.type, &dial_lookup_kind);
  }
  return dial_start(L);
}

/* The deadline of the dial (0: none), fixed at its first attempt. */
static int64_t dial_deadline(lua_State *L) {
  int64_t d = 0;
  int list = lua_gettop(L) >= DIAL_LIST && lua_istable(L, DIAL_LIST);
  if (list && lua_getfield(L, DIAL_LIST, "deadline") == LUA_TNUMBER) {
    d = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return d;
  }
  if (list) lua_pop(L, 1);
  lua_Number timeout = optfield(L, 3, "timeout", -1, NULL);
  if (timeout >= 0 && !isnan(timeout)) {
    d = lng_now_ns() + (int64_t)(fmin(timeout, 9e9) * 1e9);
    if (d <= 0) d = 1;
  }
  if (list) {
    lua_pushinteger(L, (lua_Integer)d);
    lua_setfield(L, DIAL_LIST, "deadline");
  }
  return d;
}

/* One attempt: the address at 2 (numeric by now). */
static int dial_start(lua_State *L) {
  lng_netspec ns = checknetwork(L, 1);
  const char *address = lua_tostring(L, 2);
  struct sockaddr_storage sa;
  socklen_t len;
  char err[ERRLEN];
  if (lua_gettop(L) < 4) lua_settop(L, 4);
  int64_t deadline = dial_deadline(L);
  if (deadline && lng_now_ns() >= deadline) return dial_next(L, errtext(LNG_RES_TIMEOUT));
  if (lng_netaddr_parse(&ns, address, 0, &sa, &len, err, sizeof err) != 0) return dial_next(L, err);
  lng_netpoll *np = netpoll(L);
  if (!np) return fail_errno(L, errno);
  int fd = socket(sockfamily(&sa), ns.type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return dial_next(L, strerror(errno));
  if (ns.type == SOCK_STREAM) set_nodelay(fd, sockfamily(&sa));
  int r;
  while ((r = connect(fd, (struct sockaddr *)&sa, len)) != 0 && errno == EINTR) {}
  if (r != 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return dial_next(L, strerror(e));
  }
  /* registered once connect is under way: its first edge is the outcome */
  lng_sock *sk = lng_sock_new(np, fd, ns.type == SOCK_STREAM ? LNG_OBJ_CONN : LNG_OBJ_PACKET,
                              sockfamily(&sa), 1);
  if (!sk) {
    int e = errno;
    close(fd);
    return fail_errno(L, e);
  }
  push_sock(L, sk);
  lua_replace(L, 4);                  /* slot 4: closed with it if the dial fails */
  if (r == 0) {
    lua_settop(L, 4);
    return 1;
  }
  sk->wdeadline = deadline;
  return dial_check(L, sk);
}

/* ---- resolve ---- */

static int resolve_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  const char *host = lua_tostring(L, 1);
  lng_gai_job *j = looked(L, host);
  if (!j) return 2;
  lua_newtable(L);
  int n = 0;
  for (const struct addrinfo *ai = j->res; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    char text[INET6_ADDRSTRLEN];
    ai_text(ai, text, sizeof text);
    int seen = 0;                       /* (one entry an address) */
    for (int i = 1; i <= n && !seen; i++) {
      lua_rawgeti(L, -1, i);
      seen = strcmp(lua_tostring(L, -1), text) == 0;
      lua_pop(L, 1);
    }
    if (seen) continue;
    lua_pushstring(L, text);
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

static const lng_waitkind resolve_kind = { "net.resolve", "dns", lookup_cancel, resolve_done };

static int net_resolve(lua_State *L) {
  const char *host = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  if (lng_netaddr_isname(host)) return lookup(L, host, AF_UNSPEC, SOCK_STREAM, &resolve_kind);
  char buf[512], err[ERRLEN];
  int n = lng_netaddr_resolve(host, AF_UNSPEC, buf, sizeof buf, err, sizeof err);
  if (n < 0) return fail(L, err);
  lua_createtable(L, n, 0);
  const char *p = buf;
  for (int i = 1; i <= n; i++) {
    lua_pushstring(L, p);
    lua_rawseti(L, -2, i);
    p += strlen(p) + 1;
  }
  return 1;
}

/* ---- settings, names, options, close ---- */

/* A number of seconds, or nil/negative for none, in ns (-1: none). */
static int64_t checktimeout(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return -1;
  lua_Number s = lng_checknumber(L, arg);
  lng_argcheck(L, !isnan(s), arg, "timeout must be a number");
  if (s < 0) return -1;
  if (s > 9e9) s = 9e9;
  return (int64_t)(s * 1e9);
}

static int sock_settimeout(lua_State *L) {
  lng_sock *sk = checkany(L);
  atomic_store(&sk->timeout, checktimeout(L, 2));
  lua_pushinteger(L, 1);
  return 1;
}

static int sock_setdeadline(lua_State *L) {
  lng_sock *sk = checkany(L);
  int64_t d = 0;
  if (!lua_isnoneornil(L, 2)) {
    lua_Number t = lng_checknumber(L, 2);
    lng_argcheck(L, !isnan(t), 2, "deadline must be a number");
    if (t > 9e9) t = 9e9;
    d = t <= 0 ? 1 : (int64_t)(t * 1e9);
    if (d <= 0) d = 1;
  }
  atomic_store(&sk->deadline, d);
  lua_pushinteger(L, 1);
  return 1;
}

static int sock_close(lua_State *L) {
  lng_sock *sk = checkany(L);
  lng_sock_close(sk, self_index(L));
  lua_pushinteger(L, 1);
  return 1;
}

/* getsockname / getpeername: host, port, family ("inet", "inet6"), or
   the path for a unix socket. */
static int names(lua_State *L, int peer) {
  lng_sock *sk = checkany(L);
  int fd = lng_pollfd_use(sk->pd);
  if (fd < 0) return fail(L, "closed");
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  int r = peer ? getpeername(fd, (struct sockaddr *)&sa, &len) : getsockname(fd, (struct sockaddr *)&sa, &len);
  int e = errno;
  lng_pollfd_unuse(sk->pd);
  if (r != 0) return fail_errno(L, e);
  char host[160];
  int port;
  lng_netaddr_split((struct sockaddr *)&sa, len, host, sizeof host, &port);
  lua_pushstring(L, host);
  if (port < 0) return 1;
  lua_pushinteger(L, port);
  lua_pushstring(L, sa.ss_family == AF_INET6 ? "inet6" : "inet");
  return 3;
}

static int sock_getpeername(lua_State *L) { return names(L, 1); }
static int sock_getsockname(lua_State *L) { return names(L, 0); }

static int ln_addr(lua_State *L) {
  lng_sock *sk = checksock(L, LNG_OBJ_LISTENER);
  int fd = lng_pollfd_use(sk->pd);
  if (fd < 0) return fail(L, "closed");
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  int r = getsockname(fd, (struct sockaddr *)&sa, &len), e = errno;
  lng_pollfd_unuse(sk->pd);
  if (r != 0) return fail_errno(L, e);
  char text[160];
  lng_netaddr_format((struct sockaddr *)&sa, len, text, sizeof text);
  lua_pushstring(L, text);
  return 1;
}

static int conn_shutdown(lua_State *L) {
  lng_sock *sk = checksock(L, LNG_OBJ_CONN);
  static const char *const hows[] = { "both", "send", "receive", NULL };
  static const int how[] = { SHUT_RDWR, SHUT_WR, SHUT_RD };
  int h = how[luaL_checkoption(L, 2, "both", hows)];
  int fd = lng_pollfd_use(sk->pd);
  if (fd < 0) return fail(L, "closed");
  int r = sk->issock ? shutdown(fd, h) : 0, e = errno;
  lng_pollfd_unuse(sk->pd);
  if (r != 0) return fail_errno(L, e);
  lua_pushinteger(L, 1);
  return 1;
}

static int conn_setoption(lua_State *L) {
  lng_sock *sk = checksock(L, LNG_OBJ_CONN);
  static const char *const opts[] = { "tcp-nodelay", "keepalive", NULL };
  int o = luaL_checkoption(L, 2, NULL, opts);
  lng_checkany(L, 3);
  int v = lua_toboolean(L, 3);
  int fd = lng_pollfd_use(sk->pd);
  if (fd < 0) return fail(L, "closed");
  int r = o == 0 ? setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v)
                 : setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v);
  int e = errno;
  lng_pollfd_unuse(sk->pd);
  if (r != 0) return fail_errno(L, e);
  lua_pushinteger(L, 1);
  return 1;
}

static int sock_tostring(lua_State *L) {
  lng_sock *sk = checkany(L);
  lua_pushfstring(L, "%s: %p", KINDNAME[sk->obj.kind], (void *)sk);
  return 1;
}

/* ---- streams for other bindings ---- */

int lng_net_pushstream(lua_State *L, int fd, int issock) {
  lng_netpoll *np = netpoll(L);
  if (!np) return 0;
  lng_sock *sk = lng_sock_new(np, fd, LNG_OBJ_CONN, AF_UNSPEC, issock);
  if (!sk) return 0;
  push_sock(L, sk);
  return 1;
}

/* ---- opening ---- */

static void register_kind(lua_State *L, int kind, const char *prefix, const luaL_Reg *methods) {
  static const luaL_Reg metas[] = {
    {"__tostring", sock_tostring},
    {"__close", sock_close},              /* local c <close> = net.dial(...) */
    {NULL, NULL}
  };
  lng_proxy_newkind(L, kind, KINDNAME[kind], prefix, methods, NULL, metas);
}

void lng_open_net(lua_State *L) {
  static const luaL_Reg ln_methods[] = {
    {"accept", ln_accept}, {"addr", ln_addr}, {"settimeout", sock_settimeout},
    {"setdeadline", sock_setdeadline}, {"close", sock_close}, {"getsockname", sock_getsockname},
    {NULL, NULL}
  };
  static const luaL_Reg conn_methods[] = {
    {"send", conn_send}, {"receive", conn_receive}, {"receiveany", conn_receiveany},
    {"settimeout", sock_settimeout}, {"setdeadline", sock_setdeadline},
    {"shutdown", conn_shutdown}, {"getpeername", sock_getpeername},
    {"getsockname", sock_getsockname}, {"setoption", conn_setoption}, {"close", sock_close},
    {NULL, NULL}
  };
  static const luaL_Reg udp_methods[] = {
    {"send", conn_send}, {"receive", conn_receive}, {"sendto", udp_sendto},
    {"receivefrom", udp_receivefrom}, {"settimeout", sock_settimeout},
    {"setdeadline", sock_setdeadline}, {"getpeername", sock_getpeername},
    {"getsockname", sock_getsockname}, {"close", sock_close}, {NULL, NULL}
  };
  static const luaL_Reg fns[] = {
    {"listen", net_listen}, {"dial", net_dial}, {"resolve", net_resolve}, {NULL, NULL}
  };
  luaL_newmetatable(L, GAIREF);
  lua_pushcfunction(L, gairef_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  register_kind(L, LNG_OBJ_LISTENER, "ln:", ln_methods);
  register_kind(L, LNG_OBJ_CONN, "conn:", conn_methods);
  register_kind(L, LNG_OBJ_PACKET, "udp:", udp_methods);
  lua_getfield(L, -1, "go");
  luaL_newlib(L, fns);
  lng_setnames(L, -1, "net.", fns);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "net");              /* go.net */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_insert(L, -2);
  lua_setfield(L, -2, "lungo.net");        /* require "lungo.net" */
  lua_pop(L, 2);
}
