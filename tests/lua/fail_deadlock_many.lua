-- Several goroutines blocked at once: the report lists each one with what it
-- waits on and where.
-- expect-status: deadlock
-- expect-message: goroutine 1 [chan receive]:
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan send\]:
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan receive\]:
-- expect-message: fail_deadlock_many.lua:15
-- expect-message: fail_deadlock_many.lua:19
-- expect-message: fail_deadlock_many.lua:23
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
