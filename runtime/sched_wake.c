/*
 * Idling and waking: a worker with nothing to do spins briefly, then
 * sleeps until a goroutine is put in its inbox, one is spawned for anyone
 * to take, or the earliest timer is due; and the ways back: making a
 * parked goroutine runnable, waking a waiter (a goroutine or a C thread),
 * aborting a wait. See sched_int.h.
 *
 * With fds registered in the poller (netpoll.h) one idle worker at a time
 * sleeps in epoll_wait instead of on its condition variable, as Go's
 * scheduler does: it wakes for I/O, for its next timer, or when a waker
 * breaks the poll through the eventfd (a worker's `polling` flag says
 * which way to wake it). The others sleep on their condition variables;
 * goroutines the poll makes ready on their workers reach them through
 * their inboxes. Busy workers poll without waiting every so many picks
 * (sched_run.c), and the monitor does when nobody has for a while.
 */
#include <sched.h>
#include "sched_int.h"
#include "cond.h"

#define SPIN_ROUNDS 200    /* idle polls before sleeping */
#define IO_RECENT_NS 2000000   /* goroutines woken by I/O this recently: an I/O-active worker */
/* With fds to poll, a short spin (cross-worker wake-ups only): a worker
   that burns its CPU share spinning is the one the kernel makes wait
   when its reply comes in (measured: no spin at all, 40 rounds and 200
   are alike in throughput under load, the long spin costs CPU) */
#define NET_SPIN_ROUNDS 40

/* w sleeps in the poller: break it (after the waker's own store, which
   the worker reads after setting `polling`, so one of the two sees the
   other). */
static void kick(worker *w) {
  if (atomic_load(&w->polling)) {
    lng_netpoll *np = atomic_load(&w->s->np);
    if (np) lng_netpoll_break(np);
  }
}

void lng_worker_wake(worker *w) {
  lng_cond_signal(&w->mu, &w->cv);
  kick(w);
}

