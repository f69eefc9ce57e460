/*
 * Reference-counted runtime objects: channels, sync objects, sockets and
 * the code of functions. They are the only things that cross shards by reference; every
 * shard proxy and every message in flight that names one holds a reference.
 */
#ifndef LNG_OBJ_H
#define LNG_OBJ_H

#include <stdatomic.h>

typedef enum lng_objkind {
  LNG_OBJ_CHAN = 1,
  LNG_OBJ_WAITGROUP,
  LNG_OBJ_MUTEX,
  LNG_OBJ_SEMA,
  LNG_OBJ_CODE,                  /* a function's dumped code (vm/fcache.c) */
  LNG_OBJ_ATOMIC,                /* go.atomic (runtime/dict.h) */
  LNG_OBJ_DICT,                  /* go.dict (runtime/dict.h) */
  LNG_OBJ_TIMER,                 /* go.timer, go.afterfunc (lua-bindings/timer.c) */
  LNG_OBJ_SHARED,                /* a C object shared by userdata of a registered type (vm/udtype.c) */
  LNG_OBJ_LISTENER,              /* sockets (sock.h): a listening socket, */
  LNG_OBJ_CONN,                  /* a stream (a connection, or a pipe), */
  LNG_OBJ_PACKET,                /* a datagram socket */
  LNG_OBJ_PROC                   /* a child process (proc.h) */
} lng_objkind;

typedef struct lng_obj lng_obj;
typedef struct lng_objtrack lng_objtrack;
struct lng_tnode;
struct lng_obj {
  atomic_int refs;
  int kind;                      /* an lng_objkind */
  void (*destroy)(lng_obj *o);   /* called once, when refs drops to 0 */
  /* A container's runtime, where it is tracked once it stores references
     (objtrack.h; NULL: never), and its entry there once it is. */
  lng_objtrack *home;
  _Atomic(struct lng_tnode *) tnode;
};

static inline void lng_obj_init(lng_obj *o, int kind, void (*destroy)(lng_obj *)) {
  atomic_init(&o->refs, 1);
  o->kind = kind;
  o->destroy = destroy;
  o->home = NULL;
  atomic_init(&o->tnode, NULL);
}

void lng_objtrack_forget(lng_obj *o);

static inline lng_obj *lng_obj_ref(lng_obj *o) {
  atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
  return o;
}

static inline void lng_obj_unref(lng_obj *o) {
  if (atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) == 1) {
    if (atomic_load_explicit(&o->tnode, memory_order_relaxed)) lng_objtrack_forget(o);
    o->destroy(o);
  }
}

#endif
