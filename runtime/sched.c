/*
 * Workers and their queues; see sched.h.
 *
 * Each worker owns: a run queue only it touches; an inbox, under its mutex,
 * where other threads put the goroutines they wake; and a queue of
 * goroutines not started yet, which idle workers steal from (a started
 * goroutine lives in one shard's lua_State and cannot move, an unstarted one
 * is only a message). A worker with nothing to do spins briefly, then
 * sleeps on its condition variable.
 *
 * Deadlock detection needs no lock: `active` counts goroutines that are
 * running or runnable. A goroutine leaves it when it parks or ends and
 * re-enters it only through someone active (or, later, a timer or a C
 * thread), so the moment it drops to zero with goroutines still alive,
 * nothing can ever wake them.
 *
 * A goroutine that wakes another on its own worker and then parks (a
 * channel hand-off) leaves `active` as it was, so that pair of updates is
 * kept in the worker's `pend` instead of paying two atomic operations on a
 * line every worker writes: the running goroutine's own unit stays in
 * `active` until it parks or ends, which keeps `active` above zero while
 * `pend` is owed, and the worker settles `pend` as soon as the run returns.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <time.h>
#include "../include/lungo.h"
#include "sched.h"
#include "timer.h"
#include "bigbuf.h"

#define FAIR_TICKS 61      /* every so many picks, look at the inbox first (and at yielders) */
#define SPIN_ROUNDS 200    /* idle polls before sleeping */
/* Unstarted goroutines are left to their spawner's worker until the oldest
   has waited this long; then an idle worker takes half. A spawner usually
   blocks within microseconds and runs what it spawned itself, and
   goroutines that talk then share a worker instead of paying a cross-thread
   wake-up or cache-line transfer per message (Go keeps runnext for a while
   in the same spirit); work that piles up is shared out 50 us later. */
#define STEAL_AGE_US 50
#define STEAL_MAX 256      /* goroutines taken at once at most */

typedef struct gqueue { lng_g *head, *tail; } gqueue;

/* Unstarted goroutines are kept in an array, each with its spawn time:
   a thief copies out half of them without touching a record it does not
   own yet (walking a list of records made on another CPU, under the
   spawner's lock, was most of what stealing cost). */
typedef struct fslot { lng_g *g; uint32_t born; } fslot;

static uint32_t now_us(void) { return (uint32_t)(lng_now_ns() / 1000); }   /* wraps: compare differences */

typedef struct worker {
  lng_sched *s;
  int index;
  pthread_t thread;
  pthread_mutex_t mu;        /* inbox, sleeping */
  pthread_cond_t cv;
  gqueue inbox;
  atomic_int hasinbox;
  atomic_int sleeping;
  gqueue runq;               /* owner only */
  /* Owner only: goroutines that gave up their turn (go.yield, or
     preempted). They go after those woken meanwhile, which a spinner
     sharing the run queue with them would otherwise keep waiting. */
  gqueue yieldq;
  int yielded;               /* owner only: the last run ended in a yield */
  pthread_mutex_t freshmu;   /* the unstarted queue: a ring of fqcap slots */
  fslot *fq;
  size_t fqcap, fqhead, fqlen;
  atomic_long nfresh;        /* fqlen, for others to glance at: written under freshmu */
  atomic_uint freshsince;    /* born of fresh's head (valid while nfresh > 0) */
  uint32_t stamp;            /* under freshmu: the clock as of a recent spawn */
  unsigned nstamp;
  lng_g *stolen[STEAL_MAX];  /* owner only: what a steal copies out */
  lng_g *gfree;              /* records to reuse, owner only (linked by next) */
  int ngfree;
  lng_g *all;                /* started goroutines, owner only */
  /* Goroutines started and finished here so far: written by the owner
     only (a release store, no read-modify-write), read by lng_sched_stats,
     whose order of reads their being monotonic makes consistent. */
  atomic_ullong nstarted, nfinished;
  unsigned tick;
  atomic_int busy;           /* running goroutines: set at the first after idling, cleared to idle */
  atomic_ullong runs;        /* goroutines run so far (written by the owner only) */
  int inrun;                 /* owner only: a goroutine is running (see pend) */
  long pend;                 /* owner only: wake-ups during this run not yet in active */
  /* pend, published for the monitor: a goroutine woken by one that then
     computes for long is runnable, though `active` does not count it yet.
     A relaxed store by the owner, read every 10 ms at most. */
  atomic_long owed;
  unsigned long long seen;   /* the monitor's last look at runs */
} worker;

