/*
 * The VM side of a runtime: struct lng_runtime, the object behind the
 * public header: the scheduler, one shard (lua_State) per worker
 * (shard.h), the main goroutine's steps and what the whole runtime shares.
 * Goroutines are gor.h's, blocking them block.h's, stopping them
 * interrupt.h's.
 */
#ifndef LNG_VM_H
#define LNG_VM_H

#include <lua.h>
#include <pthread.h>
#include <stdatomic.h>
#include "../include/lungo.h"
#include "../runtime/sched.h"
#include "shard.h"
#include "gor.h"
#include "interrupt.h"

typedef struct lng_step lng_step;

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
  void (*openlibs)(lua_State *L);   /* lungo's API, into a new shard (lng_vm_new) */
  int nworkers;
  lng_shard *shards;
  lng_sched *sched;
  struct lng_bpool *bpool;   /* blocking-call threads (runtime/blockpool.h) */
  struct lng_objtrack *objtrack;   /* containers that may sit in cycles (runtime/objtrack.h) */
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

/* Makes a runtime (lng_new, which is lua-bindings/init.c's: it knows the
   libraries) whose shards open lungo's API with openlibs. */
lng_runtime *lng_vm_new(const lng_config *cfg, void (*openlibs)(lua_State *L));

#endif
