/*
 * Channel operations; see chan.h.
 *
 * Wakes happen after the channel's lock is released: a completed waiter is
 * already off every queue and its result written, and the goroutine behind
 * it cannot run before lng_sched_ready puts it on a queue, so the waker may
 * finish the hand-off at leisure without holding up other channel users.
 */
#include <stdlib.h>
#include "chan.h"

static void chan_destroy(lng_obj *o) {
  lng_chan *c = (lng_chan *)o;
  for (size_t i = 0; i < c->len; i++) lng_msg_free(&c->buf[(c->head + i) % c->cap]);
  free(c->buf);
  free(c);
}

lng_chan *lng_chan_new(size_t cap) {
  lng_chan *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  if (cap > 0) {
    c->buf = calloc(cap, sizeof *c->buf);
    if (!c->buf) { free(c); return NULL; }
  }
  c->cap = cap;
  lng_lock_init(&c->mu);
  lng_obj_init(&c->obj, LNG_OBJ_CHAN, chan_destroy);
  return c;
}

static lng_msg *slot_at(lng_chan *c, size_t i) { return &c->buf[(c->head + i) % c->cap]; }

/* With c locked: completes a send now if it can. A receiver taken off the
   queue is returned in *wake, to be woken once the lock is released. */
int lng_chan_send_locked(lng_chan *c, lng_msg *m, lng_waiter **wake) {
  *wake = NULL;
  if (c->closed) return LNG_CHAN_CLOSED;
  lng_waiter *r = lng_waitq_take(&c->recvq);
  if (r) {                                   /* a receiver waits: hand over directly */
    lng_msg_move(r->slot, m);
    r->result = LNG_WAIT_OK;
    *wake = r;
    return LNG_CHAN_OK;
  }
  if (c->len < c->cap) {
    lng_msg_move(slot_at(c, c->len), m);
    c->len++;
    return LNG_CHAN_OK;
  }
  return LNG_CHAN_WOULDBLOCK;
}

int lng_chan_recv_locked(lng_chan *c, lng_msg *out, lng_waiter **wake) {
  *wake = NULL;
  if (c->len > 0) {
    lng_msg_move(out, slot_at(c, 0));
    c->head = (c->head + 1) % c->cap;
    c->len--;
    /* A sender blocked on the full buffer moves its value into the freed slot. */
    lng_waiter *s = lng_waitq_take(&c->sendq);
    if (s) {
      lng_msg_move(slot_at(c, c->len), s->slot);
      c->len++;
      s->result = LNG_WAIT_OK;
      *wake = s;
    }
    return LNG_CHAN_OK;
  }
  lng_waiter *s = lng_waitq_take(&c->sendq);
  if (s) {                                   /* unbuffered: take from the sender */
    lng_msg_move(out, s->slot);
    s->result = LNG_WAIT_OK;
    *wake = s;
    return LNG_CHAN_OK;
  }
  return c->closed ? LNG_CHAN_CLOSED : LNG_CHAN_WOULDBLOCK;
}

int lng_chan_send(lng_chan *c, lng_msg *m, lng_waiter *w, int self) {
  lng_waiter *wake;
  lng_lock_acquire(&c->mu);
  int r = lng_chan_send_locked(c, m, &wake);
  if (r == LNG_CHAN_WOULDBLOCK && w) {
    if (w->slot != m) lng_msg_move(w->slot, m);
    lng_waitq_push(&c->sendq, w);
    r = LNG_CHAN_PARKED;
  }
  lng_lock_release(&c->mu);
  if (wake) lng_waiter_wake(wake, self);
  return r;
}

int lng_chan_recv(lng_chan *c, lng_msg *out, lng_waiter *w, int self) {
  lng_waiter *wake;
  lng_lock_acquire(&c->mu);
  int r = lng_chan_recv_locked(c, out, &wake);
  if (r == LNG_CHAN_WOULDBLOCK && w) {
    w->slot = out;
    lng_waitq_push(&c->recvq, w);
    r = LNG_CHAN_PARKED;
  }
  lng_lock_release(&c->mu);
  if (wake) lng_waiter_wake(wake, self);
  return r;
}

int lng_chan_close(lng_chan *c, int self) {
  lng_lock_acquire(&c->mu);
  if (c->closed) {
    lng_lock_release(&c->mu);
    return LNG_CHAN_CLOSED;
  }
  c->closed = 1;
  /* Collect the claimed waiters through their next links (they are off
     every queue: `queued` stays 0, so a canceller leaves them alone) and
     wake them once the lock is released. */
  lng_waiter *woken = NULL, **tail = &woken, *w;
  while ((w = lng_waitq_take(&c->recvq)) || (w = lng_waitq_take(&c->sendq))) {
    w->result = LNG_WAIT_CLOSED;
    *tail = w;
    tail = &w->next;
  }
  *tail = NULL;
  lng_lock_release(&c->mu);
  while ((w = woken)) {
    woken = w->next;
    w->next = NULL;
    lng_waiter_wake(w, self);
  }
  if (c->onclose) c->onclose(c, c->closeud);
  return LNG_CHAN_OK;
}

int lng_chan_cancel(lng_chan *c, lng_waiter *w, int send) {
  lng_lock_acquire(&c->mu);
  int was = w->queued;
  if (was) lng_waitq_remove(send ? &c->sendq : &c->recvq, w);
  lng_lock_release(&c->mu);
  return was;
}

size_t lng_chan_len(lng_chan *c) {
  lng_lock_acquire(&c->mu);
  size_t n = c->len;
  lng_lock_release(&c->mu);
  return n;
}

size_t lng_chan_cap(const lng_chan *c) { return c->cap; }
