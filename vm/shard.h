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
};

static inline lng_shard *lng_shard_of(lua_State *L) {
  return *(lng_shard **)lua_getextraspace(L);
}

/* The shard of L, or NULL when L is a state lungo did not make (the C
   API's lng_runtime_of): the registry says, which any state can be asked. */
lng_shard *lng_shard_check(lua_State *L);

/* Fills the shard's state: the standard libraries, then `openlibs` (the
   runtime's: lungo's API) with the global table on top. */
int lng_shard_open(lng_runtime *rt, lng_shard *sh, int index);
void lng_shard_close(lng_shard *sh);
void lng_shard_pushenv(lua_State *L);          /* the running goroutine's globals (made if need be) */
void lng_shard_peekenv(lua_State *L);          /* the same, or nil if it has none yet */
void lng_shard_materialize(lua_State *L, int idx);
int lng_shard_isproxyenv(lua_State *L, int idx);  /* a goroutine's globals, still reading through */

#endif
