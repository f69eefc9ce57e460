/*
 * The samples: every samples/NAME.lua (listed with opendir, relative to the
 * current directory; `make test` runs from the project root) is run through
 * the lungo binary named by $LUNGO_BIN, as `lungo -W N samples/NAME.lua`
 * for N = 1, 2 and 4. Each (sample, workers) pair is one parameterized
 * test. It passes when the program exits with status 0 and its standard
 * output, without the lines that start with "# " (timings and other figures
 * that vary from run to run), equals samples/expected/NAME.txt.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "listing.h"
#include "watchdog.h"

#define SAMPLE_DIR "samples"
#define EXPECTED_DIR "samples/expected"
#define SAMPLE_PATH_MAX 512
#define SHOWN_MAX 4000

static const int sample_workers[] = {1, 2, 4};
#define NSAMPLE_WORKERS ((int)(sizeof sample_workers / sizeof sample_workers[0]))

/* One parameter: a sample and a worker count (plain arrays only: the
   parameters live in Criterion's shared arena). */
typedef struct sample_case {
  char name[128];               /* "spawn30k"; "" when nothing could be listed */
  char note[256];               /* why, in that case */
  int workers;
} sample_case;

/* ---- listing the samples ---- */


static void free_samples(struct criterion_test_params *crp) {
  cr_free(crp->params);
}

ParameterizedTestParameters(samples, run) {
  char note[256] = "";
  size_t n;
  char **names = lng_test_list_lua(SAMPLE_DIR, sizeof ((sample_case *)0)->name + 4, &n, note, sizeof note);

  size_t count = n ? n * NSAMPLE_WORKERS : 1;
  sample_case *cases = cr_calloc(count, sizeof *cases);
  if (cases) {
    if (n == 0) {
      snprintf(cases[0].note, sizeof cases[0].note, "%s", note);
      cases[0].workers = 1;
    }
    for (size_t i = 0; i < n; i++) {
      size_t len = strlen(names[i]) - 4;           /* without ".lua" */
      for (int w = 0; w < NSAMPLE_WORKERS; w++) {
        sample_case *c = &cases[i * NSAMPLE_WORKERS + (size_t)w];
        memcpy(c->name, names[i], len);
        c->name[len] = '\0';
        c->workers = sample_workers[w];
      }
    }
  } else {
    count = 0;
  }
  lng_test_free_list(names, n);
  return cr_make_param_array(sample_case, cases, count, free_samples);
}

/* ---- a growing byte buffer ---- */

typedef struct buf {
  char *p;
  size_t len, cap;
} buf;

static int buf_add(buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap : 4096;
    while (b->len + n + 1 > ncap) ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (!np) return -1;
    b->p = np;
    b->cap = ncap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  buf b = {0};
  char chunk[4096];
  size_t n;
  int bad = buf_add(&b, "", 0);
  while (!bad && (n = fread(chunk, 1, sizeof chunk, f)) > 0) bad = buf_add(&b, chunk, n);
  fclose(f);
  if (bad) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

/* The text without its lines that start with "# ". */
static char *drop_comment_lines(const char *s) {
  buf b = {0};
  if (buf_add(&b, "", 0)) return NULL;
  while (*s) {
    const char *nl = strchr(s, '\n');
    size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
    if (!(len >= 2 && s[0] == '#' && s[1] == ' ') && buf_add(&b, s, len)) {
      free(b.p);
      return NULL;
    }
    s += len;
  }
  return b.p;
}

/* ---- running a sample ---- */

typedef struct run_result {
  int ok;                      /* the child could be started and waited for */
  char why[256];               /* when not */
  int status;                  /* from waitpid */
  buf out, err;
} run_result;

static void run_sample(const char *bin, const char *script, int workers, run_result *r) {
  int op[2], ep[2];
  char wbuf[16];
  memset(r, 0, sizeof *r);
  snprintf(wbuf, sizeof wbuf, "%d", workers);
  if (pipe(op) != 0) {
    snprintf(r->why, sizeof r->why, "pipe: %s", strerror(errno));
    return;
  }
  if (pipe(ep) != 0) {
    snprintf(r->why, sizeof r->why, "pipe: %s", strerror(errno));
    close(op[0]);
    close(op[1]);
    return;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(r->why, sizeof r->why, "fork: %s", strerror(errno));
    close(op[0]); close(op[1]); close(ep[0]); close(ep[1]);
    return;
  }
  if (pid == 0) {
    test_child_dies_with_parent();
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) dup2(in, 0);
    dup2(op[1], 1);
    dup2(ep[1], 2);
    close(op[0]); close(op[1]); close(ep[0]); close(ep[1]);
    unsetenv("LUNGO_WORKERS");
    execl(bin, bin, "-W", wbuf, script, (char *)NULL);
    fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
    _exit(127);
  }
  close(op[1]);
  close(ep[1]);
  struct pollfd fds[2] = {{op[0], POLLIN, 0}, {ep[0], POLLIN, 0}};
  buf *dest[2] = {&r->out, &r->err};
  int open_fds = 2;
  buf_add(&r->out, "", 0);
  buf_add(&r->err, "", 0);
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[4096];
      ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n > 0) {
        buf_add(dest[i], chunk, (size_t)n);
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
      }
    }
  }
  for (int i = 0; i < 2; i++) if (fds[i].fd >= 0) close(fds[i].fd);
  while (waitpid(pid, &r->status, 0) < 0) {
    if (errno != EINTR) {
      snprintf(r->why, sizeof r->why, "waitpid: %s", strerror(errno));
      return;
    }
  }
  r->ok = 1;
}

