/*
 * Module values cross goroutines by name. A value that is a loaded module
 * (the registry's loaded table, package.loaded as Lua sees it) or is
 * reachable from one through string keys (cjson.encode, cjson.null,
 * string.format, io.stdout, mod.sub.f) is not copied: the message carries
 * its path, the module's name and the keys, and the receiver rebuilds it
 * as its own require(name) looked up along the same keys. So C functions
 * with upvalues, light userdata sentinels and library objects that could
 * never be copied arrive as the receiving worker's own, and the same
 * module value reaching a goroutine twice is one value there.
 *
 * The sender finds paths in a reverse index per shard, value -> path,
 * built lazily by a breadth-first walk of the loaded modules (the idea of
 * Lua Lanes' lookup tables of C functions, done per shard and for every
 * kind of value). It is rebuilt when the loaded table may have changed
 * (require loading something new, a write through package.loaded), and
 * once more before a value is refused, in case a module gained a field
 * since. The index keeps its values alive, so their addresses are never
 * reused while it exists; a hit is checked against the module as it is
 * now before it is trusted (a field reassigned since the walk is copied).
 *
 * The encoder asks about every table and function it meets, so the first
 * question is a probe of a C table of the indexed addresses (no Lua call).
 * The index is C memory, not a Lua table the collector would traverse on
 * every cycle; so it does not keep its values alive, and an address may
 * be reused by a new value once a module dropped the old one: that is
 * what the check of a hit against the module as it stands catches.
 */
#ifndef LNG_MODNAME_H
#define LNG_MODNAME_H

#include <stdint.h>
#include <lua.h>
#include "../runtime/msg.h"

/* An indexed value: its address (lua_topointer; a light userdata's own
   pointer) and its path (malloc'd). */
typedef struct lng_modent {
  const void *p;
  char *path;           /* NULL: an empty slot */
  size_t len;
} lng_modent;

typedef struct lng_modidx {
  lng_modent *tab;      /* open addressing, cap a power of two (or 0) */
  uint32_t cap, n;
  lng_modent null;      /* a light userdata NULL (cjson.null), apart */
  unsigned cur;         /* bumped when the loaded table may have changed (never 0) */
  unsigned gen;         /* the generation it was built for (0: never) */
} lng_modidx;

/* A shard's index (shard.h): L's is its shard's, found through the
   state's extra space, which is NULL in a state that is no shard (the
   copier then names no module value; copy.h). */
void lng_mod_init(lng_modidx *x);
void lng_mod_free(lng_modidx *x);

/* The loaded table may have changed in L: the index is stale. */
void lng_mod_changed(lua_State *L);

/* Whether x is up to date: the encoder's one question per message. */
static inline int lng_mod_fresh(const lng_modidx *x) { return x->gen == x->cur; }
/* Whether anything is indexed. */
static inline int lng_mod_any(const lng_modidx *x) { return x->n > 0 || x->null.path; }

/* L's index, rebuilt first if stale (may raise a memory error); NULL when
   L has none or nothing is indexed. force: rebuild even if current. */
const lng_modidx *lng_mod_index(lua_State *L, int force);

static inline uint32_t lng_mod_hash(const void *p, uint32_t mask) {
  return (uint32_t)(((uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

/* The entry of address p (not NULL), or an empty one. */
static inline const lng_modent *lng_mod_find(const lng_modidx *x, const void *p) {
  uint32_t mask = x->cap - 1, i = lng_mod_hash(p, mask);
  while (x->tab[i].path && x->tab[i].p != p) i = (i + 1) & mask;
  return &x->tab[i];
}

/* Whether the table or function at address p may be a module value. */
static inline int lng_mod_maybe(const lng_modidx *x, const void *p) {
  return x->cap && lng_mod_find(x, p)->path != NULL;
}

/* If the value at idx is a module value (as the module stands now),
   appends its MOD value to m and returns 1; 0 if it is not one; -1 when
   out of memory. */
int lng_mod_put(lua_State *L, int idx, lng_msg *m);

/* Pushes the value that the path (name, then "\0key" per key) names in L:
   the module from L's loaded table, else require(name). 0; or -1 with an
   error message naming the module pushed. */
int lng_mod_push(lua_State *L, const char *path, size_t len);

/* A path as Lua would write it ("cjson.encode", "mod['a b']"), for
   messages: pushed. */
void lng_mod_pushname(lua_State *L, const char *path, size_t len);

#endif
