-- Main returned but a goroutine can never finish: that is a deadlock too,
-- and the report says what happened, with where the goroutine waits and
-- where it was created.
-- expect-status: deadlock
-- expect-message: fatal error: main returned, but 1 goroutine is blocked forever
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan receive\]:
-- expect-message: fail_deadlock_after_main.lua:12
-- expect-message: created by tests/lua/fail_deadlock_after_main.lua:10
local never = chan()
go(function()
  local x = 1
  never:recv()
  return x
end)