struct lng_sched {
  int n;
  worker *w;
  const lng_vmops *ops;
  void *ud;
  atomic_llong nextid, live, active, spawned, nfresh;
  atomic_int stopping;
  atomic_llong holds;          /* C-held channels and the like: possible wakers */
  lng_bigpool *bigpool;        /* big message buffers made by the workers */
  int service;                 /* the end of every goroutine does not end the program */
  int mainreturned;            /* the main goroutine ended (set by its worker; read once they stop) */
  pthread_mutex_t gmu;         /* records moving between workers' caches */
  lng_g *gfree;
  atomic_long ngfree;
  int started, joined;
  /* Workers wait here until every one of them exists: a failed start must
     not leave the program half run (the main chunk printing, then "cannot
     start the runtime"). */
  pthread_mutex_t gatemu;
  pthread_cond_t gatecv;
  int gateopen;
  lng_timers timers;
  void (*nudge)(void *ud, int worker);
  void (*preempt)(void *ud, int worker);
  pthread_t monitor;         /* preemption: see monitor_main */
  int monstarted;
  pthread_mutex_t monmu;
  pthread_cond_t moncv;
  atomic_int monidle;
  pthread_mutex_t outmu;
  pthread_cond_t outcv;
  int done, status, exitcode;
  char *message;
};

static void gq_push(gqueue *q, lng_g *g) {
  g->next = NULL;
  if (q->tail) q->tail->next = g; else q->head = g;
  q->tail = g;
}

static lng_g *gq_pop(gqueue *q) {
  lng_g *g = q->head;
  if (g) {
    q->head = g->next;
    if (!q->head) q->tail = NULL;
    g->next = NULL;
  }
  return g;
}

static void gq_append(gqueue *q, gqueue *from) {
  if (!from->head) return;
  if (q->tail) q->tail->next = from->head; else q->head = from->head;
  q->tail = from->tail;
  from->head = from->tail = NULL;
}

/* ---- outcome ---- */

static void stop_all(lng_sched *s) {
  atomic_store(&s->stopping, 1);
  pthread_mutex_lock(&s->monmu);
  pthread_cond_signal(&s->moncv);
  pthread_mutex_unlock(&s->monmu);
  for (int i = 0; i < s->n; i++) {
    worker *w = &s->w[i];
    pthread_mutex_lock(&w->mu);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
  }
}

static void set_outcome(lng_sched *s, int status, int exitcode, const char *msg) {
  pthread_mutex_lock(&s->outmu);
  int first = !s->done;
  if (first) {
    s->done = 1;
    s->status = status;
    s->exitcode = exitcode;
    s->message = msg ? strdup(msg) : NULL;
    pthread_cond_broadcast(&s->outcv);
  }
  pthread_mutex_unlock(&s->outmu);
  if (first) stop_all(s);
}

void lng_sched_fail(lng_sched *s, int status, int exitcode, const char *msg) {
  set_outcome(s, status, exitcode, msg);
}

/* Called when `active` reached zero while goroutines are alive, and when
   the last pending timer went. A pending timer may still wake someone; the
   two checks pair up (each side updates its counter, then reads the other)
   so that the last of them to happen sees both at zero. */
static void check_dead(lng_sched *s) {
  if (atomic_load(&s->timers.count) > 0 || atomic_load(&s->holds) > 0) return;
  if (atomic_load(&s->active) > 0 || atomic_load(&s->live) == 0) return;
  set_outcome(s, LNG_DEADLOCK, 2, NULL);
}

/* ---- goroutines ---- */

/* The VM's part follows the record, aligned for any type. */
#define VM_OFFSET ((sizeof(lng_g) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1))

/* Records are reused, as Go reuses its g's: each worker keeps up to GCACHE
   of them and trades batches of GBATCH through the scheduler's list. A
   goroutine is usually spawned on one worker and ends on another; freeing
   its record there would contend for the allocator's lock of the first. */
#define GCACHE 64
#define GBATCH 32
#define GSHARED_MAX 4096

/* The worker this thread is, if any: to refuse blocking C calls there. */
static _Thread_local worker *self_worker;

static worker *me(lng_sched *s) {
  return self_worker && self_worker->s == s ? self_worker : NULL;
}

static size_t grec_size(const lng_sched *s) { return VM_OFFSET + s->ops->gsize; }

static void refill(worker *w) {
  lng_sched *s = w->s;
  if (atomic_load_explicit(&s->ngfree, memory_order_relaxed) == 0) return;
  pthread_mutex_lock(&s->gmu);
  while (s->gfree && w->ngfree < GBATCH) {
    lng_g *g = s->gfree;
    s->gfree = g->next;
    g->next = w->gfree;
    w->gfree = g;
    w->ngfree++;
    atomic_fetch_sub_explicit(&s->ngfree, 1, memory_order_relaxed);
  }
  pthread_mutex_unlock(&s->gmu);
}

/* Keeps the record of a finished goroutine (its contents released). */
static void recycle(worker *w, lng_g *g) {
  lng_sched *s = w->s;
  g->next = w->gfree;
  w->gfree = g;
  if (++w->ngfree <= GCACHE) return;
  pthread_mutex_lock(&s->gmu);
  while (w->ngfree > GCACHE - GBATCH) {
    lng_g *x = w->gfree;
    w->gfree = x->next;
    w->ngfree--;
    if (atomic_load_explicit(&s->ngfree, memory_order_relaxed) >= GSHARED_MAX) {
      free(x);
    } else {
      x->next = s->gfree;
      s->gfree = x;
      atomic_fetch_add_explicit(&s->ngfree, 1, memory_order_relaxed);
    }
  }
  pthread_mutex_unlock(&s->gmu);
}

