/*
 * Unit tests of runtime/ alone: messages, channels used from plain C
 * threads, and the scheduler driving "goroutines" that are small C state
 * machines (no Lua). Each goroutine gets its description through its start
 * message, as the VM's do, and keeps its state in a struct hung off g->vm
 * (freed by ops.drop). Channel operations use the goroutine's own waiter
 * and box, exactly as the VM does.
 *
 * Assertions are only made on the test's main thread: worker threads and
 * helper threads record errors (tvm.errors / counters) which the main
 * thread checks afterwards.
 */
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

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms) {
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  nanosleep(&ts, NULL);
}

/* An integer as a message (raw bytes). */
static void msg_int(lng_msg *m, int64_t v) {
  lng_msg_init(m);
  if (lng_msg_append(m, &v, sizeof v) != 0) abort();
}

#define BADVAL INT64_MIN
/* The integer in m, or BADVAL when m does not hold exactly one. */
static int64_t msg_val(lng_msg *m) {
  int64_t v;
  if (m->len != sizeof v) return BADVAL;
  memcpy(&v, lng_msg_bytes(m), sizeof v);
  return v;
}

/* Waiters queued on c (send or receive side), counted under its lock. */
static int qlen(lng_chan *c, int send) {
  int n = 0;
  lng_waitable_lock(&c->wait);
  for (lng_waiter *w = c->wait.q[send ? LNG_WQ_SEND : LNG_WQ_RECV].head; w; w = w->next) n++;
  lng_waitable_unlock(&c->wait);
  return n;
}

static void wait_qlen(lng_chan *c, int send, int n) {
  double end = now_sec() + 30;
  while (qlen(c, send) < n && now_sec() < end) sleep_ms(1);
  cr_assert_eq(qlen(c, send), n, "expected %d waiters queued on the %s side", n,
               send ? "send" : "receive");
}

static int refs_of(lng_obj *o) { return atomic_load(&o->refs); }

/* A test object whose destruction is counted. */
typedef struct tobj { lng_obj obj; atomic_int *destroyed; } tobj;

static void tobj_destroy(lng_obj *o) {
  tobj *t = (tobj *)o;
  atomic_fetch_add(t->destroyed, 1);
  free(t);
}

static tobj *tobj_new(atomic_int *destroyed) {
  tobj *t = malloc(sizeof *t);
  cr_assert_not_null(t);
  lng_obj_init(&t->obj, LNG_OBJ_SEMA, tobj_destroy);
  t->destroyed = destroyed;
  return t;
}

static int nworkers_params[] = { 1, 2, 4 };
#define WORKER_PARAMS(suite, name)                                             \
  ParameterizedTestParameters(suite, name) {                                   \
    return cr_make_param_array(int, nworkers_params,                           \
                               sizeof nworkers_params / sizeof *nworkers_params, NULL); \
  }

/* ------------------------------------------------------------------ */
/* messages                                                            */

/* The channels' short lock excludes: plain increments under it from
   several threads add up exactly (and TSan sees no race). */
typedef struct lockctr { lng_lock l; long n; } lockctr;

static void *lock_adder(void *arg) {
  lockctr *c = arg;
  for (int i = 0; i < 100000; i++) {
    lng_lock_acquire(&c->l);
    c->n++;
    lng_lock_release(&c->l);
  }
  return NULL;
}

Test(rt_lock, excludes, .timeout = 60) {
  lockctr c;
  lng_lock_init(&c.l);
  c.n = 0;
  pthread_t t[4];
  for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&t[i], NULL, lock_adder, &c), 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  cr_assert_eq(c.n, 400000);
}

Test(rt_msg, inline_heap_and_move, .timeout = 60) {
  lng_msg m, d;
  msg_int(&m, 42);
  cr_assert_eq(m.ext, 0, "an integer fits inline");
  cr_assert_eq(msg_val(&m), 42);
  unsigned char big[1000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 7);
  for (size_t off = 0; off < sizeof big; off += 100)
    cr_assert_eq(lng_msg_append(&m, big + off, 100), 0);
  cr_assert_eq(m.ext, 1);
  cr_assert_eq(m.len, 8 + sizeof big);
  cr_assert_geq(m.u.x.cap, m.len);
  int64_t v;
  memcpy(&v, lng_msg_bytes(&m), 8);
  cr_assert_eq(v, 42, "the inline bytes survive the move to the heap");
  cr_assert_eq(memcmp(m.u.x.bytes + 8, big, sizeof big), 0);
  lng_msg_move(&d, &m);
  cr_assert_eq(m.len, 0);
  cr_assert_eq(m.ext, 0);
  cr_assert_eq(d.len, 8 + sizeof big);
  cr_assert_eq(d.ext, 1);
  /* (through u.x: gcc -O1 cannot see that the inline bytes are not meant) */
  cr_assert_eq(memcmp(d.u.x.bytes + 8, big, sizeof big), 0);
  lng_msg_free(&d);
  cr_assert_eq(d.len, 0);
  cr_assert_eq(lng_msg_nrefs(&d), 0);
  /* reusable after free */
  cr_assert_eq(lng_msg_append(&d, "ab", 2), 0);
  cr_assert_eq(memcmp(lng_msg_bytes(&d), "ab", 2), 0);
  lng_msg_free(&d);
  lng_msg_free(&m);
}

Test(rt_msg, refs_released_by_free, .timeout = 60) {
  atomic_int destroyed = 0;
  tobj *o = tobj_new(&destroyed);
  lng_msg m;
  msg_int(&m, 1);
  cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 0);
  cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 1);
  for (int i = 0; i < 10; i++)   /* grows the ref array past its first size */
    cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 2 + i);
  cr_assert_eq(refs_of(&o->obj), 13);
  cr_assert_eq(lng_msg_nrefs(&m), 12);
  lng_msg_free(&m);
  cr_assert_eq(refs_of(&o->obj), 1, "lng_msg_free drops every reference it held");
  cr_assert_eq(atomic_load(&destroyed), 0);
  cr_assert_eq(lng_msg_nrefs(&m), 0);
  /* the message takes over our last reference */
  cr_assert_eq(lng_msg_addref(&m, &o->obj), 0);
  lng_msg m2;
  lng_msg_move(&m2, &m);
  lng_msg_free(&m);            /* empty: must not touch the object */
  cr_assert_eq(atomic_load(&destroyed), 0);
  lng_msg_free(&m2);
  cr_assert_eq(atomic_load(&destroyed), 1, "destroy runs once the last ref is gone");
}

/* A start message packed into a goroutine record: in its room when it
   fits, in one block of its own when not; references move with it. */
Test(rt_msg, pack_view_and_free, .timeout = 60) {
  atomic_int destroyed = 0;
  tobj *o = tobj_new(&destroyed);
  unsigned char big[300];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 13);
  size_t sizes[] = { 5, 30, LNG_PACK_ROOM - 2 * sizeof(lng_obj *), sizeof big };
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    for (int nrefs = 0; nrefs <= 2; nrefs++) {
      lng_msg m;
      lng_msg_init(&m);
      cr_assert_eq(lng_msg_append(&m, big, sizes[k]), 0);
      for (int r = 0; r < nrefs; r++) cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), r);
      lng_msgpack p;
      cr_assert_eq(lng_msgpack_set(&p, &m), 0);
      cr_assert_eq(m.len, 0, "the message is emptied");
      cr_assert_eq(lng_msg_nrefs(&m), 0);
      int fits = sizes[k] + (size_t)nrefs * sizeof(lng_obj *) <= LNG_PACK_ROOM;
      cr_assert_eq(p.out == NULL, fits, "size %zu, %d refs: in the room iff it fits", sizes[k], nrefs);
      cr_assert_eq(refs_of(&o->obj), 1 + nrefs, "the references moved, none taken or dropped");
      lng_msg view;
      lng_msgpack_view(&p, &view);
      cr_assert_eq(view.len, sizes[k]);
      cr_assert_eq(memcmp(lng_msg_cbytes(&view), big, sizes[k]), 0);
      cr_assert_eq(lng_msg_nrefs(&view), (uint32_t)nrefs);
      for (int r = 0; r < nrefs; r++) cr_assert_eq(lng_msg_ref(&view, (uint32_t)r), &o->obj);
      lng_msgpack_free(&p);
      cr_assert_eq(refs_of(&o->obj), 1);
    }
  }
  cr_assert_eq(atomic_load(&destroyed), 0);
  lng_obj_unref(&o->obj);
  cr_assert_eq(atomic_load(&destroyed), 1);
}

Test(rt_msg, chan_destroy_frees_buffered_messages, .timeout = 60) {
  atomic_int destroyed = 0;
  tobj *o = tobj_new(&destroyed);
  lng_chan *c = lng_chan_new(4);
  cr_assert_not_null(c);
  unsigned char pad[200];
  memset(pad, 0xab, sizeof pad);
  /* 4 sends, 2 receives, 2 sends: the ring wraps around its end */
  for (int i = 0; i < 4; i++) {
    lng_msg m;
    msg_int(&m, i);
    cr_assert_eq(lng_msg_append(&m, pad, sizeof pad), 0);   /* on the heap */
    cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 0);
    cr_assert_eq(lng_chan_send(c, &m, NULL, -1), LNG_RES_OK);
    cr_assert_eq(m.len, 0, "the value moved into the channel");
  }
  cr_assert_eq(refs_of(&o->obj), 5);
  for (int i = 0; i < 2; i++) {
    lng_msg m;
    lng_msg_init(&m);
    cr_assert_eq(lng_chan_recv(c, &m, NULL, -1), LNG_RES_OK);
    cr_assert_eq(lng_msg_nrefs(&m), 1);
    cr_assert_eq(lng_msg_ref(&m, 0), &o->obj);
    lng_msg_free(&m);
  }
  cr_assert_eq(refs_of(&o->obj), 3);
  for (int i = 0; i < 2; i++) {
    lng_msg m;
    msg_int(&m, 10 + i);
    cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 0);
    cr_assert_eq(lng_chan_send(c, &m, NULL, -1), LNG_RES_OK);
  }
  cr_assert_eq(lng_chan_len(c), 4);
  cr_assert_eq(refs_of(&o->obj), 5);

  /* a channel travelling inside another channel's buffer */
  lng_chan *outer = lng_chan_new(1);
  lng_msg m;
  msg_int(&m, 7);
  cr_assert_eq(lng_msg_addref(&m, &c->obj), 0);   /* our ref to c moves into m */
  cr_assert_eq(lng_chan_send(outer, &m, NULL, -1), LNG_RES_OK);
  cr_assert_eq(refs_of(&c->obj), 1);
  lng_obj_unref(&outer->obj);    /* frees m, which frees c, which frees its 4 */
  cr_assert_eq(refs_of(&o->obj), 1, "destroying a channel frees its buffered messages");
  cr_assert_eq(atomic_load(&destroyed), 0);
  lng_obj_unref(&o->obj);
  cr_assert_eq(atomic_load(&destroyed), 1);
}

/* ------------------------------------------------------------------ */
/* channels from plain C threads                                       */

Test(rt_chan, new_and_figures, .timeout = 60) {
  lng_chan *u = lng_chan_new(0), *b = lng_chan_new(5);
  cr_assert_not_null(u);
  cr_assert_not_null(b);
  cr_assert_eq(lng_chan_cap(u), 0);
  cr_assert_eq(lng_chan_cap(b), 5);
  cr_assert_eq(lng_chan_len(u), 0);
  cr_assert_eq(lng_chan_len(b), 0);
  cr_assert_eq(u->obj.kind, LNG_OBJ_CHAN);
  cr_assert_eq(refs_of(&u->obj), 1);
  cr_assert_eq(u->closed, 0);
  lng_obj_unref(&u->obj);
  lng_obj_unref(&b->obj);
}

