/*
 * go.atomic and go.dict; see dict.h. A stripe is an open-addressing table
 * with linear probing and backward-shift deletion (no tombstones, so a
 * table that sees many deletes stays as quick as a fresh one), kept at
 * most 3/4 full. An entry is 64 bytes: the key's hash, the key (a string
 * of up to 16 bytes inline, a longer one in a block of its own) and the
 * value (an integer, or a 32-byte message with up to 24 bytes inline).
 * Whatever may allocate or free much (growing a stripe, freeing an old
 * value, copying a value out) is done so that the stripe's lock is held
 * for a table operation and a small copy, never for a free of a big value.
 */
#include <stdlib.h>
#include <string.h>
#include "dict.h"
#include "objtrack.h"

struct lng_dentry {
  uint64_t hash;           /* 0: empty */
  uint8_t ktype, vint;     /* LNG_DKEY_*; the value is an integer */
  uint32_t klen;
  union { long long i; char s[LNG_DICT_KEYINLINE]; char *p; } k;
  union { lng_msg msg; long long i; } v;
};

/* ---- atomic ---- */

static void atomic_destroy(lng_obj *o) { free(o); }

lng_atomic *lng_atomic_new(long long v) {
  lng_atomic *a = malloc(sizeof *a);
  if (!a) return NULL;
  lng_obj_init(&a->obj, LNG_OBJ_ATOMIC, atomic_destroy);
  atomic_init(&a->v, v);
  return a;
}

/* ---- keys ---- */

static uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

static uint64_t keyhash(const lng_dkey *k) {
  uint64_t h;
  if (k->type != LNG_DKEY_STR) {
    h = mix((uint64_t)k->i * 2 + (uint64_t)k->type * 0x9e3779b97f4a7c15ull);
  } else {
    const unsigned char *p = (const unsigned char *)k->s;
    size_t n = k->len;
    h = 0x243f6a8885a308d3ull ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      h = (h ^ w) * 0x100000001b3ull * 0x9e3779b97f4a7c15ull;
      h ^= h >> 29;
      p += 8;
      n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = mix(h ^ w);
  }
  return h ? h : 1;
}

static const char *entkey(const lng_dentry *e) {
  return e->klen <= LNG_DICT_KEYINLINE ? e->k.s : e->k.p;
}

static int keyeq(const lng_dentry *e, uint64_t h, const lng_dkey *k) {
  if (e->hash != h || e->ktype != k->type) return 0;
  if (k->type != LNG_DKEY_STR) return e->k.i == k->i;
  return e->klen == k->len && memcmp(entkey(e), k->s, k->len) == 0;
}

/* Fills e's key from k: 0, or -1 when out of memory. */
static int setkey(lng_dentry *e, uint64_t h, const lng_dkey *k) {
  e->ktype = (uint8_t)k->type;
  if (k->type != LNG_DKEY_STR) {
    e->klen = 0;
    e->k.i = k->i;
  } else {
    if (k->len > UINT32_MAX) return -1;
    e->klen = (uint32_t)k->len;
    if (k->len <= LNG_DICT_KEYINLINE) {
      memcpy(e->k.s, k->s, k->len);
    } else {
      if (!(e->k.p = malloc(k->len))) return -1;
      memcpy(e->k.p, k->s, k->len);
    }
  }
  e->hash = h;
  return 0;
}

static void freekey(lng_dentry *e) {
  if (e->ktype == LNG_DKEY_STR && e->klen > LNG_DICT_KEYINLINE) free(e->k.p);
}

/* ---- stripes ---- */

static lng_dstripe *stripe_of(lng_dict *d, uint64_t h) {
  return &d->stripe[h >> 58];            /* 64 stripes: the top 6 bits */
}

/* The entry holding k, or the empty one where it would go; NULL when the
   stripe has no table yet. */
static lng_dentry *find(lng_dstripe *s, uint64_t h, const lng_dkey *k) {
  if (!s->cap) return NULL;
  uint32_t mask = s->cap - 1, i = (uint32_t)h & mask;
  for (;;) {
    lng_dentry *e = &s->tab[i];
    if (!e->hash || keyeq(e, h, k)) return e;
    i = (i + 1) & mask;
  }
}

