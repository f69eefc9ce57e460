/*
 * Cycles among runtime objects. Channels, dicts and timers hold messages,
 * and a message may name a channel, a dict or a timer: a channel whose
 * buffer holds itself, a dict that holds itself, two channels each in the
 * other's buffer, an afterfunc whose function names a channel that holds
 * the timer. Reference counts never free such a cycle, so each of these
 * containers notes itself
 * to its runtime's tracker (its home, set by whoever made it) the first
 * time it stores a message that names objects; most never do, and pay one
 * test of a pointer. When the runtime ends, once every goroutine and every
 * shard is gone, the tracker finds the containers that nothing outside the
 * tracked set holds (trial deletion: a container's count against the
 * references the other tracked containers' messages make to it) and
 * empties them, which breaks their cycles; everything a live holder (an
 * embedder's C thread) can reach is left alone.
 *
 * The tracker is reference-counted like the big-buffer pool: the runtime
 * holds it, and so does every object tracked in it, since an embedder may
 * keep a channel past lng_destroy.
 *
 * Plain C: no Lua here.
 */
#ifndef LNG_OBJTRACK_H
#define LNG_OBJTRACK_H

#include "obj.h"

typedef void (*lng_track_visit)(lng_obj *ref, void *ud);

/* What the tracker asks of a kind of container. */
typedef struct lng_trackops {
  /* Calls visit(ref, ud) for every object reference held by the messages
     o stores, under o's own lock; visit takes no lock. */
  void (*each)(lng_obj *o, lng_track_visit visit, void *ud);
  /* Frees every message o stores (o is unreachable from outside). */
  void (*clear)(lng_obj *o);
} lng_trackops;

lng_objtrack *lng_objtrack_new(void);

/* o (whose home is set) is about to store a message naming objects:
   tracked from now on, once. Cheap when it is already. May be called with
   o's own lock held (never the other way round). NULL home: nothing. */
static inline int lng_objtrack_needed(const lng_obj *o) {
  return o->home && !atomic_load_explicit(&o->tnode, memory_order_acquire);
}
void lng_objtrack_note(lng_obj *o, const lng_trackops *ops);

/* From a tracked container's destroy function: leaves the tracker. */
void lng_objtrack_forget(lng_obj *o);

/* At the runtime's end (no goroutine, no shard left): empties the tracked
   containers that only cycles keep alive, then drops the runtime's
   reference. Returns how many it emptied. */
int lng_objtrack_sweep_release(lng_objtrack *t);

#endif