Test(rt_chan, buffered_fifo_and_nonblocking, .timeout = 60) {
  lng_chan *c = lng_chan_new(4);
  lng_msg m, out;
  for (int i = 0; i < 4; i++) {
    msg_int(&m, 100 + i);
    cr_assert_eq(lng_chan_send_wait(c, &m, 0), LNG_RES_OK);
    cr_assert_eq(m.len, 0);
  }
  cr_assert_eq(lng_chan_len(c), 4);
  msg_int(&m, 999);
  cr_assert_eq(lng_chan_send_wait(c, &m, 0), LNG_RES_WOULDBLOCK);
  cr_assert_eq(msg_val(&m), 999, "a send that would block leaves the value with the caller");
  cr_assert_eq(lng_chan_send(c, &m, NULL, -1), LNG_RES_WOULDBLOCK);
  cr_assert_eq(msg_val(&m), 999);
  lng_msg_free(&m);
  for (int i = 0; i < 4; i++) {
    lng_msg_init(&out);
    cr_assert_eq(lng_chan_recv_wait(c, &out, 0), LNG_RES_OK);
    cr_assert_eq(msg_val(&out), 100 + i, "FIFO order");
    lng_msg_free(&out);
  }
  lng_msg_init(&out);
  cr_assert_eq(lng_chan_recv_wait(c, &out, 0), LNG_RES_WOULDBLOCK);
  cr_assert_eq(lng_chan_recv(c, &out, NULL, -1), LNG_RES_WOULDBLOCK);
  cr_assert_eq(out.len, 0);
  /* many laps around the ring */
  int64_t next_in = 0, next_out = 0;
  for (int step = 0; step < 1000; step++) {
    int k = 1 + step % 4;
    for (int j = 0; j < k && lng_chan_len(c) < 4; j++) {
      msg_int(&m, next_in++);
      cr_assert_eq(lng_chan_send(c, &m, NULL, -1), LNG_RES_OK);
    }
    int r = 1 + (step * 7) % 4;
    for (int j = 0; j < r && lng_chan_len(c) > 0; j++) {
      lng_msg_init(&out);
      cr_assert_eq(lng_chan_recv(c, &out, NULL, -1), LNG_RES_OK);
      cr_assert_eq(msg_val(&out), next_out, "FIFO across wrap-around, step %d", step);
      next_out++;
      lng_msg_free(&out);
    }
  }
  cr_assert_eq((int64_t)lng_chan_len(c), next_in - next_out);
  lng_obj_unref(&c->obj);
}

typedef struct hthr {
  lng_chan *c;
  int n;
  double timeout;
  int64_t base;
  int bad;          /* count of wrong results */
  int res;          /* last result */
  int64_t val;      /* last value (sender: what is left in its message) */
} hthr;

static void *th_send_seq(void *p) {
  hthr *h = p;
  for (int i = 0; i < h->n; i++) {
    lng_msg m;
    msg_int(&m, h->base + i);
    int r = lng_chan_send_wait(h->c, &m, -1);
    if (r != LNG_RES_OK || m.len != 0) h->bad++;
    lng_msg_free(&m);
  }
  return NULL;
}

static void *th_recv_seq(void *p) {
  hthr *h = p;
  for (int i = 0; i < h->n; i++) {
    lng_msg m;
    lng_msg_init(&m);
    int r = lng_chan_recv_wait(h->c, &m, -1);
    if (r != LNG_RES_OK || msg_val(&m) != h->base + i) h->bad++;
    lng_msg_free(&m);
  }
  return NULL;
}

Test(rt_chan, unbuffered_handoff_between_threads, .timeout = 60) {
  lng_chan *c = lng_chan_new(0);
  lng_msg m;
  msg_int(&m, 5);
  cr_assert_eq(lng_chan_send_wait(c, &m, 0), LNG_RES_WOULDBLOCK, "nobody receives");
  cr_assert_eq(msg_val(&m), 5);
  lng_msg_free(&m);

  enum { N = 5000 };
  hthr h = { .c = c, .n = N, .base = 1000 };
  pthread_t t;
  pthread_create(&t, NULL, th_send_seq, &h);
  for (int i = 0; i < N; i++) {
    lng_msg out;
    lng_msg_init(&out);
    cr_assert_eq(lng_chan_recv_wait(c, &out, -1), LNG_RES_OK);
    cr_assert_eq(msg_val(&out), 1000 + i);
    lng_msg_free(&out);
  }
  pthread_join(t, NULL);
  cr_assert_eq(h.bad, 0);

  hthr r = { .c = c, .n = N, .base = 77 };
  pthread_create(&t, NULL, th_recv_seq, &r);
  for (int i = 0; i < N; i++) {
    msg_int(&m, 77 + i);
    cr_assert_eq(lng_chan_send_wait(c, &m, -1), LNG_RES_OK);
    cr_assert_eq(m.len, 0);
  }
  pthread_join(t, NULL);
  cr_assert_eq(r.bad, 0);
  cr_assert_eq(qlen(c, 0) + qlen(c, 1), 0);
  lng_obj_unref(&c->obj);
}

static void *th_send_once(void *p) {
  hthr *h = p;
  lng_msg m;
  msg_int(&m, h->base);
  h->res = lng_chan_send_wait(h->c, &m, h->timeout);
  h->val = m.len ? msg_val(&m) : -1;
  lng_msg_free(&m);
  return NULL;
}

static void *th_recv_once(void *p) {
  hthr *h = p;
  lng_msg m;
  lng_msg_init(&m);
  h->res = lng_chan_recv_wait(h->c, &m, h->timeout);
  h->val = m.len ? msg_val(&m) : -1;
  lng_msg_free(&m);
  return NULL;
}

Test(rt_chan, timeouts, .timeout = 60) {
  lng_chan *c = lng_chan_new(0);
  lng_msg m;
  lng_msg_init(&m);
  double t0 = now_sec();
  cr_assert_eq(lng_chan_recv_wait(c, &m, 0.05), LNG_RES_WOULDBLOCK);
  double dt = now_sec() - t0;
  cr_assert_geq(dt, 0.045, "the receive waited %.3fs, not its timeout", dt);
  cr_assert_eq(m.len, 0);
  cr_assert_eq(qlen(c, 0), 0, "an expired receiver is off the queue");

  msg_int(&m, 4321);
  t0 = now_sec();
  cr_assert_eq(lng_chan_send_wait(c, &m, 0.05), LNG_RES_WOULDBLOCK);
  dt = now_sec() - t0;
  cr_assert_geq(dt, 0.045, "the send waited %.3fs", dt);
  cr_assert_eq(msg_val(&m), 4321, "an expired send gives the value back");
  cr_assert_eq(qlen(c, 1), 0, "an expired sender is off the queue");
  lng_msg_free(&m);

  /* A nothing-pending receive afterwards must not find a ghost value. */
  lng_msg_init(&m);
  cr_assert_eq(lng_chan_recv_wait(c, &m, 0), LNG_RES_WOULDBLOCK);

  /* timeout > 0, completed before it expires: receive side */
  hthr h = { .c = c, .timeout = 10.0 };
  pthread_t t;
  pthread_create(&t, NULL, th_recv_once, &h);
  wait_qlen(c, 0, 1);
  msg_int(&m, 31);
  cr_assert_eq(lng_chan_send_wait(c, &m, 0), LNG_RES_OK, "a receiver is waiting");
  pthread_join(t, NULL);
  cr_assert_eq(h.res, LNG_RES_OK);
  cr_assert_eq(h.val, 31);

  /* and send side */
  hthr s = { .c = c, .timeout = 10.0, .base = 32 };
  pthread_create(&t, NULL, th_send_once, &s);
  wait_qlen(c, 1, 1);
  lng_msg_init(&m);
  cr_assert_eq(lng_chan_recv_wait(c, &m, 0), LNG_RES_OK);
  cr_assert_eq(msg_val(&m), 32);
  lng_msg_free(&m);
  pthread_join(t, NULL);
  cr_assert_eq(s.res, LNG_RES_OK);
  cr_assert_eq(s.val, -1, "the sender's message is empty after a completed send");
  lng_obj_unref(&c->obj);
}

Test(rt_chan, close_wakes_blocked_receivers_and_senders, .timeout = 60) {
  enum { K = 4 };
  lng_chan *rc = lng_chan_new(0), *sc = lng_chan_new(0), *fc = lng_chan_new(2);
  hthr r[K], s[K], f[K];
  pthread_t rt[K], st[K], ft[K];
  lng_msg m;
  for (int i = 0; i < 2; i++) {
    msg_int(&m, i + 1);
    cr_assert_eq(lng_chan_send_wait(fc, &m, 0), LNG_RES_OK);
  }
  for (int i = 0; i < K; i++) {
    r[i] = (hthr){ .c = rc, .timeout = -1, .res = -1 };
    s[i] = (hthr){ .c = sc, .timeout = -1, .base = 100 + i, .res = -1 };
    f[i] = (hthr){ .c = fc, .timeout = 30.0, .base = 200 + i, .res = -1 };
    pthread_create(&rt[i], NULL, th_recv_once, &r[i]);
    pthread_create(&st[i], NULL, th_send_once, &s[i]);
    pthread_create(&ft[i], NULL, th_send_once, &f[i]);
  }
  wait_qlen(rc, 0, K);
  wait_qlen(sc, 1, K);
  wait_qlen(fc, 1, K);
  cr_assert_eq(lng_chan_close(rc, -1), LNG_RES_OK);
  cr_assert_eq(lng_chan_close(sc, -1), LNG_RES_OK);
  cr_assert_eq(lng_chan_close(fc, -1), LNG_RES_OK);
  for (int i = 0; i < K; i++) {
    pthread_join(rt[i], NULL);
    pthread_join(st[i], NULL);
    pthread_join(ft[i], NULL);
    cr_assert_eq(r[i].res, LNG_RES_CLOSED, "receiver %d", i);
    cr_assert_eq(r[i].val, -1, "receiver %d got no value", i);
    cr_assert_eq(s[i].res, LNG_RES_CLOSED, "sender %d", i);
    cr_assert_eq(s[i].val, 100 + i, "sender %d gets its own value back", i);
    cr_assert_eq(f[i].res, LNG_RES_CLOSED, "sender %d on the full channel", i);
    cr_assert_eq(f[i].val, 200 + i, "sender %d on the full channel gets its value back", i);
  }
  cr_assert_eq(qlen(rc, 0) + qlen(sc, 1) + qlen(fc, 1), 0);
  cr_assert_eq(lng_chan_close(rc, -1), LNG_RES_CLOSED, "close of a closed channel");
  cr_assert_eq(lng_chan_close(sc, -1), LNG_RES_CLOSED);
  msg_int(&m, 9);
  cr_assert_eq(lng_chan_send_wait(sc, &m, -1), LNG_RES_CLOSED);
  cr_assert_eq(msg_val(&m), 9, "a send on a closed channel leaves the value");
  cr_assert_eq(lng_chan_send(sc, &m, NULL, -1), LNG_RES_CLOSED);
  cr_assert_eq(msg_val(&m), 9);
  lng_msg_free(&m);
  /* the full channel still yields its two buffered values, then CLOSED */
  for (int i = 0; i < 2; i++) {
    lng_msg_init(&m);
    cr_assert_eq(lng_chan_recv_wait(fc, &m, -1), LNG_RES_OK);
    cr_assert_eq(msg_val(&m), i + 1);
    lng_msg_free(&m);
  }
  lng_msg_init(&m);
  cr_assert_eq(lng_chan_recv_wait(fc, &m, -1), LNG_RES_CLOSED);
  cr_assert_eq(lng_chan_recv_wait(rc, &m, -1), LNG_RES_CLOSED);
  lng_obj_unref(&rc->obj);
  lng_obj_unref(&sc->obj);
  lng_obj_unref(&fc->obj);
}

