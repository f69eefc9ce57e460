/* Owned byte buffers with object references; see msg.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "msg.h"
#include "bigbuf.h"
#include "bufcache.h"

/* Byte buffers: mid-size ones from the worker's cache (bufcache.h), big
   ones from the runtime's pool (bigbuf.h), which a buffer's size tells
   apart. *cap is in: wanted, out: got. */
static unsigned char *bytes_alloc(size_t *cap) {
  if (*cap < LNG_BIGBUF_MIN) return lng_buf_alloc(*cap, cap);
  if (*cap > UINT32_MAX) return NULL;
  unsigned char *p = lng_bigbuf_alloc(*cap, cap);
  return p;
}

static void bytes_free(unsigned char *p, uint32_t cap) {
  if (cap < LNG_BIGBUF_MIN) lng_buf_free(p, cap);
  else lng_bigbuf_free(p);
}

/* Moves an inline message out of line with room for cap bytes. */
static int go_ext(lng_msg *m, size_t cap) {
  unsigned char *p = bytes_alloc(&cap);
  if (!p) return -1;
  memcpy(p, m->u.inl, m->len);
  m->u.x.bytes = p;
  m->u.x.refs = NULL;
  m->u.x.cap = (uint32_t)cap;
  m->u.x.nrefs = 0;
  m->ext = 1;
  return 0;
}

unsigned char *lng_msg_reserve(lng_msg *m, size_t n) {
  if (n > UINT32_MAX - m->len) return NULL;
  size_t need = m->len + n;
  if (!m->ext) {
    if (need <= LNG_MSG_INLINE) return m->u.inl + m->len;
    /* Leaving the inline buffer means a bigger value: start at 256. */
    if (go_ext(m, need < 256 ? 256 : need) != 0) return NULL;
  } else if (need > m->u.x.cap) {
    size_t cap = (size_t)m->u.x.cap * 2;
    if (cap < need) cap = need;
    if (cap > UINT32_MAX) cap = UINT32_MAX;
    unsigned char *p = bytes_alloc(&cap);
    if (!p) return NULL;
    memcpy(p, m->u.x.bytes, m->len);
    bytes_free(m->u.x.bytes, m->u.x.cap);
    m->u.x.bytes = p;
    m->u.x.cap = (uint32_t)cap;
  }
  return m->u.x.bytes + m->len;
}

int lng_msg_append(lng_msg *m, const void *p, size_t n) {
  unsigned char *d = lng_msg_reserve(m, n);
  if (!d) return -1;
  memcpy(d, p, n);
  m->len += (uint32_t)n;
  return 0;
}

int lng_msg_addref(lng_msg *m, lng_obj *o) {
  if (!m->ext && go_ext(m, 32) != 0) return -1;
  uint32_t n = m->u.x.nrefs;
  if (n >= 4 && (n & (n - 1)) == 0) {   /* full: 4, 8, 16, ... */
    if (n > UINT32_MAX / 2) return -1;
    lng_obj **r = realloc(m->u.x.refs, 2 * (size_t)n * sizeof *r);
    if (!r) return -1;
    m->u.x.refs = r;
  } else if (n == 0 && !m->u.x.refs) {   /* (a kept message may have them) */
    if (!(m->u.x.refs = malloc(4 * sizeof *m->u.x.refs))) return -1;
  }
  m->u.x.refs[n] = o;
  m->u.x.nrefs = n + 1;
  return (int)n;
}

void lng_msg_free_ext(lng_msg *m) {
  for (uint32_t i = 0; i < m->u.x.nrefs; i++)
    if (m->u.x.refs[i]) lng_obj_unref(m->u.x.refs[i]);
  free(m->u.x.refs);
  bytes_free(m->u.x.bytes, m->u.x.cap);
  lng_msg_init(m);
}

static int pack(lng_msgpack *p, lng_msg *m, int keep) {
  uint32_t nrefs = lng_msg_nrefs(m);
  size_t need = (size_t)nrefs * sizeof(lng_obj *) + m->len;
  unsigned char *dst = p->in;
  if (need > LNG_PACK_ROOM && !(dst = malloc(need))) return -1;
  if (nrefs) memcpy(dst, m->u.x.refs, nrefs * sizeof(lng_obj *));
  memcpy(dst + nrefs * sizeof(lng_obj *), lng_msg_cbytes(m), m->len);
  p->out = dst == p->in ? NULL : dst;
  p->len = m->len;
  p->nrefs = nrefs;
  if (!m->ext) {
    m->len = 0;
  } else if (keep) {              /* the references now belong to p */
    m->len = 0;
    m->u.x.nrefs = 0;
  } else {
    free(m->u.x.refs);
    bytes_free(m->u.x.bytes, m->u.x.cap);
    lng_msg_init(m);
  }
  return 0;
}

int lng_msgpack_set(lng_msgpack *p, lng_msg *m) { return pack(p, m, 0); }
int lng_msgpack_take(lng_msgpack *p, lng_msg *m) { return pack(p, m, 1); }

void lng_msgpack_view(const lng_msgpack *p, lng_msg *view) {
  const unsigned char *src = p->out ? p->out : p->in;
  view->len = p->len;
  if (p->nrefs == 0 && p->len <= LNG_MSG_INLINE) {
    view->ext = 0;
    memcpy(view->u.inl, src, p->len);
    return;
  }
  view->ext = 1;
  view->u.x.refs = (lng_obj **)(uintptr_t)src;
  view->u.x.nrefs = p->nrefs;
  view->u.x.bytes = (unsigned char *)(uintptr_t)(src + p->nrefs * sizeof(lng_obj *));
  view->u.x.cap = p->len;
}

void lng_msgpack_free(lng_msgpack *p) {
  const unsigned char *src = p->out ? p->out : p->in;
  for (uint32_t i = 0; i < p->nrefs; i++) {
    lng_obj *o;
    memcpy(&o, src + i * sizeof o, sizeof o);
    if (o) lng_obj_unref(o);
  }
  free(p->out);
  p->out = NULL;
  p->len = p->nrefs = 0;
}

int lng_msg_dup(lng_msg *dst, const lng_msg *src) {
  lng_msg_init(dst);
  if (!src->ext) {
    *dst = *src;
    return 0;
  }
  if (lng_msg_append(dst, src->u.x.bytes, src->len)) return -1;
  for (uint32_t i = 0; i < src->u.x.nrefs; i++) {
    lng_obj *o = src->u.x.refs[i];
    if (o) lng_obj_ref(o);
    if (lng_msg_addref(dst, o) < 0) {
      if (o) lng_obj_unref(o);
      lng_msg_free(dst);
      return -1;
    }
  }
  return 0;
}
