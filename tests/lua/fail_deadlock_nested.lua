-- Main blocked inside a nested coroutine: the report points at the line in
-- the coroutine.
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-message: goroutine 1 [chan receive]:
-- expect-message: fail_deadlock_nested.lua:10
local ch = chan()
local co = coroutine.wrap(function()
  coroutine.yield(1)
  ch:recv()
end)
co()
co()
