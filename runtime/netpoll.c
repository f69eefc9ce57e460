/*
 * The network poller; see netpoll.h for the model and sched_wake.c for
 * who polls when.
 *
 * Lifetimes. A pollfd record is never given back to malloc while its
 * poller lives: closed records go on a free list and are reused, so an
 * epoll event fetched before a close may still look at its record safely.
 * Its epoll data is the record's address with 16 bits of the record's
 * sequence number above it; the sequence is bumped at every open and
 * close, so such a stale event finds a mismatch and is dropped. A record
 * returns to the free list when its references are gone: the owner's
 * (until lng_pollfd_free) and one per armed deadline timer (a timer may
 * be firing while the owner closes). The poller itself is referenced by
 * the scheduler and by every record in use, so sockets still held when
 * the runtime is destroyed (a shard's last garbage) close safely; by then
 * the scheduler is gone (np->s NULL) and nothing is timed or counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "netpoll.h"
#include "sched_int.h"

/* ThreadSanitizer does not see that an event returned by epoll_wait was
   registered by epoll_ctl on another thread before: the registration
   publishes the record (release), the event consumes it (acquire). */
#if defined(__SANITIZE_THREAD__)
#define NP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NP_TSAN 1
#endif
#endif
#ifdef NP_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define PUBLISH(p) __tsan_release(p)
#define CONSUME(p) __tsan_acquire(p)
#else
#define PUBLISH(p) ((void)(p))
#define CONSUME(p) ((void)(p))
#endif

#define NEVENTS 128        /* events taken per epoll_wait */
#define PD_BLOCK 64        /* records allocated at once */
#define TAG_SHIFT 48       /* user-space addresses fit below (x86-64, arm64) */

struct lng_pollfd {
  lng_waitable wait;       /* the lock; q[dir]: operations waiting for the turn */
  lng_waitq ready[2];      /* operations waiting for the fd to be ready */
  lng_netpoll *np;
  lng_pollfd *nextfree;
  int fd;
  uint32_t seq;            /* the incarnation: bumped at open and close */
  int refs;                /* the owner's, and one per armed timer */
  int users;               /* turns held, and lng_pollfd_use calls */
  unsigned char busy[2];   /* the turn is held */
  unsigned char rdy[2];    /* an edge came that no wait has taken */
  unsigned char closing;   /* closed as the users see it */
  unsigned char fdclosed;  /* the fd itself is closed (or being closed) */
  lng_timer timer[2];      /* deadlines, per direction */
  int64_t armed[2];        /* the due its timer is pending for; 0: not pending */
};

typedef struct pdblock {
  struct pdblock *next;
  lng_pollfd pd[PD_BLOCK];
} pdblock;

struct lng_netpoll {
  lng_sched *s;            /* NULL once the scheduler is gone */
  int epfd, evfd;
  atomic_int refs;         /* the scheduler's, and one per record in use */
  atomic_int wakesig;      /* a break is written and not read yet */
  atomic_int owner;        /* 0, or 2 + the worker (1: another thread) that polls and may wait */
  atomic_int handoff;      /* 0, or 1 + the worker the owner is asked to leave the poll to */
  atomic_long nfds;        /* fds registered and not closed */
  atomic_llong lastpoll;
  atomic_int nopwait2;     /* epoll_pwait2 is missing (ENOSYS) */
  pthread_mutex_t mu;      /* the free list and the blocks */
  lng_pollfd *free;
  pdblock *blocks;
};

static void np_unref(lng_netpoll *np);

/* ---- the poller ---- */

lng_netpoll *lng_netpoll_new(lng_sched *s) {
  lng_netpoll *np = calloc(1, sizeof *np);
  if (!np) return NULL;
  np->s = s;
  np->epfd = epoll_create1(EPOLL_CLOEXEC);
  np->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (np->epfd < 0 || np->evfd < 0) goto fail;
  /* the eventfd's data is 0: no record lives at address 0 */
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
  if (epoll_ctl(np->epfd, EPOLL_CTL_ADD, np->evfd, &ev) != 0) goto fail;
  atomic_init(&np->refs, 1);
  atomic_init(&np->lastpoll, lng_now_ns());
  pthread_mutex_init(&np->mu, NULL);
  return np;
fail: {
    int e = errno;
    if (np->epfd >= 0) close(np->epfd);
    if (np->evfd >= 0) close(np->evfd);
    free(np);
    errno = e;
    return NULL;
  }
}