Test(rt_chan, recv_after_close_drains_buffer_first, .timeout = 60) {
  lng_chan *c = lng_chan_new(4);
  lng_msg m;
  for (int i = 0; i < 3; i++) {
    msg_int(&m, 50 + i);
    cr_assert_eq(lng_chan_send_wait(c, &m, -1), LNG_RES_OK);
  }
  cr_assert_eq(lng_chan_close(c, -1), LNG_RES_OK);
  cr_assert_eq(lng_chan_close(c, -1), LNG_RES_CLOSED);
  msg_int(&m, 1);
  cr_assert_eq(lng_chan_send_wait(c, &m, 0), LNG_RES_CLOSED, "no send after close, even with room");
  lng_msg_free(&m);
  cr_assert_eq(lng_chan_len(c), 3);
  for (int i = 0; i < 3; i++) {
    lng_msg_init(&m);
    cr_assert_eq(lng_chan_recv_wait(c, &m, i == 0 ? 0 : -1), LNG_RES_OK);
    cr_assert_eq(msg_val(&m), 50 + i);
    lng_msg_free(&m);
  }
  lng_msg_init(&m);
  cr_assert_eq(lng_chan_recv_wait(c, &m, 0), LNG_RES_CLOSED, "drained: CLOSED, not WOULDBLOCK");
  cr_assert_eq(lng_chan_recv_wait(c, &m, -1), LNG_RES_CLOSED);
  cr_assert_eq(lng_chan_recv(c, &m, NULL, -1), LNG_RES_CLOSED);
  cr_assert_eq(m.len, 0);
  lng_obj_unref(&c->obj);
}

/* Many producers and consumers: nothing lost, nothing duplicated. */
enum { MP_P = 4, MP_C = 4, MP_M = 20000 };
typedef struct mpmc {
  lng_chan *c;
  atomic_uchar *seen;
  atomic_llong sum, count;
  atomic_int bad;
} mpmc;
typedef struct mparg { mpmc *x; int id; } mparg;

static void *mp_producer(void *p) {
  mparg *a = p;
  for (int i = 0; i < MP_M; i++) {
    lng_msg m;
    msg_int(&m, (int64_t)a->id * MP_M + i + 1);
    /* alternate blocking and polling sends */
    int r;
    if (i % 3 == 0) {
      while ((r = lng_chan_send_wait(a->x->c, &m, 0.0002)) == LNG_RES_WOULDBLOCK) {
        if (msg_val(&m) != (int64_t)a->id * MP_M + i + 1) atomic_fetch_add(&a->x->bad, 1);
      }
    } else {
      r = lng_chan_send_wait(a->x->c, &m, -1);
    }
    if (r != LNG_RES_OK || m.len) atomic_fetch_add(&a->x->bad, 1);
    lng_msg_free(&m);
  }
  return NULL;
}

static void *mp_consumer(void *p) {
  mparg *a = p;
  int64_t last[MP_P];
  for (int i = 0; i < MP_P; i++) last[i] = 0;
  long long sum = 0, count = 0;
  for (int k = 0;; k++) {
    lng_msg m;
    lng_msg_init(&m);
    int r = (k % 5 == 0) ? lng_chan_recv_wait(a->x->c, &m, 0.0002)
                         : lng_chan_recv_wait(a->x->c, &m, -1);
    if (r == LNG_RES_WOULDBLOCK) {
      if (m.len) atomic_fetch_add(&a->x->bad, 1);
      continue;
    }
    if (r == LNG_RES_CLOSED) break;
    int64_t v = msg_val(&m);
    lng_msg_free(&m);
    if (v < 1 || v > (int64_t)MP_P * MP_M) { atomic_fetch_add(&a->x->bad, 1); continue; }
    int prod = (int)((v - 1) / MP_M);
    if (v <= last[prod]) atomic_fetch_add(&a->x->bad, 1);   /* per-sender FIFO */
    last[prod] = v;
    atomic_fetch_add(&a->x->seen[v - 1], 1);
    sum += v;
    count++;
  }
  atomic_fetch_add(&a->x->sum, sum);
  atomic_fetch_add(&a->x->count, count);
  return NULL;
}

static size_t mpmc_caps[] = { 0, 1, 16 };
ParameterizedTestParameters(rt_chan, many_producers_consumers) {
  return cr_make_param_array(size_t, mpmc_caps, sizeof mpmc_caps / sizeof *mpmc_caps, NULL);
}
ParameterizedTest(size_t *cap, rt_chan, many_producers_consumers, .timeout = 60) {
  mpmc x = { .c = lng_chan_new(*cap) };
  x.seen = calloc((size_t)MP_P * MP_M, sizeof *x.seen);
  cr_assert_not_null(x.seen);
  pthread_t pt[MP_P], ct[MP_C];
  mparg pa[MP_P], ca[MP_C];
  for (int i = 0; i < MP_C; i++) {
    ca[i] = (mparg){ &x, i };
    pthread_create(&ct[i], NULL, mp_consumer, &ca[i]);
  }
  for (int i = 0; i < MP_P; i++) {
    pa[i] = (mparg){ &x, i };
    pthread_create(&pt[i], NULL, mp_producer, &pa[i]);
  }
  for (int i = 0; i < MP_P; i++) pthread_join(pt[i], NULL);
  cr_assert_eq(lng_chan_close(x.c, -1), LNG_RES_OK);
  for (int i = 0; i < MP_C; i++) pthread_join(ct[i], NULL);
  long long n = (long long)MP_P * MP_M;
  cr_assert_eq(atomic_load(&x.bad), 0, "cap %zu: wrong results or order", *cap);
  cr_assert_eq(atomic_load(&x.count), n, "cap %zu: received count", *cap);
  cr_assert_eq(atomic_load(&x.sum), n * (n + 1) / 2, "cap %zu: checksum", *cap);
  for (long long i = 0; i < n; i++)
    cr_assert_eq(atomic_load(&x.seen[i]), 1, "cap %zu: value %lld seen %d times", *cap,
                 i + 1, (int)atomic_load(&x.seen[i]));
  free(x.seen);
  lng_obj_unref(&x.c->obj);
}

/*
 * BUG (runtime/chan.c, lng_chan_close): close collects the waiters it claims
 * into a local list with lng_waitq_push, which sets w->queued = 1 again, and
 * wakes them after unlocking. lng_chan_cancel (what lng_chan_recv_wait /
 * send_wait do when their timeout expires) trusts w->queued: during that
 * window it "removes" a waiter that close already completed from the
 * channel's queue (it is really on close's local list), returns 1, and
 * corrupts both lists. Here the first wake is held up by holding the first
 * waiter's mutex, exactly what a slow wake looks like. Consequences: the
 * cancelled waiter reports a timeout (op_wait then destroys its stack
 * waiter that close is about to wake: use after return), the channel's
 * receive queue points at a stack waiter, and the third waiter is never
 * woken at all.
 */
static void *th_close(void *p) {
  lng_chan_close(p, -1);
  return NULL;
}

Test(rt_chan, close_racing_timed_cancel, .timeout = 60) {
  lng_chan *c = lng_chan_new(0);
  lng_cwait cw[3];
  lng_waiter w[3];
  lng_msg out[3];
  for (int i = 0; i < 3; i++) {
    pthread_mutex_init(&cw[i].mu, NULL);
    pthread_cond_init(&cw[i].cv, NULL);
    cw[i].done = 0;
    w[i] = (lng_waiter){0};
    w[i].cw = &cw[i];
    lng_msg_init(&out[i]);
    w[i].slot = &out[i];
    cr_assert_eq(lng_chan_recv(c, &out[i], &w[i], -1), LNG_RES_PARKED);
  }
  pthread_mutex_lock(&cw[0].mu);      /* close's first wake will wait for us */
  pthread_t t;
  pthread_create(&t, NULL, th_close, c);
  for (int closed = 0; !closed;) {   /* close has done its locked part */
    lng_waitable_lock(&c->wait);
    closed = c->closed;
    lng_waitable_unlock(&c->wait);
    if (!closed) sleep_ms(1);
  }
  /* All three are claimed by close (result CLOSED, off the channel's queue).
     Waiter 1's timeout expires now: op_wait calls lng_chan_cancel. */
  int was = lng_chan_cancel(c, &w[1]);
  lng_waitable_lock(&c->wait);
  lng_waiter *head = c->wait.q[LNG_WQ_RECV].head;
  lng_waitable_unlock(&c->wait);
  pthread_mutex_unlock(&cw[0].mu);
  pthread_join(t, NULL);
  int done2 = cw[2].done;
  for (int i = 0; i < 3; i++) {
    pthread_mutex_destroy(&cw[i].mu);
    pthread_cond_destroy(&cw[i].cv);
  }
  lng_obj_unref(&c->obj);
  cr_expect_eq(w[1].result, LNG_RES_CLOSED);
  cr_expect_eq(was, 0, "cancel of a waiter already completed by close must return 0 "
                       "(op_wait would report a timeout and free a waiter close still wakes)");
  cr_expect(head == NULL, "the closed channel's receive queue must stay empty, "
                       "found waiter %d on it", head ? (int)(head - w) : -1);
  cr_expect_eq(done2, 1, "close must wake every waiter it claimed; waiter 2 was lost");
}

/* ------------------------------------------------------------------ */
/* the scheduler with C state-machine goroutines                       */

typedef struct tvm tvm;
typedef struct gst gst;
typedef lng_runres (*gfn)(tvm *t, int worker, lng_g *g, gst *st);

/* What a goroutine is to do: travels in its start message. */
typedef struct spec {
  gfn fn;
  lng_chan *in, *out;
  int64_t a, b;
  int index;
  int acc;          /* which accumulator of tvm it adds to */
} spec;

struct gst {
  spec sp;
  int pc, r, worker, running;
  int64_t i, v, acc;
};

#define NACC 8
#define MAXREC 64
struct tvm {
  lng_sched *s;
  int nworkers;
  lng_vmops ops;
  atomic_int drops, starts, errors, parked, flag, ready;
  atomic_llong acc[NACC];
  atomic_llong rec[MAXREC];
  atomic_int where[MAXREC];
  atomic_uchar *seen;
  int64_t nseen;
  pthread_mutex_t errmu;
  char err[256];
};

__attribute__((format(printf, 2, 3)))
static void gerr(tvm *t, const char *fmt, ...) {
  pthread_mutex_lock(&t->errmu);
  if (atomic_fetch_add(&t->errors, 1) == 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
  }
  pthread_mutex_unlock(&t->errmu);
}

