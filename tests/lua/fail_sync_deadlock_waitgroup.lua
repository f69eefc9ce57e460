-- wg:wait() with a done that never comes, in main and in a goroutine.
-- expect-status: deadlock
-- expect-message: goroutine 1 [waitgroup wait]:
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+) \[waitgroup wait\]:
-- expect-message: fail_sync_deadlock_waitgroup.lua:10
-- expect-message: fail_sync_deadlock_waitgroup.lua:12
local wg = go.waitgroup()
wg:add(2)
go(function()
  wg:wait()
end)
wg:wait()
