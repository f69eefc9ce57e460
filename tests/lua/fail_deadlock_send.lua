-- Main blocked sending on a full buffered channel.
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-message: goroutine 1 [chan send]:
-- expect-message: fail_deadlock_send.lua:9
local ch = chan(2)
ch:send(1)
ch:send(2)
ch:send(3)
