/*
 * Module values by name: the shard's reverse index, and the MOD value of
 * the wire format (wire.h) written and read; see modname.h.
 */
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "modname.h"
#include "shard.h"
#include "wire.h"

/* How far the walk goes: keys deep below a module, entries in all (a
   module holding a big data table must not make the index big), and the
   longest key followed. */
#define WALK_DEPTH 4
#define WALK_MAX 20000
#define KEY_MAX 64

static lng_modidx *getidx(lua_State *L) {
  lng_shard *sh = lng_shard_of(L);
  return sh ? &sh->mods : NULL;
}

void lng_mod_init(lng_modidx *x) {
  x->tab = NULL;
  x->cap = x->n = 0;
  x->null.p = NULL;
  x->null.path = NULL;
  x->cur = 1;
  x->gen = 0;
}

static void clear(lng_modidx *x) {
  for (uint32_t i = 0; i < x->cap; i++) {
    free(x->tab[i].path);
    x->tab[i].path = NULL;
  }
  free(x->null.path);
  x->null.path = NULL;
  x->n = 0;
}

void lng_mod_free(lng_modidx *x) {
  clear(x);
  free(x->tab);
  lng_mod_init(x);
}

void lng_mod_changed(lua_State *L) {
  lng_modidx *x = getidx(L);
  if (x && ++x->cur == 0) x->cur = 1;
}

/* Adds p with a copy of path, growing the table to stay at most half
   full: 0, or -1. */
static int add(lng_modidx *x, const void *p, const char *path, size_t len) {
  lng_modent *e;
  if (!p) {
    e = &x->null;
  } else {
    if (2 * (x->n + 1) > x->cap) {
      uint32_t cap = x->cap ? 2 * x->cap : 256;
      lng_modent *nt = calloc(cap, sizeof *nt);
      if (!nt) return -1;
      for (uint32_t i = 0; i < x->cap; i++) {
        if (!x->tab[i].path) continue;
        uint32_t j = lng_mod_hash(x->tab[i].p, cap - 1);
        while (nt[j].path) j = (j + 1) & (cap - 1);
        nt[j] = x->tab[i];
      }
      free(x->tab);
      x->tab = nt;
      x->cap = cap;
    }
    e = (lng_modent *)lng_mod_find(x, p);
    if (e->path) return 0;
  }
  if (!(e->path = malloc(len ? len : 1))) return -1;
  memcpy(e->path, path, len);
  e->len = len;
  e->p = p;
  if (e != &x->null) x->n++;
  return 0;
}

static int indexable(int t) {
  return t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TUSERDATA ||
         t == LUA_TLIGHTUSERDATA;
}

/* A string key the walk follows: short, without a NUL (the separator). */
static int walkkey(lua_State *L, int k) {
  size_t len;
  if (lua_type(L, k) != LUA_TSTRING) return 0;
  const char *s = lua_tolstring(L, k, &len);
  return len > 0 && len <= KEY_MAX && memchr(s, 0, len) == NULL;
}

/* Notes the value at v under path (at stack index path) + "\0" + key k
   (k 0: path itself) in the walk's table idx, unless it is there already.
   Returns 1 if it was new, 0 if not. */
static int note(lua_State *L, int idx, int v, int path, int k) {
  int t = lua_type(L, v);
  if (!indexable(t)) return 0;
  lua_pushvalue(L, v);
  if (lua_rawget(L, idx) != LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, v);
  if (k) {
    lua_pushvalue(L, path);
    lua_pushlstring(L, "", 1);          /* the separator, a NUL */
    lua_pushvalue(L, k);
    lua_concat(L, 3);
  } else {
    lua_pushvalue(L, path);
  }
  lua_rawset(L, idx);
  return 1;
}

/* The breadth-first walk, into a Lua table value -> path, then copied into
   x's C table (the Lua one is garbage afterwards). */
