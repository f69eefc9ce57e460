/*
 * Lua-level tests: every script tests/lua/NAME.lua (listed with opendir,
 * relative to the current directory; `make test` runs from the project root)
 * is run through the public API with 1, 2 and 4 workers. Each
 * (script, workers) pair is one parameterized test, and every failure
 * message names the script and the worker count.
 *
 * A script passes when the program ends with LNG_OK, an empty message and
 * exit code 0, unless its leading comment block (the comment and blank
 * lines before the first line of code) says otherwise:
 *
 *   -- expect-status: ok|error|syntax|file|mem|deadlock|exit|misuse
 *   -- expect-exit: N          the exit code, required with "exit"
 *   -- expect-message: text    must occur in lng_message() (repeatable)
 *   -- expect-regex: ERE       POSIX extended regex that must match
 *                              lng_message() (repeatable)
 *
 * Scripts named fail_*.lua must expect a status other than ok; the others
 * must not. A deadlock message must always start with the Go-style
 * "fatal error: all goroutines are asleep - deadlock!" line, or, once the
 * main goroutine has returned, "fatal error: main returned, but N
 * goroutine(s) is/are blocked forever" with N the number of goroutines it
 * then lists. Scripts get arg[0] = their path and arg[1] = the worker count.
 *
 * Each run has a generous timeout, so a hang fails the test instead of
 * blocking CI. Nothing is printed on success.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lungo.h"
#include "listing.h"
#include "watchdog.h"

#define LUA_TEST_DIR "tests/lua"
#define CASE_PATH_MAX LNG_CASE_PATH_MAX
#define HEADER_LINE_MAX 1024
#define MAX_EXPECT 32
#define MESSAGE_SHOWN_MAX 6000

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LUA_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LUA_TEST_SANITIZED 1
#endif
#endif
#ifdef LUA_TEST_SANITIZED
#define LUA_TEST_TIMEOUT 180.0
/* The few scripts that bound a latency (a sleep beside a spinner) scale
   their bound by LUNGO_TEST_SLOW: a sanitizer makes every step several
   times slower, and the bound is there to tell "within a few preemption
   periods" from "never", not to time the runtime. Set before main, while
   the process has one thread. */
__attribute__((constructor)) static void mark_slow(void) { setenv("LUNGO_TEST_SLOW", "20", 1); }
#else
#define LUA_TEST_TIMEOUT 60.0
#endif

#define DEADLOCK_HEADER "fatal error: all goroutines are asleep - deadlock!"
#define LEAK_HEADER "fatal error: main returned, but "

/* For a report that starts with LEAK_HEADER: whether it is followed by
   "N goroutine(s) is/are blocked forever\n" with N the number of
   "goroutine ID [" blocks listed. */
static int leak_header_ok(const char *msg) {
  const char *p = msg + strlen(LEAK_HEADER);
  char *end;
  long n = strtol(p, &end, 10);
  if (end == p || n < 1) return 0;
  const char *rest = n == 1 ? " goroutine is blocked forever\n" : " goroutines are blocked forever\n";
  if (strncmp(end, rest, strlen(rest)) != 0) return 0;
  long listed = 0;
  for (const char *q = msg; (q = strstr(q, "\ngoroutine ")); q++) listed++;
  return listed == n;
}

static const int worker_counts[] = {1, 2, 4};
#define NWORKER_COUNTS ((int)(sizeof worker_counts / sizeof worker_counts[0]))

/* One parameter: a script and a worker count. Plain arrays only, since the
   parameters live in Criterion's shared arena (cr_malloc). */
typedef lng_script_case lua_case;

/* ---- listing the scripts ---- */

static void free_cases(struct criterion_test_params *crp) {
  cr_free(crp->params);
}

ParameterizedTestParameters(lua, scripts) {
  size_t count;
  lua_case *cases = lng_test_script_cases(LUA_TEST_DIR, worker_counts, NWORKER_COUNTS, cr_calloc, &count);
  return cr_make_param_array(lua_case, cases, count, free_cases);
}

