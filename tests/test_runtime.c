/*
 * Unit tests of runtime/ alone: messages and big message buffers. Channels
 * used from plain C threads are in test_runtime_chan.c, the scheduler in
 * test_runtime_sched.c.
 */
#include "rt_util.h"

/* ------------------------------------------------------------------ */
/* messages                                                            */

/* The channels' short lock excludes: plain increments under it from
   several threads add up exactly (and TSan sees no race). */
typedef struct lockctr { lng_lock l; long n; } lockctr;

static void *lock_adder(void *arg) {
  lockctr *c = arg;
  for (int i = 0; i < 100000; i++) {
    lng_lock_acquire(&c->l);
    c->n++;
    lng_lock_release(&c->l);
  }
  return NULL;
}

Test(rt_lock, excludes, .timeout = 60) {
  lockctr c;
  lng_lock_init(&c.l);
  c.n = 0;
  pthread_t t[4];
  for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&t[i], NULL, lock_adder, &c), 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  cr_assert_eq(c.n, 400000);
}

Test(rt_msg, inline_heap_and_move, .timeout = 60) {
  lng_msg m, d;
  msg_int(&m, 42);
  cr_assert_eq(m.ext, 0, "an integer fits inline");
  cr_assert_eq(msg_val(&m), 42);
  unsigned char big[1000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 7);
  for (size_t off = 0; off < sizeof big; off += 100)
    cr_assert_eq(lng_msg_append(&m, big + off, 100), 0);
  cr_assert_eq(m.ext, 1);
  cr_assert_eq(m.len, 8 + sizeof big);
  cr_assert_geq(m.u.x.cap, m.len);
  int64_t v;
  memcpy(&v, lng_msg_bytes(&m), 8);
  cr_assert_eq(v, 42, "the inline bytes survive the move to the heap");
  cr_assert_eq(memcmp(m.u.x.bytes + 8, big, sizeof big), 0);
  lng_msg_move(&d, &m);
  cr_assert_eq(m.len, 0);
  cr_assert_eq(m.ext, 0);
  cr_assert_eq(d.len, 8 + sizeof big);
  cr_assert_eq(d.ext, 1);
  /* (through u.x: gcc -O1 cannot see that the inline bytes are not meant) */
  cr_assert_eq(memcmp(d.u.x.bytes + 8, big, sizeof big), 0);
  lng_msg_free(&d);
  cr_assert_eq(d.len, 0);
  cr_assert_eq(lng_msg_nrefs(&d), 0);
  /* reusable after free */
  cr_assert_eq(lng_msg_append(&d, "ab", 2), 0);
  cr_assert_eq(memcmp(lng_msg_bytes(&d), "ab", 2), 0);
  lng_msg_free(&d);
  lng_msg_free(&m);
}

Test(rt_msg, refs_released_by_free, .timeout = 60) {
  atomic_int destroyed = 0;
  tobj *o = tobj_new(&destroyed);
  lng_msg m;
  msg_int(&m, 1);
  cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 0);
  cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 1);
  for (int i = 0; i < 10; i++)   /* grows the ref array past its first size */
    cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 2 + i);
  cr_assert_eq(refs_of(&o->obj), 13);
  cr_assert_eq(lng_msg_nrefs(&m), 12);
  lng_msg_free(&m);
  cr_assert_eq(refs_of(&o->obj), 1, "lng_msg_free drops every reference it held");
  cr_assert_eq(atomic_load(&destroyed), 0);
  cr_assert_eq(lng_msg_nrefs(&m), 0);
  /* the message takes over our last reference */
  cr_assert_eq(lng_msg_addref(&m, &o->obj), 0);
  lng_msg m2;
  lng_msg_move(&m2, &m);
  lng_msg_free(&m);            /* empty: must not touch the object */
  cr_assert_eq(atomic_load(&destroyed), 0);
  lng_msg_free(&m2);
  cr_assert_eq(atomic_load(&destroyed), 1, "destroy runs once the last ref is gone");
}

/* A start message packed into a goroutine record: in its room when it
   fits, in one block of its own when not; references move with it. */
