-- Run under ulimit -v limits too small for every worker thread: the
-- program runs whole or not at all (tests/stress/test_stress.c).
print("ran")
