/* Network names and addresses; see netaddr.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "netaddr.h"

int lng_netaddr_network(const char *network, lng_netspec *ns) {
  static const struct { const char *name; int family, type; } nets[] = {
    {"tcp", AF_UNSPEC, SOCK_STREAM}, {"tcp4", AF_INET, SOCK_STREAM}, {"tcp6", AF_INET6, SOCK_STREAM},
    {"udp", AF_UNSPEC, SOCK_DGRAM}, {"udp4", AF_INET, SOCK_DGRAM}, {"udp6", AF_INET6, SOCK_DGRAM},
    {"unix", AF_UNIX, SOCK_STREAM},
  };
  for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
    if (strcmp(network, nets[i].name) == 0) {
      ns->family = nets[i].family;
      ns->type = nets[i].type;
      return 0;
    }
  return -1;
}

/* One numeric or local host into sa (port set apart); 0, or -1. */
static int host_addr(const char *host, int family, int passive, struct sockaddr_storage *sa,
                     socklen_t *len, char *err, size_t errlen) {
  struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
  memset(sa, 0, sizeof *sa);
  if (*host == 0 || strcmp(host, "localhost") == 0) {
    int any = *host == 0 && passive;
    if (family == AF_INET6) {
      s6->sin6_family = AF_INET6;
      s6->sin6_addr = any ? in6addr_any : in6addr_loopback;
      *len = sizeof *s6;
    } else {
      s4->sin_family = AF_INET;
      s4->sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
      *len = sizeof *s4;
    }
    return 0;
  }
  if (family != AF_INET6 && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    *len = sizeof *s4;
    return 0;
  }
  if (family != AF_INET && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    *len = sizeof *s6;
    return 0;
  }
  struct in6_addr tmp;
  if (inet_pton(AF_INET, host, &tmp) == 1 || inet_pton(AF_INET6, host, &tmp) == 1) {
    snprintf(err, errlen, "address %s: not an IPv%d address", host, family == AF_INET ? 4 : 6);
    return -1;
  }
  if (lng_netaddr_lookup(host, family, sa, 1, err, errlen) < 1) return -1;
  *len = sa->ss_family == AF_INET6 ? sizeof *s6 : sizeof *s4;
  return 0;
}

int lng_netaddr_parse(const lng_netspec *ns, const char *address, int passive,
                      struct sockaddr_storage *sa, socklen_t *len, char *err, size_t errlen) {
  if (ns->family == AF_UNIX) {
    struct sockaddr_un *su = (struct sockaddr_un *)sa;
    size_t n = strlen(address);
    if (n == 0 || n >= sizeof su->sun_path) {
      snprintf(err, errlen, "unix address '%s': %s", address, n ? "too long" : "empty");
      return -1;
    }
    memset(sa, 0, sizeof *sa);
    su->sun_family = AF_UNIX;
    memcpy(su->sun_path, address, n);
    if (address[0] == '@') su->sun_path[0] = 0;    /* the abstract namespace */
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (address[0] == '@' ? 0 : 1));
    return 0;
  }
  char host[256];
  const char *colon, *hs = address, *he;
  if (address[0] == '[') {
    const char *rb = strchr(address, ']');
    if (!rb || rb[1] != ':') {
      snprintf(err, errlen, "address %s: missing port or ']'", address);
      return -1;
    }
    hs = address + 1;
    he = rb;
    colon = rb + 1;
  } else {
    colon = strrchr(address, ':');
    if (!colon) {
      snprintf(err, errlen, "address %s: missing port in address", address);
      return -1;
    }
    if (memchr(address, ':', (size_t)(colon - address))) {
      snprintf(err, errlen, "address %s: too many colons in address", address);
      return -1;
    }
    he = colon;
  }
  if ((size_t)(he - hs) >= sizeof host) {
    snprintf(err, errlen, "address %s: host too long", address);
    return -1;
  }
  memcpy(host, hs, (size_t)(he - hs));
  host[he - hs] = 0;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (colon[1] == 0 || *end != 0 || port < 0 || port > 65535) {
    snprintf(err, errlen, "address %s: invalid port", address);
    return -1;
  }
  if (host_addr(host, ns->family, passive, sa, len, err, errlen) != 0) return -1;
  if (sa->ss_family == AF_INET6) ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
  else ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
  return 0;
}

int lng_netaddr_isname(const char *host) {
  struct in6_addr tmp;
  return *host && strcmp(host, "localhost") != 0 && inet_pton(AF_INET, host, &tmp) != 1 &&
         inet_pton(AF_INET6, host, &tmp) != 1;
}

int lng_netaddr_lookup(const char *host, int family, struct sockaddr_storage *out, int max,
                       char *err, size_t errlen) {
  /* getaddrinfo blocks: names are looked up by the bindings on the pool
     (lng_netaddr_isname), never here on a worker */
  (void)family; (void)out; (void)max;
  snprintf(err, errlen, "lookup %s: a name must be looked up before it is parsed", host);
  return -1;
}

int lng_netaddr_resolve(const char *host, int family, char *buf, size_t buflen,
                        char *err, size_t errlen) {
  struct sockaddr_storage sa[2];
  socklen_t len;
  int n = 0;
  if (strcmp(host, "localhost") == 0) {
    if (family != AF_INET6 && host_addr(host, AF_INET, 0, &sa[n], &len, err, errlen) == 0) n++;
    if (family != AF_INET && host_addr(host, AF_INET6, 0, &sa[n], &len, err, errlen) == 0) n++;
  } else {
    if (host_addr(host, family, 0, &sa[0], &len, err, errlen) != 0) return -1;
    n = 1;
  }
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    char text[INET6_ADDRSTRLEN];
    const void *a = sa[i].ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&sa[i])->sin6_addr
                                                : (const void *)&((struct sockaddr_in *)&sa[i])->sin_addr;
    inet_ntop(sa[i].ss_family, a, text, sizeof text);
    size_t l = strlen(text) + 1;
    if (off + l > buflen) break;
    memcpy(buf + off, text, l);
    off += l;
  }
  return n;
}

int lng_netaddr_split(const struct sockaddr *sa, socklen_t len, char *host, size_t hostlen, int *port) {
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &s4->sin_addr, host, (socklen_t)hostlen);
    *port = ntohs(s4->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &s6->sin6_addr, host, (socklen_t)hostlen);
    *port = ntohs(s6->sin6_port);
  } else if (sa->sa_family == AF_UNIX) {
    const struct sockaddr_un *su = (const struct sockaddr_un *)sa;
    size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
    if (n > 0 && su->sun_path[0] == 0) {           /* abstract */
      snprintf(host, hostlen, "@%.*s", (int)(n - 1), su->sun_path + 1);
    } else {
      snprintf(host, hostlen, "%.*s", (int)strnlen(su->sun_path, n), su->sun_path);
    }
    *port = -1;
  } else {
    snprintf(host, hostlen, "?");
    *port = -1;
    return -1;
  }
  return 0;
}

void lng_netaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen) {
  char host[INET6_ADDRSTRLEN + 112];
  int port;
  lng_netaddr_split(sa, len, host, sizeof host, &port);
  if (port < 0) snprintf(buf, buflen, "%s", host);
  else if (sa->sa_family == AF_INET6) snprintf(buf, buflen, "[%s]:%d", host, port);
  else snprintf(buf, buflen, "%s:%d", host, port);
}
