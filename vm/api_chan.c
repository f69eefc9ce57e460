/*
 * The C side of channels and values (include/lungo.h): channel handles
 * held by C threads, values converted to and from messages (a value C has
 * no struct for stays an encoded message, decoded on demand), select from
 * C, spawning goroutines from C and globals set before the start.
 */
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vm.h"
#include "copy.h"
#include "proxy.h"
#include "../runtime/chan.h"
#include "../runtime/select.h"

/* A received value kept as the message it came in (a table, a function, a
   sync object): C passes it on or decodes it into a state. */
struct lng_encoded {
  lng_msg m;
};

static int is_encoded(int type) {
  return type == LNG_TTABLE || type == LNG_TFUNCTION || type == LNG_TOBJECT;
}

lng_value lng_nil(void) { return (lng_value){ .type = LNG_TNIL }; }
lng_value lng_boolean(int b) { return (lng_value){ .type = LNG_TBOOLEAN, .boolean = !!b }; }
lng_value lng_integer(long long i) { return (lng_value){ .type = LNG_TINTEGER, .integer = i }; }
lng_value lng_number(double n) { return (lng_value){ .type = LNG_TNUMBER, .number = n }; }
lng_value lng_string(const char *s, size_t len) {
  return (lng_value){ .type = LNG_TSTRING, .string = s, .len = len };
}
lng_value lng_chanvalue(lng_channel *ch) { return (lng_value){ .type = LNG_TCHANNEL, .channel = ch }; }

void lng_value_free(lng_value *v) {
  if (!v) return;
  if (v->type == LNG_TSTRING) free((void *)v->string);
  if (v->type == LNG_TCHANNEL) lng_channel_release(v->channel);
  if (is_encoded(v->type) && v->encoded) {
    lng_msg_free(&v->encoded->m);
    free(v->encoded);
  }
  *v = lng_nil();
}

static lng_channel *handle(lng_runtime *rt, lng_chan *c) {
  lng_channel *ch = malloc(sizeof *ch);
  if (!ch) return NULL;
  ch->rt = rt;
  ch->c = c;
  lng_sched_hold(rt->sched, 1);
  return ch;
}

lng_channel *lng_channel_new(lng_runtime *rt, size_t capacity) {
  if (!rt) return NULL;
  lng_chan *c = lng_chan_new(capacity);
  if (!c) return NULL;
  if (capacity > 0) c->obj.home = rt->objtrack;   /* its buffer may hold a cycle */
  lng_channel *ch = handle(rt, c);
  if (!ch) lng_obj_unref(&c->obj);
  return ch;
}

void lng_channel_release(lng_channel *ch) {
  if (!ch) return;
  lng_runtime *rt = ch->rt;
  lng_obj_unref(&ch->c->obj);
  free(ch);
  lng_sched_hold(rt->sched, -1);
}

int lng_close(lng_channel *ch) {
  if (!ch) return LNG_ERRMISUSE;
  return lng_chan_close(ch->c, -1) == LNG_RES_CLOSED ? LNG_CLOSED : LNG_OK;
}

/* m (empty) becomes a copy of src: its bytes, and a reference of its own
   to every object src names, in the same order (the bytes name them by
   index). */
static int copy_msg(lng_msg *m, const lng_msg *src) {
  if (lng_msg_append(m, lng_msg_cbytes(src), src->len) != 0) return LNG_ERRMEM;
  for (uint32_t i = 0; i < lng_msg_nrefs(src); i++) {
    lng_obj *o = lng_msg_ref(src, i);
    lng_obj_ref(o);
    if (lng_msg_addref(m, o) < 0) {
      lng_obj_unref(o);
      return LNG_ERRMEM;
    }
  }
  return LNG_OK;
}

/* Appends v to m; LNG_OK or an error status. An encoded value is a whole
   message: it goes only into an empty one (a channel value, a global). */
