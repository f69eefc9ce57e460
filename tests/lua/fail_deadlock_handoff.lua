-- Hand-offs on one worker (the waker goes on, then parks or ends) are
-- settled in the worker's own count before the deadlock count sees them:
-- the deadlock that follows must still be found, and only then.
-- expect-status: deadlock
-- expect-message: goroutine 1 [chan receive]:
-- expect-message: fail_deadlock_handoff.lua:24
local a, b, c, never = chan(), chan(), chan(), chan()

-- woken by main's sends, then blocked for good
go(function() a:recv(); never:recv() end)
go(function() b:recv(); never:recv() end)

-- wakes two, then ends
go(function(x, y)
  x:send(1)
  y:send(2)
end, a, b)

-- main: woken by a hand-off from a goroutine that then ends
go(function() c:send(3) end)
assert(c:recv() == 3)
go.sleep(0.01)            -- everyone else is blocked or gone by now
print("not yet")
never:recv()
