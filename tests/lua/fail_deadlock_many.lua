-- Several goroutines blocked at once while main still runs: Go's wording,
-- then each one with what it waits on, where, and where it was created.
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-message: goroutine 1 [chan receive]:
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan send\]:
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan receive\]:
-- expect-message: fail_deadlock_many.lua:18
-- expect-message: fail_deadlock_many.lua:22
-- expect-message: fail_deadlock_many.lua:26
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan send\]:.	[^ ]*fail_deadlock_many.lua:18.created by [^ ]*fail_deadlock_many.lua:16
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan receive\]:.	[^ ]*fail_deadlock_many.lua:22.created by [^ ]*fail_deadlock_many.lua:20
local a, b, c = chan(), chan(), chan()
local ready = chan(2)

go(function()
  ready:send(true)
  a:send("never received")
end)
go(function()
  ready:send(true)
  b:recv()
end)
ready:recv()
ready:recv()
c:recv()
