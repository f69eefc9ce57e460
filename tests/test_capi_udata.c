/*
 * Userdata that opts in to crossing (lng_udtype in include/lungo.h), through
 * samples/embed/udata.c: a by-value type (vec3) and a by-reference one
 * (tally, a shared C counter with a release callback) cross workers at 1,
 * 2 and 4 workers; the counter counts exactly and is released once. Built
 * with the suite's sanitizer, so `make test-tsan` checks it too.
 */
#include "capi_util.h"

/* The udata sample next to $LUNGO_BIN (set by `make test`), else build/. */
static void udata_path(char *buf, size_t n) {
  const char *bin = getenv("LUNGO_BIN");
  const char *slash = bin ? strrchr(bin, '/') : NULL;
  if (slash) snprintf(buf, n, "%.*s/udata-sample", (int)(slash - bin), bin);
  else snprintf(buf, n, "build/udata-sample");
}

Test(capi_udata, sample_crosses_workers, .timeout = T_TIMEOUT * 3) {
  char path[1024], cmd[1100];
  udata_path(path, sizeof path);
  cr_assert_eq(access(path, X_OK), 0, "%s is missing: run make", path);
  for (int i = 0; i < NCOUNTS; i++) {
    snprintf(cmd, sizeof cmd, "%s %d 2>&1", path, WORKER_COUNTS[i]);
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL);
    char out[4096];
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = 0;
    int status = pclose(p);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "udata-sample %d: status 0x%x, output: %s", WORKER_COUNTS[i], status, out);
    char want[128];
    snprintf(want, sizeof want, "%d workers: released 1: OK\n", WORKER_COUNTS[i]);
    cr_assert(strstr(out, want) != NULL, "%s", out);
  }
}
