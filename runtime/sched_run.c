/*
 * Goroutine records, the run queues, spawning and stealing, and the worker
 * loop that picks the next goroutine; see sched_int.h.
 */
#include <stdlib.h>
#include <string.h>
#include "../include/lungo.h"
#include "sched_int.h"

#define FAIR_TICKS 61      /* every so many picks, start the oldest unstarted goroutine first (and a yielder) */
/* Unstarted goroutines are left to their spawner's worker until the oldest
   has waited this long; then an idle worker takes half. A spawner usually
   blocks within microseconds and runs what it spawned itself, and
   goroutines that talk then share a worker instead of paying a cross-thread
   wake-up or cache-line transfer per message (Go keeps runnext for a while
   in the same spirit); work that piles up is shared out 50 us later. */
#define STEAL_AGE_US 50

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

/* Started goroutines living on w, parked ones included (a racy look). */
static long held(worker *w) {
  return (long)(atomic_load_explicit(&w->nstarted, memory_order_relaxed) -
                atomic_load_explicit(&w->nfinished, memory_order_relaxed));
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

/* The worker a spread goroutine starts on: the others in turn, then the
   spawner's own, so the goroutines of a parallel stage spread in a row
   land on as many workers as there are (as far as there are). The
   workers' loads do not enter: parked goroutines are no measure of the
   CPU a stage will want, and the rule stays one a user can predict. */
static worker *place(lng_sched *s, int self) {
  worker *w = &s->w[self];
  unsigned k = w->spreadnext++ % (unsigned)s->n;
  return &s->w[(self + 1 + (int)k) % s->n];
}

static void enqueue(lng_sched *s, lng_g *g, int self) {
  /* spawned before live: go.stats() reads live, then spawned, and must
     never see more goroutines than were ever spawned */
  atomic_fetch_add(&s->spawned, 1);
  atomic_fetch_add(&s->live, 1);
  atomic_fetch_add(&s->active, 1);
  worker *w = &s->w[self >= 0 ? self : 0];
  if (g->flags & LNG_G_SPREAD) {
    worker *v = s->n > 1 && self >= 0 ? place(s, self) : w;
    g->flags &= ~LNG_G_SPREAD;
    if (s->n > 1) {
      /* straight into its inbox, as share does, where nobody steals it:
         the spawner's own turn too (in its unstarted queue a thief could
         take it while the spawner's thread is off its CPU, and two of a
         stage's goroutines would share a worker) */
      lng_worker_inbox_push(v, g);
      return;
    }
  }
  pthread_mutex_lock(&w->freshmu);
  if (w->fqlen == w->fqcap && fq_grow(w) != 0) {
    /* No memory for the queue: the owner runs it, nobody steals it. */
    pthread_mutex_unlock(&w->freshmu);
    lng_worker_inbox_push(w, g);
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
     otherwise the idle worker holding the fewest goroutines, the one
     steal lets take it (the first asleep would decline, again at every
     spawn, while the rest slept on). The seq_cst counter above pairs
     with the sleeper's flag store, so one of the two sees the other. */
  worker *pickv = NULL;
  long least = 0;
  if (self < 0 && atomic_load(&w->sleeping)) {
    lng_worker_wake(w);
    return;
  }
  for (int i = 0; i < s->n; i++) {
    worker *v = &s->w[(w->index + i) % s->n];
    if (v->index == self || atomic_load(&v->sleeping) != 1) continue;
    long h = held(v);
    if (!pickv || h < least) { pickv = v; least = h; }
  }
  if (pickv) lng_worker_wake(pickv);
}

/* ---- the worker loop ---- */

static void drain_inbox(worker *w) {
  if (!atomic_load_explicit(&w->hasinbox, memory_order_acquire)) return;
  pthread_mutex_lock(&w->mu);
  gq_append(&w->runq, &w->inbox);
  atomic_store(&w->hasinbox, 0);
  pthread_mutex_unlock(&w->mu);
}

/* Takes up to k unstarted goroutines from v's queue, keeping the counts. */
static size_t fresh_take(worker *v, lng_g **out, size_t k) {
  pthread_mutex_lock(&v->freshmu);
  size_t got = fq_take(v, out, k);
  atomic_store_explicit(&v->nfresh, (long)v->fqlen, memory_order_relaxed);
  pthread_mutex_unlock(&v->freshmu);
  if (got) atomic_fetch_sub(&v->s->nfresh, (long)got);
  return got;
}

/* Takes half of v's unstarted goroutines into w's run queue, but no more
   than leaves v holding as many as w will (see steal). The count is the
   one under v's lock: v may have shared a burst since the thief looked,
   and a share taken on a stale count would leave v none. */
static int take_fresh(worker *w, worker *v, long mine) {
  pthread_mutex_lock(&v->freshmu);
  long n = (long)v->fqlen;
  long take = (n + 1) / 2, even = (held(v) + n - mine) / 2;
  if (even < take) take = even;
  if (take > STEAL_MAX) take = STEAL_MAX;
  size_t got = take > 0 ? fq_take(v, w->stolen, (size_t)take) : 0;
  atomic_store_explicit(&v->nfresh, (long)v->fqlen, memory_order_relaxed);
  pthread_mutex_unlock(&v->freshmu);
  if (!got) return 0;
  atomic_fetch_sub(&v->s->nfresh, (long)got);
  for (size_t i = 0; i < got; i++) gq_push(&w->runq, w->stolen[i]);
  return 1;
}

/* The newest goroutine this worker has spawned and nobody started, or
   NULL: the owner works the ring from its back, thieves take from its
   front (see pick). */
static lng_g *pop_newest(worker *w) {
  if (atomic_load_explicit(&w->nfresh, memory_order_relaxed) == 0) return NULL;
  lng_g *g = NULL;
  pthread_mutex_lock(&w->freshmu);
  if (w->fqlen) {
    g = w->fq[(w->fqhead + --w->fqlen) % w->fqcap].g;
    atomic_store_explicit(&w->nfresh, (long)w->fqlen, memory_order_relaxed);
    atomic_store_explicit(&w->freshpops, atomic_load_explicit(&w->freshpops, memory_order_relaxed) + 1,
                          memory_order_relaxed);
  }
  pthread_mutex_unlock(&w->freshmu);
  if (g) atomic_fetch_sub(&w->s->nfresh, 1);
  return g;
}

/* The oldest one, for fairness. */
static lng_g *pop_oldest(worker *w) {
  if (atomic_load_explicit(&w->nfresh, memory_order_relaxed) == 0) return NULL;
  lng_g *g = NULL;
  fresh_take(w, &g, 1);
  return g;
}

/* An idle worker takes half of another's unstarted goroutines once the
   oldest has waited STEAL_AGE_US, but no more than evens out the
   goroutines the two will hold: a parked goroutine is pinned where it
   started, so what a thief takes it keeps. A spawner slower than the
   steal age (a loaded machine, a sanitizer, work between spawns) would
   otherwise lose every goroutine to the first idle worker, one by one as
   each appears, and a pool it starts would end on that worker alone.
   What a busy worker keeps waits at most until the monitor preempts the
   spawner (share then hands a burst to idle workers); a thief that held
   many parked goroutines and took the backlog anyway once it grew old
   would undo the balance for every spawner that runs that long. */
static int steal(worker *w) {
  lng_sched *s = w->s;
  uint32_t now = 0;
  long mine = -1;
  for (int i = 1; i < s->n; i++) {
    worker *v = &s->w[(w->index + i) % s->n];
    long n = atomic_load(&v->nfresh);
    if (n == 0) continue;
    if (!now) now = now_us();
    /* (a stale freshsince only delays or hastens one steal) */
    uint32_t age = now - atomic_load_explicit(&v->freshsince, memory_order_relaxed);
    if (age < STEAL_AGE_US || age >= UINT32_MAX / 2) continue;
    /* A victim that is starting its unstarted goroutines itself (newest
       first, each one running until it parks) is making progress: a few
       goroutines that talk, spawned by one that then blocks, all start
       there within microseconds, but the first start of a function (its
       code loaded) can take longer than the steal age, and a thief that
       took the oldest (a pipeline's generator) then would put every
       message across workers (pipeline fan on 2 workers: 120 ns an item
       on one worker, 470 with two of its stages on the other). So the
       age also counts from the victim's last start that this thief saw. */
    uint32_t pops = atomic_load_explicit(&v->freshpops, memory_order_relaxed);
    struct peek *pk = &w->peek[v->index];
    if (pops != pk->pops) {
      pk->pops = pops;
      pk->at = now;
      continue;
    }
    if (now - pk->at < STEAL_AGE_US) continue;
    if (mine < 0) mine = held(w);
    if (held(v) + n - mine < 2) continue;     /* (the look; take_fresh decides) */
    if (take_fresh(w, v, mine)) return 1;
  }
  return 0;
}

/* A burst of spawns is shared out at once: with SHARE_MIN or more
   goroutines of its own not started yet and other workers idle, a worker
   about to start one first hands each idle worker an equal part, the
   oldest first (into its inbox, which wakes it), and keeps a part itself.
   Unstarted goroutines are only messages, but a started one lives in its
   worker's Lua state for good: a pool whose goroutines all start here
   within microseconds and park on their jobs channel would stay here
   (stealing waits STEAL_AGE_US, by which time they have started). A
   spawner that spawns a few goroutines and blocks, as pingpong, the
   sieve, a tree's nodes and a pipeline of a few stages do, keeps them:
   goroutines that talk on one worker pay no cross-thread wake-up per
   message (pipeline fan, 4 goroutines, shared at 4: about +8% time per
   item and +30% CPU on 2 workers). */
#define SHARE_MIN 5

static void share(worker *w) {
  lng_sched *s = w->s;
  long n = atomic_load_explicit(&w->nfresh, memory_order_relaxed);
  if (n < SHARE_MIN) return;
  worker *idle[STEAL_MAX];
  int k = 0;
  for (int i = 1; i < s->n && k < n - 1 && k < STEAL_MAX; i++) {
    worker *v = &s->w[(w->index + i) % s->n];
    /* (a stale look only shares less, or with one about to be busy) */
    if (!atomic_load_explicit(&v->busy, memory_order_relaxed) &&
        !atomic_load_explicit(&v->hasinbox, memory_order_relaxed)) idle[k++] = v;
  }
  long part = n / (k + 1);
  if (part > STEAL_MAX) part = STEAL_MAX;
  for (int j = 0; j < k && part > 0; j++) {
    worker *v = idle[j];
    size_t got = fresh_take(w, w->stolen, (size_t)part);
    if (!got) return;
    pthread_mutex_lock(&v->mu);
    for (size_t i = 0; i < got; i++) gq_push(&v->inbox, w->stolen[i]);
    atomic_store(&v->hasinbox, 1);
    if (atomic_load(&v->sleeping)) pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
    if (atomic_load(&v->polling)) lng_netpoll_break(atomic_load(&s->np));
  }
}

static void run_timers(worker *w) {
  lng_sched *s = w->s;
  if (atomic_load_explicit(&s->timers.count, memory_order_relaxed) == 0) return;
  if (lng_timers_run(&s->timers, w->index) > 0 && atomic_load(&s->timers.count) == 0)
    lng_sched_check_dead(s);
}

static lng_g *pick(worker *w) {
  run_timers(w);
  lng_g *g;
  /* Every so many picks, the queues that the order below puts last get
     the first look: the oldest goroutine not started yet (behind newer
     ones and behind every wake-up), and, half a round later, yielders
     (behind everything local), as Go looks at its global queue every 61
     picks. */
  unsigned t = ++w->tick % FAIR_TICKS;
  if (t == 0) {
    /* a busy worker looks at the network now and then, if nobody is
       polling (what it makes ready on this worker is in runq now) */
    lng_netpoll *np = active_netpoll(w->s);
    if (np) lng_netpoll_poll(np, 0, w->index);
    if ((g = pop_oldest(w))) return g;
  } else if (t == FAIR_TICKS / 2 && (g = gq_pop(&w->yieldq))) {
    return g;
  }
  /* Woken goroutines first, in the order they were woken here or put in
     the inbox from elsewhere (a sleeper whose timer fired, one woken by
     another worker): the inbox joins the run queue at every pick, so a
     chain of local hand-offs that never empties the run queue cannot
     keep them out. A goroutine that is woken has already started, holds
     its stack, and usually finishes or frees something; one not started
     yet costs nothing while it waits. So a burst of spawns cannot delay
     timers, and a node of a spawn tree that its child's result wakes goes
     on before the next subtree opens. */
  drain_inbox(w);
  if ((g = gq_pop(&w->runq))) return g;
  /* Then what this worker spawned, newest first (Go's runnext, kept for
     the whole queue as a work-stealing deque does): a tree of goroutines
     unfolds depth-first, so few of its nodes live at once, and a spawner
     that blocks at once has its last goroutine started here within
     microseconds. Idle workers steal the oldest (steal), so what piles up
     is still shared out, and the tick above starts the oldest now and
     then, so none waits forever behind newer ones. */
  if (w->s->n > 1) share(w);
  if ((g = pop_newest(w))) return g;
  if ((g = gq_pop(&w->yieldq))) return g;
  if (steal(w)) return gq_pop(&w->runq);
  return NULL;
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
    lng_sched_fail(s, LNG_OK, 0, NULL);
    return;
  }
  lng_sched_inactive(s);
}

int lng_sched_on_worker(lng_sched *s) {
  return self_worker && self_worker->s == s;
}

void *lng_worker_main(void *arg) {
  worker *w = arg;
  self_worker = w;
  lng_sched *s = w->s;
  lng_bigpool_bind(s->bigpool);
  lng_bufcache cache;           /* lives as long as this loop */
  lng_bufcache_bind(&cache, &s->bufdepot);
  pthread_mutex_lock(&s->gatemu);
  while (!s->gateopen) pthread_cond_wait(&s->gatecv, &s->gatemu);
  pthread_mutex_unlock(&s->gatemu);
  int busy = 0;
  while (!atomic_load(&s->stopping)) {
    lng_g *g = pick(w);
    if (!g) {
      if (busy) atomic_store_explicit(&w->busy, busy = 0, memory_order_relaxed);
      lng_worker_idle(w);
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
      w->looks = 0;
      atomic_store(&w->busy, busy = 1);
      if (atomic_load(&s->monidle)) lng_monitor_wake(s);
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
      case LNG_RUN_YIELD: gq_push(&w->yieldq, g); break;
      case LNG_RUN_PARK: break;
      case LNG_RUN_DONE: finish(w, g); break;
    }
  }
  lng_bufcache_unbind();
  return NULL;
}

/* With the workers stopped: frees every record w holds, queued, parked
   (the VM side first) or cached. */
void lng_worker_free_gs(worker *w) {
  lng_sched *s = w->s;
  lng_g *g, *next;
  /* Queued goroutines that were stolen but never run are in no other
     list; started ones (also queued, maybe) are freed through `all`. */
  while ((g = gq_pop(&w->runq))) if (g->worker < 0) lng_sched_freeg(g);
  while (gq_pop(&w->yieldq)) {}   /* started, all of them */
  /* the inbox holds started goroutines (freed through `all`) and
     unstarted ones: shared out by another worker (share), or put there
     when the unstarted queue could not grow */
  while ((g = gq_pop(&w->inbox))) if (g->worker < 0) lng_sched_freeg(g);
  while (w->fqlen) {
    fq_take(w, &g, 1);
    lng_sched_freeg(g);
  }
  free(w->fq);
  for (g = w->all; g; g = next) {
    next = g->allnext;
    s->ops->drop(s->ud, w->index, g);
    lng_sched_freeg(g);
  }
  while ((g = w->gfree)) {
    w->gfree = g->next;
    free(g);
  }
}