/* ---- the expectations in a script's leading comments ---- */

typedef struct expectations {
  int status;                       /* LNG_* */
  int has_status;
  int exit_code;
  int has_exit;
  int nmsg, nre;
  char msg[MAX_EXPECT][HEADER_LINE_MAX];
  char re[MAX_EXPECT][HEADER_LINE_MAX];
} expectations;

static const struct { const char *name; int status; } status_names[] = {
  {"ok", LNG_OK},           {"error", LNG_ERRRUN},   {"syntax", LNG_ERRSYNTAX},
  {"file", LNG_ERRFILE},    {"mem", LNG_ERRMEM},     {"deadlock", LNG_DEADLOCK},
  {"exit", LNG_EXIT},       {"misuse", LNG_ERRMISUSE},
};
#define NSTATUS_NAMES ((int)(sizeof status_names / sizeof status_names[0]))

static const char *status_name(int st) {
  for (int i = 0; i < NSTATUS_NAMES; i++)
    if (status_names[i].status == st) return status_names[i].name;
  return "unknown";
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t len = strlen(s);
  while (len > 0 && isspace((unsigned char)s[len - 1])) s[--len] = '\0';
  return s;
}

static const char *basename_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Returns 1 on success, 0 with err filled in. */
static int parse_expectations(const char *path, expectations *ex, char *err, size_t errlen) {
  char line[HEADER_LINE_MAX + 2];
  int lineno = 0;
  FILE *f = fopen(path, "r");
  memset(ex, 0, sizeof *ex);
  ex->status = LNG_OK;
  if (!f) {
    snprintf(err, errlen, "cannot open: %s", strerror(errno));
    return 0;
  }
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (!strchr(line, '\n') && !feof(f)) {
      snprintf(err, errlen, "line %d is too long for the header parser", lineno);
      fclose(f);
      return 0;
    }
    char *s = trim(line);
    if (lineno == 1 && s[0] == '#') continue;        /* #! line */
    if (*s == '\0') continue;
    if (strncmp(s, "--", 2) != 0) break;             /* first line of code */
    s = trim(s + 2);
    if (strncmp(s, "expect-", 7) != 0) continue;     /* an ordinary comment */
    char *colon = strchr(s, ':');
    if (!colon) {
      snprintf(err, errlen, "line %d: expected 'expect-KEY: VALUE'", lineno);
      fclose(f);
      return 0;
    }
    *colon = '\0';
    char *key = trim(s), *value = trim(colon + 1);
    if (strcmp(key, "expect-status") == 0) {
      int found = 0;
      for (int i = 0; i < NSTATUS_NAMES; i++)
        if (strcmp(value, status_names[i].name) == 0) {
          ex->status = status_names[i].status;
          found = 1;
        }
      if (!found || ex->has_status) {
        snprintf(err, errlen, "line %d: bad or repeated expect-status '%s'", lineno, value);
        fclose(f);
        return 0;
      }
      ex->has_status = 1;
    } else if (strcmp(key, "expect-exit") == 0) {
      char *end;
      long v = strtol(value, &end, 10);
      if (*value == '\0' || *end != '\0' || ex->has_exit) {
        snprintf(err, errlen, "line %d: bad or repeated expect-exit '%s'", lineno, value);
        fclose(f);
        return 0;
      }
      ex->exit_code = (int)v;
      ex->has_exit = 1;
    } else if (strcmp(key, "expect-message") == 0 || strcmp(key, "expect-regex") == 0) {
      int is_re = key[7] == 'r';
      int *count = is_re ? &ex->nre : &ex->nmsg;
      if (*value == '\0' || *count == MAX_EXPECT) {
        snprintf(err, errlen, "line %d: empty %s or too many of them", lineno, key);
        fclose(f);
        return 0;
      }
      snprintf(is_re ? ex->re[*count] : ex->msg[*count], HEADER_LINE_MAX, "%s", value);
      (*count)++;
    } else {
      snprintf(err, errlen, "line %d: unknown header '%s'", lineno, key);
      fclose(f);
      return 0;
    }
  }
  fclose(f);

  int is_fail = strncmp(basename_of(path), "fail_", 5) == 0;
  if (is_fail && ex->status == LNG_OK) {
    snprintf(err, errlen, "a fail_*.lua script needs an '-- expect-status:' other than ok");
    return 0;
  }
  if (!is_fail && ex->status != LNG_OK) {
    snprintf(err, errlen, "only fail_*.lua scripts may expect a status other than ok");
    return 0;
  }
  if ((ex->status == LNG_EXIT) != (ex->has_exit != 0)) {
    snprintf(err, errlen, "'-- expect-exit: N' goes with, and only with, expect-status: exit");
    return 0;
  }
  return 1;
}