lng_g *lng_sched_newg(lng_sched *s) {
  worker *w = me(s);
  lng_g *g = NULL;
  if (w) {
    if (!w->gfree) refill(w);
    if ((g = w->gfree)) {
      w->gfree = g->next;
      w->ngfree--;
      memset(g, 0, grec_size(s));
    }
  }
  if (!g && !(g = calloc(1, grec_size(s)))) return NULL;
  if (s->ops->gsize) g->vm = (char *)g + VM_OFFSET;
  g->id = atomic_fetch_add(&s->nextid, 1);
  g->worker = -1;
  lng_msg_init(&g->u.start);
  return g;
}

static void release(lng_g *g) {
  if (g->worker < 0) lng_g_freestart(g);
  else lng_msg_free(&g->u.park.box);
}

void lng_sched_freeg(lng_g *g) {
  if (!g) return;
  release(g);
  free(g);
}

static void wake_worker(worker *w) {
  pthread_mutex_lock(&w->mu);
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

/* With w->freshmu held: doubles the ring, keeping its order. */
static int fq_grow(worker *w) {
  size_t cap = w->fqcap ? 2 * w->fqcap : 64;
  fslot *a = malloc(cap * sizeof *a);
  if (!a) return -1;
  for (size_t i = 0; i < w->fqlen; i++) a[i] = w->fq[(w->fqhead + i) % w->fqcap];
  free(w->fq);
  w->fq = a;
  w->fqcap = cap;
  w->fqhead = 0;
  return 0;
}

/* With v->freshmu held: takes k from the front, or as many as there are. */
static size_t fq_take(worker *v, lng_g **out, size_t k) {
  if (k > v->fqlen) k = v->fqlen;
  for (size_t i = 0; i < k; i++) out[i] = v->fq[(v->fqhead + i) % v->fqcap].g;
  v->fqhead = (v->fqhead + k) % (v->fqcap ? v->fqcap : 1);
  v->fqlen -= k;
  if (k && v->fqlen)
    atomic_store_explicit(&v->freshsince, v->fq[v->fqhead].born, memory_order_relaxed);
  if (v->fqlen == 0 && v->fqcap > 1024) {   /* a burst is over: give its array back */
    free(v->fq);
    v->fq = NULL;
    v->fqcap = v->fqhead = 0;
  }
  return k;
}

static void enqueue(lng_sched *s, lng_g *g, int self);

void lng_sched_spawn(lng_sched *s, lng_g *g, int self) {
  lng_msg m;
  lng_msg_move(&m, &g->u.start);
  if (lng_msgpack_set(&g->u.packed, &m) == 0) g->flags |= LNG_G_PACKED;
  else lng_msg_move(&g->u.start, &m);           /* no memory to pack: keep it as it is */
  enqueue(s, g, self);
}

void lng_sched_spawnmsg(lng_sched *s, lng_g *g, lng_msg *m, int self) {
  if (lng_msgpack_take(&g->u.packed, m) == 0) g->flags |= LNG_G_PACKED;
  else lng_msg_move(&g->u.start, m);            /* no memory to pack: its storage goes too */
  enqueue(s, g, self);
}

static void enqueue(lng_sched *s, lng_g *g, int self) {
  /* spawned before live: go.stats() reads live, then spawned, and must
     never see more goroutines than were ever spawned */
  atomic_fetch_add(&s->spawned, 1);
  atomic_fetch_add(&s->live, 1);
  atomic_fetch_add(&s->active, 1);
  worker *w = &s->w[self >= 0 ? self : 0];
  pthread_mutex_lock(&w->freshmu);
  if (w->fqlen == w->fqcap && fq_grow(w) != 0) {
    /* No memory for the queue: the owner runs it, nobody steals it. */
    pthread_mutex_unlock(&w->freshmu);
    pthread_mutex_lock(&w->mu);
    gq_push(&w->inbox, g);
    atomic_store(&w->hasinbox, 1);
    if (atomic_load(&w->sleeping)) pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return;
  }
  uint32_t born = 0;
  if (s->n > 1) {               /* only stealing needs it: read the clock now and then */
    if (w->fqlen == 0 || (++w->nstamp & 15) == 0) w->stamp = now_us();
    born = w->stamp;            /* at most 16 spawns old: a goroutine may look older */
  }
  if (w->fqlen == 0) atomic_store_explicit(&w->freshsince, born, memory_order_relaxed);
  w->fq[(w->fqhead + w->fqlen++) % w->fqcap] = (fslot){ g, born };
  atomic_store_explicit(&w->nfresh, (long)w->fqlen, memory_order_relaxed);
  pthread_mutex_unlock(&w->freshmu);
  atomic_fetch_add(&s->nfresh, 1);
  /* Someone asleep could start it: the owner when the spawn came from C,
     otherwise any idle worker. The seq_cst counter above pairs with the
     sleeper's flag store, so one of the two sees the other. */
  for (int i = 0; i < s->n; i++) {
    worker *v = &s->w[(w->index + i) % s->n];
    if (v->index == self) continue;
    if (atomic_load(&v->sleeping)) { wake_worker(v); break; }
  }
}

void lng_sched_park(lng_sched *s, lng_g *g, const char *reason) {
  g->u.park.reason = reason;
  worker *w = &s->w[g->worker];      /* (the calling thread's: g is running) */
  if (w->pend > 0) {                 /* it hands its unit to one it woke */
    atomic_store_explicit(&w->owed, --w->pend, memory_order_relaxed);
    return;
  }
  if (atomic_fetch_sub(&s->active, 1) == 1) check_dead(s);
}

void lng_sched_ready(lng_sched *s, lng_g *g, int self) {
  worker *w = &s->w[g->worker];
  if (self == g->worker) {
    if (w->inrun) atomic_store_explicit(&w->owed, ++w->pend, memory_order_relaxed);
    else atomic_fetch_add(&s->active, 1);
    gq_push(&w->runq, g);
    return;
  }
  atomic_fetch_add(&s->active, 1);
  pthread_mutex_lock(&w->mu);
  gq_push(&w->inbox, g);
  atomic_store(&w->hasinbox, 1);
  if (atomic_load(&w->sleeping)) pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

void lng_sched_arm(lng_g *g) {
  if (g->cancel) atomic_store(&g->abortstate, LNG_ABORT_ARMED);
}

void lng_sched_disarm(lng_g *g) {
  for (;;) {
    int st = LNG_ABORT_ARMED;
    if (atomic_compare_exchange_strong(&g->abortstate, &st, LNG_ABORT_NONE)) break;
    if (st == LNG_ABORT_NONE) break;
    sched_yield();                /* an abort is looking at g: it is quick */
  }
  g->cancel = NULL;
  g->cancelobj = NULL;
}

int lng_sched_abort(lng_sched *s, lng_g *g, atomic_int *request) {
  (void)s;
  for (;;) {
    int st = LNG_ABORT_ARMED;
    if (atomic_compare_exchange_strong(&g->abortstate, &st, LNG_ABORT_BUSY)) break;
    if (st == LNG_ABORT_NONE) return 0;  /* not in an abortable wait: the request stays */
    sched_yield();                       /* the other side is looking at g: it is quick */
  }
  /* The request is taken only while g's wait is held: one taken before by
     someone else (g itself, once armed) must not abort the wait g is in
     now, which may be a later one. */
  if (!atomic_exchange(request, 0)) {
    atomic_store(&g->abortstate, LNG_ABORT_ARMED);
    return 0;
  }
  int took = g->cancel(g);
  if (took) g->aborted = 1;
  else atomic_store(request, 1);        /* the wait completed: g runs soon and finds the request */
  atomic_store(&g->abortstate, LNG_ABORT_NONE);
  return took;        /* the caller makes g runnable: lng_sched_ready */
}

int lng_sched_quiet(lng_sched *s) {
  return atomic_load(&s->active) == 0 && atomic_load(&s->timers.count) == 0;
}

void lng_waiter_wake(lng_waiter *w, int self) {
  if (w->g) {
    lng_sched_ready(w->sched, w->g, self);
  } else if (w->cw) {
    lng_cwait *cw = w->cw;
    pthread_mutex_lock(&cw->mu);
    cw->done = 1;
    pthread_cond_broadcast(&cw->cv);
    pthread_mutex_unlock(&cw->mu);
  }
}

/* ---- the worker loop ---- */

static void drain_inbox(worker *w) {
  if (!atomic_load_explicit(&w->hasinbox, memory_order_acquire)) return;
  pthread_mutex_lock(&w->mu);
  gq_append(&w->runq, &w->inbox);
  atomic_store(&w->hasinbox, 0);
  pthread_mutex_unlock(&w->mu);
}

/* Takes up to `max` unstarted goroutines from v's queue into w's run queue. */
static int take_fresh(worker *w, worker *v, long max) {
  if (atomic_load(&v->nfresh) == 0) return 0;
  if (max > STEAL_MAX) max = STEAL_MAX;
  pthread_mutex_lock(&v->freshmu);
  size_t got = fq_take(v, w->stolen, (size_t)max);
  atomic_store_explicit(&v->nfresh, (long)v->fqlen, memory_order_relaxed);
  pthread_mutex_unlock(&v->freshmu);
  atomic_fetch_sub(&w->s->nfresh, (long)got);
  for (size_t i = 0; i < got; i++) gq_push(&w->runq, w->stolen[i]);
  return (int)got;
}

/* The oldest goroutine this worker has spawned and nobody started, or NULL. */
static lng_g *pop_fresh(worker *w) {
  if (atomic_load_explicit(&w->nfresh, memory_order_relaxed) == 0) return NULL;
  lng_g *g = NULL;
  pthread_mutex_lock(&w->freshmu);
  if (fq_take(w, &g, 1)) atomic_store_explicit(&w->nfresh, (long)w->fqlen, memory_order_relaxed);
  pthread_mutex_unlock(&w->freshmu);
  if (g) atomic_fetch_sub(&w->s->nfresh, 1);
  return g;
}

static int steal(worker *w) {
  lng_sched *s = w->s;
  uint32_t now = 0;
  for (int i = 1; i < s->n; i++) {
    worker *v = &s->w[(w->index + i) % s->n];
    long n = atomic_load(&v->nfresh);
    if (n == 0) continue;
    if (!now) now = now_us();
    /* (a stale freshsince only delays or hastens one steal) */
    uint32_t age = now - atomic_load_explicit(&v->freshsince, memory_order_relaxed);
    if (age >= STEAL_AGE_US && age < UINT32_MAX / 2 && take_fresh(w, v, (n + 1) / 2)) return 1;
  }
  return 0;
}

static void run_timers(worker *w) {
  lng_sched *s = w->s;
  if (atomic_load_explicit(&s->timers.count, memory_order_relaxed) == 0) return;
  if (lng_timers_run(&s->timers, w->index) > 0 && atomic_load(&s->timers.count) == 0)
    check_dead(s);
}

static lng_g *pick(worker *w) {
  run_timers(w);
  lng_g *g;
  /* Every so many picks, the queues that the order below puts last get
     the first look: woken goroutines (behind new ones), and, half a round
     later, yielders (behind everything local), as Go looks at its global
     queue every 61 picks. */
  unsigned t = ++w->tick % FAIR_TICKS;
  if (t == 0) {
    drain_inbox(w);
    if ((g = gq_pop(&w->runq))) return g;
  } else if (t == FAIR_TICKS / 2 && (g = gq_pop(&w->yieldq))) {
    return g;
  }
  /* A goroutine just gave up its turn, often preempted after its time
     slice because others wait: those woken meanwhile (a sleeper whose
     timer fired, one woken from another worker) run now, not after every
     goroutine not started yet has had a slice of its own. Yielders never
     enter the run queue, so this cannot keep new goroutines out: the
     goroutines woken are served once each and go to yieldq if they in
     turn are preempted. */
  if (w->yielded) {
    w->yielded = 0;
    drain_inbox(w);
    if ((g = gq_pop(&w->runq))) return g;
  }
  /* What this worker spawned starts before what is runnable (Go's runnext
     does the same for the newest): a spawner that blocks at once has its
     goroutines started here within microseconds, before anyone would
     steal them, and yielded or preempted goroutines let new ones in. */
  if ((g = pop_fresh(w))) return g;
  if ((g = gq_pop(&w->runq))) return g;
  drain_inbox(w);
  if ((g = gq_pop(&w->runq))) return g;
  if ((g = gq_pop(&w->yieldq))) return g;
  if (steal(w)) return gq_pop(&w->runq);
  return NULL;
}

static int has_work(worker *w) {
  return atomic_load(&w->hasinbox) || atomic_load(&w->s->nfresh) > 0 ||
         atomic_load(&w->s->stopping);
}

static int timer_due(lng_sched *s) {
  int64_t next = atomic_load(&s->timers.next);
  return next != INT64_MAX && next <= lng_now_ns();
}

/* Spins briefly, then sleeps until woken or the earliest timer is due. */
static void idle(worker *w) {
  lng_sched *s = w->s;
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    if (has_work(w) || timer_due(s)) return;
    if (i & 7) sched_yield();
  }
  pthread_mutex_lock(&w->mu);
  atomic_store(&w->sleeping, 1);
  while (!has_work(w) && !timer_due(s)) {
    int64_t next = atomic_load(&s->timers.next);
    if (next == INT64_MAX) {
      pthread_cond_wait(&w->cv, &w->mu);
    } else {
      struct timespec ts = { (time_t)(next / 1000000000), (long)(next % 1000000000) };
      pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
  }
  atomic_store(&w->sleeping, 0);
  pthread_mutex_unlock(&w->mu);
}

int lng_sched_timer_add(lng_sched *s, lng_timer *t) {
  int64_t before = atomic_load(&s->timers.next);
  int64_t due = t->due;            /* once added, t may fire and be freed elsewhere */
  if (lng_timers_add(&s->timers, t) != 0) return -1;
  /* An earlier deadline than the sleepers know of: one of them re-arms. */
  if (due < before) {
    for (int i = 0; i < s->n; i++)
      if (atomic_load(&s->w[i].sleeping)) { wake_worker(&s->w[i]); break; }
  }
  return 0;
}

int lng_sched_timer_del(lng_sched *s, lng_timer *t) {
  return lng_timers_del(&s->timers, t);
}

/* +1 on a counter only its owner writes: no locked instruction, and the
   release orders what came before (the goroutine's live++ at its spawn)
   for a reader that sees the new value. */
static inline void owner_bump(atomic_ullong *c) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                        memory_order_release);
}

