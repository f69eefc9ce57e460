/* Listing test scripts and samples; see listing.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "listing.h"

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_lua_file(const char *dir, const char *name, size_t maxname) {
  size_t len = strlen(name);
  char path[1024];
  struct stat st;
  if (len < 5 || len >= maxname || strcmp(name + len - 4, ".lua") != 0) return 0;
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return 0;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char **lng_test_list_lua(const char *dir, size_t maxname, size_t *n, char *note, size_t notelen) {
  char **names = NULL;
  size_t cap = 0;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(note, notelen, "cannot open %s: %s (run the tests from the project root)",
             dir, strerror(errno));
    return NULL;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!is_lua_file(dir, e->d_name, maxname)) continue;
    if (*n == cap) {
      size_t ncap = cap ? 2 * cap : 64;
      char **nn = realloc(names, ncap * sizeof *nn);
      if (!nn) break;
      names = nn;
      cap = ncap;
    }
    if ((names[*n] = strdup(e->d_name)) != NULL) (*n)++;
  }
  closedir(d);
  if (*n == 0) {
    snprintf(note, notelen, "no *.lua files found in %s", dir);
    free(names);
    return NULL;
  }
  qsort(names, *n, sizeof *names, cmp_names);
  return names;
}

void lng_test_free_list(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

lng_script_case *lng_test_script_cases(const char *dir, const int *workers, int nworkers,
                                       void *(*alloc)(size_t, size_t), size_t *count) {
  char note[256] = "";
  size_t n;
  char **names = lng_test_list_lua(dir, LNG_CASE_PATH_MAX - strlen(dir) - 2, &n, note, sizeof note);
  *count = n ? n * (size_t)nworkers : 1;
  lng_script_case *cases = alloc(*count, sizeof *cases);
  if (cases) {
    if (n == 0) {
      snprintf(cases[0].note, sizeof cases[0].note, "%s", note);
      cases[0].workers = 1;
    }
    for (size_t i = 0; i < n; i++)
      for (int w = 0; w < nworkers; w++) {
        lng_script_case *c = &cases[i * (size_t)nworkers + (size_t)w];
        snprintf(c->path, sizeof c->path, "%s/%s", dir, names[i]);
        c->workers = workers[w];
      }
  } else {
    *count = 0;
  }
  lng_test_free_list(names, n);
  return cases;
}