/* ---- running a script ---- */

typedef struct outcome {
  const char *failed_call;  /* the API call that failed before lng_wait, or NULL */
  int rc;                   /* its status, or lng_wait()'s */
  int waited;               /* lng_wait() was reached */
  int status;               /* lng_status() after lng_wait() */
  int exit_code;            /* lng_exit_code() after lng_wait() */
  char *message;            /* copy of lng_message(), owned */
} outcome;

/* What a script prints is not what it is checked on (its outcome and
   lng_message() are): its standard output goes to /dev/null while it runs,
   so that `make test` shows the tests' results only. */
static int quiet_stdout(void) {
  fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  int null = open("/dev/null", O_WRONLY);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    close(null);
  }
  return saved;
}

static void restore_stdout(int saved) {
  fflush(stdout);
  if (saved >= 0) {
    dup2(saved, STDOUT_FILENO);
    close(saved);
  }
}

static void run_script(char *path, int workers, outcome *o) {
  lng_config cfg;
  char wbuf[16];
  char prog[] = "lungo-tests";
  char *argv[] = {prog, path, wbuf, NULL};
  const char *msg;
  int rc;

  memset(o, 0, sizeof *o);
  lng_config_init(&cfg);
  cfg.workers = workers;
  lng_runtime *rt = lng_new(&cfg);
  if (!rt) {
    o->failed_call = "lng_new";
    o->rc = LNG_ERRMEM;
    o->message = strdup("lng_new returned NULL");
    return;
  }
  snprintf(wbuf, sizeof wbuf, "%d", workers);
  int saved = quiet_stdout();        /* until the workers are gone */
  if ((rc = lng_main_args(rt, 3, argv, 1)) != LNG_OK) {
    o->failed_call = "lng_main_args";
  } else if ((rc = lng_main_file(rt, path)) != LNG_OK) {
    /* the file may be read and compiled right away: a syntax error can
       surface here as well as from lng_wait */
    o->failed_call = "lng_main_file";
  } else if ((rc = lng_start(rt)) != LNG_OK) {
    o->failed_call = "lng_start";
  } else {
    rc = lng_wait(rt);
    o->waited = 1;
    o->status = lng_status(rt);
    o->exit_code = lng_exit_code(rt);
  }
  o->rc = rc;
  msg = lng_message(rt);
  o->message = strdup(msg ? msg : "(lng_message returned NULL)");
  lng_destroy(rt);
  restore_stdout(saved);
}

/* ---- the test ---- */

static expectations ex;   /* large; one test at a time per process */
static char *full_message; /* static so that an aborted test leaks nothing */