/* Where two texts first differ: the line number and both lines, quoted. */
static void first_difference(const char *got, const char *want, char *msg, size_t size) {
  int line = 1;
  const char *g = got, *w = want;
  while (*g && *g == *w) {
    if (*g == '\n') line++;
    g++;
    w++;
  }
  while (g > got && g[-1] != '\n') g--;     /* back to the start of the line */
  while (w > want && w[-1] != '\n') w--;
  int gl = *g ? (int)strcspn(g, "\n") : 300, wl = *w ? (int)strcspn(w, "\n") : 300;
  snprintf(msg, size, "first difference at line %d:\n  got:      %s%.*s%s\n  expected: %s%.*s%s",
           line, *g ? "\"" : "", gl > 300 ? 300 : gl, *g ? g : "(end of output)", *g ? "\"" : "",
           *w ? "\"" : "", wl > 300 ? 300 : wl, *w ? w : "(end of file)", *w ? "\"" : "");
}

ParameterizedTest(sample_case *c, samples, run, .timeout = 120) {
  char script[SAMPLE_PATH_MAX], expected_path[SAMPLE_PATH_MAX], diff[1024];
  cr_assert(c->name[0] != '\0', "%s", c->note);
  const char *bin = getenv("LUNGO_BIN");
  cr_assert(bin != NULL && bin[0] != '\0',
            "LUNGO_BIN is not set: it must name the lungo binary (`make test` sets it), "
            "e.g. LUNGO_BIN=$PWD/build/lungo ./build/lungo-tests");
  cr_assert(access(bin, X_OK) == 0, "LUNGO_BIN=%s is not an executable file: %s", bin, strerror(errno));

  snprintf(script, sizeof script, "%s/%s.lua", SAMPLE_DIR, c->name);
  test_watchdog_note(script, c->workers);
  snprintf(expected_path, sizeof expected_path, "%s/%s.txt", EXPECTED_DIR, c->name);
  char *expected = read_file(expected_path);
  cr_assert(expected != NULL, "%s [workers=%d]: cannot read %s: %s", script, c->workers,
            expected_path, strerror(errno));

  run_result r;
  run_sample(bin, script, c->workers, &r);
  cr_assert(r.ok, "%s [workers=%d]: %s", script, c->workers, r.why);
  const char *err = r.err.p ? r.err.p : "";
  size_t errlen = strlen(err);
  const char *err_tail = errlen > SHOWN_MAX ? err + errlen - SHOWN_MAX : err;
  cr_assert(WIFEXITED(r.status),
            "%s [workers=%d]: killed by signal %d; stderr:\n%s", script, c->workers,
            WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0, err_tail);
  cr_assert_eq(WEXITSTATUS(r.status), 0, "%s [workers=%d]: exit status %d; stderr:\n%s",
               script, c->workers, WEXITSTATUS(r.status), err_tail);

  char *got = drop_comment_lines(r.out.p ? r.out.p : "");
  cr_assert(got != NULL, "out of memory");
  if (strcmp(got, expected) != 0) first_difference(got, expected, diff, sizeof diff);
  cr_assert(strcmp(got, expected) == 0,
            "%s [workers=%d]: output differs from %s (lines starting with \"# \" ignored)\n%s\n"
            "stderr:\n%s", script, c->workers, expected_path, diff, err_tail);
  free(got);
  free(expected);
  free(r.out.p);
  free(r.err.p);
}
