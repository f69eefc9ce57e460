/*
 * The stress and fault suite (`make test-stress`; a binary of its own so
 * that `make test` stays quick).
 *
 * Every script tests/stress/NAME.lua runs through the public API with 1, 2
 * and 4 workers and must end with LNG_OK and an empty message. A script
 * gets arg[1] = the worker count and arg[2] = a seed, from which it derives
 * its whole workload (what is sent where, which select cases, which values
 * the copier fuzzer builds); what it asserts does not depend on the
 * schedule. The seed is LUNGO_STRESS_SEED when set, else a fixed one, and
 * every failure message names it, so a failure reruns with
 *   LUNGO_STRESS_SEED=N make test-stress
 * or `build/lungo tests/stress/NAME.lua W N`.
 *
 * A leading comment "-- mem-limit: BYTES" runs the script with
 * cfg.mem_limit = BYTES.
 *
 * The tests after the scripts run out of memory on purpose: under
 * cfg.mem_limit through the C API, and in the lungo command under
 * `ulimit -v` (the scripts in tests/stress/oom/), checking that the failure is
 * caught (pcall) or reported ("not enough memory", status 1), never a
 * crash, while other goroutines keep running.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lungo.h"
#include "../listing.h"
#include "../watchdog.h"

#define STRESS_DIR "tests/stress"
#define CASE_PATH_MAX LNG_CASE_PATH_MAX
#define DEFAULT_SEED 20240611LL
#define MESSAGE_SHOWN_MAX 6000

/* Sanitizers make everything several times slower, and ulimit -v cannot
   hold their shadow memory. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STRESS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define STRESS_SANITIZED 1
#endif
#endif
#ifdef STRESS_SANITIZED
#define STRESS_TIMEOUT 400.0
#else
#define STRESS_TIMEOUT 90.0
#endif

static const int worker_counts[] = {1, 2, 4};
#define NWORKER_COUNTS ((int)(sizeof worker_counts / sizeof worker_counts[0]))

static long long stress_seed(void) {
  const char *s = getenv("LUNGO_STRESS_SEED");
  if (s && *s) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end == '\0') return v;
  }
  return DEFAULT_SEED;
}

static int contains(const char *hay, const char *needle) {
  return hay && strstr(hay, needle) != NULL;
}

/* ---- the scripts ---- */

typedef lng_script_case stress_case;

static void free_cases(struct criterion_test_params *crp) {
  cr_free(crp->params);
}

ParameterizedTestParameters(stress, scripts) {
  size_t count;
  stress_case *cases = lng_test_script_cases(STRESS_DIR, worker_counts, NWORKER_COUNTS, cr_calloc, &count);
  return cr_make_param_array(stress_case, cases, count, free_cases);
}

/* "-- mem-limit: N" among the leading comments, else 0. */
static size_t mem_limit_of(const char *path) {
  char line[512];
  size_t limit = 0;
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "--", 2) != 0) break;
    if (strncmp(line, "-- mem-limit:", 13) == 0) limit = (size_t)strtoull(line + 13, NULL, 10);
  }
  fclose(f);
  return limit;
}

static char *last_message;   /* static: an aborted test leaks nothing */