static lng_runres t_run(void *ud, int worker, lng_g *g) {
  tvm *t = ud;
  gst *st = g->vm;
  if (g->worker != worker) gerr(t, "g%lld: g->worker %d, run on %d", (long long)g->id, g->worker, worker);
  if (!st) {
    st = calloc(1, sizeof *st);
    if (!st) abort();
    lng_msg view;
    const lng_msg *m = lng_g_startmsg(g, &view);
    if (m->len != sizeof st->sp) gerr(t, "g%lld: start message of %zu bytes", (long long)g->id, (size_t)m->len);
    memcpy(&st->sp, lng_msg_cbytes(m), sizeof st->sp);
    lng_g_begin(g);
    st->worker = worker;
    g->vm = st;
    atomic_fetch_add(&t->starts, 1);
  } else if (st->worker != worker) {
    gerr(t, "g%lld moved from worker %d to %d", (long long)g->id, st->worker, worker);
  }
  if (st->running++) gerr(t, "g%lld run twice at once", (long long)g->id);
  lng_runres r = st->sp.fn(t, worker, g, st);
  st->running--;
  return r;
}

static void t_drop(void *ud, int worker, lng_g *g) {
  tvm *t = ud;
  (void)worker;
  atomic_fetch_add(&t->drops, 1);
  free(g->vm);
  g->vm = NULL;
}

static void t_describe(void *ud, int worker, lng_g *g, char *buf, size_t n) {
  (void)ud;
  (void)worker;
  gst *st = g->vm;
  snprintf(buf, n, "test.c:%d", st ? st->sp.index : -1);
}

static tvm *tvm_new(int nworkers) {
  tvm *t = calloc(1, sizeof *t);
  cr_assert_not_null(t);
  t->ops = (lng_vmops){ t_run, t_drop, t_describe, 0, NULL };   /* keeps its own state at g->vm */
  t->nworkers = nworkers;
  pthread_mutex_init(&t->errmu, NULL);
  t->s = lng_sched_new(nworkers, &t->ops, t);
  cr_assert_not_null(t->s);
  cr_assert_eq(lng_sched_nworkers(t->s), nworkers);
  return t;
}

static void tvm_free(tvm *t) {
  lng_sched_free(t->s);
  pthread_mutex_destroy(&t->errmu);
  free(t->seen);
  free(t);
}

/* Queues a goroutine doing sp; returns its id, or -1. */
static int64_t tspawn(tvm *t, spec sp, int self) {
  lng_g *g = lng_sched_newg(t->s);
  if (!g) { gerr(t, "newg failed"); return -1; }
  if (lng_msg_append(&g->u.start, &sp, sizeof sp) != 0) {
    gerr(t, "start message");
    lng_sched_freeg(g);
    return -1;
  }
  int64_t id = g->id;
  lng_sched_spawn(t->s, g, self);
  return id;
}

static void box_put(tvm *t, lng_g *g, int64_t v) {
  if (g->u.park.box.len) gerr(t, "g%lld: box not empty", (long long)g->id);
  lng_msg_free(&g->u.park.box);
  if (lng_msg_append(&g->u.park.box, &v, sizeof v) != 0) abort();
}

static int64_t box_take(tvm *t, lng_g *g) {
  int64_t v = msg_val(&g->u.park.box);
  if (v == BADVAL) gerr(t, "g%lld: box holds %zu bytes", (long long)g->id, (size_t)g->u.park.box.len);
  lng_msg_free(&g->u.park.box);
  return v;
}

static lng_waiter *g_waiter(tvm *t, lng_g *g) {
  lng_waiter *w = &g->u.park.w;
  w->sched = t->s;
  w->g = g;
  w->cw = NULL;
  w->sel = NULL;
  w->slot = &g->u.park.box;
  w->result = -1;
  return w;
}

static int g_recv(tvm *t, int worker, lng_g *g, lng_chan *c, const char *reason) {
  if (g->u.park.box.len) gerr(t, "g%lld: receiving into a full box", (long long)g->id);
  int r = lng_chan_recv(c, &g->u.park.box, g_waiter(t, g), worker);
  if (r == LNG_RES_PARKED) {
    lng_sched_park(t->s, g, reason);
    atomic_fetch_add(&t->parked, 1);
  }
  return r;
}

static int g_send(tvm *t, int worker, lng_g *g, lng_chan *c) {
  int r = lng_chan_send(c, &g->u.park.box, g_waiter(t, g), worker);
  if (r == LNG_RES_PARKED) {
    lng_sched_park(t->s, g, "chan send");
    atomic_fetch_add(&t->parked, 1);
  }
  return r;
}

/* Protothread-style resumption: st->pc is the line to resume at. A channel
   operation leaves LNG_RES_OK or LNG_RES_CLOSED in st->r. */
#define G_BEGIN (void)t; (void)worker; (void)g; switch (st->pc) { case 0:;
#define G_END } return LNG_RUN_DONE
#define G_OP_(call, n)                                                       \
  st->pc = (n);                                                              \
  st->r = (call);                                                            \
  if (st->r == LNG_RES_PARKED) return LNG_RUN_PARK;                         \
  __attribute__((fallthrough));                                              \
  case (n):                                                                  \
  if (st->r == LNG_RES_PARKED)                                              \
    st->r = g->u.park.w.result == LNG_RES_OK ? LNG_RES_OK : LNG_RES_CLOSED
#define G_RECV_R(c, reason) G_OP_(g_recv(t, worker, g, (c), (reason)), __LINE__)
#define G_RECV(c) G_RECV_R(c, "chan receive")
#define G_SEND(c) G_OP_(g_send(t, worker, g, (c)), __LINE__)
#define G_YIELD() do { st->pc = __LINE__; return LNG_RUN_YIELD; case __LINE__:; } while (0)

/* Sends sp.a values to sp.out: sp.b, sp.b+1, ... then closes it if sp.index < 0. */
static lng_runres g_source(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  for (st->i = 0; st->i < st->sp.a; st->i++) {
    box_put(t, g, st->sp.b + st->i);
    G_SEND(st->sp.out);
    if (st->r != LNG_RES_OK) gerr(t, "source: send %d", st->r);
  }
  if (st->sp.index < 0 && lng_chan_close(st->sp.out, worker) != LNG_RES_OK)
    gerr(t, "source: close");
  G_END;
}

/* in -> +1 -> out until in is closed, then closes out. */
static lng_runres g_stage(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  for (;;) {
    G_RECV(st->sp.in);
    if (st->r == LNG_RES_CLOSED) break;
    st->v = box_take(t, g) + 1;
    box_put(t, g, st->v);
    G_SEND(st->sp.out);
    if (st->r != LNG_RES_OK) gerr(t, "stage: send %d", st->r);
  }
  if (lng_chan_close(st->sp.out, worker) != LNG_RES_OK) gerr(t, "stage: close");
  G_END;
}

/* Receives until closed (sp.a < 0) or sp.a values; adds the sum to acc[sp.acc]
   and the count to acc[sp.acc + 1]. */
static lng_runres g_sink(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  for (st->i = 0; st->sp.a < 0 || st->i < st->sp.a; st->i++) {
    G_RECV(st->sp.in);
    if (st->r == LNG_RES_CLOSED) {
      if (st->sp.a >= 0) gerr(t, "sink: closed early");
      break;
    }
    st->acc += box_take(t, g);
  }
  atomic_fetch_add(&t->acc[st->sp.acc], st->acc);
  atomic_fetch_add(&t->acc[st->sp.acc + 1], st->i);
  G_END;
}

WORKER_PARAMS(rt_sched, many_goroutines_pipeline_and_fanin)
ParameterizedTest(int *nw, rt_sched, many_goroutines_pipeline_and_fanin, .timeout = 60) {
  enum { PRODUCERS = 10000, STAGES = 100, VALUES = 1000 };
  tvm *t = tvm_new(*nw);
  lng_chan *fan = lng_chan_new(8);
  lng_chan *pipe[STAGES + 1];
  for (int i = 0; i <= STAGES; i++) pipe[i] = lng_chan_new(i % 2 ? 3 : 0);
  int64_t n = 0;
  /* fan-in: PRODUCERS goroutines send one value each to one collector */
  n += tspawn(t, (spec){ .fn = g_sink, .in = fan, .a = PRODUCERS, .acc = 0 }, -1) > 0;
  for (int i = 0; i < PRODUCERS; i++)
    n += tspawn(t, (spec){ .fn = g_source, .out = fan, .a = 1, .b = 3 * i + 1 }, i % *nw) > 0;
  /* a pipeline of STAGES goroutines, closed from the source down */
  n += tspawn(t, (spec){ .fn = g_source, .out = pipe[0], .a = VALUES, .b = 1, .index = -1 }, -1) > 0;
  for (int i = 0; i < STAGES; i++)
    n += tspawn(t, (spec){ .fn = g_stage, .in = pipe[i], .out = pipe[i + 1] }, i % *nw) > 0;
  n += tspawn(t, (spec){ .fn = g_sink, .in = pipe[STAGES], .a = -1, .acc = 2 }, -1) > 0;
  cr_assert_eq(lng_sched_spawned(t->s), n);
  cr_assert_eq(lng_sched_live(t->s), n);
  cr_assert_eq(lng_sched_start(t->s), 0);
  int st = lng_sched_wait(t->s);
  cr_assert_eq(st, LNG_OK, "workers=%d: status %d: %s", *nw, st, lng_sched_message(t->s));
  cr_assert_eq(atomic_load(&t->errors), 0, "workers=%d: %s", *nw, t->err);
  long long fsum = 0;
  for (int i = 0; i < PRODUCERS; i++) fsum += 3 * i + 1;
  cr_assert_eq(atomic_load(&t->acc[0]), fsum, "workers=%d: fan-in checksum", *nw);
  cr_assert_eq(atomic_load(&t->acc[1]), PRODUCERS, "workers=%d", *nw);
  cr_assert_eq(atomic_load(&t->acc[2]), (long long)VALUES * (VALUES + 1) / 2 + (long long)STAGES * VALUES,
               "workers=%d: pipeline checksum", *nw);
  cr_assert_eq(atomic_load(&t->acc[3]), VALUES, "workers=%d", *nw);
  cr_assert_eq(atomic_load(&t->starts), n);
  cr_assert_eq(atomic_load(&t->drops), n, "workers=%d: every finished goroutine dropped", *nw);
  cr_assert_eq(lng_sched_live(t->s), 0);
  cr_assert_eq(lng_sched_spawned(t->s), n);
  for (int i = 0; i < *nw; i++) cr_assert_eq(lng_sched_worker_count(t->s, i), 0);
  tvm_free(t);
  cr_assert_eq(refs_of(&fan->obj), 1);
  lng_obj_unref(&fan->obj);
  for (int i = 0; i <= STAGES; i++) lng_obj_unref(&pipe[i]->obj);
}

/* A tree of goroutines spawning goroutines from their workers. */
static lng_runres g_node(tvm *t, int worker, lng_g *g, gst *st) {
  int64_t id = g->id;
  if (st->sp.b >= id) gerr(t, "child id %lld not above its parent's %lld", (long long)id, (long long)st->sp.b);
  if (id < 1 || id > t->nseen) gerr(t, "id %lld out of range", (long long)id);
  else if (atomic_fetch_add(&t->seen[id - 1], 1) != 0) gerr(t, "id %lld twice", (long long)id);
  if (st->sp.a > 0)
    for (int k = 0; k < 4; k++)
      tspawn(t, (spec){ .fn = g_node, .a = st->sp.a - 1, .b = id }, worker);
  atomic_fetch_add(&t->acc[0], 1);
  return LNG_RUN_DONE;
}

