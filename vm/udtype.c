/*
 * Userdata that opts in to crossing, and shared C objects; see udtype.h
 * and include/lungo.h.
 *
 *   UDV  type pointer (8 bytes), varint length, the bytes encode made
 *   UDR  type pointer (8 bytes), varint index into the message's refs
 *
 * A type is named by its address, like a C function (CFN): a message
 * never leaves the process. The callbacks run under lua_pcall so that an
 * error they raise is the copy's error, not a jump out of the copier.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "../include/lungo.h"
#include "../runtime/obj.h"
#include "udtype.h"
#include "wire.h"

struct lng_shared {
  lng_obj obj;
  void *ptr;
  void (*release)(void *ptr);
};

static void shared_destroy(lng_obj *o) {
  lng_shared *s = (lng_shared *)o;
  if (s->release) s->release(s->ptr);
  free(s);
}

lng_shared *lng_shared_new(void *ptr, void (*release)(void *ptr)) {
  lng_shared *s = malloc(sizeof *s);
  if (!s) return NULL;
  lng_obj_init(&s->obj, LNG_OBJ_SHARED, shared_destroy);
  s->ptr = ptr;
  s->release = release;
  return s;
}

void *lng_shared_ptr(const lng_shared *s) { return s ? s->ptr : NULL; }

lng_shared *lng_shared_ref(lng_shared *s) {
  if (s) lng_obj_ref(&s->obj);
  return s;
}

void lng_shared_unref(lng_shared *s) {
  if (s) lng_obj_unref(&s->obj);
}

const void *lng_ud_type(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return NULL;
  const void *t = NULL;
  if (lua_getfield(L, -1, LNG_UDTYPE_FIELD) == LUA_TLIGHTUSERDATA) t = lua_touserdata(L, -1);
  lua_pop(L, 2);
  return t;
}

/* Protected bodies: 1 the type (light userdata), 2 the value or bytes or
   object. */
static int call_encode(lua_State *L) {
  const lng_udtype *t = lua_touserdata(L, 1);
  int r = t->encode(L, 2);
  if (r != 1 || lua_type(L, -1) != LUA_TSTRING) return 0;
  return 1;
}

static int call_share(lua_State *L) {
  const lng_udtype *t = lua_touserdata(L, 1);
  lng_shared *s = t->share(L, 2);
  if (!s) return 0;
  lua_pushlightuserdata(L, s);
  return 1;
}

static int call_decode(lua_State *L) {
  const lng_udtype *t = lua_touserdata(L, 1);
  size_t len;
  const char *b = lua_tolstring(L, 2, &len);
  int top = lua_gettop(L);
  if (t->decode(L, b, len) != 1 || lua_gettop(L) != top + 1)
    return luaL_error(L, "its decode failed");
  return 1;
}

static int call_push(lua_State *L) {
  const lng_udtype *t = lua_touserdata(L, 1);
  int top = lua_gettop(L);
  t->push(L, lua_touserdata(L, 2));
  if (lua_gettop(L) != top + 1) return luaL_error(L, "its push pushed no value");
  return 1;
}

static const char *tname(const lng_udtype *t) {
  return t->name ? t->name : "?";
}

int lng_ud_put(lua_State *L, int idx, const void *tp, lng_msg *m) {
  const lng_udtype *t = tp;
  int byvalue = t->encode && t->decode;
  if (!byvalue && !(t->share && t->push)) {
    lua_pushfstring(L, "its type '%s' has neither encode/decode nor share/push", tname(t));
    return -1;
  }
  luaL_checkstack(L, 4, "copying userdata");
  idx = lua_absindex(L, idx);
  lua_pushcfunction(L, byvalue ? call_encode : call_share);
  lua_pushlightuserdata(L, (void *)(uintptr_t)t);
  lua_pushvalue(L, idx);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 1);
      lua_pushliteral(L, "(error object is not a string)");
    }
    return -1;
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushfstring(L, "its type '%s' refused it", tname(t));
    return -1;
  }
  unsigned char *p;
  if (byvalue) {
    size_t len;
    const char *b = lua_tolstring(L, -1, &len);
    if (len > UINT32_MAX || !(p = lng_msg_reserve(m, 1 + sizeof t + 10 + len))) {
      lua_pop(L, 1);
      lua_pushliteral(L, "");
      return -1;
    }
    unsigned char *q = p;
    *q++ = LNG_TAG_UDV;
    memcpy(q, &t, sizeof t);
    q = lng_wire_putvar(q + sizeof t, (uint64_t)len);
    memcpy(q, b, len);
    m->len += (uint32_t)(q - p + (ptrdiff_t)len);
    lua_pop(L, 1);
    return 0;
  }
  lng_shared *s = lua_touserdata(L, -1);
  lua_pop(L, 1);
  int ix = lng_msg_addref(m, &s->obj);        /* the message takes share's reference */
  if (ix < 0) {
    lng_shared_unref(s);
    lua_pushliteral(L, "");
    return -1;
  }
  if (lng_wire_putraw(m, LNG_TAG_UDR, &t, sizeof t) ||
      !(p = lng_msg_reserve(m, 10))) {
    lua_pushliteral(L, "");
    return -1;
  }
  m->len += (uint32_t)(lng_wire_putvar(p, (uint64_t)ix) - p);
  return 0;
}

int lng_ud_push(lua_State *L, const lng_msg *m, const unsigned char **pp,
                const unsigned char *end) {
  const unsigned char *p = *pp;
  int tag = *p++;
  const lng_udtype *t;
  uint64_t u;
  if (lng_wire_getraw(&p, end, &t, sizeof t) || !t || lng_wire_getvar(&p, end, &u)) return 1;
  luaL_checkstack(L, 4, "copying userdata");
  if (tag == LNG_TAG_UDV) {
    if (u > (uint64_t)(end - p) || !t->decode) return 1;
    lua_pushcfunction(L, call_decode);
    lua_pushlightuserdata(L, (void *)(uintptr_t)t);
    lua_pushlstring(L, (const char *)p, (size_t)u);
    p += u;
  } else {
    if (u >= lng_msg_nrefs(m) || !t->push) return 1;
    lng_obj *o = lng_msg_ref(m, (uint32_t)u);
    if (!o || o->kind != LNG_OBJ_SHARED) return 1;
    lua_pushcfunction(L, call_push);
    lua_pushlightuserdata(L, (void *)(uintptr_t)t);
    lua_pushlightuserdata(L, o);
  }
  *pp = p;
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    const char *e = lua_tostring(L, -1);
    lua_pushfstring(L, "cannot receive userdata '%s': %s", tname(t), e ? e : "(error object is not a string)");
    lua_remove(L, -2);
    return -1;
  }
  return 0;
}
