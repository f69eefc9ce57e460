/*
 * Goroutines in a shard (gor.c): the VM's per-goroutine state, hung off
 * the scheduler's record, and starting, resuming and ending them. How a
 * goroutine blocks is block.h's; how coroutines run inside one, coro.h's.
 */
#ifndef LNG_GOR_H
#define LNG_GOR_H

#include <lua.h>
#include <stdint.h>
#include "../runtime/sched.h"

/* Per-goroutine VM state, hung off lng_g.vm. */
/* 40 bytes, allocated with the record: every parked goroutine has one. */
typedef struct lng_gvm {
  lua_State *co;             /* the goroutine's own thread */
  lua_State *parkedL;        /* the (possibly nested) thread that blocked */
  lua_State **chain;         /* resumers of nested coroutines, outermost first (coro.c) */
  int coref, envref;         /* registry refs anchoring the thread and its globals
                                (LUA_NOREF until the globals are first needed) */
  uint16_t nchain, chaincap; /* nesting is bounded by Lua's C-stack limit (200) */
  unsigned char started;     /* co and the refs are set */
  unsigned char pending;     /* why it yielded to the scheduler: LNG_PEND_* */
  unsigned char failstatus;  /* main goroutine: LNG_ERRSYNTAX or LNG_ERRFILE of a step */
} lng_gvm;

enum { LNG_PEND_NONE, LNG_PEND_PARK, LNG_PEND_YIELD, LNG_PEND_EXIT };

extern const lng_vmops lng_gor_ops;
lng_gvm *lng_gor_current(lua_State *L);       /* NULL outside a goroutine */
int64_t lng_gor_id(lua_State *L);             /* the running goroutine's id, 0 outside one */
int lng_gor_exit(lua_State *L, int code);      /* os.exit() */
/* Spawns fn and arguments at stack positions first..top as a new goroutine. */
int lng_gor_spawn(lua_State *L, int first, int64_t *id);
/* The same with scheduler flags for the new goroutine (LNG_G_SPREAD). */
int lng_gor_spawn_flags(lua_State *L, int first, int64_t *id, int flags);
/* Where L's caller is, as a goroutine's "created by" site (lng_g.site),
   for a goroutine spawned later on its behalf (go.afterfunc); 0: unknown. */
uint32_t lng_gor_site(lua_State *L);

#endif
