-- Every unit of a semaphore held, and another acquire.
-- expect-status: deadlock
-- expect-message: goroutine 1 [semaphore acquire]:
-- expect-message: fail_sync_deadlock_semaphore.lua:10
local s = go.semaphore(2)
s:acquire()
s:acquire()
go(function() s:release() end)
s:acquire()
s:acquire()
