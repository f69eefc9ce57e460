-- os.exit(5) from main while other goroutines are blocked.
-- expect-status: exit
-- expect-exit: 5
local never = chan()
for _ = 1, 10 do go(function() never:recv() end) end
os.exit(5)