ParameterizedTest(stress_case *c, stress, scripts, .timeout = STRESS_TIMEOUT) {
  char wbuf[16], sbuf[32], prog[] = "lungo-stress";
  char *argv[] = {prog, c->path, wbuf, sbuf, NULL};
  long long seed = stress_seed();
  lng_config cfg;
  int rc;

  cr_assert(c->path[0] != '\0', "%s", c->note);
  snprintf(wbuf, sizeof wbuf, "%d", c->workers);
  snprintf(sbuf, sizeof sbuf, "%lld", seed);
  lng_config_init(&cfg);
  cfg.workers = c->workers;
  cfg.mem_limit = mem_limit_of(c->path);
  lng_runtime *rt = lng_new(&cfg);
  cr_assert_not_null(rt, "%s [workers=%d seed=%lld]: lng_new failed", c->path, c->workers, seed);
  const char *step = "lng_main_args";
  if ((rc = lng_main_args(rt, 4, argv, 1)) == LNG_OK && (step = "lng_main_file", 1) &&
      (rc = lng_main_file(rt, c->path)) == LNG_OK && (step = "lng_start", 1) &&
      (rc = lng_start(rt)) == LNG_OK) {
    step = "lng_wait";
    rc = lng_wait(rt);
  }
  const char *msg = lng_message(rt);
  free(last_message);
  last_message = strdup(msg ? msg : "");
  lng_destroy(rt);
  cr_assert(rc == LNG_OK && last_message && last_message[0] == '\0',
            "%s [workers=%d seed=%lld]: %s gave %s (%d)\n"
            "rerun: LUNGO_STRESS_SEED=%lld make test-stress, or build/lungo -W %d %s %d %lld%s\n"
            "--- lng_message() ---\n%.*s",
            c->path, c->workers, seed, step, lng_status_string(rc), rc, seed,
            c->workers, c->path, c->workers, seed, cfg.mem_limit ? " (without its mem-limit)" : "",
            MESSAGE_SHOWN_MAX, last_message ? last_message : "(no memory)");
}

/* ---- out of memory under cfg.mem_limit, uncaught ---- */

/* One goroutine allocates without end and catches nothing, while others
   compute and talk: the program ends with the out-of-memory report of that
   goroutine, whatever the others were doing, and the runtime is destroyed
   cleanly (the others may be blocked or running at that moment). */
