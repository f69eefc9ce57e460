/*
 * Helpers of the runtime/ unit tests (test_runtime*.c): integers as
 * messages, waiters queued on a channel, reference counts, a test object
 * whose destruction is counted, and the worker counts of parameterized
 * tests.
 */
#ifndef LNG_TEST_RT_UTIL_H
#define LNG_TEST_RT_UTIL_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lungo.h"
#include "../runtime/chan.h"
#include "../runtime/sched.h"
#include "util.h"

/* An integer as a message (raw bytes). */
static inline void msg_int(lng_msg *m, int64_t v) {
  lng_msg_init(m);
  if (lng_msg_append(m, &v, sizeof v) != 0) abort();
}

#define BADVAL INT64_MIN
/* The integer in m, or BADVAL when m does not hold exactly one. */
static inline int64_t msg_val(lng_msg *m) {
  int64_t v;
  if (m->len != sizeof v) return BADVAL;
  memcpy(&v, lng_msg_bytes(m), sizeof v);
  return v;
}

/* Waiters queued on c (send or receive side), counted under its lock. */
static inline int qlen(lng_chan *c, int send) {
  int n = 0;
  lng_waitable_lock(&c->wait);
  for (lng_waiter *w = c->wait.q[send ? LNG_WQ_SEND : LNG_WQ_RECV].head; w; w = w->next) n++;
  lng_waitable_unlock(&c->wait);
  return n;
}

static inline void wait_qlen(lng_chan *c, int send, int n) {
  double end = now_sec() + 30;
  while (qlen(c, send) < n && now_sec() < end) sleep_ms(1);
  cr_assert_eq(qlen(c, send), n, "expected %d waiters queued on the %s side", n,
               send ? "send" : "receive");
}

static inline int refs_of(lng_obj *o) { return atomic_load(&o->refs); }

/* A test object whose destruction is counted. */
typedef struct tobj { lng_obj obj; atomic_int *destroyed; } tobj;

static inline void tobj_destroy(lng_obj *o) {
  tobj *t = (tobj *)o;
  atomic_fetch_add(t->destroyed, 1);
  free(t);
}

static inline tobj *tobj_new(atomic_int *destroyed) {
  tobj *t = malloc(sizeof *t);
  cr_assert_not_null(t);
  lng_obj_init(&t->obj, LNG_OBJ_SEMA, tobj_destroy);
  t->destroyed = destroyed;
  return t;
}

/* The parameters of a test run at 1, 2 and 4 workers. */
#define WORKER_PARAMS(suite, name)                                             \
  ParameterizedTestParameters(suite, name) {                                   \
    static int nworkers_params[] = { 1, 2, 4 };                                \
    return cr_make_param_array(int, nworkers_params,                           \
                               sizeof nworkers_params / sizeof *nworkers_params, NULL); \
  }

#endif
