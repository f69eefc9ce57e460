-- An uncaught "send on closed channel" in a goroutine.
-- expect-status: error
-- expect-message: send on closed channel
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+):
local ch = chan(1)
ch:close()
local done = chan()
go(function()
  ch:send("late")
  done:send(true)
end)
done:recv()