static void finish(worker *w, lng_g *g) {
  lng_sched *s = w->s;
  if (g->flags & LNG_G_MAIN) s->mainreturned = 1;
  if (g->allprev) g->allprev->allnext = g->allnext; else w->all = g->allnext;
  if (g->allnext) g->allnext->allprev = g->allprev;
  /* before live drops: see lng_sched_stats */
  owner_bump(&w->nfinished);
  s->ops->drop(s->ud, w->index, g);
  release(g);
  recycle(w, g);
  int last = atomic_fetch_sub(&s->live, 1) == 1;
  if (last && !s->service) {
    set_outcome(s, LNG_OK, 0, NULL);
    return;
  }
  if (atomic_fetch_sub(&s->active, 1) == 1) check_dead(s);
}

int lng_sched_on_worker(lng_sched *s) {
  return self_worker && self_worker->s == s;
}

void lng_sched_hold(lng_sched *s, int delta) {
  if (atomic_fetch_add(&s->holds, delta) + delta == 0 && delta < 0) check_dead(s);
}

void lng_sched_set_service(lng_sched *s, int on) { s->service = on; }

/* ---- the preemption monitor ----
   Goroutines are cooperative, but one that computes for long must not
   hold its worker while others wait: every 10 ms a monitor thread looks
   for a worker still running the goroutine it ran last time, with work
   waiting, and asks the VM to preempt it (a yield at the next Lua
   instruction). With no goroutine running it sleeps, so an idle runtime
   costs nothing. */