WORKER_PARAMS(rt_sched, spawn_tree_ids)
ParameterizedTest(int *nw, rt_sched, spawn_tree_ids, .timeout = 60) {
  enum { DEPTH = 6 };
  int64_t n = 0;
  for (int64_t p = 1, d = 0; d <= DEPTH; d++, p *= 4) n += p;   /* 5461 */
  tvm *t = tvm_new(*nw);
  t->nseen = n;
  t->seen = calloc((size_t)n, sizeof *t->seen);
  cr_assert_eq(tspawn(t, (spec){ .fn = g_node, .a = DEPTH, .b = 0 }, -1), 1, "the first id is 1");
  cr_assert_eq(lng_sched_start(t->s), 0);
  int st = lng_sched_wait(t->s);
  cr_assert_eq(st, LNG_OK, "workers=%d: %s", *nw, lng_sched_message(t->s));
  cr_assert_eq(atomic_load(&t->errors), 0, "workers=%d: %s", *nw, t->err);
  cr_assert_eq(atomic_load(&t->acc[0]), n);
  for (int64_t i = 0; i < n; i++)
    cr_assert_eq(atomic_load(&t->seen[i]), 1, "workers=%d: id %lld", *nw, (long long)i + 1);
  cr_assert_eq(lng_sched_spawned(t->s), n);
  cr_assert_eq(lng_sched_live(t->s), 0);
  cr_assert_eq(atomic_load(&t->drops), n);
  tvm_free(t);
}

/* Ping-pong on unbuffered channels: sp.a rounds; sp.b goroutines must have
   started before anyone begins (so that each keeps its own worker busy). */
static lng_runres g_ping(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  atomic_store(&t->where[st->sp.index], worker);
  atomic_fetch_add(&t->ready, 1);
  while (atomic_load(&t->ready) < st->sp.b) G_YIELD();
  for (st->i = 0; st->i < st->sp.a; st->i++) {
    box_put(t, g, st->i);
    G_SEND(st->sp.out);
    if (st->r != LNG_RES_OK) { gerr(t, "ping: send %d", st->r); return LNG_RUN_DONE; }
    G_RECV(st->sp.in);
    if (st->r != LNG_RES_OK) { gerr(t, "ping: recv %d", st->r); return LNG_RUN_DONE; }
    st->v = box_take(t, g);
    if (st->v != 2 * st->i + 1) gerr(t, "ping: got %lld for %lld", (long long)st->v, (long long)st->i);
  }
  atomic_store(&t->rec[st->sp.index], st->i);
  G_END;
}

static lng_runres g_pong(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  atomic_store(&t->where[st->sp.index], worker);
  atomic_fetch_add(&t->ready, 1);
  while (atomic_load(&t->ready) < st->sp.b) G_YIELD();
  for (st->i = 0; st->i < st->sp.a; st->i++) {
    G_RECV(st->sp.in);
    if (st->r != LNG_RES_OK) { gerr(t, "pong: recv %d", st->r); return LNG_RUN_DONE; }
    st->v = box_take(t, g);
    box_put(t, g, 2 * st->v + 1);
    G_SEND(st->sp.out);
    if (st->r != LNG_RES_OK) { gerr(t, "pong: send %d", st->r); return LNG_RUN_DONE; }
  }
  atomic_store(&t->rec[st->sp.index], st->i);
  G_END;
}

WORKER_PARAMS(rt_sched, ping_pong_across_workers)
ParameterizedTest(int *nw, rt_sched, ping_pong_across_workers, .timeout = 60) {
  enum { ROUNDS = 100000 };
  tvm *t = tvm_new(*nw);
  int pairs = *nw > 1 ? *nw / 2 : 1;
  lng_chan *ch[8];
  for (int p = 0; p < pairs; p++) {
    ch[2 * p] = lng_chan_new(0);
    ch[2 * p + 1] = lng_chan_new(0);
    /* ping on worker 2p, pong on worker 2p+1 (each starts its own first) */
    tspawn(t, (spec){ .fn = g_ping, .out = ch[2 * p], .in = ch[2 * p + 1], .a = ROUNDS,
                      .b = 2 * pairs, .index = 2 * p }, (2 * p) % *nw);
    tspawn(t, (spec){ .fn = g_pong, .in = ch[2 * p], .out = ch[2 * p + 1], .a = ROUNDS,
                      .b = 2 * pairs, .index = 2 * p + 1 }, (2 * p + 1) % *nw);
  }
  cr_assert_eq(lng_sched_start(t->s), 0);
  int st = lng_sched_wait(t->s);
  cr_assert_eq(st, LNG_OK, "workers=%d: status %d: %s", *nw, st, lng_sched_message(t->s));
  cr_assert_eq(atomic_load(&t->errors), 0, "workers=%d: %s", *nw, t->err);
  for (int i = 0; i < 2 * pairs; i++) {
    cr_assert_eq(atomic_load(&t->rec[i]), ROUNDS, "workers=%d: goroutine %d rounds", *nw, i);
    if (*nw > 1)
      cr_assert_eq(atomic_load(&t->where[i]), i, "workers=%d: goroutine %d ran on worker %d", *nw,
                   i, atomic_load(&t->where[i]));
  }
  cr_assert_eq(atomic_load(&t->drops), 2 * pairs);
  tvm_free(t);
  for (int i = 0; i < 2 * pairs; i++) lng_obj_unref(&ch[i]->obj);
}

/* Stays runnable until t->flag reaches sp.a (C threads are invisible to the
   deadlock detector, so someone must stay active while they work). */
static lng_runres g_keeper(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  while (atomic_load(&t->flag) < st->sp.a) G_YIELD();
  G_END;
}

typedef struct cthr { tvm *t; lng_chan *c; int n; int bad; long long sum; } cthr;

static void *c_sender(void *p) {
  cthr *a = p;
  for (int i = 1; i <= a->n; i++) {
    lng_msg m;
    msg_int(&m, i);
    if (lng_chan_send_wait(a->c, &m, -1) != LNG_RES_OK || m.len) a->bad++;
    lng_msg_free(&m);
  }
  atomic_fetch_add(&a->t->flag, 1);
  return NULL;
}

static void *c_receiver(void *p) {
  cthr *a = p;
  for (int i = 1; i <= a->n;) {
    lng_msg m;
    lng_msg_init(&m);
    /* short timeouts: cancels race with goroutines completing the wait */
    int r = lng_chan_recv_wait(a->c, &m, i % 2 ? 0.0001 : -1);
    if (r == LNG_RES_WOULDBLOCK) {
      if (m.len) a->bad++;
      continue;
    }
    if (r != LNG_RES_OK || msg_val(&m) != i) a->bad++;
    a->sum += msg_val(&m);
    lng_msg_free(&m);
    i++;
  }
  atomic_fetch_add(&a->t->flag, 1);
  return NULL;
}

WORKER_PARAMS(rt_sched, c_threads_wake_goroutines)
ParameterizedTest(int *nw, rt_sched, c_threads_wake_goroutines, .timeout = 60) {
  enum { N = 10000 };
  tvm *t = tvm_new(*nw);
  lng_chan *to_g = lng_chan_new(0), *from_g = lng_chan_new(0);
  /* a goroutine receiving what a C thread sends, one sending to a C thread */
  tspawn(t, (spec){ .fn = g_sink, .in = to_g, .a = N, .acc = 0 }, -1);
  tspawn(t, (spec){ .fn = g_source, .out = from_g, .a = N, .b = 1 }, *nw - 1);
  tspawn(t, (spec){ .fn = g_keeper, .a = 2 }, 0);
  cr_assert_eq(lng_sched_start(t->s), 0);
  cthr s = { t, to_g, N, 0, 0 }, r = { t, from_g, N, 0, 0 };
  pthread_t ts, tr;
  pthread_create(&ts, NULL, c_sender, &s);
  pthread_create(&tr, NULL, c_receiver, &r);
  int st = lng_sched_wait(t->s);
  pthread_join(ts, NULL);
  pthread_join(tr, NULL);
  cr_assert_eq(st, LNG_OK, "workers=%d: status %d: %s", *nw, st, lng_sched_message(t->s));
  cr_assert_eq(atomic_load(&t->errors), 0, "workers=%d: %s", *nw, t->err);
  cr_assert_eq(s.bad, 0, "workers=%d", *nw);
  cr_assert_eq(r.bad, 0, "workers=%d", *nw);
  cr_assert_eq(atomic_load(&t->acc[0]), (long long)N * (N + 1) / 2, "workers=%d", *nw);
  cr_assert_eq(atomic_load(&t->acc[1]), N);
  cr_assert_eq(r.sum, (long long)N * (N + 1) / 2, "workers=%d", *nw);
  tvm_free(t);
  lng_obj_unref(&to_g->obj);
  lng_obj_unref(&from_g->obj);
}

/* A goroutine parked in recv, woken only by a C thread, while a keeper stays active. */
static void *c_late_sender(void *p) {
  cthr *a = p;
  while (atomic_load(&a->t->parked) < 1) sleep_ms(1);   /* the receiver is parked */
  sleep_ms(20);
  lng_msg m;
  msg_int(&m, 4242);
  if (lng_chan_send_wait(a->c, &m, -1) != LNG_RES_OK) a->bad++;
  lng_msg_free(&m);
  atomic_fetch_add(&a->t->flag, 1);
  return NULL;
}

WORKER_PARAMS(rt_sched, c_thread_wakes_parked_goroutine)
ParameterizedTest(int *nw, rt_sched, c_thread_wakes_parked_goroutine, .timeout = 60) {
  tvm *t = tvm_new(*nw);
  lng_chan *c = lng_chan_new(0);
  tspawn(t, (spec){ .fn = g_sink, .in = c, .a = 1, .acc = 0 }, *nw - 1);
  tspawn(t, (spec){ .fn = g_keeper, .a = 1 }, 0);
  cthr a = { t, c, 1, 0, 0 };
  pthread_t th;
  cr_assert_eq(lng_sched_start(t->s), 0);
  pthread_create(&th, NULL, c_late_sender, &a);
  int st = lng_sched_wait(t->s);
  pthread_join(th, NULL);
  cr_assert_eq(st, LNG_OK, "workers=%d: %s", *nw, lng_sched_message(t->s));
  cr_assert_eq(a.bad, 0);
  cr_assert_eq(atomic_load(&t->parked), 1, "the receiver parked before the C thread sent");
  cr_assert_eq(atomic_load(&t->acc[0]), 4242);
  cr_assert_eq(atomic_load(&t->errors), 0, "%s", t->err);
  tvm_free(t);
  lng_obj_unref(&c->obj);
}

/* Close while goroutines are blocked. */
static lng_runres g_recv_expect_closed(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  G_RECV(st->sp.in);
  if (st->r != LNG_RES_CLOSED || g->u.park.box.len)
    gerr(t, "receiver %d: result %d, %zu bytes", st->sp.index, st->r, (size_t)g->u.park.box.len);
  else
    atomic_fetch_add(&t->acc[0], 1);
  G_END;
}

static lng_runres g_send_expect_closed(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  box_put(t, g, st->sp.b);
  G_SEND(st->sp.out);
  st->v = box_take(t, g);
  if (st->r != LNG_RES_CLOSED || st->v != st->sp.b)
    gerr(t, "sender %d: result %d, value %lld", st->sp.index, st->r, (long long)st->v);
  else
    atomic_fetch_add(&t->acc[1], 1);
  G_END;
}

