/*
 * The preemption monitor; see sched_int.h.
 *
 * Goroutines are cooperative, but one that computes for long must not
 * hold its worker while others wait: every 10 ms a monitor thread looks
 * for a worker still running the goroutine it ran last time, with work
 * waiting, and asks the VM to preempt it (a yield at the next Lua
 * instruction). With no goroutine running it sleeps, so an idle runtime
 * costs nothing.
 *
 * Like Go's sysmon it also polls the network (without waiting) when no
 * worker has for POLL_SECONDS: workers busy with long computations would
 * otherwise leave I/O waiters of other workers asleep.
 */
#include "sched_int.h"
#include "cond.h"

#define PREEMPT_SECONDS 0.01
#define POLL_NS 10000000

void lng_monitor_wake(lng_sched *s) { lng_cond_signal(&s->monmu, &s->moncv); }

static int nbusy(lng_sched *s) {
  int n = 0;
  for (int i = 0; i < s->n; i++) n += atomic_load(&s->w[i].busy);
  return n;
}

void *lng_monitor_main(void *arg) {
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
    struct timespec ts = lng_deadline(CLOCK_MONOTONIC, PREEMPT_SECONDS);
    pthread_cond_timedwait(&s->moncv, &s->monmu, &ts);
    if (atomic_load(&s->stopping)) break;
    lng_netpoll *np = active_netpoll(s);
    if (np && lng_now_ns() - lng_netpoll_lastpoll(np) > POLL_NS) lng_netpoll_poll(np, 0, -1);
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