Test(rt_msg, pack_view_and_free, .timeout = 60) {
  atomic_int destroyed = 0;
  tobj *o = tobj_new(&destroyed);
  unsigned char big[300];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 13);
  size_t sizes[] = { 5, 30, LNG_PACK_ROOM - 2 * sizeof(lng_obj *), sizeof big };
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    for (int nrefs = 0; nrefs <= 2; nrefs++) {
      lng_msg m;
      lng_msg_init(&m);
      cr_assert_eq(lng_msg_append(&m, big, sizes[k]), 0);
      for (int r = 0; r < nrefs; r++) cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), r);
      lng_msgpack p;
      cr_assert_eq(lng_msgpack_set(&p, &m), 0);
      cr_assert_eq(m.len, 0, "the message is emptied");
      cr_assert_eq(lng_msg_nrefs(&m), 0);
      int fits = sizes[k] + (size_t)nrefs * sizeof(lng_obj *) <= LNG_PACK_ROOM;
      cr_assert_eq(p.out == NULL, fits, "size %zu, %d refs: in the room iff it fits", sizes[k], nrefs);
      cr_assert_eq(refs_of(&o->obj), 1 + nrefs, "the references moved, none taken or dropped");
      lng_msg view;
      lng_msgpack_view(&p, &view);
      cr_assert_eq(view.len, sizes[k]);
      cr_assert_eq(memcmp(lng_msg_cbytes(&view), big, sizes[k]), 0);
      cr_assert_eq(lng_msg_nrefs(&view), (uint32_t)nrefs);
      for (int r = 0; r < nrefs; r++) cr_assert_eq(lng_msg_ref(&view, (uint32_t)r), &o->obj);
      lng_msgpack_free(&p);
      cr_assert_eq(refs_of(&o->obj), 1);
    }
  }
  cr_assert_eq(atomic_load(&destroyed), 0);
  lng_obj_unref(&o->obj);
  cr_assert_eq(atomic_load(&destroyed), 1);
}

Test(rt_msg, chan_destroy_frees_buffered_messages, .timeout = 60) {
  atomic_int destroyed = 0;
  tobj *o = tobj_new(&destroyed);
  lng_chan *c = lng_chan_new(4);
  cr_assert_not_null(c);
  unsigned char pad[200];
  memset(pad, 0xab, sizeof pad);
  /* 4 sends, 2 receives, 2 sends: the ring wraps around its end */
  for (int i = 0; i < 4; i++) {
    lng_msg m;
    msg_int(&m, i);
    cr_assert_eq(lng_msg_append(&m, pad, sizeof pad), 0);   /* on the heap */
    cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 0);
    cr_assert_eq(lng_chan_send(c, &m, NULL, -1), LNG_RES_OK);
    cr_assert_eq(m.len, 0, "the value moved into the channel");
  }
  cr_assert_eq(refs_of(&o->obj), 5);
  for (int i = 0; i < 2; i++) {
    lng_msg m;
    lng_msg_init(&m);
    cr_assert_eq(lng_chan_recv(c, &m, NULL, -1), LNG_RES_OK);
    cr_assert_eq(lng_msg_nrefs(&m), 1);
    cr_assert_eq(lng_msg_ref(&m, 0), &o->obj);
    lng_msg_free(&m);
  }
  cr_assert_eq(refs_of(&o->obj), 3);
  for (int i = 0; i < 2; i++) {
    lng_msg m;
    msg_int(&m, 10 + i);
    cr_assert_eq(lng_msg_addref(&m, lng_obj_ref(&o->obj)), 0);
    cr_assert_eq(lng_chan_send(c, &m, NULL, -1), LNG_RES_OK);
  }
  cr_assert_eq(lng_chan_len(c), 4);
  cr_assert_eq(refs_of(&o->obj), 5);

  /* a channel travelling inside another channel's buffer */
  lng_chan *outer = lng_chan_new(1);
  lng_msg m;
  msg_int(&m, 7);
  cr_assert_eq(lng_msg_addref(&m, &c->obj), 0);   /* our ref to c moves into m */
  cr_assert_eq(lng_chan_send(outer, &m, NULL, -1), LNG_RES_OK);
  cr_assert_eq(refs_of(&c->obj), 1);
  lng_obj_unref(&outer->obj);    /* frees m, which frees c, which frees its 4 */
  cr_assert_eq(refs_of(&o->obj), 1, "destroying a channel frees its buffered messages");
  cr_assert_eq(atomic_load(&destroyed), 0);
  lng_obj_unref(&o->obj);
  cr_assert_eq(atomic_load(&destroyed), 1);
}