static void build(lua_State *L, lng_modidx *x) {
  luaL_checkstack(L, 16, "module index");
  clear(x);
  int top = lua_gettop(L);
  lua_newtable(L);                                   /* top+1: value -> path */
  int idx = top + 1;
  lua_newtable(L);                                   /* top+2: queue {t, path, depth}... */
  int q = top + 2;
  lua_Integer qn = 0, qi = 0;
  int count = 0;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);   /* top+3 */
  int loaded = top + 3;
  /* the modules themselves first, so that a library also reachable from
     another module (or from _G) is named by its own name */
  lua_pushnil(L);
  while (lua_next(L, loaded)) {
    int k = lua_gettop(L) - 1, v = k + 1;
    if (walkkey(L, k) && strcmp(lua_tostring(L, k), LUA_GNAME) != 0) {
      int r = note(L, idx, v, k, 0);
      if (r > 0 && lua_type(L, v) == LUA_TTABLE) {
        lua_pushvalue(L, v); lua_rawseti(L, q, ++qn);
        lua_pushvalue(L, k); lua_rawseti(L, q, ++qn);
        lua_pushinteger(L, 1); lua_rawseti(L, q, ++qn);
      }
      count++;
    }
    lua_pop(L, 1);
  }
  /* the shard's base (the loaded table's raw _G): its own entries only,
     the globals every goroutine reads (print, go, chan, require) */
  if (lua_getfield(L, loaded, LUA_GNAME) == LUA_TTABLE) {
    lua_pushvalue(L, -1); lua_rawseti(L, q, ++qn);
    lua_pushliteral(L, LUA_GNAME); lua_rawseti(L, q, ++qn);
    lua_pushinteger(L, WALK_DEPTH); lua_rawseti(L, q, ++qn);   /* not deeper */
  }
  lua_pop(L, 1);
  while (qi < qn && count < WALK_MAX) {
    lua_rawgeti(L, q, ++qi);                         /* t */
    lua_rawgeti(L, q, ++qi);                         /* its path */
    lua_Integer depth = (lua_rawgeti(L, q, ++qi), lua_tointeger(L, -1));
    lua_pop(L, 1);
    int t = lua_gettop(L) - 1, path = t + 1;
    lua_pushnil(L);
    while (lua_next(L, t) && count < WALK_MAX) {
      int k = lua_gettop(L) - 1, v = k + 1;
      if (walkkey(L, k)) {
        if (note(L, idx, v, path, k)) {
          count++;
          if (lua_type(L, v) == LUA_TTABLE && depth < WALK_DEPTH) {
            lua_pushvalue(L, v); lua_rawseti(L, q, ++qn);
            lua_pushvalue(L, v);
            lua_rawget(L, idx);                      /* the path just noted */
            lua_rawseti(L, q, ++qn);
            lua_pushinteger(L, depth + 1); lua_rawseti(L, q, ++qn);
          }
        }
      }
      lua_pop(L, 1);
    }
    lua_settop(L, loaded);
  }
  lua_settop(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t len;
    const char *path = lua_tolstring(L, -1, &len);
    if (add(x, lua_topointer(L, -2), path, len)) {
      clear(x);
      luaL_error(L, "not enough memory");
    }
    lua_pop(L, 1);
  }
  lua_settop(L, top);
}

const lng_modidx *lng_mod_index(lua_State *L, int force) {
  lng_modidx *x = getidx(L);
  if (!x) return NULL;
  if (force || x->gen != x->cur) {
    x->gen = 0;                 /* stays stale if the walk fails */
    build(L, x);
    x->gen = x->cur;
  }
  return lng_mod_any(x) ? x : NULL;
}

/* Pushes what path names in L's loaded table, walking raw fields, or nil
   where it stopped. Returns -1 when every part resolved, else how many
   did (0: the module is not loaded). */
