-- A goroutine started by go.afterfunc and left blocked is reported with
-- the afterfunc call as its "created by" site, as a go() call is.
-- expect-status: deadlock
-- expect-message: fatal error: main returned, but 1 goroutine is blocked forever
-- expect-regex: \[chan receive\]:.	[^ ]*fail_deadlock_afterfunc.lua:9.created by [^ ]*fail_deadlock_afterfunc.lua:11
local started = chan(1)
local function wait_forever()
  started:send(true)
  chan():recv()
end
go.afterfunc(0.001, wait_forever)
started:recv()