/* Closes sp.in and sp.out once sp.a goroutines have parked. */
static lng_runres g_closer(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  while (atomic_load(&t->parked) < st->sp.a) G_YIELD();
  if (lng_chan_close(st->sp.in, worker) != LNG_RES_OK) gerr(t, "close in");
  if (lng_chan_close(st->sp.out, worker) != LNG_RES_OK) gerr(t, "close out");
  if (lng_chan_close(st->sp.in, worker) != LNG_RES_CLOSED) gerr(t, "close of closed");
  G_END;
}

typedef struct closearg { tvm *t; lng_chan *a, *b; int need; int bad; } closearg;
static void *c_closer(void *p) {
  closearg *x = p;
  while (atomic_load(&x->t->parked) < x->need) sleep_ms(1);
  if (lng_chan_close(x->a, -1) != LNG_RES_OK) x->bad++;
  if (lng_chan_close(x->b, -1) != LNG_RES_OK) x->bad++;
  atomic_fetch_add(&x->t->flag, 1);
  return NULL;
}

static void close_blocked(int nw, int from_c) {
  enum { K = 16 };
  tvm *t = tvm_new(nw);
  lng_chan *rc = lng_chan_new(0), *sc = lng_chan_new(1);
  lng_msg m;
  msg_int(&m, -5);
  cr_assert_eq(lng_chan_send_wait(sc, &m, 0), LNG_RES_OK);   /* sc is full */
  for (int i = 0; i < K; i++) {
    tspawn(t, (spec){ .fn = g_recv_expect_closed, .in = rc, .index = i }, i % nw);
    tspawn(t, (spec){ .fn = g_send_expect_closed, .out = sc, .b = 1000 + i, .index = i }, (i + 1) % nw);
  }
  closearg x = { t, rc, sc, 2 * K, 0 };
  pthread_t th;
  if (from_c)
    tspawn(t, (spec){ .fn = g_keeper, .a = 1 }, 0);
  else
    tspawn(t, (spec){ .fn = g_closer, .in = rc, .out = sc, .a = 2 * K }, nw - 1);
  cr_assert_eq(lng_sched_start(t->s), 0);
  if (from_c) pthread_create(&th, NULL, c_closer, &x);
  int st = lng_sched_wait(t->s);
  if (from_c) pthread_join(th, NULL);
  cr_assert_eq(st, LNG_OK, "workers=%d: status %d: %s", nw, st, lng_sched_message(t->s));
  cr_assert_eq(atomic_load(&t->errors), 0, "workers=%d: %s", nw, t->err);
  cr_assert_eq(x.bad, 0);
  cr_assert_eq(atomic_load(&t->acc[0]), K, "workers=%d: receivers woken with CLOSED", nw);
  cr_assert_eq(atomic_load(&t->acc[1]), K, "workers=%d: senders woken with CLOSED and their value", nw);
  cr_assert_eq(atomic_load(&t->parked), 2 * K);
  lng_msg_init(&m);
  cr_assert_eq(lng_chan_recv_wait(sc, &m, 0), LNG_RES_OK, "the buffered value survives close");
  cr_assert_eq(msg_val(&m), -5);
  lng_msg_free(&m);
  cr_assert_eq(lng_chan_recv_wait(sc, &m, 0), LNG_RES_CLOSED);
  tvm_free(t);
  lng_obj_unref(&rc->obj);
  lng_obj_unref(&sc->obj);
}

WORKER_PARAMS(rt_sched, close_with_blocked_goroutines)
ParameterizedTest(int *nw, rt_sched, close_with_blocked_goroutines, .timeout = 60) {
  close_blocked(*nw, 0);
}

WORKER_PARAMS(rt_sched, close_from_c_thread_with_blocked_goroutines)
ParameterizedTest(int *nw, rt_sched, close_from_c_thread_with_blocked_goroutines, .timeout = 60) {
  close_blocked(*nw, 1);
}

/* Deadlock detection. */
static lng_runres g_done(tvm *t, int worker, lng_g *g, gst *st) {
  (void)t; (void)worker; (void)g; (void)st;
  return LNG_RUN_DONE;
}

static lng_runres g_recv_forever(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  G_RECV(st->sp.in);
  gerr(t, "g%lld woke up (%d)", (long long)g->id, st->r);
  G_END;
}

static lng_runres g_send_forever(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  box_put(t, g, 1);
  G_SEND(st->sp.out);
  gerr(t, "g%lld woke up (%d)", (long long)g->id, st->r);
  G_END;
}

/* The first of parts not found in msg after the previous one, or -1. */
static int missing_part(const char *msg, const char *const *parts, int n) {
  const char *p = msg;
  for (int i = 0; i < n; i++) {
    const char *q = strstr(p, parts[i]);
    if (!q) return i;
    p = q + strlen(parts[i]);
  }
  return -1;
}

static void check_order(const char *msg, const char *const *parts, int n) {
  int i = missing_part(msg, parts, n);
  cr_assert_eq(i, -1, "missing or out of order: \"%s\" in:\n%s", i >= 0 ? parts[i] : "", msg);
}

WORKER_PARAMS(rt_sched, deadlock_detected_and_reported)
ParameterizedTest(int *nw, rt_sched, deadlock_detected_and_reported, .timeout = 60) {
  tvm *t = tvm_new(*nw);
  lng_chan *c = lng_chan_new(0), *c2 = lng_chan_new(0);
  for (int i = 0; i < 3; i++)
    tspawn(t, (spec){ .fn = g_recv_forever, .in = c, .index = i }, i % *nw);
  tspawn(t, (spec){ .fn = g_send_forever, .out = c2, .index = 3 }, -1);
  tspawn(t, (spec){ .fn = g_done, .index = 4 }, -1);
  tspawn(t, (spec){ .fn = g_recv_forever, .in = c, .index = 5 }, *nw - 1);
  cr_assert_eq(lng_sched_start(t->s), 0);
  int st = lng_sched_wait(t->s);
  cr_assert_eq(st, LNG_DEADLOCK, "workers=%d: status %d", *nw, st);
  cr_assert_eq(lng_sched_status(t->s), LNG_DEADLOCK);
  cr_assert_eq(lng_sched_exitcode(t->s), 2);
  cr_assert(lng_sched_stopping(t->s));
  const char *msg = lng_sched_message(t->s);
  const char *head = "fatal error: all goroutines are asleep - deadlock!\n";
  cr_assert_eq(strncmp(msg, head, strlen(head)), 0, "workers=%d: message:\n%s", *nw, msg);
  const char *parts[] = {
    "goroutine 1 [chan receive]:\n\ttest.c:0\n",
    "goroutine 2 [chan receive]:\n\ttest.c:1\n",
    "goroutine 3 [chan receive]:\n\ttest.c:2\n",
    "goroutine 4 [chan send]:\n\ttest.c:3\n",
    "goroutine 6 [chan receive]:\n\ttest.c:5\n",
  };
  check_order(msg, parts, 5);
  cr_assert_null(strstr(msg, "goroutine 5 "), "the finished goroutine is not listed:\n%s", msg);
  cr_assert_eq(atomic_load(&t->errors), 0, "%s", t->err);
  cr_assert_eq(lng_sched_live(t->s), 5);
  cr_assert_eq(lng_sched_spawned(t->s), 6);
  int64_t started = 0;
  for (int i = 0; i < *nw; i++) started += lng_sched_worker_count(t->s, i);
  cr_assert_eq(started, 5, "workers=%d: parked goroutines counted on their workers", *nw);
  cr_assert_eq(atomic_load(&t->drops), 1);
  lng_sched_free(t->s);   /* frees the parked goroutines through drop */
  t->s = NULL;
  cr_assert_eq(atomic_load(&t->drops), 6);
  pthread_mutex_destroy(&t->errmu);
  free(t);
  cr_assert_eq(refs_of(&c->obj), 1);
  lng_obj_unref(&c->obj);
  lng_obj_unref(&c2->obj);
}

/* lng_sched_hold: a C-held waker keeps parked goroutines from being a
   deadlock; releasing the last hold lets the detector fire. */
typedef struct holdarg { tvm *t; lng_chan *c; int status_while_held; int bad; } holdarg;

static void *c_hold_then_send(void *p) {
  holdarg *h = p;
  while (atomic_load(&h->t->parked) < 2) sleep_ms(1);   /* both goroutines parked */
  sleep_ms(30);
  h->status_while_held = lng_sched_status(h->t->s);
  lng_msg m;
  msg_int(&m, 99);
  if (lng_chan_send_wait(h->c, &m, -1) != LNG_RES_OK) h->bad++;
  lng_msg_free(&m);
  lng_sched_hold(h->t->s, -1);
  return NULL;
}

WORKER_PARAMS(rt_sched, hold_defers_deadlock)
ParameterizedTest(int *nw, rt_sched, hold_defers_deadlock, .timeout = 60) {
  tvm *t = tvm_new(*nw);
  lng_chan *c = lng_chan_new(0), *dead = lng_chan_new(0);
  tspawn(t, (spec){ .fn = g_sink, .in = c, .a = 1, .acc = 0, .index = 0 }, 0);
  tspawn(t, (spec){ .fn = g_recv_forever, .in = dead, .index = 1 }, *nw - 1);
  lng_sched_hold(t->s, 1);
  cr_assert_eq(lng_sched_start(t->s), 0);
  holdarg h = { t, c, -1, 0 };
  pthread_t th;
  pthread_create(&th, NULL, c_hold_then_send, &h);
  int st = lng_sched_wait(t->s);
  pthread_join(th, NULL);
  cr_assert_eq(h.status_while_held, LNG_OK, "workers=%d: no deadlock while C holds a waker", *nw);
  cr_assert_eq(h.bad, 0);
  cr_assert_eq(st, LNG_DEADLOCK, "workers=%d: status %d once the hold is released", *nw, st);
  cr_assert_eq(atomic_load(&t->acc[0]), 99, "workers=%d: the C thread's value arrived", *nw);
  const char *parts[] = { "goroutine 2 [chan receive]:\n\ttest.c:1\n" };
  check_order(lng_sched_message(t->s), parts, 1);
  cr_assert_null(strstr(lng_sched_message(t->s), "goroutine 1 "));
  tvm_free(t);
  lng_obj_unref(&c->obj);
  lng_obj_unref(&dead->obj);
}

/* Exchanges sp.a values with its partner, then blocks forever. */
static lng_runres g_talk_then_block(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  for (st->i = 0; st->i < st->sp.a; st->i++) {
    if (st->sp.index == 0) {
      box_put(t, g, st->i);
      G_SEND(st->sp.out);
    } else {
      G_RECV(st->sp.in);
      if (box_take(t, g) != st->i) gerr(t, "wrong value");
    }
    if (st->r != LNG_RES_OK) gerr(t, "talk: %d", st->r);
  }
  atomic_store(&t->rec[st->sp.index], st->i);
  G_RECV(st->sp.index == 0 ? st->sp.in : st->sp.out);
  gerr(t, "woke up");
  G_END;
}

