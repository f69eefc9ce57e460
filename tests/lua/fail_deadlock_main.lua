-- The main goroutine alone, blocked on an unbuffered receive.
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-message: goroutine 1 [chan receive]:
-- expect-message: fail_deadlock_main.lua:8
local ch = chan()
local v = 1
ch:recv()