/* ------------------------------------------------------------------ */
/* big message buffers (bigbuf.h)                                      */

#include "../runtime/bigbuf.h"

#define MIB (1024 * 1024)

Test(rt_bigbuf, reused_by_its_pool, .timeout = 60) {
  lng_bigpool *p = lng_bigpool_new();
  cr_assert_not_null(p);
  lng_bigpool_bind(p);
  size_t cap;
  unsigned char *a = lng_bigbuf_alloc(MIB, &cap);
  cr_assert_not_null(a);
  cr_assert_eq(cap, MIB);
  memset(a, 0xab, MIB);
  lng_bigbuf_free(a);
  unsigned char *b = lng_bigbuf_alloc(MIB - 100, &cap);
  cr_assert_eq(b, a, "a kept buffer that fits is handed out again");
  cr_assert_eq(cap, MIB, "with its own size");
  lng_bigbuf_free(b);
  unsigned char *c = lng_bigbuf_alloc(100 * 1024, &cap);
  cr_assert_neq(c, a, "a buffer more than twice too big is not");
  cr_assert_eq(cap, 100 * 1024);
  unsigned char *d = lng_bigbuf_alloc(2 * MIB, &cap);
  cr_assert_neq(d, a, "nor one too small");
  lng_bigbuf_free(c);
  lng_bigbuf_free(d);
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
}

Test(rt_bigbuf, kept_in_bounds, .timeout = 60) {
  lng_bigpool *p = lng_bigpool_new();
  lng_bigpool_bind(p);
  void *bufs[LNG_BIGPOOL_KEEP + 2];
  size_t cap;
  int n = LNG_BIGPOOL_KEEP + 2;
  for (int i = 0; i < n; i++) cr_assert_not_null(bufs[i] = lng_bigbuf_alloc(LNG_BIGBUF_MIN, &cap));
  for (int i = 0; i < n; i++) lng_bigbuf_free(bufs[i]);
  /* the first LNG_BIGPOOL_KEEP were kept and come back (the other two
     went to malloc, which may hand their addresses out again) */
  int again = 0;
  void *more[LNG_BIGPOOL_KEEP + 2];
  for (int i = 0; i < n; i++) {
    more[i] = lng_bigbuf_alloc(LNG_BIGBUF_MIN, &cap);
    for (int j = 0; j < LNG_BIGPOOL_KEEP; j++) if (more[i] == bufs[j]) { again++; break; }
  }
  cr_assert_eq(again, LNG_BIGPOOL_KEEP);
  for (int i = 0; i < n; i++) lng_bigbuf_free(more[i]);
  /* and no more bytes than LNG_BIGPOOL_BYTES: a buffer that big is not kept */
  void *huge = lng_bigbuf_alloc(LNG_BIGPOOL_BYTES, &cap);
  cr_assert_not_null(huge);
  lng_bigbuf_free(huge);
  void *huge2 = lng_bigbuf_alloc(LNG_BIGPOOL_BYTES, &cap);
  lng_bigbuf_free(huge2);
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
}

static void *free_there(void *buf) {
  lng_bigbuf_free(buf);     /* this thread is bound to no pool */
  return NULL;
}

Test(rt_bigbuf, back_from_another_thread, .timeout = 60) {
  lng_bigpool *p = lng_bigpool_new();
  lng_bigpool_bind(p);
  size_t cap;
  void *a = lng_bigbuf_alloc(MIB, &cap);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, free_there, a), 0);
  pthread_join(t, NULL);
  void *b = lng_bigbuf_alloc(MIB, &cap);
  cr_assert_eq(b, a, "freed on another thread, it went back to its pool");
  lng_bigbuf_free(b);
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
}