WORKER_PARAMS(rt_sched, deadlock_after_activity)
ParameterizedTest(int *nw, rt_sched, deadlock_after_activity, .timeout = 60) {
  tvm *t = tvm_new(*nw);
  lng_chan *a = lng_chan_new(0), *dead = lng_chan_new(0);
  tspawn(t, (spec){ .fn = g_talk_then_block, .out = a, .in = dead, .a = 20000, .index = 0 }, 0);
  tspawn(t, (spec){ .fn = g_talk_then_block, .in = a, .out = dead, .a = 20000, .index = 1 }, *nw - 1);
  cr_assert_eq(lng_sched_start(t->s), 0);
  int st = lng_sched_wait(t->s);
  cr_assert_eq(st, LNG_DEADLOCK, "workers=%d", *nw);
  cr_assert_eq(atomic_load(&t->rec[0]), 20000, "workers=%d: no early deadlock", *nw);
  cr_assert_eq(atomic_load(&t->rec[1]), 20000);
  cr_assert_eq(atomic_load(&t->errors), 0, "%s", t->err);
  const char *parts[] = { "goroutine 1 [chan receive]", "goroutine 2 [chan receive]" };
  check_order(lng_sched_message(t->s), parts, 2);
  tvm_free(t);
  lng_obj_unref(&a->obj);
  lng_obj_unref(&dead->obj);
}

Test(rt_sched, free_never_started_and_parked, .timeout = 60) {
  /* never started: unstarted records and their (heap) start messages */
  tvm *t = tvm_new(2);
  for (int i = 0; i < 100; i++) {
    lng_g *g = lng_sched_newg(t->s);
    cr_assert_not_null(g);
    spec sp = { .fn = g_done };
    cr_assert_eq(lng_msg_append(&g->u.start, &sp, sizeof sp), 0);
    char pad[300] = {0};
    cr_assert_eq(lng_msg_append(&g->u.start, pad, sizeof pad), 0);
    lng_sched_spawn(t->s, g, i % 2);
  }
  lng_g *lone = lng_sched_newg(t->s);   /* never spawned */
  cr_assert_eq(lone->id, 101);
  lng_sched_freeg(lone);
  cr_assert_eq(lng_sched_live(t->s), 100);
  tvm_free(t);

  /* parked goroutines freed without waiting for the outcome first */
  t = tvm_new(2);
  lng_chan *c = lng_chan_new(0);
  for (int i = 0; i < 50; i++) tspawn(t, (spec){ .fn = g_recv_forever, .in = c }, -1);
  cr_assert_eq(lng_sched_start(t->s), 0);
  while (lng_sched_status(t->s) != LNG_DEADLOCK) sleep_ms(1);
  lng_sched_free(t->s);
  t->s = NULL;
  cr_assert_eq(atomic_load(&t->drops), 50);
  cr_assert_eq(atomic_load(&t->starts), 50);
  pthread_mutex_destroy(&t->errmu);
  free(t);
  lng_obj_unref(&c->obj);
}

/* lng_sched_abort serves a request (lng_interrupt's flag) only together
   with the wait: a request already taken (by the goroutine itself, which
   then went on to a later wait) must not abort that later wait. */
static int fake_cancel_result, fake_cancel_calls;
static int fake_cancel(lng_g *g) { (void)g; fake_cancel_calls++; return fake_cancel_result; }

Test(rt_sched, abort_takes_the_request_with_the_wait, .timeout = 60) {
  tvm *t = tvm_new(1);
  lng_g *g = lng_sched_newg(t->s);
  cr_assert_not_null(g);
  atomic_int req;
  atomic_init(&req, 1);
  g->cancel = fake_cancel;
  /* not armed (running, or a wait without cancel): nothing, the request stays */
  cr_assert_eq(lng_sched_abort(t->s, g, &req), 0);
  cr_assert_eq(atomic_load(&req), 1);
  cr_assert_eq(fake_cancel_calls, 0);
  /* armed, the request already taken: the wait stays armed, untouched */
  lng_sched_arm(g);
  atomic_store(&req, 0);
  cr_assert_eq(lng_sched_abort(t->s, g, &req), 0);
  cr_assert_eq(fake_cancel_calls, 0);
  cr_assert_eq(atomic_load(&g->abortstate), LNG_ABORT_ARMED);
  /* armed, but the wait completed meanwhile: the request stays for the resume */
  atomic_store(&req, 1);
  fake_cancel_result = 0;
  cr_assert_eq(lng_sched_abort(t->s, g, &req), 0);
  cr_assert_eq(fake_cancel_calls, 1);
  cr_assert_eq(atomic_load(&req), 1);
  cr_assert_eq(g->aborted, 0);
  cr_assert_eq(atomic_load(&g->abortstate), LNG_ABORT_NONE);
  /* armed and waiting: aborted once, the request taken */
  lng_sched_arm(g);
  fake_cancel_result = 1;
  cr_assert_eq(lng_sched_abort(t->s, g, &req), 1);
  cr_assert_eq(fake_cancel_calls, 2);
  cr_assert_eq(atomic_load(&req), 0);
  cr_assert_eq(g->aborted, 1);
  /* a second request finds nothing to abort until the next wait is armed */
  atomic_store(&req, 1);
  cr_assert_eq(lng_sched_abort(t->s, g, &req), 0);
  cr_assert_eq(fake_cancel_calls, 2);
  cr_assert_eq(atomic_load(&req), 1);
  lng_sched_disarm(g);
  cr_assert_null(g->cancel);
  lng_sched_freeg(g);
  tvm_free(t);
}

/* lng_sched_fail: the first outcome wins. */
static lng_runres g_fail_then_park(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  lng_sched_fail(t->s, LNG_ERRRUN, 1, "first failure");
  lng_sched_fail(t->s, LNG_EXIT, 7, "second failure");
  G_RECV(st->sp.in);   /* the last active goroutine parks: no deadlock outcome */
  G_END;
}

static lng_runres g_fail_indexed(tvm *t, int worker, lng_g *g, gst *st) {
  (void)worker; (void)g;
  char buf[32];
  snprintf(buf, sizeof buf, "fail %d", st->sp.index);
  lng_sched_fail(t->s, LNG_ERRRUN + st->sp.index % 3, st->sp.index, buf);
  return LNG_RUN_DONE;
}

Test(rt_sched, fail_first_outcome_wins, .timeout = 60) {
  /* from C, before the start */
  tvm *t = tvm_new(2);
  tspawn(t, (spec){ .fn = g_done }, -1);
  lng_sched_fail(t->s, LNG_EXIT, 3, "exit 3");
  lng_sched_fail(t->s, LNG_ERRRUN, 1, "too late");
  cr_assert_eq(lng_sched_status(t->s), LNG_EXIT);
  cr_assert_eq(lng_sched_start(t->s), 0);
  cr_assert_eq(lng_sched_wait(t->s), LNG_EXIT);
  cr_assert_eq(lng_sched_exitcode(t->s), 3);
  cr_assert_str_eq(lng_sched_message(t->s), "exit 3");
  tvm_free(t);

  /* from a goroutine, which then parks as the last active one */
  for (int nw = 1; nw <= 4; nw *= 2) {
    t = tvm_new(nw);
    lng_chan *c = lng_chan_new(0);
    for (int i = 0; i < 3; i++) tspawn(t, (spec){ .fn = g_recv_forever, .in = c }, -1);
    tspawn(t, (spec){ .fn = g_fail_then_park, .in = c }, -1);
    cr_assert_eq(lng_sched_start(t->s), 0);
    int st = lng_sched_wait(t->s);
    cr_assert_eq(st, LNG_ERRRUN, "workers=%d: status %d", nw, st);
    cr_assert_eq(lng_sched_exitcode(t->s), 1);
    cr_assert_str_eq(lng_sched_message(t->s), "first failure", "workers=%d", nw);
    tvm_free(t);
    lng_obj_unref(&c->obj);
  }

  /* many at once: one wins, and status, code and message agree */
  for (int nw = 1; nw <= 4; nw *= 2) {
    t = tvm_new(nw);
    for (int i = 0; i < 16; i++) tspawn(t, (spec){ .fn = g_fail_indexed, .index = i }, i % nw);
    cr_assert_eq(lng_sched_start(t->s), 0);
    int st = lng_sched_wait(t->s);
    int code = lng_sched_exitcode(t->s);
    char want[32];
    snprintf(want, sizeof want, "fail %d", code);
    cr_assert(code >= 0 && code < 16, "workers=%d: code %d", nw, code);
    int want_st = LNG_ERRRUN + code % 3;
    cr_assert_eq(st, want_st, "workers=%d: status %d for code %d", nw, st, code);
    cr_assert_str_eq(lng_sched_message(t->s), want);
    tvm_free(t);
  }
}

/*
 * BUG (runtime/sched.c, lng_sched_free): for each worker it first frees
 * every started goroutine on w->all, then pops w->runq, which still links
 * the started goroutines that were runnable when the workers stopped:
 * gq_pop reads and writes g->next (and the loop reads g->worker) of freed
 * records. Any failure (lng_sched_fail: an error, os.exit) while another
 * goroutine is runnable gets there. ASan: heap-use-after-free; without it,
 * usually a crash on the garbage next pointer.
 */
static lng_runres g_spin(tvm *t, int worker, lng_g *g, gst *st) {
  (void)worker; (void)g; (void)st;
  atomic_store(&t->flag, 1);
  return LNG_RUN_YIELD;
}

static lng_runres g_fail_after_spin(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  while (!atomic_load(&t->flag)) G_YIELD();
  lng_sched_fail(t->s, LNG_ERRRUN, 1, "boom");
  G_END;
}

WORKER_PARAMS(rt_sched, free_after_fail_with_runnable_goroutines)
ParameterizedTest(int *nw, rt_sched, free_after_fail_with_runnable_goroutines, .timeout = 60) {
  tvm *t = tvm_new(*nw);
  for (int i = 0; i < 3; i++) tspawn(t, (spec){ .fn = g_spin }, i % *nw);
  tspawn(t, (spec){ .fn = g_fail_after_spin }, -1);
  cr_assert_eq(lng_sched_start(t->s), 0);
  cr_assert_eq(lng_sched_wait(t->s), LNG_ERRRUN);
  cr_assert_str_eq(lng_sched_message(t->s), "boom");
  lng_sched_free(t->s);   /* use after free here */
  t->s = NULL;
  cr_assert_eq(atomic_load(&t->drops), atomic_load(&t->starts));
  pthread_mutex_destroy(&t->errmu);
  free(t);
}

/* A goroutine's unstarted children are left to its worker for a moment
   (the spawner usually blocks at once and runs them there), but a spawner
   that keeps its worker must not keep them from running elsewhere: one
   child alone, or several. */
static lng_runres g_mark(tvm *t, int worker, lng_g *g, gst *st) {
  (void)g;
  if (st->sp.index < MAXREC) atomic_store(&t->where[st->sp.index], worker);
  atomic_fetch_add(&t->flag, 1);
  return LNG_RUN_DONE;
}

static lng_runres g_hog(tvm *t, int worker, lng_g *g, gst *st) {
  (void)g;
  atomic_store(&t->where[0], worker);
  for (int i = 1; i <= st->sp.a; i++) tspawn(t, (spec){ .fn = g_mark, .index = i }, worker);
  while (atomic_load(&t->flag) < st->sp.a) sched_yield();   /* never gives the worker back */
  return LNG_RUN_DONE;
}

static void children_beside_busy_spawner(int nw, int children) {
  tvm *t = tvm_new(nw);
  tspawn(t, (spec){ .fn = g_hog, .a = children }, 0);
  cr_assert_eq(lng_sched_start(t->s), 0);
  cr_assert_eq(lng_sched_wait(t->s), LNG_OK);
  cr_assert_eq(atomic_load(&t->errors), 0, "%s", t->err);
  cr_assert_eq(atomic_load(&t->flag), children);
  for (int i = 1; i <= children && i < MAXREC; i++)
    cr_assert_neq(atomic_load(&t->where[0]), atomic_load(&t->where[i]),
                  "child %d ran on its busy spawner's worker %d", i, atomic_load(&t->where[0]));
  tvm_free(t);
}