/* Room for one more entry (growing the table): 0, or -1. The new table is
   allocated without the lock by the caller's retry (see reserve). */
static int fits(const lng_dstripe *s) {
  return s->cap && 4 * ((uint64_t)s->n + 1) <= 3 * (uint64_t)s->cap;
}

static void rehash_into(lng_dentry *tab, uint32_t cap, lng_dentry *old, uint32_t oldcap) {
  for (uint32_t j = 0; j < oldcap; j++) {
    if (!old[j].hash) continue;
    uint32_t i = (uint32_t)old[j].hash & (cap - 1);
    while (tab[i].hash) i = (i + 1) & (cap - 1);
    tab[i] = old[j];
  }
}

/* Takes s's lock with room for one more entry: the bigger table is
   allocated and zeroed with the lock released, then swapped in if the
   stripe has not grown meanwhile. 0 (locked), or -1 (unlocked). */
static int lock_with_room(lng_dstripe *s) {
  lng_lock_acquire(&s->lock);
  while (!fits(s)) {
    uint32_t cap = s->cap ? 2 * s->cap : 8;
    lng_lock_release(&s->lock);
    if (cap == 0) return -1;
    lng_dentry *tab = calloc(cap, sizeof *tab);
    if (!tab) return -1;
    lng_lock_acquire(&s->lock);
    if (s->cap >= cap) {                 /* someone else grew it */
      free(tab);
      continue;
    }
    lng_dentry *old = s->tab;
    uint32_t oldcap = s->cap;
    rehash_into(tab, cap, old, oldcap);
    s->tab = tab;
    s->cap = cap;
    if (old) {                           /* (freed unlocked) */
      lng_lock_release(&s->lock);
      free(old);
      lng_lock_acquire(&s->lock);
    }
  }
  return 0;
}

/* Removes e from s (backward shift: later entries of its run move up). */
static void remove_entry(lng_dstripe *s, lng_dentry *e) {
  uint32_t mask = s->cap - 1, i = (uint32_t)(e - s->tab), j = i;
  for (;;) {
    j = (j + 1) & mask;
    lng_dentry *n = &s->tab[j];
    if (!n->hash) break;
    uint32_t home = (uint32_t)n->hash & mask;
    /* n may fill the hole at i if its home is not in (i, j] */
    if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
      s->tab[i] = *n;
      i = j;
    }
  }
  s->tab[i].hash = 0;
  s->n--;
}

/* What the cycle tracker (objtrack.h) asks of a dict: its values. */
static void dict_each(lng_obj *o, lng_track_visit visit, void *ud) {
  lng_dict *d = (lng_dict *)o;
  for (int i = 0; i < LNG_DICT_STRIPES; i++) {
    lng_dstripe *s = &d->stripe[i];
    lng_lock_acquire(&s->lock);
    for (uint32_t j = 0; j < s->cap; j++) {
      lng_dentry *e = &s->tab[j];
      if (!e->hash || e->vint) continue;
      for (uint32_t r = 0; r < lng_msg_nrefs(&e->v.msg); r++)
        if (lng_msg_ref(&e->v.msg, r)) visit(lng_msg_ref(&e->v.msg, r), ud);
    }
    lng_lock_release(&s->lock);
  }
}

static void dict_clear(lng_obj *o) {
  lng_dict *d = (lng_dict *)o;
  for (int i = 0; i < LNG_DICT_STRIPES; i++) {
    lng_dstripe *s = &d->stripe[i];
    lng_lock_acquire(&s->lock);
    lng_dentry *tab = s->tab;
    uint32_t cap = s->cap;
    atomic_fetch_sub_explicit(&d->count, s->n, memory_order_relaxed);
    s->tab = NULL;
    s->cap = s->n = 0;
    lng_lock_release(&s->lock);
    for (uint32_t j = 0; j < cap; j++) {   /* (may free other objects: unlocked) */
      if (!tab[j].hash) continue;
      freekey(&tab[j]);
      if (!tab[j].vint) lng_msg_free(&tab[j].v.msg);
    }
    free(tab);
  }
}