Test(rt_bigbuf, outlives_its_owner, .timeout = 60) {
  /* a message still held (by a C thread, in a channel) after the runtime
     is gone: its buffer keeps the pool until it is freed (the leak
     checkers of the sanitizer and valgrind runs see the rest) */
  lng_bigpool *p = lng_bigpool_new();
  lng_bigpool_bind(p);
  size_t cap;
  void *kept = lng_bigbuf_alloc(MIB, &cap);
  void *out = lng_bigbuf_alloc(MIB, &cap);
  lng_bigbuf_free(kept);
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
  memset(out, 1, MIB);
  lng_bigbuf_free(out);
  void *plain = lng_bigbuf_alloc(MIB, &cap);   /* unbound: malloc's */
  cr_assert_not_null(plain);
  lng_bigbuf_free(plain);
}

Test(rt_msg, big_message_across_the_pool_threshold, .timeout = 60) {
  lng_bigpool *p = lng_bigpool_new();
  lng_bigpool_bind(p);
  static unsigned char chunk[4096];
  for (int round = 0; round < 3; round++) {
    lng_msg m;
    lng_msg_init(&m);
    /* grows from inline through malloc'd to pooled buffers */
    for (size_t i = 0; i < 3 * LNG_BIGBUF_MIN / sizeof chunk; i++) {
      memset(chunk, (int)(i & 0xff), sizeof chunk);
      cr_assert_eq(lng_msg_append(&m, chunk, sizeof chunk), 0);
    }
    cr_assert_geq(m.u.x.cap, m.len);
    for (size_t i = 0; i < m.len; i += sizeof chunk)
      cr_assert_eq(m.u.x.bytes[i], (unsigned char)((i / sizeof chunk) & 0xff), "byte %zu", i);
    lng_msg free_me;
    lng_msg_move(&free_me, &m);
    lng_msg_free(&free_me);
  }
  lng_bigpool_bind(NULL);
  lng_bigpool_release(p);
}

/* ------------------------------------------------------------------ */
/* mid-size message buffers (bufcache.h)                               */

#include "../runtime/bufcache.h"

Test(rt_bufcache, classes_fit_their_requests, .timeout = 60) {
  lng_bufdepot d;
  lng_bufdepot_init(&d);
  lng_bufcache c;
  lng_bufcache_bind(&c, &d);
  size_t cap;
  for (size_t n = 1; n <= 3 * LNG_BUF_MAX; n += (n < 600 ? 1 : 37)) {
    unsigned char *p = lng_buf_alloc(n, &cap);
    cr_assert_not_null(p);
    if (n < LNG_BUF_MIN || n > LNG_BUF_MAX)
      cr_assert_eq(cap, n, "outside the classes, exactly what was asked (%zu)", n);
    else {
      cr_assert_geq(cap, n);
      cr_assert_leq(2 * cap, 3 * n + 1, "at most half again as big (%zu: %zu)", n, cap);
    }
    memset(p, 0x5a, cap);     /* all of it is the caller's (ASan and valgrind check) */
    lng_buf_free(p, cap);
  }
  lng_bufcache_unbind();
  lng_bufdepot_free(&d);
}

Test(rt_bufcache, a_freed_buffer_comes_back, .timeout = 60) {
  lng_bufdepot d;
  lng_bufdepot_init(&d);
  lng_bufcache c;
  lng_bufcache_bind(&c, &d);
  size_t cap, cap2;
  void *a = lng_buf_alloc(1000, &cap);
  lng_buf_free(a, cap);
  void *b = lng_buf_alloc(900, &cap2);
  cr_assert_eq(b, a, "same class, same buffer");
  cr_assert_eq(cap2, cap);
  lng_buf_free(b, cap2);
  void *e = lng_buf_alloc(3000, &cap2);
  cr_assert_neq(e, a, "another class, another buffer");
  lng_buf_free(e, cap2);
  lng_bufcache_unbind();
  lng_bufdepot_free(&d);
}

