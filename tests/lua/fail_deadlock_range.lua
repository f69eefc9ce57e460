-- A consumer ranges over a channel nobody closes; main returns.
-- expect-status: deadlock
-- expect-message: fatal error: main returned, but 1 goroutine is blocked forever
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[chan receive\]:
-- expect-message: fail_deadlock_range.lua:10
-- expect-message: created by tests/lua/fail_deadlock_range.lua:8
local ch = chan()
go(function()
  local sum = 0
  for v in ch:range() do
    sum = sum + v
  end
end)
for i = 1, 3 do ch:send(i) end
