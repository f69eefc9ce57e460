-- Goroutines keep running after main returns; an error there still counts.
-- expect-status: error
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+):
-- expect-message: late failure: late
-- expect-message: stack traceback
local relay = chan()
go(function()
  for _ = 1, 100 do go.yield() end
  relay:send("late")
end)
go(function()
  local v = relay:recv()
  error("late failure: " .. v)
end)