void lng_netpoll_stop(lng_netpoll *np) { np->s = NULL; }

void lng_netpoll_free(lng_netpoll *np) {
  if (np) np_unref(np);
}

static void np_unref(lng_netpoll *np) {
  if (atomic_fetch_sub(&np->refs, 1) != 1) return;
  for (pdblock *b = np->blocks, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  pthread_mutex_destroy(&np->mu);
  close(np->epfd);
  close(np->evfd);
  free(np);
}

int lng_netpoll_active(lng_netpoll *np) {
  return atomic_load_explicit(&np->nfds, memory_order_relaxed) > 0;
}

int64_t lng_netpoll_lastpoll(lng_netpoll *np) { return atomic_load(&np->lastpoll); }
int lng_netpoll_polling(lng_netpoll *np) { return atomic_load(&np->owner) != 0; }
int lng_netpoll_owner(lng_netpoll *np) { return atomic_load(&np->owner) - 2; }
int lng_netpoll_handoff(lng_netpoll *np) { return atomic_load(&np->handoff) - 1; }

void lng_netpoll_set_handoff(lng_netpoll *np, int worker, int expect) {
  int e = expect + 1;
  atomic_compare_exchange_strong(&np->handoff, &e, worker + 1);
}

void lng_netpoll_break(lng_netpoll *np) {
  int expect = 0;
  if (!atomic_compare_exchange_strong(&np->wakesig, &expect, 1)) return;   /* one is pending */
  uint64_t one = 1;
  while (write(np->evfd, &one, sizeof one) < 0 && errno == EINTR) {}
}

/* Counts goroutines parked here for deadlock detection: a goroutine
   waiting for the network may be woken by it. */
static void iowait_add(lng_netpoll *np, int delta) {
  if (np->s && delta) lng_sched_iowait(np->s, delta, 1);
}

/* And per worker, for the choice of who polls (sched_wake.c). */
static void worker_add(lng_netpoll *np, lng_waiter *w, int delta) {
  if (np->s && w->g && w->g->worker >= 0) lng_sched_iowait_worker(np->s, w->g->worker, delta);
}

/* Wakes a list of completed waits (lng_wakes_wake, counting each out of
   its worker before the wake: the waiter may be reused at once). Once
   the scheduler has stopped, the goroutines behind them are gone: nobody
   is woken. */
static void wake_list(lng_netpoll *np, lng_waitq *list, int self) {
  lng_waiter *w;
  while ((w = list->head) != NULL) {
    list->head = w->next;
    w->next = NULL;
    if (!np->s) continue;
    worker_add(np, w, -1);
    /* with the scheduler gone (a conn or a proc collected when the shards
       close), a goroutine's waiter belongs to a record freed with it */
    if (w->g && !np->s) continue;
    lng_waiter_wake(w, self);
  }
  list->tail = NULL;
}

/* ---- records ---- */

static lng_pollfd *pd_alloc(lng_netpoll *np) {
  pthread_mutex_lock(&np->mu);
  if (!np->free) {
    pdblock *b = calloc(1, sizeof *b);
    if (!b) {
      pthread_mutex_unlock(&np->mu);
      errno = ENOMEM;
      return NULL;
    }
    b->next = np->blocks;
    np->blocks = b;
    for (int i = PD_BLOCK - 1; i >= 0; i--) {
      lng_pollfd *pd = &b->pd[i];
      lng_waitable_init(&pd->wait);     /* the lock is made once, never again */
      pd->np = np;
      pd->fd = -1;
      pd->nextfree = np->free;
      np->free = pd;
    }
  }
  lng_pollfd *pd = np->free;
  np->free = pd->nextfree;
  pthread_mutex_unlock(&np->mu);
  return pd;
}

static void pd_recycle(lng_pollfd *pd) {
  lng_netpoll *np = pd->np;
  pthread_mutex_lock(&np->mu);
  pd->nextfree = np->free;
  np->free = pd;
  pthread_mutex_unlock(&np->mu);
  np_unref(np);
}

static void timer_fire(lng_timer *t, int self, int64_t now);

lng_pollfd *lng_pollfd_open(lng_netpoll *np, int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)) return NULL;
  lng_pollfd *pd = pd_alloc(np);
  if (!pd) return NULL;
  lng_waitable_lock(&pd->wait);
  pd->seq++;
  pd->fd = fd;
  pd->refs = 1;
  pd->users = 0;
  pd->busy[0] = pd->busy[1] = 0;
  pd->rdy[0] = pd->rdy[1] = 0;
  pd->closing = pd->fdclosed = 0;
  for (int d = 0; d < 2; d++) {
    pd->wait.q[d] = (lng_waitq){ NULL, NULL };
    pd->ready[d] = (lng_waitq){ NULL, NULL };
    pd->timer[d] = (lng_timer){ .idx = -1, .fire = timer_fire, .ud = pd };
    pd->armed[d] = 0;
  }
  uint32_t seq = pd->seq;
  lng_waitable_unlock(&pd->wait);
  atomic_fetch_add(&np->refs, 1);
  PUBLISH(pd);
  struct epoll_event ev = {
    .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
    .data.u64 = (uint64_t)(uintptr_t)pd | ((uint64_t)(seq & 0xffff) << TAG_SHIFT)
  };
  if (epoll_ctl(np->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int e = errno;
    lng_waitable_lock(&pd->wait);
    pd->seq++;
    pd->fd = -1;
    pd->closing = pd->fdclosed = 1;
    lng_waitable_unlock(&pd->wait);
    pd_recycle(pd);
    errno = e;
    return NULL;
  }
  atomic_fetch_add(&np->nfds, 1);
  /* A worker sleeping on its condition variable because nothing was
     registered must not sleep through this fd's events: one of them polls. */
  if (np->s) lng_sched_netpoll_started(np->s);
  return pd;
}

