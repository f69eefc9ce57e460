-- os.exit() with no argument is exit code 0.
-- expect-status: exit
-- expect-exit: 0
local done = chan()
go(function() os.exit() end)
done:recv()
