/* Test processes that end on time: see watchdog.c. */
#ifndef LNG_TEST_WATCHDOG_H
#define LNG_TEST_WATCHDOG_H

/* In a child the test forked, before exec: it is killed if the test
   worker dies first. */
void test_child_dies_with_parent(void);

/* What the test runs now, for the watchdog's message. */
void test_watchdog_note(const char *what, int workers);

#endif