static int put(lng_msg *m, const lng_value *v) {
  lng_scalar s = { .type = LNG_SCALAR_NIL };
  if (is_encoded(v->type)) {
    if (!v->encoded) return LNG_ERRMISUSE;
    if (m->len != 0) return LNG_ERRTYPE;
    return copy_msg(m, &v->encoded->m);
  }
  switch (v->type) {
    case LNG_TNIL: break;
    case LNG_TBOOLEAN: s.type = LNG_SCALAR_BOOLEAN; s.b = v->boolean; break;
    case LNG_TINTEGER: s.type = LNG_SCALAR_INTEGER; s.i = v->integer; break;
    case LNG_TNUMBER: s.type = LNG_SCALAR_NUMBER; s.n = v->number; break;
    case LNG_TSTRING:
      if (!v->string && v->len) return LNG_ERRMISUSE;
      s.type = LNG_SCALAR_STRING; s.s = v->string ? v->string : ""; s.len = v->len;
      break;
    case LNG_TCHANNEL:
      if (!v->channel) return LNG_ERRMISUSE;
      s.type = LNG_SCALAR_OBJECT; s.obj = &v->channel->c->obj;
      break;
    default: return LNG_ERRMISUSE;
  }
  return lng_copy_put_scalar(m, &s) == 0 ? LNG_OK : LNG_ERRMEM;
}

/* Keeps m (moved out) as an encoded value of the given type. */
static int keep_encoded(lng_msg *m, int type, lng_value *out) {
  lng_encoded *e = malloc(sizeof *e);
  if (!e) return LNG_ERRMEM;
  lng_msg_move(&e->m, m);
  *out = lng_nil();
  out->type = type;
  out->encoded = e;
  return LNG_OK;
}

/* Reads the value of m into *out; a value C has no struct for takes the
   message over. */
static int get(lng_runtime *rt, lng_msg *m, lng_value *out) {
  lng_scalar s;
  size_t pos = 0;
  *out = lng_nil();
  int r = lng_copy_get_scalar(m, &pos, &s);
  if (r == 1) return keep_encoded(m, s.type == LNG_SCALAR_TABLE ? LNG_TTABLE : LNG_TFUNCTION, out);
  if (r != 0) return LNG_ERRTYPE;             /* corrupt: cannot happen */
  switch (s.type) {
    case LNG_SCALAR_BOOLEAN: *out = lng_boolean(s.b); break;
    case LNG_SCALAR_INTEGER: *out = lng_integer(s.i); break;
    case LNG_SCALAR_NUMBER: *out = lng_number(s.n); break;
    case LNG_SCALAR_STRING: {
      char *copy = malloc(s.len + 1);
      if (!copy) return LNG_ERRMEM;
      memcpy(copy, s.s, s.len);
      copy[s.len] = 0;
      *out = lng_string(copy, s.len);
      break;
    }
    case LNG_SCALAR_OBJECT:
      if (s.obj->kind != LNG_OBJ_CHAN) return keep_encoded(m, LNG_TOBJECT, out);
      lng_obj_ref(s.obj);
      out->channel = handle(rt, (lng_chan *)s.obj);
      if (!out->channel) { lng_obj_unref(s.obj); return LNG_ERRMEM; }
      out->type = LNG_TCHANNEL;
      break;
    default: break;
  }
  return LNG_OK;
}

static int status_of(int r) {
  switch (r) {
    case LNG_RES_OK: return LNG_OK;
    case LNG_RES_CLOSED: return LNG_CLOSED;
    default: return LNG_TIMEOUT;
  }
}

int lng_send(lng_channel *ch, const lng_value *v, double timeout) {
  if (!ch || !v) return LNG_ERRMISUSE;
  if (v->type == LNG_TNIL) return LNG_ERRMISUSE;    /* as in Lua: no nil on a channel */
  if (timeout != 0 && lng_sched_on_worker(ch->rt->sched)) return LNG_ERRMISUSE;
  lng_msg m;
  lng_msg_init(&m);
  int st = put(&m, v);
  if (st == LNG_OK) st = status_of(lng_chan_send_wait(ch->c, &m, timeout));
  lng_msg_free(&m);
  return st;
}

int lng_recv(lng_channel *ch, lng_value *out, double timeout) {
  if (!ch || !out) return LNG_ERRMISUSE;
  *out = lng_nil();
  if (timeout != 0 && lng_sched_on_worker(ch->rt->sched)) return LNG_ERRMISUSE;
  lng_msg m;
  lng_msg_init(&m);
  int st = status_of(lng_chan_recv_wait(ch->c, &m, timeout));
  if (st == LNG_OK) st = get(ch->rt, &m, out);
  lng_msg_free(&m);
  return st;
}

