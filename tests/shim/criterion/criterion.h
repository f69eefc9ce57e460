/*
 * A stand-in for the part of Criterion's API our tests use, for the
 * ThreadSanitizer build only: Criterion's process sandbox maps a shared
 * arena at random high addresses, which collide with TSan's shadow memory,
 * so a TSan-instrumented Criterion binary cannot start. The same test
 * sources compile against this header and run under tests/shim/runner.c:
 * each test in its own forked process, with its timeout.
 */
#ifndef LNG_CRITERION_SHIM_H
#define LNG_CRITERION_SHIM_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct criterion_test_extra_data {
  int shim_first_;                 /* lets `{0, __VA_ARGS__}` take designators */
  double timeout;
  void (*init)(void);
  void (*fini)(void);
  int disabled;
  const char *description;
  int signal;
  int exit_code;
};

struct criterion_test_params {
  size_t size;
  void *params;
  size_t length;
  void (*cleanup)(struct criterion_test_params *);
};

struct shim_test {
  const char *suite, *name;
  void (*fn)(void);
  void (*pfn)(void);               /* a parameterized body, called with a pointer */
  struct criterion_test_params (*params)(void);
  struct criterion_test_extra_data extra;
  struct shim_test *next;
};

void shim_register(struct shim_test *t);
void shim_register_suite(const char *suite, struct criterion_test_extra_data extra);
void shim_fail(const char *file, int line, const char *fmt, ...);
void shim_log(const char *fmt, ...);

#define SHIM_CAT_(a, b) a##b
#define SHIM_ID(S_, N_, what) SHIM_CAT_(shim_##S_##_##N_, what)

#define Test(S_, N_, ...)                                              \
  static void SHIM_ID(S_, N_, _fn)(void);                              \
  __attribute__((constructor)) static void SHIM_ID(S_, N_, _reg)(void) { \
    static struct shim_test t;                                              \
    t.suite = #S_; t.name = #N_; t.fn = SHIM_ID(S_, N_, _fn);     \
    t.extra = (struct criterion_test_extra_data){0, __VA_ARGS__};           \
    shim_register(&t);                                                      \
  }                                                                         \
  static void SHIM_ID(S_, N_, _fn)(void)

#define TestSuite(S_, ...)                                               \
  __attribute__((constructor)) static void SHIM_ID(S_, S_, _suite)(void) { \
    shim_register_suite(#S_, (struct criterion_test_extra_data){0, __VA_ARGS__}); \
  }

#define ParameterizedTestParameters(S_, N_)                            \
  struct criterion_test_params SHIM_ID(S_, N_, _params)(void)

#define ParameterizedTest(decl, S_, N_, ...)                           \
  struct criterion_test_params SHIM_ID(S_, N_, _params)(void);         \
  static void SHIM_ID(S_, N_, _pfn)(decl);                             \
  __attribute__((constructor)) static void SHIM_ID(S_, N_, _reg)(void) { \
    static struct shim_test t;                                              \
    t.suite = #S_; t.name = #N_;                                       \
    t.pfn = (void (*)(void))SHIM_ID(S_, N_, _pfn);                     \
    t.params = SHIM_ID(S_, N_, _params);                               \
    t.extra = (struct criterion_test_extra_data){0, __VA_ARGS__};           \
    shim_register(&t);                                                      \
  }                                                                         \
  static void SHIM_ID(S_, N_, _pfn)(decl)

#define cr_make_param_array(Type, Arr, Len, ...)                            \
  ((struct criterion_test_params){.size = sizeof(Type), .params = (void *)(Arr), \
                                   .length = (size_t)(Len), __VA_ARGS__})

#define cr_malloc malloc
#define cr_calloc calloc
#define cr_realloc realloc
#define cr_free free

/* Assertions: the condition, then an optional printf-style message. */
#define SHIM_MSG(...) "" __VA_ARGS__
#define cr_assert(cond, ...) \
  do { if (!(cond)) shim_fail(__FILE__, __LINE__, "assertion failed: " #cond " " SHIM_MSG(__VA_ARGS__)); } while (0)
#define cr_expect cr_assert
#define cr_assert_not(cond, ...) cr_assert(!(cond), __VA_ARGS__)
#define cr_assert_fail(...) shim_fail(__FILE__, __LINE__, "failed: " SHIM_MSG(__VA_ARGS__))
#define cr_fail cr_assert_fail
#define SHIM_CMP(a, op, b, ...) \
  do { if (!((a) op (b))) shim_fail(__FILE__, __LINE__, "assertion failed: " #a " " #op " " #b " " SHIM_MSG(__VA_ARGS__)); } while (0)
#define cr_assert_eq(a, b, ...)  SHIM_CMP(a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) SHIM_CMP(a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...)  SHIM_CMP(a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) SHIM_CMP(a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...)  SHIM_CMP(a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) SHIM_CMP(a, >=, b, __VA_ARGS__)
#define cr_expect_eq cr_assert_eq
#define cr_expect_neq cr_assert_neq
#define cr_expect_lt cr_assert_lt
#define cr_expect_leq cr_assert_leq
#define cr_expect_gt cr_assert_gt
#define cr_expect_geq cr_assert_geq
#define cr_expect_not cr_assert_not
#define cr_expect_null cr_assert_null
#define cr_expect_not_null cr_assert_not_null
#define cr_expect_str_eq cr_assert_str_eq
#define cr_expect_str_neq cr_assert_str_neq
#define cr_assert_null(p, ...) SHIM_CMP((const void *)(p), ==, NULL, __VA_ARGS__)
#define cr_assert_not_null(p, ...) SHIM_CMP((const void *)(p), !=, NULL, __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) \
  do { if (strcmp((a), (b)) != 0) shim_fail(__FILE__, __LINE__, "strings differ: %s vs %s " SHIM_MSG(__VA_ARGS__), (a), (b)); } while (0)
#define cr_assert_str_neq(a, b, ...) \
  do { if (strcmp((a), (b)) == 0) shim_fail(__FILE__, __LINE__, "strings equal: %s " SHIM_MSG(__VA_ARGS__), (a)); } while (0)
#define cr_assert_str_empty(s, ...) cr_assert((s)[0] == 0, __VA_ARGS__)
#define cr_assert_str_not_empty(s, ...) cr_assert((s)[0] != 0, __VA_ARGS__)
#define cr_log_info(...) shim_log(__VA_ARGS__)
#define cr_log_warn(...) shim_log(__VA_ARGS__)
#define cr_log_error(...) shim_log(__VA_ARGS__)
#define cr_skip_test(...) exit(0)

#endif
