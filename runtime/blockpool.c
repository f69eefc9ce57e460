/*
 * The pool of blocking-call threads; see blockpool.h. One mutex guards
 * every lane's queue and threads; it is a leaf except that a completion
 * releases it before waking the goroutine (a worker's mutex).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "blockpool.h"
#include "cond.h"

#define MAXTHREADS 16          /* per lane, at most; lane_max says how many */
#define IDLE_SECONDS 5.0       /* a thread with nothing to do for this long leaves (default) */

/* A slow DNS server must not hold up the rest, and a few lookups at once
   is what a resolver serves well; waits on the outside world can be many
   (each stdin reader, child and pipe holds a thread until the netpoller
   takes pipes and pidfds over). */
static const int lane_max[LNG_LANE_N] = { 4, 16, 4 };

enum { SLOT_FREE, SLOT_RUN, SLOT_EXITED };

typedef struct bthread {
  lng_bpool *p;
  int lane;
  int state;                   /* SLOT_* */
  pthread_t t;
  int efd;                     /* kicks lng_bjob_wait_fd: a cancel or the pool stopping */
} bthread;

struct lng_bpool {
  lng_sched *s;
  pthread_mutex_t mu;
  pthread_cond_t cv[LNG_LANE_N];       /* a lane's idle threads */
  lng_bjob *head[LNG_LANE_N], *tail[LNG_LANE_N];
  int qlen[LNG_LANE_N], idle[LNG_LANE_N], nthreads[LNG_LANE_N];
  bthread th[LNG_LANE_N][MAXTHREADS];
  atomic_int stopping;
  double idle_s;                       /* under mu */
};

lng_bpool *lng_bpool_new(lng_sched *s) {
  lng_bpool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->s = s;
  p->idle_s = IDLE_SECONDS;
  pthread_mutex_init(&p->mu, NULL);
  for (int l = 0; l < LNG_LANE_N; l++) {
    lng_cond_init_mono(&p->cv[l]);
    for (int i = 0; i < MAXTHREADS; i++) p->th[l][i] = (bthread){ .p = p, .lane = l, .efd = -1 };
  }
  return p;
}

void lng_bjob_init(lng_bjob *job) {
  atomic_init(&job->refs, 1);
  atomic_init(&job->cancelled, 0);
  job->next = NULL;
  job->pool = NULL;
  job->w = NULL;
  job->thr = NULL;
  job->done = 0;
}

void lng_bjob_unref(lng_bjob *job) {
  if (atomic_fetch_sub(&job->refs, 1) != 1) return;
  if (job->free) job->free(job);
  else free(job);
}

static void kick(bthread *t) {
  uint64_t one = 1;
  ssize_t n = write(t->efd, &one, sizeof one);
  (void)n;                     /* a full counter already kicks */
}

static void drain(int efd) {
  uint64_t v;
  ssize_t n = read(efd, &v, sizeof v);
  (void)n;
}

int lng_bjob_stopping(lng_bjob *job) {
  return atomic_load(&job->pool->stopping) || (job->abortable && atomic_load(&job->cancelled));
}