static const lng_trackops dict_ops = { dict_each, dict_clear };

/* A value naming objects makes the dict a possible member of a cycle. */
static void putval(lng_dict *d, lng_dentry *e, lng_dval *v) {
  e->vint = (uint8_t)(v->isint != 0);
  if (v->isint) {
    e->v.i = v->i;
    return;
  }
  if (lng_msg_nrefs(&v->msg) && lng_objtrack_needed(&d->obj)) lng_objtrack_note(&d->obj, &dict_ops);
  lng_msg_move(&e->v.msg, &v->msg);
}

/* ---- operations ---- */

static void dict_destroy(lng_obj *o) {
  lng_dict *d = (lng_dict *)o;
  for (int i = 0; i < LNG_DICT_STRIPES; i++) {
    lng_dstripe *s = &d->stripe[i];
    for (uint32_t j = 0; j < s->cap; j++) {
      if (!s->tab[j].hash) continue;
      freekey(&s->tab[j]);
      if (!s->tab[j].vint) lng_msg_free(&s->tab[j].v.msg);
    }
    free(s->tab);
  }
  free(d);
}

lng_dict *lng_dict_new(void) {
  lng_dict *d = aligned_alloc(64, sizeof *d);
  if (!d) return NULL;
  memset(d, 0, sizeof *d);
  lng_obj_init(&d->obj, LNG_OBJ_DICT, dict_destroy);
  atomic_init(&d->count, 0);
  for (int i = 0; i < LNG_DICT_STRIPES; i++) lng_lock_init(&d->stripe[i].lock);
  return d;
}

int lng_dict_get(lng_dict *d, const lng_dkey *k, lng_dval *out) {
  uint64_t h = keyhash(k);
  lng_dstripe *s = stripe_of(d, h);
  int r = 0;
  out->isint = 0;
  lng_msg_init(&out->msg);
  lng_lock_acquire(&s->lock);
  lng_dentry *e = find(s, h, k);
  if (e && e->hash) {
    r = 1;
    if (e->vint) {
      out->isint = 1;
      out->i = e->v.i;
    } else if (lng_msg_dup(&out->msg, &e->v.msg)) {
      r = -1;
    }
  }
  lng_lock_release(&s->lock);
  return r;
}

int lng_dict_set(lng_dict *d, const lng_dkey *k, lng_dval *v) {
  if (!v) return lng_dict_delete(d, k), 0;
  uint64_t h = keyhash(k);
  lng_dstripe *s = stripe_of(d, h);
  lng_dval old = { .isint = 1 };
  if (lock_with_room(s)) return -1;
  lng_dentry *e = find(s, h, k);
  if (e->hash) {                          /* replace: the old value goes after the lock */
    old.isint = e->vint;
    if (!e->vint) lng_msg_move(&old.msg, &e->v.msg);
    putval(d, e, v);
  } else {
    if (setkey(e, h, k)) {
      e->hash = 0;
      lng_lock_release(&s->lock);
      return -1;
    }
    putval(d, e, v);
    s->n++;
    atomic_fetch_add_explicit(&d->count, 1, memory_order_relaxed);
  }
  lng_lock_release(&s->lock);
  if (!old.isint) lng_msg_free(&old.msg);
  return 0;
}

int lng_dict_add(lng_dict *d, const lng_dkey *k, lng_dval *v) {
  uint64_t h = keyhash(k);
  lng_dstripe *s = stripe_of(d, h);
  if (lock_with_room(s)) return -1;
  lng_dentry *e = find(s, h, k);
  int r = 0;
  if (!e->hash) {
    if (setkey(e, h, k)) {
      e->hash = 0;
      r = -1;
    } else {
      putval(d, e, v);
      s->n++;
      atomic_fetch_add_explicit(&d->count, 1, memory_order_relaxed);
      r = 1;
    }
  }
  lng_lock_release(&s->lock);
  return r;
}