int lng_set_global(lng_runtime *rt, const char *name, const lng_value *v) {
  if (!rt || !name || !v || rt->started) return LNG_ERRMISUSE;
  lng_msg m;
  lng_msg_init(&m);
  int st = put(&m, v);
  for (int i = 0; st == LNG_OK && i < rt->nworkers; i++) {
    lua_State *L = rt->shards[i].L;
    if (lng_copy_decode(L, &m, 0) != 1) {
      lua_pop(L, 1);
      st = LNG_ERRMEM;
      break;
    }
    lua_setglobal(L, name);
  }
  lng_msg_free(&m);
  return st;
}

/* The new goroutine's id, or a status negated. */
static long long spawn(lng_runtime *rt, int flag, const lng_value *head, int nhead,
                       const lng_value *args, int nargs) {
  if (!rt || nargs < 0 || (nargs && !args)) return -LNG_ERRMISUSE;
  /* before lng_start: main (goroutine 1) first, and workers to run it */
  if (!rt->started || lng_sched_stopping(rt->sched)) return -LNG_ERRMISUSE;
  lng_g *g = lng_sched_newg(rt->sched);
  if (!g) return -LNG_ERRMEM;
  g->flags |= flag;
  int st = LNG_OK;
  for (int i = 0; st == LNG_OK && i < nhead; i++) st = put(&g->u.start, &head[i]);
  for (int i = 0; st == LNG_OK && i < nargs; i++) st = put(&g->u.start, &args[i]);
  if (st != LNG_OK) {
    lng_sched_freeg(g);
    return -st;
  }
  long long id = (long long)g->id;           /* g may run and end before spawn returns */
  lng_sched_spawn(rt->sched, g, lng_sched_on_worker(rt->sched) ? 0 : -1);
  return id;
}

long long lng_spawn(lng_runtime *rt, const char *function, const lng_value *args, int nargs) {
  if (!function) return -LNG_ERRMISUSE;
  lng_value head = lng_string(function, strlen(function));
  return spawn(rt, LNG_G_CNAME, &head, 1, args, nargs);
}

long long lng_spawn_string(lng_runtime *rt, const char *code, size_t len, const char *chunkname,
                           const lng_value *args, int nargs) {
  if (!code) return -LNG_ERRMISUSE;
  if (!chunkname) chunkname = "=(spawn)";
  lng_value head[2] = { lng_string(code, len), lng_string(chunkname, strlen(chunkname)) };
  return spawn(rt, LNG_G_CCODE, head, 2, args, nargs);
}

/* ---- select from C ---- */

#define SELECT_MAX 64

int lng_select(lng_case *cases, int n, double timeout, int *chosen) {
  if (chosen) *chosen = -1;
  if (!chosen || n < 0 || n > SELECT_MAX || (n && !cases)) return LNG_ERRMISUSE;
  lng_selcase cs[SELECT_MAX];
  lng_msg msgs[SELECT_MAX];
  lng_chan *locks[SELECT_MAX];
  lng_waiter ws[SELECT_MAX];
  int order[SELECT_MAX];
  /* A random poll order, so that no ready case starves the others: a
     generator seeded per call, the library keeps no state of its own. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)(uintptr_t)&ts << 16) ^ 0x9e3779b97f4a7c15u;
  int st = LNG_OK;
  for (int i = 0; i < n; i++) {
    lng_case *c = &cases[i];
    lng_msg_init(&msgs[i]);
    cs[i].c = c->ch ? c->ch->c : NULL;
    cs[i].send = c->send != 0;
    cs[i].msg = &msgs[i];
    if (c->ch && timeout != 0 && lng_sched_on_worker(c->ch->rt->sched)) st = LNG_ERRMISUSE;
    if (!c->send) c->value = lng_nil();
    else if (st == LNG_OK) st = c->value.type == LNG_TNIL ? LNG_ERRMISUSE : put(&msgs[i], &c->value);
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    int j = (int)(x % (uint64_t)(i + 1));    /* Fisher-Yates, inside out */
    order[i] = order[j];
    order[j] = i;
  }
  if (st == LNG_OK) {
    lng_msg out;
    lng_msg_init(&out);
    int res;
    int i = lng_select_cwait(cs, n, order, locks, &out, ws, timeout, &res);
    if (i < 0) {
      st = LNG_TIMEOUT;
    } else {
      *chosen = i;
      st = res == LNG_RES_CLOSED ? LNG_CLOSED : LNG_OK;
      if (!cases[i].send && st == LNG_OK) {
        lng_runtime *rt = cases[i].ch->rt;
        int g = get(rt, &out, &cases[i].value);
        if (g != LNG_OK) st = g;
      }
    }
    lng_msg_free(&out);
  }
  for (int i = 0; i < n; i++) lng_msg_free(&msgs[i]);   /* the one sent was moved out */
  return st;
}

