-- A relay of 100 goroutines runs on after main returned; the last one exits.
-- expect-status: exit
-- expect-exit: 7
local first = chan()
local prev = first
for _ = 1, 100 do
  local nxt = chan()
  go(function(i, o) o:send(i:recv() + 1) end, prev, nxt)
  prev = nxt
end
go(function(last)
  if last:recv() == 100 then os.exit(7) end
  error("relay lost a step")
end, prev)
go(function() first:send(0) end)