/* One thread allocates, another frees: the one that frees fills its cache
   and spills into the depot, and the one that allocates refills from it. */
typedef struct handoff {
  lng_bufdepot *d;
  void **bufs;
  size_t cap;
  int n;
} handoff;

static void *free_all(void *arg) {
  handoff *h = arg;
  lng_bufcache c;
  lng_bufcache_bind(&c, h->d);
  for (int i = 0; i < h->n; i++) lng_buf_free(h->bufs[i], h->cap);
  lng_bufcache_unbind();     /* what it kept goes to the depot, or to free */
  return NULL;
}

Test(rt_bufcache, the_depot_carries_buffers_between_threads, .timeout = 60) {
  lng_bufdepot d;
  lng_bufdepot_init(&d);
  lng_bufcache c;
  lng_bufcache_bind(&c, &d);
  enum { N = 4 * LNG_BUF_LOCAL };
  void *bufs[N];
  size_t cap = 0;
  for (int i = 0; i < N; i++) cr_assert_not_null(bufs[i] = lng_buf_alloc(1024, &cap));
  cr_assert_eq(cap, 1024);
  handoff h = { &d, bufs, cap, N };
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, free_all, &h), 0);
  pthread_join(t, NULL);
  /* the class of 1 KiB is the fifth: 256, 384, 512, 768, 1024 */
  cr_assert_eq(d.cls[4].n, 2 * LNG_BUF_LOCAL, "the depot holds as many as it may");
  for (int i = 0; i < LNG_BUF_LOCAL / 2; i++) {
    void *p = lng_buf_alloc(1024, &cap);
    int known = 0;
    for (int j = 0; j < N; j++) known |= p == bufs[j];
    cr_assert(known, "a buffer the other thread freed");
    cr_assert_eq(d.cls[4].n, 2 * LNG_BUF_LOCAL - LNG_BUF_LOCAL / 2, "taken half a cache at once");
    bufs[i] = p;
  }
  for (int i = 0; i < LNG_BUF_LOCAL / 2; i++) lng_buf_free(bufs[i], cap);
  lng_bufcache_unbind();
  lng_bufdepot_free(&d);     /* the leak checkers see the rest */
}

Test(rt_bufcache, unbound_threads_use_malloc, .timeout = 60) {
  size_t cap;
  void *p = lng_buf_alloc(5000, &cap);
  cr_assert_not_null(p);
  cr_assert_geq(cap, 5000);
  memset(p, 1, cap);
  lng_buf_free(p, cap);
  p = malloc(700);           /* any malloc'd block may be given back */
  lng_bufdepot d;
  lng_bufdepot_init(&d);
  lng_bufcache c;
  lng_bufcache_bind(&c, &d);
  lng_buf_free(p, 700);
  void *q = lng_buf_alloc(512, &cap);
  cr_assert_eq(q, p, "kept in the biggest class it can serve");
  cr_assert_eq(cap, 512);
  lng_buf_free(q, cap);
  lng_bufcache_unbind();
  lng_bufdepot_free(&d);
}

Test(rt_msg, growing_through_the_classes, .timeout = 60) {
  lng_bufdepot d;
  lng_bufdepot_init(&d);
  lng_bufcache c;
  lng_bufcache_bind(&c, &d);
  for (int round = 0; round < 3; round++) {
    lng_msg m;
    lng_msg_init(&m);
    for (uint32_t i = 0; i < 3 * LNG_BUF_MAX; i++) {
      unsigned char b = (unsigned char)(i * 7 + round);
      cr_assert_eq(lng_msg_append(&m, &b, 1), 0);
    }
    for (uint32_t i = 0; i < m.len; i++)
      cr_assert_eq(m.u.x.bytes[i], (unsigned char)(i * 7 + round), "byte %u", i);
    lng_msg_free(&m);
  }
  lng_bufcache_unbind();
  lng_bufdepot_free(&d);
}

/* ------------------------------------------------------------------ */
/* cycles among containers (objtrack.h)                                */

