/*
 * The C side of channels and values (include/lungo.h): channel handles
 * held by C threads, values converted to and from messages, spawning
 * goroutines from C and globals set before the start.
 */
#include <stdlib.h>
#include <string.h>
#include "vm.h"
#include "copy.h"
#include "proxy.h"
#include "../runtime/chan.h"

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

/* Appends v to m; LNG_OK or an error status. */
static int put(lng_msg *m, const lng_value *v) {
  lng_scalar s = { .type = LNG_SCALAR_NIL };
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

/* Reads the value of m into *out. */
static int get(lng_runtime *rt, const lng_msg *m, lng_value *out) {
  lng_scalar s;
  size_t pos = 0;
  *out = lng_nil();
  if (lng_copy_get_scalar(m, &pos, &s) != 0) return LNG_ERRTYPE;
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
      if (s.obj->kind != LNG_OBJ_CHAN) return LNG_ERRTYPE;
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

static int spawn(lng_runtime *rt, int flag, const lng_value *head, int nhead,
                 const lng_value *args, int nargs) {
  if (!rt || nargs < 0 || (nargs && !args)) return LNG_ERRMISUSE;
  if (lng_sched_stopping(rt->sched)) return LNG_ERRMISUSE;
  lng_g *g = lng_sched_newg(rt->sched);
  if (!g) return LNG_ERRMEM;
  g->flags |= flag;
  int st = LNG_OK;
  for (int i = 0; st == LNG_OK && i < nhead; i++) st = put(&g->u.start, &head[i]);
  for (int i = 0; st == LNG_OK && i < nargs; i++) st = put(&g->u.start, &args[i]);
  if (st != LNG_OK) {
    lng_sched_freeg(g);
    return st;
  }
  lng_sched_spawn(rt->sched, g, lng_sched_on_worker(rt->sched) ? 0 : -1);
  return LNG_OK;
}

int lng_spawn(lng_runtime *rt, const char *function, const lng_value *args, int nargs) {
  if (!function) return LNG_ERRMISUSE;
  lng_value head = lng_string(function, strlen(function));
  return spawn(rt, LNG_G_CNAME, &head, 1, args, nargs);
}

int lng_spawn_string(lng_runtime *rt, const char *code, size_t len, const char *chunkname,
                     const lng_value *args, int nargs) {
  if (!code) return LNG_ERRMISUSE;
  if (!chunkname) chunkname = "=(spawn)";
  lng_value head[2] = { lng_string(code, len), lng_string(chunkname, strlen(chunkname)) };
  return spawn(rt, LNG_G_CCODE, head, 2, args, nargs);
}
