/*
 * Network names and addresses as lungo's API spells them: "tcp", "tcp4",
 * "tcp6", "udp" (and "udp4", "udp6"), "unix"; "host:port", "[v6]:port",
 * a unix path ("@name": Linux's abstract namespace). Hosts are numeric,
 * "localhost", or empty (listen: every address; dial: this machine). Any
 * other name goes through lng_netaddr_lookup, the one place where a
 * resolver (getaddrinfo on a blocking-call thread) plugs in.
 */
#ifndef LNG_NETADDR_H
#define LNG_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct lng_netspec {
  int family;      /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC: either (tcp, udp) */
  int type;        /* SOCK_STREAM or SOCK_DGRAM */
} lng_netspec;

/* The network's family and type; -1 for an unknown name. */
int lng_netaddr_network(const char *network, lng_netspec *ns);

/* Parses address for network ns into *sa (*len its length); passive: for
   listening. 0, or -1 with a message in err. */
int lng_netaddr_parse(const lng_netspec *ns, const char *address, int passive,
                      struct sockaddr_storage *sa, socklen_t *len, char *err, size_t errlen);

/* The addresses of host (numeric, "localhost", or a name through
   lng_netaddr_lookup) as text, one after the other, each followed by a NUL,
   into buf; how many, or -1 with a message in err. family: AF_UNSPEC for
   any. */
int lng_netaddr_resolve(const char *host, int family, char *buf, size_t buflen,
                        char *err, size_t errlen);

/* Whether host is a name only a resolver can turn into addresses: not
   empty, not "localhost", not numeric. The bindings look such names up
   with getaddrinfo on the blocking-call pool's DNS lane (blockpool.h)
   while the goroutine parks, and pass on the numeric result. */
int lng_netaddr_isname(const char *host);

/* What the parsers say of a name (they never block): -1 with a message. */
int lng_netaddr_lookup(const char *host, int family, struct sockaddr_storage *out, int max,
                       char *err, size_t errlen);

/* sa as text: "1.2.3.4:80", "[::1]:80", or a unix path; host and port
   apart when asked (port -1 for unix). */
void lng_netaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);
int lng_netaddr_split(const struct sockaddr *sa, socklen_t len, char *host, size_t hostlen, int *port);

#endif
