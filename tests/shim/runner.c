/*
 * The test runner for the ThreadSanitizer build (see criterion/criterion.h):
 * runs every registered test, each case in a forked child with a timeout,
 * two at a time, and ends with "tsan: N passed, N failed".
 * Usage: lungo-tests-tsan [substring filter]
 */
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>
#include "criterion/criterion.h"

#define MAXSUITES 64
#define JOBS 2

static struct shim_test *first, **last = &first;
static struct { const char *name; struct criterion_test_extra_data extra; } suites[MAXSUITES];
static int nsuites;

void shim_register(struct shim_test *t) { *last = t; last = &t->next; }

void shim_register_suite(const char *suite, struct criterion_test_extra_data extra) {
  if (nsuites < MAXSUITES) { suites[nsuites].name = suite; suites[nsuites].extra = extra; nsuites++; }
}

void shim_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

void shim_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static const struct criterion_test_extra_data *suite_of(const char *name) {
  for (int i = 0; i < nsuites; i++) if (strcmp(suites[i].name, name) == 0) return &suites[i].extra;
  return NULL;
}

static void run_case(struct shim_test *t, void *param) {
  const struct criterion_test_extra_data *s = suite_of(t->suite);
  alarm(t->extra.timeout > 0 ? (unsigned)(t->extra.timeout * 2) : 300);  /* TSan is slow */
  if (s && s->init) s->init();
  if (t->extra.init) t->extra.init();
  if (t->pfn) ((void (*)(void *))t->pfn)(param);
  else t->fn();
  if (t->extra.fini) t->extra.fini();
  if (s && s->fini) s->fini();
  fflush(NULL);
  exit(0);
}

typedef struct { pid_t pid; struct shim_test *t; size_t index; int param; } job;
static job running[JOBS];
static int nrunning, passed, failed;

static void reap(void) {
  int st;
  pid_t pid = wait(&st);
  for (int i = 0; i < nrunning; i++) {
    if (running[i].pid != pid) continue;
    job j = running[i];
    running[i] = running[--nrunning];
    int want = j.t->extra.exit_code;
    int ok = j.t->extra.signal ? WIFSIGNALED(st) && WTERMSIG(st) == j.t->extra.signal
                               : WIFEXITED(st) && WEXITSTATUS(st) == want;
    if (ok) {
      passed++;
    } else {
      failed++;
      if (j.param) fprintf(stderr, "[FAIL] %s::%s [param %zu]", j.t->suite, j.t->name, j.index);
      else fprintf(stderr, "[FAIL] %s::%s", j.t->suite, j.t->name);
      if (WIFSIGNALED(st)) fprintf(stderr, ": killed by signal %d%s\n", WTERMSIG(st),
                                   WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
      else fprintf(stderr, ": exit status %d\n", WEXITSTATUS(st));
    }
    return;
  }
}

static void launch(struct shim_test *t, void *param, size_t index) {
  while (nrunning >= JOBS) reap();
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) run_case(t, param);
  if (pid < 0) { perror("fork"); failed++; return; }
  running[nrunning++] = (job){pid, t, index, t->pfn != NULL};
}

int main(int argc, char **argv) {
  const char *filter = argc > 1 ? argv[1] : NULL;
  for (struct shim_test *t = first; t; t = t->next) {
    char full[256];
    snprintf(full, sizeof full, "%s::%s", t->suite, t->name);
    if (t->extra.disabled || (filter && !strstr(full, filter))) continue;
    if (!t->pfn) {
      launch(t, NULL, 0);
      continue;
    }
    struct criterion_test_params p = t->params();
    for (size_t i = 0; i < p.length; i++) launch(t, (char *)p.params + i * p.size, i);
    while (nrunning) reap();            /* the parameters must outlive the cases */
    if (p.cleanup) p.cleanup(&p);
  }
  while (nrunning) reap();
  printf("tsan: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
