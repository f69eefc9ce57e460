/*
 * Helpers shared by the test files: time, sleeping, strings, the worker
 * counts tests run at, and the TSan switch. Static inline, so that each
 * file takes what it uses (the Criterion build and the TSan shim build
 * alike).
 */
#ifndef LNG_TEST_UTIL_H
#define LNG_TEST_UTIL_H

#include <errno.h>
#include <string.h>
#include <time.h>

static inline double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void sleep_ms(int ms) {
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static inline int contains(const char *hay, const char *needle) {
  return hay && strstr(hay, needle) != NULL;
}

/* Under ThreadSanitizer a signal reaches a thread only when it enters an
   intercepted call: a worker spinning in Lua code (liblua is not
   instrumented) never sees SIGURG, so lng_interrupt of a running loop and
   lng_destroy with a spinning goroutine cannot work there. Those tests
   are skipped in the TSan build. */
#if defined(__SANITIZE_THREAD__)
#define LNG_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LNG_TSAN 1
#endif
#endif
#ifdef LNG_TSAN
#define SKIP_UNDER_TSAN() return
#else
#define SKIP_UNDER_TSAN() do {} while (0)
#endif

#endif
