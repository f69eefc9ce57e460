/*
 * Unit tests of runtime/ alone: channels used from plain C threads.
 *
 * Assertions are only made on the test's main thread: worker threads and
 * helper threads record errors (tvm.errors / counters) which the main
 * thread checks afterwards.
 */
#include "rt_util.h"

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