static int resolve(lua_State *L, const char *path, size_t len) {
  const char *p = path, *end = path + len;
  const char *z = memchr(p, 0, len);
  size_t n = z ? (size_t)(z - p) : len;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushlstring(L, p, n);
  int t = lua_rawget(L, -2);
  lua_remove(L, -2);
  if (t == LUA_TNIL) return 0;
  int parts = 1;
  p += n;
  while (p < end) {
    p++;                                              /* the NUL */
    z = memchr(p, 0, (size_t)(end - p));
    n = z ? (size_t)(z - p) : (size_t)(end - p);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      lua_pushnil(L);
      return parts;
    }
    lua_pushlstring(L, p, n);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) return parts;
    parts++;
    p += n;
  }
  return -1;
}

int lng_mod_put(lua_State *L, int idx, lng_msg *m) {
  lng_modidx *x = getidx(L);
  if (!x) return 0;
  const void *p = lua_topointer(L, idx);
  const lng_modent *e = p ? (x->cap ? lng_mod_find(x, p) : NULL) : &x->null;
  if (!e || !e->path) return 0;
  /* still what the module holds? (a field reassigned since the walk, or
     a new value at the address of one collected since) */
  idx = lua_absindex(L, idx);
  int ok = resolve(L, e->path, e->len) < 0 && lua_rawequal(L, -1, idx);
  lua_pop(L, 1);
  if (!ok) {
    x->gen = 0;                                       /* stale: walk again next time */
    return 0;
  }
  return lng_wire_puttvb(m, LNG_TAG_MOD, (uint64_t)e->len, e->path, e->len) ? -1 : 1;
}

void lng_mod_pushname(lua_State *L, const char *path, size_t len) {
  luaL_Buffer b;
  const char *p = path, *end = path + len;
  luaL_buffinit(L, &b);
  for (int first = 1; p <= end; first = 0) {
    const char *z = memchr(p, 0, (size_t)(end - p));
    size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
    int ident = n > 0 && !(*p >= '0' && *p <= '9');
    for (size_t i = 0; i < n && ident; i++) {
      char c = p[i];
      ident = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (first && c == '.');     /* module names have dots */
    }
    if (first || ident) {
      if (!first) luaL_addchar(&b, '.');
      luaL_addlstring(&b, p, n);
    } else {
      luaL_addstring(&b, "[\"");
      luaL_addlstring(&b, p, n);
      luaL_addstring(&b, "\"]");
    }
    if (!z) break;
    p = z + 1;
  }
  luaL_pushresult(&b);
}

/* require(name), protected: the module, or the error message. Upvalue-free
   C function: argument 1 the name. */
static int require_mod(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

int lng_mod_push(lua_State *L, const char *path, size_t len) {
  luaL_checkstack(L, 8, "module value");
  const char *z = memchr(path, 0, len);
  size_t n = z ? (size_t)(z - path) : len;
  int got = resolve(L, path, len);
  if (got == 0) {                        /* not loaded on this worker yet */
    lua_pop(L, 1);
    lua_pushcfunction(L, require_mod);
    lua_pushlstring(L, path, n);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      const char *err = lua_tostring(L, -1);
      lng_mod_pushname(L, path, len);
      lua_pushlstring(L, path, n);
      lua_pushfstring(L, "cannot receive '%s': module '%s' cannot be loaded here: %s",
                      lua_tostring(L, -2), lua_tostring(L, -1), err ? err : "(no message)");
      lua_replace(L, -4);
      lua_pop(L, 2);
      return -1;
    }
    lua_pop(L, 1);
    got = resolve(L, path, len);
  }
  if (got < 0) return 0;
  lua_pop(L, 1);
  lng_mod_pushname(L, path, len);
  lua_pushlstring(L, path, n);
  lua_pushfstring(L, "cannot receive '%s': module '%s' has no such value here",
                  lua_tostring(L, -2), lua_tostring(L, -1));
  lua_replace(L, -3);
  lua_pop(L, 1);
  return -1;
}
