/* See criterion.h: parameterized tests are declared there. */
#include "criterion.h"