#include "../runtime/objtrack.h"

/* A container of the test's: it holds references to up to four objects,
   as a channel's buffered messages would. */
typedef struct box {
  lng_obj obj;
  lng_obj *held[4];
  int n;
  int *freed;
} box;

static void box_each(lng_obj *o, lng_track_visit visit, void *ud) {
  box *b = (box *)o;
  for (int i = 0; i < b->n; i++) visit(b->held[i], ud);
}

static void box_clear(lng_obj *o) {
  box *b = (box *)o;
  int n = b->n;
  b->n = 0;
  for (int i = 0; i < n; i++) lng_obj_unref(b->held[i]);
}

static const lng_trackops box_ops = { box_each, box_clear };

static void box_destroy(lng_obj *o) {
  box *b = (box *)o;
  (*b->freed)++;
  for (int i = 0; i < b->n; i++) lng_obj_unref(b->held[i]);
  free(b);
}

static box *box_new(lng_objtrack *t, int *freed) {
  box *b = calloc(1, sizeof *b);
  lng_obj_init(&b->obj, LNG_OBJ_CHAN, box_destroy);
  b->obj.home = t;
  b->freed = freed;
  return b;
}

/* b stores a reference to o (taking one), noting itself as a channel does. */
static void box_put(box *b, lng_obj *o) {
  if (lng_objtrack_needed(&b->obj)) lng_objtrack_note(&b->obj, &box_ops);
  b->held[b->n++] = lng_obj_ref(o);
}

Test(rt_objtrack, cycles_are_broken_and_held_objects_kept, .timeout = 60) {
  lng_objtrack *t = lng_objtrack_new();
  cr_assert_not_null(t);
  int freed = 0;
  /* a <-> b, c -> c, d -> e -> d with d held here, a -> f -> plain (a
     chain hanging off a cycle) */
  box *a = box_new(t, &freed), *b = box_new(t, &freed), *c = box_new(t, &freed);
  box *d = box_new(t, &freed), *e = box_new(t, &freed), *f = box_new(t, &freed);
  box *plain = box_new(t, &freed);           /* holds nothing: never tracked */
  box_put(a, &b->obj);
  box_put(b, &a->obj);
  box_put(c, &c->obj);
  box_put(d, &e->obj);
  box_put(e, &d->obj);
  box_put(a, &f->obj);
  box_put(f, &plain->obj);
  cr_assert_null(atomic_load(&plain->obj.tnode));
  cr_assert_not_null(atomic_load(&a->obj.tnode));
  /* the program lets go of its own references, but for d */
  lng_obj_unref(&a->obj);
  lng_obj_unref(&b->obj);
  lng_obj_unref(&c->obj);
  lng_obj_unref(&e->obj);
  lng_obj_unref(&f->obj);
  lng_obj_unref(&plain->obj);
  cr_assert_eq(freed, 0, "reference counts alone free none of them");
  int emptied = lng_objtrack_sweep_release(t);
  cr_assert_eq(emptied, 4, "a, b, c and f were emptied (%d)", emptied);
  cr_assert_eq(freed, 5, "a, b, c, f and what f held were freed (%d)", freed);
  cr_assert_eq(d->n, 1, "d, held here, kept its contents");
  cr_assert_eq(e->n, 1, "and so did e, which d holds");
  /* d outlives the runtime (an embedder's channel): its tracker with it */
  box_clear(&d->obj);
  lng_obj_unref(&d->obj);
  cr_assert_eq(freed, 7, "d and e go once let go of (%d)", freed);
}

Test(rt_objtrack, a_freed_container_leaves_the_tracker, .timeout = 60) {
  lng_objtrack *t = lng_objtrack_new();
  int freed = 0;
  box *a = box_new(t, &freed), *x = box_new(t, &freed);
  box_put(a, &x->obj);
  lng_obj_unref(&x->obj);
  lng_obj_unref(&a->obj);                    /* no cycle: freed at once */
  cr_assert_eq(freed, 2);
  cr_assert_eq(lng_objtrack_sweep_release(t), 0, "nothing left to sweep");
}