ParameterizedTest(lua_case *c, lua, scripts, .timeout = LUA_TEST_TIMEOUT) {
  char err[512];
  char shown[MESSAGE_SHOWN_MAX + 32];
  outcome o;

  cr_assert(c->path[0] != '\0', "%s", c->note);
  test_watchdog_note(c->path, c->workers);
  if (!parse_expectations(c->path, &ex, err, sizeof err))
    cr_assert_fail("%s: bad test header: %s", c->path, err);

  run_script(c->path, c->workers, &o);

  free(full_message);
  full_message = o.message;
  const char *msg = full_message ? full_message : "";
  snprintf(shown, sizeof shown, "%.*s%s", MESSAGE_SHOWN_MAX, msg,
           strlen(msg) > MESSAGE_SHOWN_MAX ? "\n[... truncated]" : "");

  const char *script = c->path;
  int workers = c->workers;

  /* only lng_main_file may legitimately fail before lng_wait (compile errors) */
  cr_assert(o.failed_call == NULL || strcmp(o.failed_call, "lng_main_file") == 0,
            "%s [workers=%d]: %s failed with %s (%d)\n--- lng_message() ---\n%s",
            script, workers, o.failed_call ? o.failed_call : "?", status_name(o.rc), o.rc, shown);

  int status = o.waited ? o.status : o.rc;
  cr_assert(status == ex.status,
            "%s [workers=%d]: expected status %s, got %s (%d)%s\n--- lng_message() ---\n%s",
            script, workers, status_name(ex.status), status_name(status), status,
            o.waited ? "" : " from lng_main_file", shown);

  if (o.waited) {
    cr_assert(o.rc == o.status, "%s [workers=%d]: lng_wait() returned %s but lng_status() is %s",
              script, workers, status_name(o.rc), status_name(o.status));
    if (ex.status == LNG_EXIT)
      cr_assert(o.exit_code == ex.exit_code, "%s [workers=%d]: expected exit code %d, got %d",
                script, workers, ex.exit_code, o.exit_code);
    else
      cr_assert(o.exit_code == (ex.status == LNG_OK ? 0 : 1),
                "%s [workers=%d]: lng_exit_code() is %d for status %s",
                script, workers, o.exit_code, status_name(status));
  }

  if (ex.status == LNG_OK) {
    cr_assert(msg[0] == '\0', "%s [workers=%d]: status ok but lng_message() is not empty:\n%s",
              script, workers, shown);
    return;
  }
  if (ex.status != LNG_EXIT)
    cr_assert(msg[0] != '\0', "%s [workers=%d]: status %s with an empty lng_message()",
              script, workers, status_name(status));
  if (ex.status == LNG_DEADLOCK && strncmp(msg, LEAK_HEADER, strlen(LEAK_HEADER)) == 0)
    cr_assert(leak_header_ok(msg),
              "%s [workers=%d]: \"%s\" must go on with \"N goroutine(s) is/are blocked forever\", "
              "N the goroutines listed\n--- lng_message() ---\n%s",
              script, workers, LEAK_HEADER, shown);
  else if (ex.status == LNG_DEADLOCK)
    cr_assert(strncmp(msg, DEADLOCK_HEADER, strlen(DEADLOCK_HEADER)) == 0,
              "%s [workers=%d]: a deadlock report must start with \"%s\" or \"%s\"\n"
              "--- lng_message() ---\n%s",
              script, workers, DEADLOCK_HEADER, LEAK_HEADER, shown);

  for (int i = 0; i < ex.nmsg; i++)
    cr_assert(strstr(msg, ex.msg[i]) != NULL,
              "%s [workers=%d]: lng_message() lacks \"%s\"\n--- lng_message() ---\n%s",
              script, workers, ex.msg[i], shown);

  for (int i = 0; i < ex.nre; i++) {
    regex_t re;
    int rerr = regcomp(&re, ex.re[i], REG_EXTENDED | REG_NOSUB);
    if (rerr != 0) {
      regerror(rerr, &re, err, sizeof err);
      cr_assert_fail("%s: bad expect-regex \"%s\": %s", script, ex.re[i], err);
    }
    int m = regexec(&re, msg, 0, NULL, 0);
    regfree(&re);
    cr_assert(m == 0, "%s [workers=%d]: lng_message() does not match /%s/\n--- lng_message() ---\n%s",
              script, workers, ex.re[i], shown);
  }
}
