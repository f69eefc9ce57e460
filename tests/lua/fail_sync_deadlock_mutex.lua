-- A goroutine locking a mutex it already holds waits forever.
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-message: goroutine 1 [mutex lock]:
-- expect-message: fail_sync_deadlock_mutex.lua:8
local m = go.mutex()
m:lock()
m:lock()
