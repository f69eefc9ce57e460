/*
 * Writing the message format; see wire.h.
 */
#include "wire.h"
#include "copy.h"

const char lng_copy_default = 'd';

int lng_wire_puttvb(lng_msg *m, int tag, uint64_t v, const void *s, size_t n) {
  size_t head = 1 + (size_t)lng_wire_varlen(v);
  unsigned char *p;
  if (n > SIZE_MAX - head || !(p = lng_msg_reserve(m, head + n))) return -1;
  *p = (unsigned char)tag;
  p = lng_wire_putvar(p + 1, v);
  if (n) memcpy(p, s, n);
  m->len += head + n;
  return 0;
}

int lng_wire_putobj(lng_msg *m, lng_obj *o) {
  int r = lng_msg_addref(m, lng_obj_ref(o));
  if (r < 0) {
    lng_obj_unref(o);
    return -1;
  }
  return lng_wire_puttvb(m, LNG_TAG_OBJ, (uint64_t)r, NULL, 0);
}
