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
  LNG_G_CCODE = 4,           /* spawned from C: source, chunk name, then arguments */
  LNG_G_PACKED = 8,          /* the start message is packed (u.packed) */
  LNG_G_SPREAD = 16          /* start on the next worker in turn (lng_sched_spawn) */
};

/* 176 bytes: with the VM's 40 a parked goroutine's record is one 224-byte
   malloc chunk. */
struct lng_g {
  lng_g *next;              /* run queue or unstarted queue */
  lng_g *allprev, *allnext; /* the owning worker's started goroutines */
  int64_t id;
  /* Taking a parked goroutine back out of its wait (lng_sched_abort): the
     VM says how (cancel, on cancelobj) before it parks. */
  int (*cancel)(lng_g *g);  /* takes the wait back; 1 if it did */
  void *cancelobj;
  void *vm;                 /* the VM's per-goroutine state */
  int worker;               /* owning worker, -1 until started */
  atomic_int abortstate;    /* LNG_ABORT_* */
  uint32_t site;            /* where it was created, in the VM's code (0: unknown): see
                               lng_vmops.origin; 4 bytes that the 224-byte chunk had free */
  uint16_t flags;
  unsigned char aborted;    /* woken by an abort, not by the wait completing */
  union {
    lng_msg start;          /* before spawning: function and arguments, being written */
    lng_msgpack packed;     /* spawned, not started: the same, packed (LNG_G_PACKED) */
    struct {                /* started */
      lng_waiter w;         /* single-channel wait */
      lng_msg box;          /* value being sent or received while parked */
      const char *reason;   /* while parked: "chan receive", ... (NULL: runnable) */
    } park;
  } u;
};

/* The start message, for the VM to decode: *view may be used for it. */
static inline const lng_msg *lng_g_startmsg(const lng_g *g, lng_msg *view) {
  if (!(g->flags & LNG_G_PACKED)) return &g->u.start;
  lng_msgpack_view(&g->u.packed, view);
  return view;
}

static inline void lng_g_freestart(lng_g *g) {
  if (g->flags & LNG_G_PACKED) lng_msgpack_free(&g->u.packed);
  else lng_msg_free(&g->u.start);
  g->flags &= ~LNG_G_PACKED;
}

/* Called by the VM once it has taken what it needs from the start message:
   the record switches to its parked-wait layout. */
static inline void lng_g_begin(lng_g *g) {
  lng_g_freestart(g);
  g->u.park.w = (lng_waiter){0};
  g->u.park.reason = NULL;
  lng_msg_init(&g->u.park.box);
}

#endif
