/*
 * liblungo exports what include/lungo.h declares and nothing else: the
 * library's objects are built with hidden visibility, the header marks its
 * declarations visible. Reads the symbol tables of $(B)/liblungo.a and the
 * dynamic symbols of $(B)/liblungo.so (next to $LUNGO_BIN) with readelf,
 * and the header's declarations as text.
 */
#include <criterion/criterion.h>

#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXNAMES 256

/* The lng_* identifiers followed by '(' in the header: its functions. */
static int header_names(char names[][64]) {
  FILE *f = fopen("include/lungo.h", "r");
  cr_assert(f != NULL, "include/lungo.h must be readable from the project root");
  int n = 0, c, prev = ' ';
  char word[64];
  size_t len = 0;
  while ((c = fgetc(f)) != EOF) {
    if (isalnum(c) || c == '_') {
      if (len == 0 && (isalnum(prev) || prev == '_')) { prev = c; continue; }
      if (len < sizeof word - 1) word[len++] = (char)c;
    } else {
      if (len > 4 && strncmp(word, "lng_", 4) == 0) {
        word[len] = '\0';
        int d = c;
        while (d == ' ') d = fgetc(f);
        if (d == '(' && n < MAXNAMES) strcpy(names[n++], word);
        if (d != EOF) ungetc(d, f);
        c = ' ';
      }
      len = 0;
    }
    prev = c;
  }
  fclose(f);
  return n;
}

/* Checks the defined global symbols readelf lists for lib (opts: -s for
   an archive's symbol tables, --dyn-syms for a shared object's). */
static void only_header_names(const char *lib, const char *opts) {
  const char *bin = getenv("LUNGO_BIN");
  cr_assert(bin && *bin, "LUNGO_BIN must name the lungo binary (make test sets it)");
  static char names[MAXNAMES][64];
  int n = header_names(names);
  cr_assert_gt(n, 20, "the header declares lng_new, lng_start, ... (found %d)", n);
  char path[1024], cmd[1200], dir[1024];
  snprintf(dir, sizeof dir, "%s", bin);
  snprintf(path, sizeof path, "%s/%s", dirname(dir), lib);
  snprintf(cmd, sizeof cmd, "readelf -W %s '%s'", opts, path);
  FILE *p = popen(cmd, "r");
  cr_assert(p != NULL);
  char line[1024];
  int exported = 0, seen_new = 0, seen_all = 0;
  char stray[2048] = "";
  while (fgets(line, sizeof line, p)) {
    char num[32], value[64], size[32], type[32], bind[32], vis[32], ndx[32], name[512];
    if (sscanf(line, "%31s %63s %31s %31s %31s %31s %31s %511s", num, value, size, type,
               bind, vis, ndx, name) != 8)
      continue;
    if (strcmp(bind, "GLOBAL") != 0 && strcmp(bind, "WEAK") != 0) continue;
    if (strcmp(ndx, "UND") == 0 || strcmp(vis, "DEFAULT") != 0) continue;
    exported++;
    if (strcmp(name, "lng_new") == 0) seen_new = 1;
    if (strcmp(name, "lng_version_num") == 0) seen_all = 1;
    int ok = 0;
    for (int i = 0; i < n && !ok; i++) ok = strcmp(names[i], name) == 0;
    if (!ok && strlen(stray) + strlen(name) + 2 < sizeof stray) {
      strcat(stray, " ");
      strcat(stray, name);
    }
  }
  int st = pclose(p);
  cr_assert_eq(st, 0, "readelf failed on %s", path);
  cr_assert(seen_new && seen_all, "lng_new or lng_version_num is not exported from %s (%d exported)",
            path, exported);
  cr_assert_str_eq(stray, "", "%s exports what lungo.h does not declare:%s", path, stray);
}

Test(exports, only_the_public_header) {
  only_header_names("liblungo.a", "-s");
}

Test(exports, shared_library_only_the_public_header) {
  only_header_names("liblungo.so", "--dyn-syms");
}