/* Puts g where w's owner finds it, waking the owner if it sleeps. */
void lng_worker_inbox_push(worker *w, lng_g *g) {
  pthread_mutex_lock(&w->mu);
  gq_push(&w->inbox, g);
  atomic_store(&w->hasinbox, 1);
  if (atomic_load(&w->sleeping)) pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  kick(w);
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
  lng_worker_inbox_push(w, g);
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

void lng_waiter_wake(lng_waiter *w, int self) {
  if (w->g) {
    lng_sched_ready(w->sched, w->g, self);
  } else if (w->cw) {
    lng_cwait_wake(w->cw);
  }
}

/* Work for w itself: goroutines in its inbox, or the runtime stopping.
   Unstarted goroutines queued elsewhere are not: whether w may take them
   is steal's call (sched_run.c), and a worker that counted them as work
   would spin at full speed through every refusal while a busy spawner
   kept some queued (the whole of a spawn tree's run), taking a CPU the
   spawner may need (under valgrind, which runs one thread at a time,
   starving it outright). Idle workers look at them again after a nap. */
static int has_work(worker *w) {
  return atomic_load(&w->hasinbox) || atomic_load(&w->s->stopping);
}

static int fresh_elsewhere(worker *w) {
  return atomic_load(&w->s->nfresh) > 0;
}

/* Sleeps in the poller (w->mu released meanwhile) until an event, a
   break, the next timer or `until`; 1 if it made goroutines of w
   runnable. */
static int poll_sleep(worker *w, lng_netpoll *np, int64_t until) {
  lng_sched *s = w->s;
  atomic_store(&w->polling, 1);
  pthread_mutex_unlock(&w->mu);
  if (!has_work(w) && !timer_due(s)) {
    int64_t next = atomic_load(&s->timers.next), timeout = -1;
    if (until < next) next = until;
    if (next != INT64_MAX) {
      timeout = next - lng_now_ns();
      if (timeout < 0) timeout = 0;
    }
    lng_netpoll_poll(np, timeout, w->index);
  }
  atomic_store(&w->polling, 0);
  /* asked to leave the poll to another worker: wake it to take it (not
     under w->mu: no two workers' mutexes are held at once) */
  int ho = lng_netpoll_handoff(np);
  if (ho >= 0 && ho != w->index) {
    lng_worker_wake(&s->w[ho]);
  } else if (w->runq.head) {
    /* leaving the poll for work: a worker asleep on its condition
       variable whose goroutines wait for I/O, and had I/O lately, takes
       it up, or their events would wait for a busy worker's next look
       (Go wakes a spinning thread for the same reason). Not one whose
       goroutines wait but see nothing (a server's accept loop): the
       events would then all go through it, two wake-ups each. */
    int64_t now = lng_now_ns();
    for (int i = 1; i < s->n; i++) {
      worker *v = &s->w[(w->index + i) % s->n];
      if (atomic_load_explicit(&v->niowait, memory_order_relaxed) > 0 &&
          now - atomic_load_explicit(&v->iolast, memory_order_relaxed) < IO_RECENT_NS &&
          atomic_load(&v->sleeping) && !atomic_load(&v->polling)) {
        lng_worker_wake(v);
        break;
      }
    }
  }
  pthread_mutex_lock(&w->mu);
  return w->runq.head != NULL;
}

/* Whether w may own the poll now: nobody does, and it is not being left
   to another worker. */
static int may_poll(worker *w, lng_netpoll *np) {
  if (lng_netpoll_polling(np)) return 0;
  int ho = lng_netpoll_handoff(np);
  return ho < 0 || ho == w->index;
}

/* w is about to sleep while another worker owns the poll. Goroutines stay
   on their worker, so events for w's goroutines that the owner takes cost
   two wake-ups (the owner's, then w's): if w's goroutines wait for I/O
   and had some lately, and the owner's do not, the owner is asked to
   leave the poll to w (broken out of epoll_wait, it sees the request,
   wakes w and sleeps). */
static void ask_handoff(worker *w, lng_netpoll *np) {
  lng_sched *s = w->s;
  int owner = lng_netpoll_owner(np);
  if (owner < 0 || owner == w->index || lng_netpoll_handoff(np) >= 0) return;
  /* (an owner whose goroutines wait without I/O lately, as a server's
     accept loop does, counts as having none) */
  int64_t now = lng_now_ns();
  if (atomic_load_explicit(&w->niowait, memory_order_relaxed) == 0 ||
      now - atomic_load_explicit(&w->iolast, memory_order_relaxed) >= IO_RECENT_NS) return;
  if (atomic_load_explicit(&s->w[owner].niowait, memory_order_relaxed) > 0 &&
      now - atomic_load_explicit(&s->w[owner].iolast, memory_order_relaxed) < IO_RECENT_NS) return;
  lng_netpoll_set_handoff(np, w->index, -1);
  lng_netpoll_break(np);
}

/* Polls without waiting, then spins briefly, then sleeps until woken or
   the earliest timer is due: in the poller if nobody else is, else on the
   condition variable.

   Unstarted goroutines on another worker that steal declined (too young,
   their spawner still starting them, or taking them would unbalance the
   two) get a few quick looks, a yield apart, then one look a nap
   (NAP_NS): a thief waits out at least a steal age anyway, and a spawn
   does not wake a napper (a futex call per spawn of a busy spawner). */
#define FRESH_LOOKS 32
#define NAP_NS 50000

void lng_worker_idle(worker *w) {
  lng_sched *s = w->s;
  lng_netpoll *np = active_netpoll(s);
  if (np && lng_netpoll_poll(np, 0, w->index) >= 0 && w->runq.head) return;
  int rounds = np ? NET_SPIN_ROUNDS : SPIN_ROUNDS;
  if (w->looks >= FRESH_LOOKS && fresh_elsewhere(w)) rounds = 0;
  for (int i = 0; i < rounds; i++) {
    if (has_work(w) || timer_due(s)) return;
    if (np) {
      /* With fds to poll the spin pauses instead of yielding its CPU: on
         a loaded machine sched_yield hands the CPU to other processes for
         whole time slices (p99 of a 16-connection HTTP load at 1 worker:
         about 190 ms with sched_yield, 17 ms without), and the reply this
         worker waits for would wait with it. It does not poll either:
         the poll it goes to next returns at once if an event is there,
         and every poll is a system call. */
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else if (i & 7) {
      sched_yield();
    }
    if (i > 0 && fresh_elsewhere(w)) {
      w->looks++;
      return;
    }
  }
  pthread_mutex_lock(&w->mu);
  atomic_store(&w->sleeping, 1);
  int64_t until = INT64_MAX;
  while (!has_work(w) && !timer_due(s)) {
    /* (the look after the flag's store: a spawner stores the count, then
       reads the flag, so one of the two sees the other) */
    if (until == INT64_MAX) {
      if (fresh_elsewhere(w)) {
        until = lng_now_ns() + NAP_NS;
        atomic_store(&w->sleeping, 2);
      } else {
        w->looks = 0;
      }
    } else if (lng_now_ns() >= until) {
      break;
    }
    if ((np = active_netpoll(s))) {
      if (may_poll(w, np)) {
        if (poll_sleep(w, np, until)) break;
        continue;
      }
      ask_handoff(w, np);
    }
    int64_t next = atomic_load(&s->timers.next);
    if (until < next) next = until;
    if (next == INT64_MAX) {
      pthread_cond_wait(&w->cv, &w->mu);
    } else {
      struct timespec ts = lng_timespec_ns(next);
      pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
  }
  atomic_store(&w->sleeping, 0);
  pthread_mutex_unlock(&w->mu);
  /* a poll left to w that w did not take: withdrawn, and whoever sleeps
     may poll again */
  if ((np = atomic_load(&s->np)) && lng_netpoll_handoff(np) == w->index) {
    lng_netpoll_set_handoff(np, -1, w->index);
    lng_sched_netpoll_started(s);
  }
}

int lng_sched_timer_add(lng_sched *s, lng_timer *t) {
  int64_t before = atomic_load(&s->timers.next);
  int64_t due = t->due;            /* once added, t may fire and be freed elsewhere */
  if (lng_timers_add(&s->timers, t) != 0) return -1;
  /* An earlier deadline than the sleepers know of: one of them re-arms. */
  if (due < before) {
    for (int i = 0; i < s->n; i++)
      if (atomic_load(&s->w[i].sleeping)) { lng_worker_wake(&s->w[i]); break; }
  }
  return 0;
}

int lng_sched_timer_del(lng_sched *s, lng_timer *t) {
  return lng_timers_del(&s->timers, t);
}

/* ---- the poller ---- */

lng_netpoll *lng_sched_netpoll(lng_sched *s) {
  lng_netpoll *np = atomic_load_explicit(&s->np, memory_order_acquire);
  if (np) return np;
  pthread_mutex_lock(&s->npmu);
  if (!(np = atomic_load(&s->np)) && (np = lng_netpoll_new(s))) atomic_store(&s->np, np);
  pthread_mutex_unlock(&s->npmu);
  return np;
}

/* A sleeper on its condition variable takes up polling, if nobody polls. */
void lng_sched_netpoll_started(lng_sched *s) {
  lng_netpoll *np = atomic_load(&s->np);
  if (!np || lng_netpoll_polling(np)) return;
  for (int i = 0; i < s->n; i++)
    if (atomic_load(&s->w[i].sleeping)) { lng_worker_wake(&s->w[i]); break; }
}
