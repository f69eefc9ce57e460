-- coroutine.yield() at the top level of a goroutine is the plain Lua error.
-- expect-status: error
-- expect-message: attempt to yield from outside a coroutine
local done = chan()
go(function()
  coroutine.yield(1)
  done:send(true)
end)
done:recv()