int lng_bjob_wait_fd(lng_bjob *job, int fd, short events, int timeout_ms) {
  bthread *t = job->thr;       /* set before run, by the thread running it */
  struct pollfd pf[2] = { { fd, events, 0 }, { t->efd, POLLIN, 0 } };
  for (;;) {
    if (lng_bjob_stopping(job)) return -1;
    int r = poll(pf, 2, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return 1;       /* the call that follows reports what is wrong */
    if (r == 0) return 0;
    if (pf[1].revents) {       /* a kick: maybe not for this job (a stale one) */
      drain(t->efd);
      if (!pf[0].revents) continue;
    }
    if (lng_bjob_stopping(job)) return -1;
    return 1;
  }
}

static lng_bjob *pop(lng_bpool *p, int lane) {
  lng_bjob *job = p->head[lane];
  if (job) {
    p->head[lane] = job->next;
    if (!p->head[lane]) p->tail[lane] = NULL;
    job->next = NULL;
    p->qlen[lane]--;
  }
  return job;
}

static void *thread_main(void *arg) {
  bthread *t = arg;
  lng_bpool *p = t->p;
  int lane = t->lane;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    int timedout = 0;
    while (!atomic_load(&p->stopping) && !p->head[lane] && !timedout) {
      struct timespec ts = lng_deadline(CLOCK_MONOTONIC, p->idle_s);
      p->idle[lane]++;
      timedout = pthread_cond_timedwait(&p->cv[lane], &p->mu, &ts) == ETIMEDOUT;
      p->idle[lane]--;
    }
    if (atomic_load(&p->stopping) || !p->head[lane]) break;
    lng_bjob *job = pop(p, lane);
    job->thr = t;
    pthread_mutex_unlock(&p->mu);
    drain(t->efd);             /* a kick meant for the job before */
    job->run(job);
    pthread_mutex_lock(&p->mu);
    job->done = 1;
    job->thr = NULL;
    lng_waiter *w = job->w;
    job->w = NULL;
    if (w) w->result = LNG_RES_OK;
    pthread_mutex_unlock(&p->mu);
    /* Woken before the hold goes: the goroutine is runnable again before
       the scheduler may find nobody who could wake anyone. A job whose
       waiter was cancelled (an interrupt) ends its hold unchecked: the
       aborter makes the goroutine runnable only after its cancel, which
       may be after this. */
    if (w) {
      lng_waiter_wake(w, -1);
      lng_sched_hold(p->s, -1);
    } else {
      lng_sched_unhold_nocheck(p->s);
    }
    lng_bjob_unref(job);
    pthread_mutex_lock(&p->mu);
  }
  /* The last touch of the pool: whoever joins this slot next (a new
     thread for it, or lng_bpool_free) waits only for the return. */
  t->state = SLOT_EXITED;
  p->nthreads[lane]--;
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* With the lock held: a slot of an exited thread joined, made free. */
static void reap(bthread *t) {
  pthread_join(t->t, NULL);
  close(t->efd);
  t->efd = -1;
  t->state = SLOT_FREE;
}

/* With the lock held: starts one more thread on the lane; 0 on success. */
static int spawn(lng_bpool *p, int lane) {
  bthread *t = NULL;
  for (int i = 0; i < lane_max[lane] && !t; i++)
    if (p->th[lane][i].state != SLOT_RUN) t = &p->th[lane][i];
  if (!t) return -1;
  if (t->state == SLOT_EXITED) reap(t);
  t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (t->efd < 0) return -1;
  /* Every signal blocked from its first instruction: SIGINT and SIGURG are
     the workers' and the host's, and SIGPIPE must become EPIPE. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pthread_create(&t->t, NULL, thread_main, t);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != 0) {
    close(t->efd);
    t->efd = -1;
    return -1;
  }
  t->state = SLOT_RUN;
  p->nthreads[lane]++;
  return 0;
}

int lng_bpool_submit(lng_bpool *p, lng_bjob *job, lng_waiter *w) {
  int lane = job->lane;
  pthread_mutex_lock(&p->mu);
  if (atomic_load(&p->stopping)) {
    pthread_mutex_unlock(&p->mu);
    return LNG_RES_CLOSED;
  }
  if (p->idle[lane] <= p->qlen[lane] && p->nthreads[lane] < lane_max[lane] &&
      spawn(p, lane) != 0 && p->nthreads[lane] == 0) {
    pthread_mutex_unlock(&p->mu);
    return LNG_RES_WOULDBLOCK;
  }
  job->pool = p;
  job->w = w;
  atomic_fetch_add(&job->refs, 1);          /* the pool's, until it has run */
  lng_sched_hold(p->s, 1);
  job->next = NULL;
  if (p->tail[lane]) p->tail[lane]->next = job; else p->head[lane] = job;
  p->tail[lane] = job;
  p->qlen[lane]++;
  pthread_cond_signal(&p->cv[lane]);
  pthread_mutex_unlock(&p->mu);
  return LNG_RES_PARKED;
}

int lng_bpool_cancel(void *obj, lng_waiter *w) {
  lng_bjob *job = obj;
  lng_bpool *p = job->pool;
  pthread_mutex_lock(&p->mu);
  int pending = !job->done && job->w == w;
  if (pending) {
    job->w = NULL;
    atomic_store(&job->cancelled, 1);
    if (job->thr && job->abortable) kick(job->thr);
  }
  pthread_mutex_unlock(&p->mu);
  return pending;
}

void lng_bpool_set_idle(lng_bpool *p, double seconds) {
  pthread_mutex_lock(&p->mu);
  p->idle_s = seconds;
  pthread_mutex_unlock(&p->mu);
}

int lng_bpool_threads(lng_bpool *p, int lane) {
  pthread_mutex_lock(&p->mu);
  int n = p->nthreads[lane];
  pthread_mutex_unlock(&p->mu);
  return n;
}

void lng_bpool_free(lng_bpool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->stopping, 1);
  for (int l = 0; l < LNG_LANE_N; l++) {
    pthread_cond_broadcast(&p->cv[l]);
    for (int i = 0; i < MAXTHREADS; i++)
      if (p->th[l][i].state == SLOT_RUN) kick(&p->th[l][i]);
  }
  /* Which slots have a thread to join, read under the lock (nothing
     starts any more). */
  int used[LNG_LANE_N][MAXTHREADS];
  for (int l = 0; l < LNG_LANE_N; l++)
    for (int i = 0; i < MAXTHREADS; i++) used[l][i] = p->th[l][i].state != SLOT_FREE;
  pthread_mutex_unlock(&p->mu);
  /* Joined without the lock: a running job finishes (its waits return at
     the kick) and takes the lock once more. */
  for (int l = 0; l < LNG_LANE_N; l++)
    for (int i = 0; i < MAXTHREADS; i++) {
      if (!used[l][i]) continue;
      pthread_join(p->th[l][i].t, NULL);
      close(p->th[l][i].efd);
    }
  /* Jobs never started: their goroutines are being dropped with the
     runtime; only the pool's references and holds go. */
  for (int l = 0; l < LNG_LANE_N; l++) {
    lng_bjob *job;
    while ((job = pop(p, l)) != NULL) {
      lng_sched_hold(p->s, -1);
      lng_bjob_unref(job);
    }
    pthread_cond_destroy(&p->cv[l]);
  }
  pthread_mutex_destroy(&p->mu);
  free(p);
}

/* ---- getaddrinfo on the DNS lane ---- */

static void gai_run(lng_bjob *job) {
  lng_gai_job *g = (lng_gai_job *)job;
  g->err = getaddrinfo(g->host, g->service, &g->hints, &g->res);
}

static void gai_free(lng_bjob *job) {
  lng_gai_job *g = (lng_gai_job *)job;
  if (g->res) freeaddrinfo(g->res);
  free(g->host);
  free(g->service);
  free(g);
}

lng_gai_job *lng_gai_job_new(const char *host, const char *service, const struct addrinfo *hints) {
  lng_gai_job *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->host = host ? strdup(host) : NULL;
  g->service = service ? strdup(service) : NULL;
  if ((host && !g->host) || (service && !g->service)) {
    free(g->host);
    free(g->service);
    free(g);
    return NULL;
  }
  if (hints) g->hints = *hints;
  g->job.run = gai_run;
  g->job.free = gai_free;
  g->job.lane = LNG_LANE_DNS;
  g->job.abortable = 0;
  lng_bjob_init(&g->job);
  return g;
}
