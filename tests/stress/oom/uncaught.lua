-- Run by tests/stress/test_stress.c in the lungo command under `ulimit -v`:
-- one goroutine runs out of memory without catching it while others
-- compute and talk; lungo must report "not enough memory" and exit 1.
local ch = chan(4)
for _ = 1, 8 do
  go(function() for i = 1, 1e9 do ch:send(i) if i % 64 == 0 then go.yield() end end end)
  go(function() local s = 0 while true do s = s + ch:recv() end end)
end
go(function()
  local t = {}
  for i = 1, 1e9 do t[i] = string.rep("x", 1 << 20) .. i end
end)
while true do ch:send(0) end