static const int multi_params[] = { 2, 4 };
ParameterizedTestParameters(rt_sched, lone_child_runs_beside_busy_spawner) {
  return cr_make_param_array(int, multi_params, sizeof multi_params / sizeof *multi_params, NULL);
}
ParameterizedTest(int *nw, rt_sched, lone_child_runs_beside_busy_spawner, .timeout = 60) {
  children_beside_busy_spawner(*nw, 1);
}

ParameterizedTestParameters(rt_sched, children_run_beside_busy_spawner) {
  return cr_make_param_array(int, multi_params, sizeof multi_params / sizeof *multi_params, NULL);
}
ParameterizedTest(int *nw, rt_sched, children_run_beside_busy_spawner, .timeout = 60) {
  children_beside_busy_spawner(*nw, 20);
  /* more than the unstarted queue's first size and than one steal takes */
  children_beside_busy_spawner(*nw, 700);
}

/* Ids and figures. */
static lng_runres g_observer(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  while (atomic_load(&t->parked) < st->sp.a) G_YIELD();
  atomic_store(&t->rec[0], lng_sched_live(t->s));
  atomic_store(&t->rec[1], lng_sched_spawned(t->s));
  st->v = 0;
  for (int i = 0; i < t->nworkers; i++) st->v += lng_sched_worker_count(t->s, i);
  atomic_store(&t->rec[2], st->v);
  atomic_store(&t->rec[3], g->id);
  for (st->i = 0; st->i < st->sp.a; st->i++) {
    box_put(t, g, st->i + 1);
    G_SEND(st->sp.out);
    if (st->r != LNG_RES_OK) gerr(t, "observer send %d", st->r);
  }
  G_END;
}

WORKER_PARAMS(rt_sched, ids_and_figures)
ParameterizedTest(int *nw, rt_sched, ids_and_figures, .timeout = 60) {
  enum { W = 10 };
  tvm *t = tvm_new(*nw);
  cr_assert_eq(lng_sched_live(t->s), 0);
  cr_assert_eq(lng_sched_spawned(t->s), 0);
  lng_chan *c = lng_chan_new(0);
  int64_t last = 0;
  for (int i = 0; i < W; i++) {
    int64_t id = tspawn(t, (spec){ .fn = g_sink, .in = c, .a = 1, .acc = 0 }, i % *nw);
    cr_assert_eq(id, last + 1, "ids increase from 1 by one");
    last = id;
  }
  cr_assert_eq(lng_sched_live(t->s), W);
  cr_assert_eq(lng_sched_spawned(t->s), W);
  cr_assert_eq(tspawn(t, (spec){ .fn = g_observer, .out = c, .a = W }, -1), W + 1);
  cr_assert_eq(lng_sched_start(t->s), 0);
  int st = lng_sched_wait(t->s);
  cr_assert_eq(st, LNG_OK, "workers=%d: %s", *nw, lng_sched_message(t->s));
  cr_assert_eq(atomic_load(&t->errors), 0, "%s", t->err);
  cr_assert_eq(atomic_load(&t->rec[0]), W + 1, "workers=%d: live while %d parked", *nw, W);
  cr_assert_eq(atomic_load(&t->rec[1]), W + 1);
  cr_assert_eq(atomic_load(&t->rec[2]), W + 1, "workers=%d: started goroutines per worker", *nw);
  cr_assert_eq(atomic_load(&t->rec[3]), W + 1);
  cr_assert_eq(atomic_load(&t->acc[0]), W * (W + 1) / 2);
  cr_assert_eq(lng_sched_live(t->s), 0);
  cr_assert_eq(lng_sched_spawned(t->s), W + 1);
  for (int i = 0; i < *nw; i++) cr_assert_eq(lng_sched_worker_count(t->s, i), 0);
  tvm_free(t);
  /* ids are per scheduler */
  t = tvm_new(1);
  lng_g *g = lng_sched_newg(t->s);
  cr_assert_eq(g->id, 1);
  cr_assert_eq(g->worker, -1);
  lng_sched_freeg(g);
  tvm_free(t);
  lng_obj_unref(&c->obj);
}

/*
 * Minor (runtime/sched.c, deadlock_report): the growth estimate
 * `len + strlen(where) + 128` leaves no room for the wait reason, and
 * `len += snprintf(...)` adds the untruncated length; a reason longer than
 * about 90 characters truncates the entry (NUL inside the message) and
 * everything after it is lost.
 */
#define LONG_REASON                                                            \
  "waiting for a resource whose very long description goes on and on and on " \
  "and keeps going well past one hundred and twenty-eight characters, which " \
  "is all the room the report leaves for the reason, the goroutine id and "   \
  "the description together, so that what follows is cut off or lost"

static lng_runres g_recv_long_reason(tvm *t, int worker, lng_g *g, gst *st) {
  G_BEGIN;
  G_RECV_R(st->sp.in, LONG_REASON);
  G_END;
}

Test(rt_sched, deadlock_report_long_waitreason, .timeout = 60) {
  tvm *t = tvm_new(1);
  lng_chan *c = lng_chan_new(0);
  tspawn(t, (spec){ .fn = g_recv_long_reason, .in = c, .index = 0 }, -1);
  tspawn(t, (spec){ .fn = g_recv_forever, .in = c, .index = 1 }, -1);
  cr_assert_eq(lng_sched_start(t->s), 0);
  cr_assert_eq(lng_sched_wait(t->s), LNG_DEADLOCK);
  const char *parts[] = {
    "goroutine 1 [" LONG_REASON "]:\n\ttest.c:0\n",
    "goroutine 2 [chan receive]:\n\ttest.c:1\n",
  };
  char *msg = strdup(lng_sched_message(t->s));
  tvm_free(t);
  lng_obj_unref(&c->obj);
  int i = missing_part(msg, parts, 2);
  char shown[600];
  snprintf(shown, sizeof shown, "%s", msg);
  free(msg);
  cr_assert_eq(i, -1, "the report lost \"%.40s...\"; it reads:\n%s", i >= 0 ? parts[i] : "", shown);
}

/* ------------------------------------------------------------------ */
/* big message buffers (bigbuf.h)                                      */

#include "../runtime/bigbuf.h"

#define MIB (1024 * 1024)

Test(rt_bigbuf, reused_by_its_pool, .timeout = 60) {
  lng_bigpool *p = lng_bigpool_new();
  cr_assert_not_null(p);
  lng_bigpool_bind(p);
  size_t cap;
  unsigned char *a = lng_bigbuf_alloc(MIB, &cap);
  cr_assert_not_null(a);
  cr_assert_eq(cap, MIB);
  memset(a, 0xab, MIB);
  lng_bigbuf_free(a);
  unsigned char *b = lng_bigbuf_alloc(MIB - 100, &cap);
  cr_assert_eq(b, a, "a kept buffer that fits is handed out again");
  cr_assert_eq(cap, MIB, "with its own size");
  lng_bigbuf_free(b);
  unsigned char *c = lng_bigbuf_alloc(100 * 1024, &cap);
  cr_assert_neq(c, a, "a buffer more than twice too big is not");
  cr_assert_eq(cap, 100 * 1024);
  unsigned char *d = lng_bigbuf_alloc(2 * MIB, &cap);
  cr_assert_neq(d, a, "nor one too small");
  lng_bigbuf_free(c);
  lng_bigbuf_free(d);
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
}

Test(rt_bigbuf, kept_in_bounds, .timeout = 60) {
  lng_bigpool *p = lng_bigpool_new();
  lng_bigpool_bind(p);
  void *bufs[LNG_BIGPOOL_KEEP + 2];
  size_t cap;
  int n = LNG_BIGPOOL_KEEP + 2;
  for (int i = 0; i < n; i++) cr_assert_not_null(bufs[i] = lng_bigbuf_alloc(LNG_BIGBUF_MIN, &cap));
  for (int i = 0; i < n; i++) lng_bigbuf_free(bufs[i]);
  /* the first LNG_BIGPOOL_KEEP were kept and come back (the other two
     went to malloc, which may hand their addresses out again) */
  int again = 0;
  void *more[LNG_BIGPOOL_KEEP + 2];
  for (int i = 0; i < n; i++) {
    more[i] = lng_bigbuf_alloc(LNG_BIGBUF_MIN, &cap);
    for (int j = 0; j < LNG_BIGPOOL_KEEP; j++) if (more[i] == bufs[j]) { again++; break; }
  }
  cr_assert_eq(again, LNG_BIGPOOL_KEEP);
  for (int i = 0; i < n; i++) lng_bigbuf_free(more[i]);
  /* and no more bytes than LNG_BIGPOOL_BYTES: a buffer that big is not kept */
  void *huge = lng_bigbuf_alloc(LNG_BIGPOOL_BYTES, &cap);
  cr_assert_not_null(huge);
  lng_bigbuf_free(huge);
  void *huge2 = lng_bigbuf_alloc(LNG_BIGPOOL_BYTES, &cap);
  lng_bigbuf_free(huge2);
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
}

static void *free_there(void *buf) {
  lng_bigbuf_free(buf);     /* this thread is bound to no pool */
  return NULL;
}

Test(rt_bigbuf, back_from_another_thread, .timeout = 60) {
  lng_bigpool *p = lng_bigpool_new();
  lng_bigpool_bind(p);
  size_t cap;
  void *a = lng_bigbuf_alloc(MIB, &cap);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, free_there, a), 0);
  pthread_join(t, NULL);
  void *b = lng_bigbuf_alloc(MIB, &cap);
  cr_assert_eq(b, a, "freed on another thread, it went back to its pool");
  lng_bigbuf_free(b);
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
}

Test(rt_bigbuf, outlives_its_owner, .timeout = 60) {
  /* a message still held (by a C thread, in a channel) after the runtime
     is gone: its buffer keeps the pool until it is freed (the leak
     checkers of the sanitizer and valgrind runs see the rest) */
  lng_bigpool *p = lng_bigpool_new();
  lng_bigpool_bind(p);
  size_t cap;
  void *kept = lng_bigbuf_alloc(MIB, &cap);
  void *out = lng_bigbuf_alloc(MIB, &cap);
  lng_bigbuf_free(kept);
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
  memset(out, 1, MIB);
  lng_bigbuf_free(out);
  void *plain = lng_bigbuf_alloc(MIB, &cap);   /* unbound: malloc's */
  cr_assert_not_null(plain);
  lng_bigbuf_free(plain);
}

Test(rt_msg, big_message_across_the_pool_threshold, .timeout = 60) {
  lng_bigpool *p = lng_bigpool_new();
  lng_bigpool_bind(p);
  static unsigned char chunk[4096];
  for (int round = 0; round < 3; round++) {
    lng_msg m;
    lng_msg_init(&m);
    /* grows from inline through malloc'd to pooled buffers */
    for (size_t i = 0; i < 3 * LNG_BIGBUF_MIN / sizeof chunk; i++) {
      memset(chunk, (int)(i & 0xff), sizeof chunk);
      cr_assert_eq(lng_msg_append(&m, chunk, sizeof chunk), 0);
    }
    cr_assert_geq(m.u.x.cap, m.len);
    for (size_t i = 0; i < m.len; i += sizeof chunk)
      cr_assert_eq(m.u.x.bytes[i], (unsigned char)((i / sizeof chunk) & 0xff), "byte %zu", i);
    lng_msg free_me;
    lng_msg_move(&free_me, &m);
    lng_msg_free(&free_me);
  }
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
}
