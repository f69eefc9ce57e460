-- Run by tests/stress/test_stress.c in the lungo command under `ulimit -v`:
-- one goroutine runs out of memory twice and catches it with pcall,
-- while others keep computing and talking; their results must all arrive.
-- Prints "caught: <error>" for each catch, then "others: ok".
local N, ROUNDS = 8, 300
local res = chan(N)
for k = 1, N do
  go(function()
    local s, ping = 0, chan()
    go(function() for i = 1, ROUNDS do ping:send(i) end end)
    for _ = 1, ROUNDS do s = s + ping:recv() go.yield() end
    res:send(s)
  end)
end

local hog = chan()
go(function()
  for _ = 1, 2 do
    local ok, err = pcall(function()
      local t = {}
      for i = 1, 1e9 do t[i] = string.rep("x", 1 << 20) .. i end
    end)
    collectgarbage()
    hog:send(ok and "no error" or tostring(err))
  end
end)
for _ = 1, 2 do print("caught: " .. hog:recv()) end

for _ = 1, N do
  local s = res:recv()
  assert(s == ROUNDS * (ROUNDS + 1) // 2, "a goroutine's sum is " .. tostring(s))
end
print("others: ok")