int lng_dict_incr(lng_dict *d, const lng_dkey *k, long long n, long long init, long long *out) {
  uint64_t h = keyhash(k);
  lng_dstripe *s = stripe_of(d, h);
  if (lock_with_room(s)) return -1;
  lng_dentry *e = find(s, h, k);
  int r = 0;
  if (e->hash) {
    if (!e->vint) r = -2;
    else *out = e->v.i = (long long)((unsigned long long)e->v.i + (unsigned long long)n);
  } else if (setkey(e, h, k)) {
    e->hash = 0;
    r = -1;
  } else {
    e->vint = 1;
    *out = e->v.i = (long long)((unsigned long long)init + (unsigned long long)n);
    s->n++;
    atomic_fetch_add_explicit(&d->count, 1, memory_order_relaxed);
  }
  lng_lock_release(&s->lock);
  return r;
}

int lng_dict_delete(lng_dict *d, const lng_dkey *k) {
  uint64_t h = keyhash(k);
  lng_dstripe *s = stripe_of(d, h);
  lng_dentry gone;
  int r = 0;
  lng_lock_acquire(&s->lock);
  lng_dentry *e = find(s, h, k);
  if (e && e->hash) {
    gone = *e;
    remove_entry(s, e);
    atomic_fetch_sub_explicit(&d->count, 1, memory_order_relaxed);
    r = 1;
  }
  lng_lock_release(&s->lock);
  if (r) {
    freekey(&gone);
    if (!gone.vint) lng_msg_free(&gone.v.msg);
  }
  return r;
}

long long lng_dict_len(lng_dict *d) {
  return atomic_load_explicit(&d->count, memory_order_relaxed);
}

lng_dkey *lng_dict_keys(lng_dict *d, size_t *n) {
  lng_dkey *out = NULL;
  size_t nk = 0, cap = 0;
  char *strs = NULL;                      /* string bytes, gathered apart, then appended */
  size_t slen = 0, scap = 0;
  *n = 0;
  for (int i = 0; i < LNG_DICT_STRIPES; i++) {
    lng_dstripe *s = &d->stripe[i];
    for (;;) {                            /* room for this stripe, sized under no lock */
      lng_lock_acquire(&s->lock);
      size_t need = nk + s->n, sneed = slen;
      for (uint32_t j = 0; j < s->cap; j++)
        if (s->tab[j].hash && s->tab[j].ktype == LNG_DKEY_STR) sneed += s->tab[j].klen;
      if (need <= cap && sneed <= scap) break;
      lng_lock_release(&s->lock);
      size_t ncap = need > 2 * cap ? need : 2 * cap, nscap = sneed > 2 * scap ? sneed : 2 * scap;
      lng_dkey *o = realloc(out, (ncap ? ncap : 1) * sizeof *o);
      if (o) out = o;
      char *t = o ? realloc(strs, nscap ? nscap : 1) : NULL;
      if (!o || !t) {
        free(out);
        free(strs);
        *n = SIZE_MAX;
        return NULL;
      }
      strs = t;
      cap = ncap;
      scap = nscap;
    }
    for (uint32_t j = 0; j < s->cap; j++) {
      const lng_dentry *e = &s->tab[j];
      if (!e->hash) continue;
      lng_dkey *k = &out[nk++];
      k->type = e->ktype;
      k->i = e->k.i;
      k->len = e->klen;
      k->s = NULL;
      if (e->ktype == LNG_DKEY_STR) {
        memcpy(strs + slen, entkey(e), e->klen);
        k->i = (long long)slen;          /* an offset until the block is final */
        slen += e->klen;
      }
    }
    lng_lock_release(&s->lock);
  }
  if (nk == 0) {
    free(out);
    free(strs);
    return NULL;
  }
  /* one block: the keys, then the string bytes they point into */
  lng_dkey *blk = malloc(nk * sizeof *blk + slen + 1);
  if (!blk) {
    free(out);
    free(strs);
    *n = SIZE_MAX;
    return NULL;
  }
  char *sb = (char *)(blk + nk);
  memcpy(sb, strs, slen);
  for (size_t i = 0; i < nk; i++) {
    blk[i] = out[i];
    if (blk[i].type == LNG_DKEY_STR) {
      blk[i].s = sb + blk[i].i;
      blk[i].i = 0;
    }
  }
  free(out);
  free(strs);
  *n = nk;
  return blk;
}
