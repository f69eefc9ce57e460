/* Test helper: the *.lua files of a folder, for parameterized tests. */
#ifndef LNG_TEST_LISTING_H
#define LNG_TEST_LISTING_H

#include <stddef.h>

/* The names of the regular *.lua files in dir (names shorter than maxname
   bytes), sorted, each malloc'd, in a malloc'd array of *n. With none, or
   when dir cannot be read, returns NULL with *n = 0 and why in note. */
char **lng_test_list_lua(const char *dir, size_t maxname, size_t *n, char *note, size_t notelen);
void lng_test_free_list(char **names, size_t n);

#endif
