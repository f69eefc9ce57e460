/*
 * A backstop for the tests' timeouts. Criterion 2.4.1 times a test from a
 * killer thread in its runner (BoxFort's), and that thread can be gone: a
 * sample hung here for minutes past its 120 s `.timeout` with no killer
 * thread left in the runner (BoxFort's list of pending timeouts is not
 * safe against a cancel and a new request racing), and a CI run reached
 * its 90-minute limit inside `make test` with nothing printed to say which
 * test hung.
 * So every test worker (BoxFort runs each test in a process of its own,
 * marked by BXFI_MAP in its environment) arms an alarm of its own as it
 * starts: past every test's `.timeout`, it names the case and ends the
 * worker, which Criterion reports as a crash.
 *
 * The shim runner (tests/shim, the TSan build) times each case with an
 * alarm of its own already (no BXFI_MAP there). Children a test starts
 * die with its worker (test_child_dies_with_parent).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "watchdog.h"

/* past the longest .timeout (400 s: the stress suite under a sanitizer) */
#ifndef WATCHDOG_S
#define WATCHDOG_S 600
#endif

static char note[320];

void test_watchdog_note(const char *what, int workers) {
  snprintf(note, sizeof note, "%s [workers=%d]", what, workers);
}

static void say(const char *s) {
  ssize_t r = write(2, s, strlen(s));
  (void)r;
}

static void bark(int sig) {
  say("\ntest watchdog: ");
#ifndef LNG_CRITERION_SHIM_H
  const struct criterion_test *t = criterion_current_test;
  if (t) {
    say(t->category);
    say("::");
    say(t->name);
    say(" ");
  }
#endif
  if (note[0]) {
    say(note);
    say(" ");
  }
  say("was still running after every timeout and Criterion did not stop it; ended by SIGALRM\n");
  signal(sig, SIG_DFL);
  raise(sig);
}

__attribute__((constructor)) static void arm(void) {
  if (!getenv("BXFI_MAP")) return;        /* the runner itself */
  signal(SIGALRM, bark);
  alarm(WATCHDOG_S);
}

void test_child_dies_with_parent(void) {
  /* (in the child after fork, before exec: a test worker that is ended
     leaves no lungo behind it, spinning or holding a port) */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}
