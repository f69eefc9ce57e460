/*
 * Unit tests of runtime/ alone: the scheduler driving "goroutines" that
 * are small C state machines (no Lua). Each goroutine gets its description
 * through its start message, as the VM's do, and keeps its state in a
 * struct hung off g->vm (freed by ops.drop). Channel operations use the
 * goroutine's own waiter and box, exactly as the VM does.
 *
 * Assertions are only made on the test's main thread: worker threads and
 * helper threads record errors (tvm.errors / counters) which the main
 * thread checks afterwards.
 */
#include "rt_util.h"

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