#define PREEMPT_NS 10000000

static void wake_monitor(lng_sched *s) {
  pthread_mutex_lock(&s->monmu);
  pthread_cond_signal(&s->moncv);
  pthread_mutex_unlock(&s->monmu);
}

static int nbusy(lng_sched *s) {
  int n = 0;
  for (int i = 0; i < s->n; i++) n += atomic_load(&s->w[i].busy);
  return n;
}

static void *monitor_main(void *arg) {
  lng_sched *s = arg;
  pthread_mutex_lock(&s->monmu);
  while (!atomic_load(&s->stopping)) {
    if (nbusy(s) == 0) {
      /* The flag, then a second look: a worker sets busy, then reads the flag. */
      atomic_store(&s->monidle, 1);
      if (nbusy(s) == 0 && !atomic_load(&s->stopping)) pthread_cond_wait(&s->moncv, &s->monmu);
      atomic_store(&s->monidle, 0);
      for (int i = 0; i < s->n; i++) s->w[i].seen = atomic_load(&s->w[i].runs);
      continue;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += PREEMPT_NS;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_cond_timedwait(&s->moncv, &s->monmu, &ts);
    if (atomic_load(&s->stopping)) break;
    /* Work waits: runnable goroutines beyond those running (counting
       those woken during a run, see `owed`), or a timer due that no idle
       worker has fired, since a worker fires timers only between
       goroutines: a spinner must not keep a sleeper asleep. */
    long owed = 0;
    for (int i = 0; i < s->n; i++) owed += atomic_load_explicit(&s->w[i].owed, memory_order_relaxed);
    int waiting = atomic_load(&s->active) + owed > nbusy(s) || timer_due(s);
    for (int i = 0; i < s->n; i++) {
      worker *w = &s->w[i];
      unsigned long long runs = atomic_load(&w->runs);
      if (waiting && atomic_load(&w->busy) && runs == w->seen && s->preempt)
        s->preempt(s->ud, i);
      w->seen = runs;
    }
  }
  pthread_mutex_unlock(&s->monmu);
  return NULL;
}

void lng_sched_set_preempt(lng_sched *s, void (*preempt)(void *ud, int worker)) {
  s->preempt = preempt;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  self_worker = w;
  lng_sched *s = w->s;
  lng_bigpool_bind(s->bigpool);
  pthread_mutex_lock(&s->gatemu);
  while (!s->gateopen) pthread_cond_wait(&s->gatecv, &s->gatemu);
  pthread_mutex_unlock(&s->gatemu);
  int busy = 0;
  while (!atomic_load(&s->stopping)) {
    lng_g *g = pick(w);
    if (!g) {
      if (busy) atomic_store_explicit(&w->busy, busy = 0, memory_order_relaxed);
      idle(w);
      continue;
    }
    if (g->worker < 0) {
      g->worker = w->index;
      g->allprev = NULL;
      g->allnext = w->all;
      if (w->all) w->all->allprev = g;
      w->all = g;
      owner_bump(&w->nstarted);    /* after its spawn's live++ */
    } else {
      g->u.park.reason = NULL;     /* (a new one's record is not in its park layout yet) */
    }
    atomic_store_explicit(&w->runs, atomic_load_explicit(&w->runs, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    /* busy: running goroutines, from the first after idling until idle
       again (one fenced store per stretch of work, not per goroutine) */
    if (!busy) {
      atomic_store(&w->busy, busy = 1);
      if (atomic_load(&s->monidle)) wake_monitor(s);
    }
    w->inrun = 1;
    lng_runres r = s->ops->run(s->ud, w->index, g);
    w->inrun = 0;
    if (w->pend) {
      atomic_fetch_add(&s->active, w->pend);
      w->pend = 0;
      atomic_store_explicit(&w->owed, 0, memory_order_relaxed);
    }
    switch (r) {
      case LNG_RUN_YIELD: gq_push(&w->yieldq, g); w->yielded = 1; break;
      case LNG_RUN_PARK: break;
      case LNG_RUN_DONE: finish(w, g); break;
    }
  }
  return NULL;
}

/* ---- lifecycle ---- */

lng_sched *lng_sched_new(int nworkers, const lng_vmops *ops, void *ud) {
  if (nworkers < 1) return NULL;
  lng_sched *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->w = calloc((size_t)nworkers, sizeof *s->w);
  if (!s->w) { free(s); return NULL; }
  s->n = nworkers;
  /* (without a pool, big buffers are malloc's) */
  s->bigpool = lng_bigpool_new();
  s->ops = ops;
  s->ud = ud;
  atomic_init(&s->nextid, 1);
  pthread_mutex_init(&s->outmu, NULL);
  pthread_mutex_init(&s->gmu, NULL);
  pthread_cond_init(&s->outcv, NULL);
  lng_timers_init(&s->timers);
  pthread_condattr_t mca;
  pthread_condattr_init(&mca);
  pthread_condattr_setclock(&mca, CLOCK_MONOTONIC);
  pthread_mutex_init(&s->gatemu, NULL);
  pthread_cond_init(&s->gatecv, NULL);
  pthread_mutex_init(&s->monmu, NULL);
  pthread_cond_init(&s->moncv, &mca);
  pthread_condattr_destroy(&mca);
  for (int i = 0; i < nworkers; i++) {
    worker *w = &s->w[i];
    w->s = s;
    w->index = i;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->freshmu, NULL);
  }
  return s;
}

static void open_gate(lng_sched *s) {
  pthread_mutex_lock(&s->gatemu);
  s->gateopen = 1;
  pthread_cond_broadcast(&s->gatecv);
  pthread_mutex_unlock(&s->gatemu);
}

int lng_sched_start(lng_sched *s) {
  for (int i = 0; i < s->n; i++) {
    if (pthread_create(&s->w[i].thread, NULL, worker_main, &s->w[i]) != 0) {
      stop_all(s);                 /* the started ones leave at the gate */
      open_gate(s);
      for (int j = 0; j < i; j++) pthread_join(s->w[j].thread, NULL);
      s->joined = 1;
      return -1;
    }
  }
  open_gate(s);
  s->started = 1;
  if (pthread_create(&s->monitor, NULL, monitor_main, s) == 0) s->monstarted = 1;
  return 0;
}

static void join_all(lng_sched *s) {
  if (!s->started || s->joined) return;
  stop_all(s);
  for (int i = 0; i < s->n; i++) {
    /* A worker deep in a goroutine that never yields is nudged until it
       lets go (the VM's interrupt, see lng_sched_set_nudge). */
    for (;;) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 20000000;
      if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
      if (pthread_timedjoin_np(s->w[i].thread, NULL, &ts) == 0) break;
      if (s->nudge) s->nudge(s->ud, i);
    }
  }
  if (s->monstarted) pthread_join(s->monitor, NULL);
  s->joined = 1;
}

void lng_sched_set_nudge(lng_sched *s, void (*nudge)(void *ud, int worker)) { s->nudge = nudge; }

static int byid(const void *a, const void *b) {
  const lng_g *x = *(lng_g *const *)a, *y = *(lng_g *const *)b;
  return (x->id > y->id) - (x->id < y->id);
}

/* A header, then each blocked goroutine in id order: where it waits and
   where it was created. While the main goroutine lives, Go's wording;
   once it has returned "all goroutines are asleep" reads as if the program
   had not done its work, so the header says what happened: main returned
   and these were left behind. Workers are stopped. */
static char *deadlock_report(lng_sched *s) {
  size_t n = 0, cap = 256, len = 0;
  for (int i = 0; i < s->n; i++)
    for (lng_g *g = s->w[i].all; g; g = g->allnext) n++;
  lng_g **v = malloc((n ? n : 1) * sizeof *v);
  char *out = malloc(cap);
  if (!v || !out) { free(v); free(out); return NULL; }
  n = 0;
  for (int i = 0; i < s->n; i++)
    for (lng_g *g = s->w[i].all; g; g = g->allnext) v[n++] = g;
  qsort(v, n, sizeof *v, byid);
  if (s->mainreturned)
    len = (size_t)snprintf(out, cap, "fatal error: main returned, but %zu goroutine%s blocked forever\n",
                           n, n == 1 ? " is" : "s are");
  else
    len = (size_t)snprintf(out, cap, "fatal error: all goroutines are asleep - deadlock!\n");
  for (size_t i = 0; i < n; i++) {
    char where[512], origin[512];
    where[0] = origin[0] = 0;
    s->ops->describe(s->ud, v[i]->worker, v[i], where, sizeof where);
    if (s->ops->origin) s->ops->origin(s->ud, v[i], origin, sizeof origin);
    const char *reason = v[i]->u.park.reason ? v[i]->u.park.reason : "runnable";
    size_t need = len + strlen(where) + strlen(reason) + strlen(origin) + 96;
    if (need > cap) {
      while (cap < need) cap *= 2;
      char *o = realloc(out, cap);
      if (!o) break;
      out = o;
    }
    len += (size_t)snprintf(out + len, cap - len, "\ngoroutine %lld [%s]:\n\t%s\n",
                            (long long)v[i]->id, reason, where);
    if (origin[0]) len += (size_t)snprintf(out + len, cap - len, "created by %s\n", origin);
  }
  free(v);
  return out;
}

int lng_sched_wait(lng_sched *s) {
  pthread_mutex_lock(&s->outmu);
  while (!s->done) pthread_cond_wait(&s->outcv, &s->outmu);
  pthread_mutex_unlock(&s->outmu);
  /* A deadlock leaves every worker idle, so joining is quick and the report
     may read the parked goroutines' stacks. Other outcomes return at once:
     a goroutine still computing elsewhere must not delay a failure. */
  if (s->status == LNG_DEADLOCK && !s->message) {
    join_all(s);
    s->message = deadlock_report(s);
  }
  return s->status;
}

int lng_sched_status(lng_sched *s) {
  pthread_mutex_lock(&s->outmu);
  int st = s->done ? s->status : LNG_OK;
  pthread_mutex_unlock(&s->outmu);
  return st;
}

int lng_sched_exitcode(lng_sched *s) { return s->exitcode; }
const char *lng_sched_message(lng_sched *s) { return s->message ? s->message : ""; }
int lng_sched_stopping(lng_sched *s) { return atomic_load(&s->stopping); }
int lng_sched_nworkers(const lng_sched *s) { return s->n; }

int lng_sched_thread(lng_sched *s, int i, pthread_t *t) {
  if (!s->started || s->joined || i < 0 || i >= s->n) return -1;
  *t = s->w[i].thread;
  return 0;
}
int64_t lng_sched_live(lng_sched *s) { return atomic_load(&s->live); }
int64_t lng_sched_spawned(lng_sched *s) { return atomic_load(&s->spawned); }

int64_t lng_sched_worker_count(lng_sched *s, int i) {
  int64_t st = (int64_t)atomic_load_explicit(&s->w[i].nstarted, memory_order_acquire);
  int64_t fin = (int64_t)atomic_load_explicit(&s->w[i].nfinished, memory_order_acquire);
  return st > fin ? st - fin : 0;
}

/* Every goroutine g moves its counters in this order, each step
   happening before the next: live+1 (spawn), nstarted+1 on its worker,
   nfinished+1 on that worker, live-1 (finish). Reading every nstarted,
   then live, then every nfinished makes sum(per_worker) <= live: a
   goroutine that per_worker[i] = nstarted - nfinished can count was
   started before nstarted was read and not finished when nfinished was,
   so its live+1 is seen and its live-1 is not; it is one of the `live`.
   Goroutines that start and end between the two reads only lower
   nstarted - nfinished (clamped at 0, which keeps the bound since the
   count it undershoots is >= 0). The figures are then exact at rest, and
   under churn per_worker may undercount but never exceeds live: no lock,
   and the hot paths keep one plain store per start and per end. */
int64_t lng_sched_stats(lng_sched *s, int64_t *per_worker) {
  for (int i = 0; i < s->n; i++)
    per_worker[i] = (int64_t)atomic_load_explicit(&s->w[i].nstarted, memory_order_acquire);
  int64_t live = atomic_load(&s->live);
  for (int i = 0; i < s->n; i++) {
    int64_t fin = (int64_t)atomic_load_explicit(&s->w[i].nfinished, memory_order_acquire);
    per_worker[i] = per_worker[i] > fin ? per_worker[i] - fin : 0;
  }
  return live;
}

void lng_sched_free(lng_sched *s) {
  if (!s) return;
  join_all(s);
  for (int i = 0; i < s->n; i++) {
    worker *w = &s->w[i];
    lng_g *g, *next;
    /* Queued goroutines that were stolen but never run are in no other
       list; started ones (also queued, maybe) are freed through `all`. */
    while ((g = gq_pop(&w->runq))) if (g->worker < 0) lng_sched_freeg(g);
    while (gq_pop(&w->yieldq)) {}   /* started, all of them */
    /* the inbox holds started goroutines (freed through `all`) and, when
       the unstarted queue could not grow, unstarted ones */
    while ((g = gq_pop(&w->inbox))) if (g->worker < 0) lng_sched_freeg(g);
    while (w->fqlen) {
      fq_take(w, &g, 1);
      lng_sched_freeg(g);
    }
    free(w->fq);
    for (g = w->all; g; g = next) {
      next = g->allnext;
      s->ops->drop(s->ud, i, g);
      lng_sched_freeg(g);
    }
    while ((g = w->gfree)) {
      w->gfree = g->next;
      free(g);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->freshmu);
  }
  for (lng_g *g = s->gfree, *next; g; g = next) {
    next = g->next;
    free(g);
  }
  pthread_mutex_destroy(&s->gmu);
  lng_timers_free(&s->timers);
  pthread_mutex_destroy(&s->gatemu);
  pthread_cond_destroy(&s->gatecv);
  pthread_mutex_destroy(&s->monmu);
  pthread_cond_destroy(&s->moncv);
  pthread_mutex_destroy(&s->outmu);
  pthread_cond_destroy(&s->outcv);
  free(s->message);
  /* messages still held elsewhere (a channel C holds) keep the pool alive */
  lng_bigpool_release(s->bigpool);
  free(s->w);
  free(s);
}
