/* Test helper: the *.lua files of a folder, for parameterized tests. */
#ifndef LNG_TEST_LISTING_H
#define LNG_TEST_LISTING_H

#include <stddef.h>

/* The names of the regular *.lua files in dir (names shorter than maxname
   bytes), sorted, each malloc'd, in a malloc'd array of *n. With none, or
   when dir cannot be read, returns NULL with *n = 0 and why in note. */
char **lng_test_list_lua(const char *dir, size_t maxname, size_t *n, char *note, size_t notelen);
void lng_test_free_list(char **names, size_t n);

/* One parameter of a script-running test: a script and a worker count.
   Plain arrays only, since Criterion keeps parameters in its shared arena. */
#define LNG_CASE_PATH_MAX 512
typedef struct lng_script_case {
  char path[LNG_CASE_PATH_MAX];   /* "" when no script could be listed */
  char note[256];                 /* why, in that case */
  int workers;
} lng_script_case;

/* A case for every *.lua script of dir at every worker count, allocated
   with alloc (cr_calloc); with no script, one case saying why. *count is
   how many (0 when alloc failed). */
lng_script_case *lng_test_script_cases(const char *dir, const int *workers, int nworkers,
                                       void *(*alloc)(size_t, size_t), size_t *count);

#endif
