-- A select whose only cases are nil channels (a nil receive and a
-- {nil, value} send) can never proceed: a deadlock.
-- expect-status: deadlock
-- expect-message: fatal error: all goroutines are asleep - deadlock!
-- expect-regex: goroutine 1 \[select( \(no cases\))?\]:
-- expect-message: fail_select_nil.lua:8
local ok = true
go.select(nil, {nil, 1})