int lng_pollfd_fd(const lng_pollfd *pd) { return pd->fd; }

int lng_pollfd_closed(lng_pollfd *pd) {
  lng_waitable_lock(&pd->wait);
  int c = pd->closing;
  lng_waitable_unlock(&pd->wait);
  return c;
}

/* Closes the fd itself (its users gone); fdclosed was set under the lock. */
static void close_fd(lng_pollfd *pd, int fd) {
  lng_netpoll *np = pd->np;
  epoll_ctl(np->epfd, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  atomic_fetch_sub(&np->nfds, 1);
}

/* Drops a reference, with pd locked; returns 1 if it was the last (the
   caller recycles pd once unlocked). */
static int unref_locked(lng_pollfd *pd) {
  return --pd->refs == 0;
}

/* ---- deadlines ---- */

/* The earliest deadline among the waits of direction dir; 0: none. */
static int64_t earliest(lng_pollfd *pd, int dir) {
  int64_t e = 0;
  lng_waitq *qs[2] = { &pd->wait.q[dir], &pd->ready[dir] };
  for (int k = 0; k < 2; k++)
    for (lng_waiter *w = qs[k]->head; w; w = w->next) {
      int64_t d = ((lng_iowait *)w)->deadline;
      if (d && (!e || d < e)) e = d;
    }
  return e;
}

/* With pd locked: makes dir's timer fire by `due` at the latest. 0, or -1
   when the timer heap has no memory. */
static int arm(lng_pollfd *pd, int dir, int64_t due) {
  lng_sched *s = pd->np->s;
  if (!s) return 0;                    /* no scheduler: nothing runs any more */
  lng_timer *t = &pd->timer[dir];
  if (pd->armed[dir]) {
    if (pd->armed[dir] <= due) return 0;
    /* Pending for later: move it. Firing now: the firing re-arms from
       the queues, where the new wait already is. */
    if (!lng_sched_timer_del(s, t)) return 0;
  } else {
    pd->refs++;                        /* the timer's */
  }
  t->due = due;
  t->period = 0;
  if (lng_sched_timer_add(s, t) != 0) {
    pd->armed[dir] = 0;
    pd->refs--;                        /* (the owner's remains) */
    return -1;
  }
  pd->armed[dir] = due;
  return 0;
}

/* With pd locked: takes every wait of queue q whose deadline is <= now. */
static int expire(lng_waitq *q, int64_t now, lng_waitq *wakes) {
  int n = 0;
  for (lng_waiter *w = q->head, *next; w; w = next) {
    next = w->next;
    int64_t d = ((lng_iowait *)w)->deadline;
    if (d && d <= now) {
      lng_waitq_remove(q, w);
      w->result = LNG_RES_TIMEOUT;
      lng_wakes_add(wakes, w);
      n++;
    }
  }
  return n;
}

static void timer_fire(lng_timer *t, int self, int64_t now) {
  lng_pollfd *pd = t->ud;
  int dir = t == &pd->timer[LNG_POLL_WRITE];
  lng_waitq wakes = { NULL, NULL };
  int n = 0, last = 0;
  lng_waitable_lock(&pd->wait);
  pd->armed[dir] = 0;                  /* this firing holds the timer's reference */
  if (!pd->closing) {
    /* the timer fires at its due, maybe a little before `now` caught up */
    int64_t clock = lng_now_ns();
    if (clock > now) now = clock;
    n = expire(&pd->wait.q[dir], now, &wakes) + expire(&pd->ready[dir], now, &wakes);
    int64_t next = earliest(pd, dir);
    if (next) {                        /* the reference stays with the timer */
      t->due = next;
      t->period = 0;
      if (pd->np->s && lng_sched_timer_add(pd->np->s, t) == 0) pd->armed[dir] = next;
    }
  }
  if (!pd->armed[dir]) last = unref_locked(pd);
  lng_netpoll *np = pd->np;
  lng_waitable_unlock(&pd->wait);
  wake_list(np, &wakes, self);
  iowait_add(np, -n);
  if (last) pd_recycle(pd);
}

/* ---- waiting ---- */

/* With pd locked: queues iw on q for direction dir; PARKED, or TIMEOUT
   when its deadline has passed (or cannot be timed). */
static int enqueue(lng_pollfd *pd, lng_waitq *q, int dir, int turn, lng_iowait *iw) {
  if (iw->deadline && iw->deadline <= lng_now_ns()) return LNG_RES_TIMEOUT;
  iw->pd = pd;
  iw->dir = (unsigned char)dir;
  iw->turn = (unsigned char)turn;
  iw->w.result = LNG_RES_OK;
  iw->w.sel = NULL;
  lng_waitq_push(q, &iw->w, 1);
  if (iw->deadline && arm(pd, dir, iw->deadline) != 0) {
    /* without memory for the timer heap the deadline cannot be kept:
       the wait ends at once, as if it had run out */
    lng_waitq_remove(q, &iw->w);
    return LNG_RES_TIMEOUT;
  }
  iowait_add(pd->np, 1);
  worker_add(pd->np, &iw->w, 1);
  return LNG_RES_PARKED;
}

int lng_pollfd_acquire(lng_pollfd *pd, int dir, lng_iowait *iw) {
  int r;
  lng_waitable_lock(&pd->wait);
  if (pd->closing) {
    r = LNG_RES_CLOSED;
  } else if (!pd->busy[dir]) {
    pd->busy[dir] = 1;
    pd->users++;
    r = LNG_RES_OK;
  } else if (!iw) {
    r = LNG_RES_WOULDBLOCK;
  } else {
    r = enqueue(pd, &pd->wait.q[dir], dir, 1, iw);
  }
  lng_waitable_unlock(&pd->wait);
  return r;
}

void lng_pollfd_release(lng_pollfd *pd, int dir, int self) {
  int fd = -1;
  lng_waitable_lock(&pd->wait);
  /* hand the turn over: the user count goes with it (not once the
     scheduler has stopped: see lng_pollfd_close) */
  lng_netpoll *np = pd->np;
  lng_waiter *w = pd->closing || !np->s ? NULL : lng_waitq_take(&pd->wait.q[dir]);
  if (w) {
    w->result = LNG_RES_OK;
  } else {
    pd->busy[dir] = 0;
    if (--pd->users == 0 && pd->closing && !pd->fdclosed) {
      pd->fdclosed = 1;
      fd = pd->fd;
    }
  }
  lng_waitable_unlock(&pd->wait);
  if (fd >= 0) close_fd(pd, fd);
  if (w) {
    worker_add(np, w, -1);
    lng_waiter_wake(w, self);
    iowait_add(np, -1);
  }
}

int lng_pollfd_wait(lng_pollfd *pd, int dir, lng_iowait *iw) {
  int r;
  lng_waitable_lock(&pd->wait);
  if (pd->closing) {
    r = LNG_RES_CLOSED;
  } else if (pd->rdy[dir]) {
    pd->rdy[dir] = 0;
    r = LNG_RES_OK;
  } else if (!iw) {
    r = LNG_RES_WOULDBLOCK;
  } else {
    r = enqueue(pd, &pd->ready[dir], dir, 0, iw);
  }
  lng_waitable_unlock(&pd->wait);
  return r;
}

int lng_pollfd_cancel(lng_iowait *iw) {
  lng_pollfd *pd = iw->pd;
  lng_waitable_lock(&pd->wait);
  int was = iw->w.queued != 0;
  if (was) lng_waitq_remove(iw->turn ? &pd->wait.q[iw->dir] : &pd->ready[iw->dir], &iw->w);
  lng_netpoll *np = pd->np;
  lng_waitable_unlock(&pd->wait);
  if (was) worker_add(np, &iw->w, -1);
  /* No deadlock check here: the aborted goroutine is not runnable yet,
     and will be checked when it parks or ends. */
  if (was && np->s) lng_sched_iowait(np->s, -1, 0);
  return was;
}

int lng_pollfd_use(lng_pollfd *pd) {
  lng_waitable_lock(&pd->wait);
  int fd = pd->closing ? -1 : pd->fd;
  if (fd >= 0) pd->users++;
  lng_waitable_unlock(&pd->wait);
  return fd;
}

void lng_pollfd_unuse(lng_pollfd *pd) {
  int fd = -1;
  lng_waitable_lock(&pd->wait);
  if (--pd->users == 0 && pd->closing && !pd->fdclosed) {
    pd->fdclosed = 1;
    fd = pd->fd;
  }
  lng_waitable_unlock(&pd->wait);
  if (fd >= 0) close_fd(pd, fd);
}

void lng_pollfd_close(lng_pollfd *pd, int self) {
  lng_waitq wakes = { NULL, NULL };
  int n = 0, fd = -1;
  lng_waitable_lock(&pd->wait);
  if (pd->closing) {
    lng_waitable_unlock(&pd->wait);
    return;
  }
  pd->closing = 1;
  pd->seq++;                          /* events fetched before now are stale */
  lng_netpoll *np = pd->np;
  for (int d = 0; d < 2; d++) {
    lng_waiter *w;
    if (!np->s) {
      /* the scheduler has stopped: the waits queued belong to dropped
         goroutines, whose memory (a turn wait lives on a goroutine's
         stack) may be gone; forget them without a look */
      pd->wait.q[d] = pd->ready[d] = (lng_waitq){ NULL, NULL };
    }
    while ((w = lng_waitable_take(&pd->wait, d, LNG_RES_CLOSED))) { lng_wakes_add(&wakes, w); n++; }
    while ((w = lng_waitq_take(&pd->ready[d]))) {
      w->result = LNG_RES_CLOSED;
      lng_wakes_add(&wakes, w);
      n++;
    }
    /* a timer pending is taken back with its reference; one firing
       now finds the record closed and lets go of its own; with the
       scheduler gone, its heap was dropped without firing */
    if (pd->armed[d] && (!np->s || lng_sched_timer_del(np->s, &pd->timer[d]))) {
      pd->armed[d] = 0;
      unref_locked(pd);               /* (never the last: the owner's remains) */
    }
  }
  if (pd->users == 0) {
    pd->fdclosed = 1;
    fd = pd->fd;
  }
  lng_waitable_unlock(&pd->wait);
  if (fd >= 0) close_fd(pd, fd);
  wake_list(np, &wakes, self);
  iowait_add(np, -n);
}

void lng_pollfd_free(lng_pollfd *pd) {
  lng_pollfd_close(pd, -1);
  lng_waitable_lock(&pd->wait);
  int last = unref_locked(pd);
  lng_waitable_unlock(&pd->wait);
  if (last) pd_recycle(pd);
}

/* ---- polling ---- */

/* Wakes what one event makes ready; returns how many. */
static int deliver(struct epoll_event *ev, int self) {
  lng_pollfd *pd = (lng_pollfd *)(uintptr_t)(ev->data.u64 & (((uint64_t)1 << TAG_SHIFT) - 1));
  uint32_t tag = (uint32_t)(ev->data.u64 >> TAG_SHIFT);
  uint32_t e = ev->events;
  int dirs[2] = {
    (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0,
    (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0
  };
  lng_waitq wakes = { NULL, NULL };
  int n = 0;
  CONSUME(pd);
  lng_waitable_lock(&pd->wait);
  if ((pd->seq & 0xffff) == tag && !pd->closing) {
    for (int d = 0; d < 2; d++) {
      if (!dirs[d]) continue;
      lng_waiter *w;
      if (!pd->ready[d].head) pd->rdy[d] = 1;
      while ((w = lng_waitq_take(&pd->ready[d]))) {
        w->result = LNG_RES_OK;
        lng_wakes_add(&wakes, w);
        n++;
      }
    }
  }
  lng_netpoll *np = pd->np;
  lng_waitable_unlock(&pd->wait);
  wake_list(np, &wakes, self);
  return n;
}

static int epwait(lng_netpoll *np, struct epoll_event *evs, int64_t timeout_ns) {
  if (timeout_ns > 0 && !atomic_load_explicit(&np->nopwait2, memory_order_relaxed)) {
    struct timespec ts = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };
    int r = epoll_pwait2(np->epfd, evs, NEVENTS, &ts, NULL);
    if (r >= 0 || errno != ENOSYS) return r;
    atomic_store(&np->nopwait2, 1);
  }
  int ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);   /* rounded up: never early */
  if (timeout_ns > (int64_t)1000000 * 1000000) ms = 1000000000;
  return epoll_wait(np->epfd, evs, NEVENTS, ms);
}

/* A poll that may wait needs to be the owner, and only the owner reads
   the eventfd: a break is meant for the one that waits. Polls that do
   not wait run alongside (epoll is thread-safe, and an edge is reported
   to one of them); one that finds the eventfd leaves it to the owner (it
   is level-triggered, so the owner sees it too). A worker goes to sleep
   on its condition variable only while another owns the poll, so that
   a poll that does not wait never sends anyone to sleep while nobody
   polls. */
int lng_netpoll_poll(lng_netpoll *np, int64_t timeout_ns, int self) {
  int owner = timeout_ns != 0;
  if (owner) {
    int expect = 0;
    if (!atomic_compare_exchange_strong(&np->owner, &expect, self + 2)) return -1;
    expect = self + 1;                /* a handoff to this worker is done */
    if (self >= 0) atomic_compare_exchange_strong(&np->handoff, &expect, 0);
  }
  struct epoll_event evs[NEVENTS];
  int woken = 0;
  int r = epwait(np, evs, timeout_ns);
  for (int i = 0; i < r; i++) {
    if (evs[i].data.u64 == 0) {       /* the eventfd: a break */
      if (!owner) continue;
      uint64_t v;
      while (read(np->evfd, &v, sizeof v) < 0 && errno == EINTR) {}
      atomic_store(&np->wakesig, 0);
      continue;
    }
    woken += deliver(&evs[i], self);
  }
  atomic_store(&np->lastpoll, lng_now_ns());
  if (owner) atomic_store(&np->owner, 0);
  iowait_add(np, -woken);
  return woken;
}
