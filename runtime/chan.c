/*
 * Channel operations; see chan.h. Wakes happen after the channel's lock is
 * released (waitable.h).
 */
#include <stdlib.h>
#include <string.h>
#include "chan.h"
#include "objtrack.h"

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
  lng_waitable_init(&c->wait);
  lng_obj_init(&c->obj, LNG_OBJ_CHAN, chan_destroy);
  return c;
}

static lng_msg *slot_at(lng_chan *c, size_t i) { return &c->buf[(c->head + i) % c->cap]; }

/* What the cycle tracker (objtrack.h) asks of a channel: its buffer. */
static void chan_each(lng_obj *o, lng_track_visit visit, void *ud) {
  lng_chan *c = (lng_chan *)o;
  lng_waitable_lock(&c->wait);
  for (size_t i = 0; i < c->len; i++) {
    lng_msg *m = slot_at(c, i);
    for (uint32_t j = 0; j < lng_msg_nrefs(m); j++)
      if (lng_msg_ref(m, j)) visit(lng_msg_ref(m, j), ud);
  }
  lng_waitable_unlock(&c->wait);
}

static void chan_clear(lng_obj *o) {
  lng_chan *c = (lng_chan *)o;
  lng_waitable_lock(&c->wait);
  size_t n = c->len;
  lng_msg *out = n ? malloc(n * sizeof *out) : NULL;
  if (out) {
    for (size_t i = 0; i < n; i++) lng_msg_move(&out[i], slot_at(c, i));
    c->len = 0;
    c->head = 0;
  }
  lng_waitable_unlock(&c->wait);
  if (!out) return;
  for (size_t i = 0; i < n; i++) lng_msg_free(&out[i]);   /* (may free other objects: unlocked) */
  free(out);
}

static const lng_trackops chan_ops = { chan_each, chan_clear };

/* Into the buffer: a message naming objects makes the channel a possible
   member of a cycle. */
static void store(lng_chan *c, lng_msg *m) {
  if (lng_msg_nrefs(m) && lng_objtrack_needed(&c->obj)) lng_objtrack_note(&c->obj, &chan_ops);
  lng_msg_move(slot_at(c, c->len), m);
  c->len++;
}

/* With c locked: completes a send now if it can. A receiver taken off the
   queue is returned in *wake, to be woken once the lock is released. */
int lng_chan_send_locked(lng_chan *c, lng_msg *m, lng_waiter **wake) {
  *wake = NULL;
  if (c->closed) return LNG_RES_CLOSED;
  lng_waiter *r = lng_waitable_take(&c->wait, LNG_WQ_RECV, LNG_RES_OK);
  if (r) {                                   /* a receiver waits: hand over directly */
    lng_msg_move(r->slot, m);
    *wake = r;
    return LNG_RES_OK;
  }
  if (c->len < c->cap) {
    store(c, m);
    return LNG_RES_OK;
  }
  return LNG_RES_WOULDBLOCK;
}

int lng_chan_recv_locked(lng_chan *c, lng_msg *out, lng_waiter **wake) {
  *wake = NULL;
  if (c->len > 0) {
    lng_msg_move(out, slot_at(c, 0));
    c->head = (c->head + 1) % c->cap;
    c->len--;
    /* A sender blocked on the full buffer moves its value into the freed slot. */
    lng_waiter *s = lng_waitable_take(&c->wait, LNG_WQ_SEND, LNG_RES_OK);
    if (s) {
      store(c, s->slot);
      *wake = s;
    }
    return LNG_RES_OK;
  }
  lng_waiter *s = lng_waitable_take(&c->wait, LNG_WQ_SEND, LNG_RES_OK);
  if (s) {                                   /* unbuffered: take from the sender */
    lng_msg_move(out, s->slot);
    *wake = s;
    return LNG_RES_OK;
  }
  return c->closed ? LNG_RES_CLOSED : LNG_RES_WOULDBLOCK;
}

int lng_chan_send(lng_chan *c, lng_msg *m, lng_waiter *w, int self) {
  lng_waiter *wake;
  lng_waitable_lock(&c->wait);
  int r = lng_chan_send_locked(c, m, &wake);
  if (r == LNG_RES_WOULDBLOCK && w) {
    if (w->slot != m) lng_msg_move(w->slot, m);
    r = lng_waitable_block(&c->wait, LNG_WQ_SEND, w);
  }
  lng_waitable_unlock(&c->wait);
  if (wake) lng_waiter_wake(wake, self);
  return r;
}

int lng_chan_recv(lng_chan *c, lng_msg *out, lng_waiter *w, int self) {
  lng_waiter *wake;
  lng_waitable_lock(&c->wait);
  int r = lng_chan_recv_locked(c, out, &wake);
  if (r == LNG_RES_WOULDBLOCK && w) {
    w->slot = out;
    r = lng_waitable_block(&c->wait, LNG_WQ_RECV, w);
  }
  lng_waitable_unlock(&c->wait);
  if (wake) lng_waiter_wake(wake, self);
  return r;
}

int lng_chan_close(lng_chan *c, int self) {
  lng_waitq woken = { NULL, NULL };
  lng_waitable_lock(&c->wait);
  if (c->closed) {
    lng_waitable_unlock(&c->wait);
    return LNG_RES_CLOSED;
  }
  c->closed = 1;
  lng_waitable_takeall(&c->wait, LNG_WQ_RECV, LNG_RES_CLOSED, &woken);
  lng_waitable_takeall(&c->wait, LNG_WQ_SEND, LNG_RES_CLOSED, &woken);
  lng_waitable_unlock(&c->wait);
  lng_wakes_wake(&woken, self);
  if (c->onclose) c->onclose(c, c->closeud);
  return LNG_RES_OK;
}

size_t lng_chan_len(lng_chan *c) {
  lng_waitable_lock(&c->wait);
  size_t n = c->len;
  lng_waitable_unlock(&c->wait);
  return n;
}

size_t lng_chan_cap(const lng_chan *c) { return c->cap; }

/* ---- plain C threads ---- */

static int send_op(lng_waitable *o, lng_waiter *w, void *m) {
  return lng_chan_send(lng_waitable_owner(o, lng_chan), m, w, -1);
}

static int recv_op(lng_waitable *o, lng_waiter *w, void *out) {
  return lng_chan_recv(lng_waitable_owner(o, lng_chan), out, w, -1);
}

/* The value waits in `held`, the waiter's slot, while the send is queued;
   it comes back to *m unless it was sent. */
int lng_chan_send_wait(lng_chan *c, lng_msg *m, double timeout) {
  lng_msg held;
  lng_waiter w = {0};
  lng_msg_init(&held);
  lng_msg_move(&held, m);
  w.slot = &held;
  int r = lng_waitable_cwait(&c->wait, &w, timeout, send_op, &held);
  if (r != LNG_RES_OK) lng_msg_move(m, &held);
  return r;
}

int lng_chan_recv_wait(lng_chan *c, lng_msg *out, double timeout) {
  lng_waiter w = {0};
  w.slot = out;
  return lng_waitable_cwait(&c->wait, &w, timeout, recv_op, out);
}
