/* Owned byte buffers with object references; see msg.h. */
#include <stdlib.h>
#include <string.h>
#include "msg.h"

unsigned char *lng_msg_reserve(lng_msg *m, size_t n) {
  if (n > SIZE_MAX - m->len) return NULL;
  size_t need = m->len + n;
  if (need > m->cap) {
    /* Leaving the inline buffer means a bigger value: start at 256. */
    size_t cap = m->heap ? m->cap * 2 : 256;
    if (cap < need) cap = need;
    unsigned char *p;
    if (m->heap) {
      p = realloc(m->heap, cap);
    } else {
      p = malloc(cap);
      if (p) memcpy(p, m->inl, m->len);
    }
    if (!p) return NULL;
    m->heap = p;
    m->cap = cap;
  }
  return lng_msg_bytes(m) + m->len;
}

int lng_msg_append(lng_msg *m, const void *p, size_t n) {
  unsigned char *d = lng_msg_reserve(m, n);
  if (!d) return -1;
  memcpy(d, p, n);
  m->len += n;
  return 0;
}

int lng_msg_addref(lng_msg *m, lng_obj *o) {
  if (m->nrefs == m->refcap) {
    uint32_t cap = m->refcap ? m->refcap * 2 : 4;
    lng_obj **r = realloc(m->refs, cap * sizeof *r);
    if (!r) return -1;
    m->refs = r;
    m->refcap = cap;
  }
  m->refs[m->nrefs] = o;
  return (int)m->nrefs++;
}

void lng_msg_move(lng_msg *dst, lng_msg *src) {
  *dst = *src;
  lng_msg_init(src);
}

void lng_msg_free(lng_msg *m) {
  for (uint32_t i = 0; i < m->nrefs; i++)
    if (m->refs[i]) lng_obj_unref(m->refs[i]);
  free(m->refs);
  free(m->heap);
  lng_msg_init(m);
}