/* ---- values into a Lua state ---- */

typedef struct decoding {
  const lng_value *v;
  const lng_msg *m;          /* the message of a channel or an encoded value */
} decoding;

/* Pushes the value (protected: a state of C's own has no handler for a
   memory error). Argument: the decoding. */
static int decode_protected(lua_State *L) {
  const decoding *d = lua_touserdata(L, 1);
  const lng_value *v = d->v;
  lua_pop(L, 1);
  switch (v->type) {
    case LNG_TNIL: lua_pushnil(L); return 1;
    case LNG_TBOOLEAN: lua_pushboolean(L, v->boolean); return 1;
    case LNG_TINTEGER: lua_pushinteger(L, (lua_Integer)v->integer); return 1;
    case LNG_TNUMBER: lua_pushnumber(L, (lua_Number)v->number); return 1;
    case LNG_TSTRING: lua_pushlstring(L, v->string ? v->string : "", v->len); return 1;
    default: break;
  }
  int env = lng_goroutine_id(L) != 0 ? LNG_COPY_LAZYENV : 0;
  int n = lng_copy_decode(L, d->m, env);
  if (n < 0) return lua_error(L);
  return n;
}

int lng_value_decode(lua_State *L, const lng_value *v) {
  if (!L || !v) return LNG_ERRMISUSE;
  if (v->type == LNG_TSTRING && !v->string && v->len) return LNG_ERRMISUSE;
  if (v->type == LNG_TCHANNEL && !v->channel) return LNG_ERRMISUSE;
  if (is_encoded(v->type) && !v->encoded) return LNG_ERRMISUSE;
  if (v->type < LNG_TNIL || v->type > LNG_TOBJECT) return LNG_ERRMISUSE;
  /* Code and runtime objects are rebuilt with a shard's caches and
     metatables: a state of C's own can take plain data only. */
  int shardless = !lng_runtime_of(L);
  if (shardless && (v->type == LNG_TCHANNEL ||
                    (is_encoded(v->type) && lng_msg_nrefs(&v->encoded->m) > 0)))
    return LNG_ERRTYPE;
  if (!lua_checkstack(L, 3)) return LNG_ERRMEM;
  lng_msg tmp;                    /* a channel, as the message that would carry it */
  lng_msg_init(&tmp);
  decoding d = { v, is_encoded(v->type) ? &v->encoded->m : &tmp };
  if (v->type == LNG_TCHANNEL && put(&tmp, v) != LNG_OK) return LNG_ERRMEM;
  lua_pushcfunction(L, decode_protected);
  lua_pushlightuserdata(L, &d);
  int r = lua_pcall(L, 1, 1, 0);
  lng_msg_free(&tmp);
  if (r == LUA_OK) return LNG_OK;
  lua_pop(L, 1);
  return r == LUA_ERRMEM ? LNG_ERRMEM : LNG_ERRTYPE;
}

/* ---- what a C function learns from its state ---- */

lng_runtime *lng_runtime_of(lua_State *L) {
  lng_shard *sh = L ? lng_shard_check(L) : NULL;
  return sh ? sh->rt : NULL;
}

long long lng_goroutine_id(lua_State *L) {
  return L && lng_shard_check(L) ? (long long)lng_gor_id(L) : 0;
}

int lng_worker_of(lua_State *L) {
  lng_shard *sh = L ? lng_shard_check(L) : NULL;
  return sh ? sh->index + 1 : 0;
}
