-- Main returned and several goroutines are left blocked: the count, then
-- each one with where it waits and where its go() call was (in main, in
-- another goroutine, in a helper, through pcall), as Go's "created by".
-- expect-status: deadlock
-- expect-message: fatal error: main returned, but 4 goroutines are blocked forever
-- expect-regex: \[chan receive\]:.	[^ ]*fail_deadlock_after_main_many.lua:15.created by [^ ]*fail_deadlock_after_main_many.lua:17
-- expect-regex: \[chan send\]:.	[^ ]*fail_deadlock_after_main_many.lua:20.created by [^ ]*fail_deadlock_after_main_many.lua:20
-- expect-regex: \[chan receive\]:.	[^ ]*fail_deadlock_after_main_many.lua:15.created by [^ ]*fail_deadlock_after_main_many.lua:23
-- expect-regex: \[select\]:.	[^ ]*fail_deadlock_after_main_many.lua:26.created by [^ ]*fail_deadlock_after_main_many.lua:25
local ready = chan(4)

-- each blocks on a channel of its own: none can pair with another
local function waiter()
  ready:send(true)
  chan():recv()
end
go(waiter)                                       -- created in main
go(function()
  ready:send(true)
  go(function() ready:send(true) chan():send(1) end)  -- in another goroutine
  -- this one returns
end)
local function spawn(f) return go(f) end
spawn(waiter)                                    -- in a helper: its go() line
assert(pcall(go, function()                      -- through pcall
  ready:send(true) local c = chan() go.select(c, { c, 2 }) end))
for _ = 1, 5 do ready:recv() end