Test(oom, mem_limit_uncaught_among_busy_goroutines, .timeout = STRESS_TIMEOUT) {
  static const char code[] =
    "local ch = chan(4)\n"
    "for p = 1, 8 do go(function() local s = 0\n"
    "  for i = 1, 1e9 do ch:send(i) if i % 64 == 0 then go.yield() end end end) end\n"
    "for c = 1, 8 do go(function() local s = 0\n"
    "  while true do s = s + ch:recv() end end) end\n"
    "go(function() go.sleep(0.01)\n"
    "  local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 4000) .. i end end)\n"
    "for i = 1, 1e9 do ch:send(-i) end\n";
  for (int i = 0; i < NWORKER_COUNTS; i++) {
    lng_config cfg;
    lng_config_init(&cfg);
    cfg.workers = worker_counts[i];
    cfg.mem_limit = 8u << 20;
    lng_runtime *rt = lng_new(&cfg);
    cr_assert_not_null(rt);
    cr_assert_eq(lng_main_string(rt, code, sizeof code - 1, "=hog"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    int st = lng_wait(rt);
    const char *msg = lng_message(rt);
    cr_assert(st == LNG_ERRMEM || (st == LNG_ERRRUN && contains(msg, "not enough memory")),
              "[workers=%d] status %s: %s", worker_counts[i], lng_status_string(st), msg);
    cr_assert(contains(msg, "not enough memory"), "[workers=%d] %s", worker_counts[i], msg);
    lng_destroy(rt);
  }
}

/* ---- out of memory in the lungo command under ulimit -v ---- */

#ifndef STRESS_SANITIZED

typedef struct proc_result {
  int exited, code, signaled, sig;
  char out[8192], err[8192];
} proc_result;

static void read_all(int fd, char *buf, size_t cap) {
  size_t len = 0;
  ssize_t n;
  while ((n = read(fd, buf + len, cap - 1 - len)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    len += (size_t)n;
    if (len == cap - 1) { char sink[512]; while (read(fd, sink, sizeof sink) > 0) {} break; }
  }
  buf[len] = '\0';
}

/* Runs `sh -c 'ulimit -v KB; exec "$0" -W W SCRIPT'` with the lungo
   binary; stdout and stderr go to temporary files (no pipe to deadlock on).
   MALLOC_ARENA_MAX=1: glibc reserves 64 MB of address space for each
   thread's malloc arena on its first malloc; whether a worker does so
   before the next worker's stack is mapped is a race, which would make
   thread creation under the limit fail now and then. */
static void run_limited(const char *script, int workers, long kb, proc_result *r) {
  const char *bin = getenv("LUNGO_BIN");
  char cmd[256], wbuf[16];
  memset(r, 0, sizeof *r);
  cr_assert(bin && *bin, "LUNGO_BIN must name the lungo binary (make test-stress sets it)");
  snprintf(cmd, sizeof cmd, "ulimit -v %ld && export MALLOC_ARENA_MAX=1 && exec \"$0\" -W \"$1\" \"$2\"", kb);
  snprintf(wbuf, sizeof wbuf, "%d", workers);
  FILE *out = tmpfile(), *err = tmpfile();
  cr_assert(out && err, "tmpfile: %s", strerror(errno));
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    test_child_dies_with_parent();
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    execl("/bin/sh", "sh", "-c", cmd, bin, wbuf, script, (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  r->exited = WIFEXITED(st);
  r->code = r->exited ? WEXITSTATUS(st) : -1;
  r->signaled = WIFSIGNALED(st);
  r->sig = r->signaled ? WTERMSIG(st) : 0;
  rewind(out);
  rewind(err);
  read_all(fileno(out), r->out, sizeof r->out);
  read_all(fileno(err), r->err, sizeof r->err);
  fclose(out);
  fclose(err);
}

/* Address space for the binary, four workers' 8 MB stacks (lungo -W 4
   starts in about 40 MB) and some 40 MB of heap; the scripts ask for far
   more. Filling memory is slow on a virtual machine, so not much more. */
#define ULIMIT_KB 80000L
#endif

Test(oom, ulimit_caught_others_keep_running, .timeout = STRESS_TIMEOUT) {
#ifdef STRESS_SANITIZED
  cr_skip_test("ulimit -v cannot hold a sanitizer's shadow memory");
#else
  for (int i = 0; i < NWORKER_COUNTS; i++) {
    proc_result r;
    run_limited(STRESS_DIR "/oom/caught.lua", worker_counts[i], ULIMIT_KB, &r);
    cr_assert(r.exited && r.code == 0 && contains(r.out, "caught: not enough memory") &&
                  contains(r.out, "others: ok"),
              "[workers=%d] exited=%d code=%d signal=%d\n--- stdout ---\n%s\n--- stderr ---\n%s",
              worker_counts[i], r.exited, r.code, r.sig, r.out, r.err);
  }
#endif
}

Test(oom, ulimit_uncaught_reported, .timeout = STRESS_TIMEOUT) {
#ifdef STRESS_SANITIZED
  cr_skip_test("ulimit -v cannot hold a sanitizer's shadow memory");
#else
  for (int i = 0; i < NWORKER_COUNTS; i++) {
    proc_result r;
    run_limited(STRESS_DIR "/oom/uncaught.lua", worker_counts[i], ULIMIT_KB, &r);
    cr_assert(r.exited && r.code == 1 && contains(r.err, "not enough memory"),
              "[workers=%d] exited=%d code=%d signal=%d\n--- stdout ---\n%s\n--- stderr ---\n%s",
              worker_counts[i], r.exited, r.code, r.sig, r.out, r.err);
  }
#endif
}

/* A limit that lets some worker threads start and not the next one: the
   runtime must not have started the program on the first ones (it printed
   "ran", then "cannot start the runtime"). Each limit either runs the whole
   program or fails before any of it; the lowest limits must fail. */
Test(oom, ulimit_start_is_all_or_nothing, .timeout = STRESS_TIMEOUT) {
#ifdef STRESS_SANITIZED
  cr_skip_test("ulimit -v cannot hold a sanitizer's shadow memory");
#else
  int failed = 0;
  for (long kb = 20000; kb <= 60000; kb += 4000) {
    proc_result r;
    run_limited(STRESS_DIR "/oom/start.lua", 4, kb, &r);
    int ran = r.exited && r.code == 0 && strcmp(r.out, "ran\n") == 0;
    int refused = r.exited && r.code == 1 && r.out[0] == '\0' &&
                  contains(r.err, "cannot start the runtime");
    cr_assert(ran || refused, "[ulimit -v %ld] exited=%d code=%d signal=%d\n--- stdout ---\n%s\n--- stderr ---\n%s",
              kb, r.exited, r.code, r.sig, r.out, r.err);
    failed += refused;
  }
  cr_assert(failed > 0, "no limit from 20 MB up stopped the start: the test checks nothing");
#endif
}
