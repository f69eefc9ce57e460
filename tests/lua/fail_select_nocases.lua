-- go.select() with no cases can never proceed: a deadlock, reported as such.
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-message: goroutine 1 [select (no cases)]:
-- expect-message: fail_select_nocases.lua:6
go.select()
