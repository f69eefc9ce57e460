/*
 * The VM side of a runtime: one shard (lua_State) per worker, the
 * goroutines' Lua threads and globals, and the main goroutine's steps.
 * struct lng_runtime is the object behind the public header.
 */
#ifndef LNG_VM_H
#define LNG_VM_H

#include <lua.h>
#include <pthread.h>
#include <stdatomic.h>
#include "../include/lungo.h"
#include "../runtime/sched.h"
#include "alloc.h"
#include "proxy.h"

typedef struct lng_shard lng_shard;

#define LNG_THREAD_POOL 64
typedef struct lng_step lng_step;

struct lng_shard {
  lng_runtime *rt;
  lua_State *L;
  int index;                 /* worker index, 0-based */
  lng_g *current;            /* the goroutine running on this worker now */
  lng_alloc heap;            /* every block of L; its `used` is go.stats().memory */
  lng_proxy_cache proxies;   /* proxies checked lately (proxy.h) */
  int envmt;                 /* registry ref: metatable of goroutine globals */
  uint64_t rng;              /* xorshift state: select's poll order */
  /* The Lua thread executing on this worker now (a goroutine's own, or a
     coroutine inside it): where an interrupt sets its hook. Written by the
     worker, read by its own signal handler. */
  lua_State *volatile running;
  atomic_int preempt;        /* the monitor asks the goroutine running here to yield */
  int warnon, warncont;      /* warn(): "@on"/"@off", and a message in pieces */
  /* Threads of goroutines that returned, kept for the next ones: a new
     goroutine then costs no thread, no stack and no garbage. */
  lng_msg spawnmsg;          /* go()'s start messages are encoded here (spawnbusy: in use) */
  int spawnbusy;
  void *selscratch;          /* go.select's state when it does not park */
  const char *sitename;      /* the chunk name go() was last called from here (rt->sites) */
  uint32_t siteidx;          /* its index + 1 */
  int selcap, selbusy;
  int npool;
  lua_State *pool[LNG_THREAD_POOL];
  int poolref[LNG_THREAD_POOL];
};

struct lng_step {
  lng_step *next;
  int kind;                  /* LNG_STEP_* */
  char *text;                /* code, path (NULL = stdin) or module name */
  size_t len;
  char *name;                /* chunk name, or the global for a require */
};

enum { LNG_STEP_STRING, LNG_STEP_FILE, LNG_STEP_REQUIRE };

/* How a parked main goroutine's wait is taken back (lng_interrupt). Only
   main is ever aborted, so only its wait records this, once per runtime
   rather than in every goroutine's record. */
typedef struct lng_mainwait {
  int (*cancel)(void *obj, lng_waiter *w);
  void *obj;
} lng_mainwait;

struct lng_runtime {
  lng_config cfg;
  int nworkers;
  lng_shard *shards;
  lng_sched *sched;
  lng_step *steps, **steptail;
  int argc, script;
  char **argv;
  int started;
  atomic_size_t memtotal;    /* all shards, kept only with a memory limit */
  atomic_int interrupt;      /* lng_interrupt: stop the main goroutine's statement */
  atomic_int halting;        /* lng_destroy: stop every goroutine where it runs */
  atomic_int exitclose;      /* os.exit(code, true): close the state before leaving */
  atomic_int mainworker;     /* where the main goroutine lives, -1 before it starts */
  pthread_mutex_t mainmu;    /* guards maing against its end */
  lng_g *maing;              /* the main goroutine while it lives */
  lng_mainwait mainwait;     /* how main's wait of the moment is taken back (block.c) */
  /* Chunk names that go() was called from, each copied once: a record
     keeps an index into this and a line (lng_g.site), not a string that
     its shard could collect. Grows only; read by the deadlock report. */
  pthread_mutex_t sitemu;
  char **sites;
  uint32_t nsites, sitecap;
};

/* A channel handle held by C (the public lng_channel). */
struct lng_channel {
  lng_runtime *rt;
  struct lng_chan *c;
};

/* Per-goroutine VM state, hung off lng_g.vm. */
/* 40 bytes, allocated with the record: every parked goroutine has one. */
typedef struct lng_gvm {
  lua_State *co;             /* the goroutine's own thread */
  lua_State *parkedL;        /* the (possibly nested) thread that blocked */
  lua_State **chain;         /* resumers of nested coroutines, outermost first */
  int coref, envref;         /* registry refs anchoring the thread and its globals
                                (LUA_NOREF until the globals are first needed) */
  uint16_t nchain, chaincap; /* nesting is bounded by Lua's C-stack limit (200) */
  unsigned char started;     /* co and the refs are set */
  unsigned char pending;     /* why it yielded to the scheduler: LNG_PEND_* */
  unsigned char failstatus;  /* main goroutine: LNG_ERRSYNTAX or LNG_ERRFILE of a step */
} lng_gvm;

enum { LNG_PEND_NONE, LNG_PEND_PARK, LNG_PEND_YIELD, LNG_PEND_EXIT };

static inline lng_shard *lng_shard_of(lua_State *L) {
  return *(lng_shard **)lua_getextraspace(L);
}

/* shard.c */
int lng_shard_open(lng_runtime *rt, lng_shard *sh, int index);
void lng_shard_close(lng_shard *sh);
void lng_shard_pushenv(lua_State *L);          /* the running goroutine's globals (made if need be) */
void lng_shard_peekenv(lua_State *L);          /* the same, or nil if it has none yet */
void lng_shard_materialize(lua_State *L, int idx);
int lng_shard_isproxyenv(lua_State *L, int idx);  /* a goroutine's globals, still reading through */

/* gor.c: running goroutines (blocking them: block.h) */
extern const lng_vmops lng_gor_ops;
lng_gvm *lng_gor_current(lua_State *L);       /* NULL outside a goroutine */
int64_t lng_gor_id(lua_State *L);             /* the running goroutine's id, 0 outside one */
int lng_gor_exit(lua_State *L, int code);      /* os.exit() */
/* Spawns fn and arguments at stack positions first..top as a new goroutine. */
int lng_gor_spawn(lua_State *L, int first, int64_t *id);

/* interrupt.c */
void lng_interrupt_bind(lng_shard *sh);        /* on a worker, before running Lua */
int lng_interrupt_install(void);               /* the signal handler, once per process */
void lng_interrupt_worker(lng_runtime *rt, int worker);
void lng_interrupt_preempt(void *ud, int worker);          /* the scheduler's preempt hook */
void lng_interrupt_resume(lng_runtime *rt, lng_gvm *gv);   /* main, before a resume */

/* bindings (lua-bindings/) */
void lng_open_go(lua_State *L);                /* go, chan: into the table on top */
void lng_open_chan(lua_State *L);
void lng_open_sync(lua_State *L);              /* go.waitgroup, go.mutex, go.semaphore */
void lng_open_select(lua_State *L);            /* go.select, go.default */
void lng_select_free_scratch(lng_shard *sh);
void lng_open_time(lua_State *L);              /* go.sleep, after, ticker, now */
void lng_open_stats(lua_State *L);             /* go.stats */
void lng_open_coroutine(lua_State *L);         /* replaces functions in `coroutine` */
void lng_open_base(lua_State *L);              /* load, loadfile, dofile, os.exit */

#endif
