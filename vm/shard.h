/*
 * Shards: one lua_State per worker, holding the standard libraries and
 * lungo's API as the globals every goroutine of that worker reads through
 * (shard.c), and what the worker keeps at hand for the goroutines it runs.
 */
#ifndef LNG_SHARD_H
#define LNG_SHARD_H

#include <lua.h>
#include <stdatomic.h>
#include <stdint.h>
#include "../include/lungo.h"
#include "../runtime/g.h"
#include "alloc.h"
#include "proxy.h"
#include "modname.h"

typedef struct lng_shard lng_shard;

#define LNG_THREAD_POOL 64

/* A shard's front table: weak values in fixed array slots (no growth, no
   rehash), chosen by an address and checked against what they answer
   for, which spare the lookups every spawn made in the tables behind
   them (fcache.c, proxy.c). Regions of LNG_FRONT_N slots: closures sent
   or decoded lately, proxies by object, shared closures and closure
   factories by code object; the code of a closure in slot k is in
   frontcode[k - 1]. */
#define LNG_FRONT_N 32
enum {
  LNG_FRONT_SENT = 1, LNG_FRONT_PROXY = 1 + LNG_FRONT_N, LNG_FRONT_PROTO = 1 + 2 * LNG_FRONT_N,
  LNG_FRONT_FACT = 1 + 3 * LNG_FRONT_N, LNG_FRONT_SIZE = 4 * LNG_FRONT_N
};
static inline int lng_front_slot(const void *p) {    /* 0 .. LNG_FRONT_N - 1 */
  uintptr_t u = (uintptr_t)p;
  return (int)(((u >> 4) ^ (u >> 10)) % LNG_FRONT_N);
}

/* Values a state keeps for the copier and the proxies (fcache.c, proxy.c),
   looked up at every spawn: see lng_state_get. */
enum {
  LNG_SLOT_DUMPS, LNG_SLOT_CODES, LNG_SLOT_CODEMT, LNG_SLOT_PROTOS, LNG_SLOT_PROTOS_N,
  LNG_SLOT_FACTORIES, LNG_SLOT_FACTORIES_N, LNG_SLOT_PROXIES, LNG_SLOT_KINDS, LNG_SLOT_FRONT,
  LNG_NSLOTS
};

struct lng_shard {
  lng_runtime *rt;
  lua_State *L;
  int index;                 /* worker index, 0-based */
  lng_g *current;            /* the goroutine running on this worker now */
  lng_alloc heap;            /* every block of L; its `used` is go.stats().memory */
  lng_proxy_cache proxies;   /* proxies checked lately (proxy.h) */
  lng_modidx mods;           /* module values by name (modname.h) */
  int envmt;                 /* registry ref: metatable of goroutine globals */
  /* The Lua thread executing on this worker now (a goroutine's own, or a
     coroutine inside it): where an interrupt sets its hook. Written by the
     worker, read by its own signal handler. */
  lua_State *volatile running;
  atomic_int preempt;        /* the monitor asks the goroutine running here to yield */
  int warnon, warncont;      /* warn(): "@on"/"@off", and a message in pieces */
  lng_msg spawnmsg;          /* go()'s start messages are encoded here (spawnbusy: in use) */
  int spawnbusy;
  const char *sitename;      /* the chunk name go() was last called from here (rt->sites) */
  uint32_t siteidx;          /* its index + 1 */
  /* Threads of goroutines that returned, kept for the next ones: a new
     goroutine then costs no thread, no stack and no garbage. */
  int npool;
  lua_State *pool[LNG_THREAD_POOL];
  int poolref[LNG_THREAD_POOL];
  /* Registry slots of goroutine globals that ended, each holding false,
     for the next goroutine's: luaL_ref and luaL_unref cost ~440
     instructions a goroutine that names a global. */
  int nenvfree;
  int envfree[LNG_THREAD_POOL];
  int slots[LNG_NSLOTS];     /* registry refs of the LNG_SLOT_* values, 0 until set */
  /* Whether fd 1 and 2 are pipes or sockets, whose writes may wait
     (lua-bindings/stdio.c): 1 yes, 2 no, 0 not looked at yet. Looked at
     once: only a host's dup2 could change it while a program runs. */
  signed char stdsink[3];
  lng_obj *frontcode[LNG_FRONT_SIZE];   /* the front table's code objects (a reference each) */
};

static inline lng_shard *lng_shard_of(lua_State *L) {
  return *(lng_shard **)lua_getextraspace(L);
}

/* The shard of L, or NULL when L is a state lungo did not make (the C
   API's lng_runtime_of): the registry says, which any state can be asked. */
lng_shard *lng_shard_check(lua_State *L);

/* The shard of L, or NULL when L is not a shard's, told cheaply (no
   registry lookup) by L's allocator, which is the shard's own: for the
   hot paths that also serve states lungo did not make, whose extra space
   may hold anything. */
lng_shard *lng_shard_fast(lua_State *L);

/* A per-state value (a cache table, a count) of slot LNG_SLOT_*: in a
   shard, a registry ref kept in the shard, found by an integer lookup;
   in any other state, the registry under the light userdata key, a hash
   lookup that was ~7% of a spawn. get pushes the value (nil if unset);
   set pops the value, which must not be nil, into the slot. */
void lng_state_get(lua_State *L, int slot, const void *key);
void lng_state_set(lua_State *L, int slot, const void *key);

/* Pushes the front table of sh, L's shard (made if need be). */
void lng_shard_pushfront(lua_State *L, lng_shard *sh);

/* Fills the shard's state: the standard libraries, then `openlibs` (the
   runtime's: lungo's API) with the global table on top. */
int lng_shard_open(lng_runtime *rt, lng_shard *sh, int index);
void lng_shard_close(lng_shard *sh);
void lng_shard_pushenv(lua_State *L);          /* the running goroutine's globals (made if need be) */
void lng_shard_peekenv(lua_State *L);          /* the same, or nil if it has none yet */
void lng_shard_materialize(lua_State *L, int idx);
int lng_shard_isproxyenv(lua_State *L, int idx);  /* a goroutine's globals, still reading through */

#endif
