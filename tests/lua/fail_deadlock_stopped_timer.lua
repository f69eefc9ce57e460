-- A stopped timer is not a possible waker: with only a stopped timer
-- left, a goroutine waiting on its channel is deadlocked, and the report
-- says so at once (not when the timer would have fired).
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-message: goroutine 1 [chan receive]:
-- expect-message: fail_deadlock_stopped_timer.lua:11
local t = go.timer(3600)
assert(t:stop())
local af = go.afterfunc(3600, function() end) assert(af:stop())
t.c:recv()
