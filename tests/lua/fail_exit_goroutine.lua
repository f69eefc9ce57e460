-- os.exit(3) from a spawned goroutine while main is blocked.
-- expect-status: exit
-- expect-exit: 3
local never = chan()
go(function() os.exit(3) end)
never:recv()
