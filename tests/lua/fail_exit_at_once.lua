-- os.exit ends the program at once although main yields forever. A hang
-- here is a failure.
-- expect-status: exit
-- expect-exit: 4
go(function() os.exit(4) end)
while true do go.yield() end
