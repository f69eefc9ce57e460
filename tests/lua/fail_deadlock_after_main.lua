-- Main returned but a goroutine can never finish: that is a deadlock too.
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan receive\]:
-- expect-message: fail_deadlock_after_main.lua:9
local never = chan()
go(function()
  local x = 1
  never:recv()
  return x
end)
