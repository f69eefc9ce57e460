-- A pending timer is a possible waker, so no deadlock is reported while a
-- goroutine sleeps. Once it has woken and blocked on a channel nobody can
-- reach, with main blocked likewise, the deadlock is reported: the report
-- shows the goroutine past its sleep (at the recv line, in chan receive).
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-message: goroutine 1 [chan receive]:
-- expect-message: fail_deadlock_after_timer.lua:20
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan receive\]:
-- expect-message: fail_deadlock_after_timer.lua:16
local main_never = chan()
go(function()
  local never = chan()
  go.sleep(0.02)
  local line = 1
  never:recv()
end)
-- main is blocked at once, while the goroutine still sleeps
local x = 1
main_never:recv()
