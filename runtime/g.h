/*
 * Goroutine records: what the scheduler knows of a goroutine. The VM's
 * side of it (a Lua thread in one shard) hangs off `vm`. A record belongs
 * to no worker until it starts; from then on it never leaves its worker.
 */
#ifndef LNG_G_H
#define LNG_G_H

#include <stdint.h>
#include "msg.h"
#include "waiter.h"

enum { LNG_ABORT_NONE, LNG_ABORT_ARMED, LNG_ABORT_BUSY };

enum {                       /* flags */
  LNG_G_MAIN = 1,            /* runs the main steps */
  LNG_G_CNAME = 2,           /* spawned from C: start message is a function name, then arguments */
  LNG_G_CCODE = 4            /* spawned from C: source, chunk name, then arguments */
};

struct lng_g {
  lng_g *next;              /* run queue or unstarted queue */
  lng_g *allprev, *allnext; /* the owning worker's started goroutines */
  int64_t id;
  int worker;               /* owning worker, -1 until started */
  int flags;
  const char *waitreason;   /* while parked: "chan receive", ... */
  /* Taking a parked goroutine back out of its wait (lng_sched_abort): the
     VM says how (cancel, on cancelobj) before it parks. */
  atomic_int abortstate;    /* LNG_ABORT_* */
  int (*cancel)(lng_g *g);  /* takes the wait back; 1 if it did */
  void *cancelobj;
  int aborted;              /* woken by an abort, not by the wait completing */
  void *vm;                 /* the VM's per-goroutine state */
  union {
    lng_msg start;          /* before starting: function and arguments */
    struct {
      lng_waiter w;         /* single-channel wait */
      lng_msg box;          /* value being sent or received while parked */
    } park;
  } u;
};

/* Called by the VM once it has taken what it needs from u.start: the
   record switches to its parked-wait layout. */
static inline void lng_g_begin(lng_g *g) {
  lng_msg_free(&g->u.start);
  g->u.park.w = (lng_waiter){0};
  lng_msg_init(&g->u.park.box);
}

#endif
