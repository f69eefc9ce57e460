/*
 * A test seam for name lookups that take time: in the test binary,
 * getaddrinfo of a name ending in ".slow.test" sleeps 300 ms, then answers
 * 127.0.0.1, one ending in ".multi.test" answers 127.0.0.2 then 127.0.0.1
 * (a name whose first address refuses a server listening on 127.0.0.1
 * only), one ending in ".refuse.test" 127.0.0.2 then 127.0.0.3, and one
 * ending in ".fail.test" fails at once as an unknown name does (without asking a DNS server, which a machine without a
 * network may take seconds to give up on); any other name goes to the C
 * library's. The binary's own
 * definition takes precedence over libc's (and over a sanitizer's
 * interceptor, a weak alias), so the scripts run in-process by
 * tests/test_lua.c look such names up the slow way; LUNGO_TEST_SLOWDNS
 * tells them the seam is there (the lungo command has none).
 */
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

__attribute__((constructor)) static void mark_slowdns(void) { setenv("LUNGO_TEST_SLOWDNS", "1", 1); }

static int endswith(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n > k && strcmp(s + n - k, suffix) == 0;
}

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
  static const char suffix[] = ".slow.test", fail[] = ".fail.test";
  gai_fn real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
  size_t n = node ? strlen(node) : 0;
  if (n > sizeof fail - 1 && strcmp(node + n - (sizeof fail - 1), fail) == 0) return EAI_NONAME;
  const char *second = NULL;
  if (endswith(node, n, ".multi.test")) second = "127.0.0.1";
  if (endswith(node, n, ".refuse.test")) second = "127.0.0.3";
  if (second) {
    struct addrinfo h, *a = NULL, *b = NULL;
    memset(&h, 0, sizeof h);
    if (hints) h = *hints;
    h.ai_family = AF_INET;
    h.ai_flags &= ~AI_ADDRCONFIG;
    int r = real("127.0.0.2", service, &h, &a);
    if (r != 0) return r;
    if ((r = real(second, service, &h, &b)) != 0) {
      freeaddrinfo(a);
      return r;
    }
    struct addrinfo *t = a;          /* one list: glibc frees it node by node */
    while (t->ai_next) t = t->ai_next;
    t->ai_next = b;
    *res = a;
    return 0;
  }
  if (n > sizeof suffix - 1 && strcmp(node + n - (sizeof suffix - 1), suffix) == 0) {
    sleep_ms(300);
    struct addrinfo h;
    memset(&h, 0, sizeof h);
    if (hints) h = *hints;
    h.ai_family = AF_INET;
    h.ai_flags &= ~AI_ADDRCONFIG;
    return real("127.0.0.1", service, &h, res);
  }
  return real(node, service, hints, res);
}
