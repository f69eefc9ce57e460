-- An uncaught error ends the program at once, even though main never
-- finishes on its own (it yields forever). A hang here is a failure.
-- expect-status: error
-- expect-message: stop everything
-- expect-message: stack traceback
go(function() error("stop everything") end)
while true do go.yield() end
