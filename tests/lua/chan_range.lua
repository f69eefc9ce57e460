-- for v in ch:range(): until closed and drained; false values; break;
-- several consumers ranging over one channel; a pipeline.
do
  local c = chan()
  go(function()
    for i = 1, 100 do c:send(i) end
    c:close()
  end)
  local sum, n = 0, 0
  for v in c:range() do sum = sum + v; n = n + 1 end
  assert(n == 100 and sum == 5050, "range over a producer")
end

do
  local c = chan(5)
  c:send(1); c:send(2); c:send(3)
  c:close()
  local got = {}
  for v in c:range() do got[#got + 1] = v end
  assert(#got == 3 and got[1] == 1 and got[3] == 3, "range drains a closed buffered channel")
end

do
  local c = chan()
  c:close()
  for _ in c:range() do error("range over a closed empty channel must not iterate") end
end

do
  local c = chan(4)
  c:send(true); c:send(false); c:send(false); c:send(true)
  c:close()
  local got = {}
  for v in c:range() do got[#got + 1] = v end
  assert(#got == 4 and got[2] == false and got[3] == false and got[4] == true, "false does not end a range")
end

-- break out of a range, then keep using the channel
do
  local c = chan(10)
  for i = 1, 10 do c:send(i) end
  for v in c:range() do
    if v == 4 then break end
  end
  assert(c:recv() == 5 and #c == 5)
  c:close()
  local rest = 0
  for v in c:range() do rest = rest + v end
  assert(rest == 6 + 7 + 8 + 9 + 10)
end

-- several consumers ranging over one channel: each value once
do
  local jobs, results, counts = chan(), chan(64), chan(4)
  for _ = 1, 4 do
    go(function()
      local n = 0
      for j in jobs:range() do
        results:send(j)
        n = n + 1
      end
      counts:send(n)
    end)
  end
  go(function()
    for j = 1, 1000 do jobs:send(j) end
    jobs:close()
  end)
  local seen, sum = {}, 0
  for _ = 1, 1000 do
    local v = results:recv()
    assert(not seen[v], "duplicate " .. v)
    seen[v] = true
    sum = sum + v
  end
  local total = 0
  for _ = 1, 4 do total = total + counts:recv() end
  assert(sum == 500500 and total == 1000)
end

-- a pipeline: generate -> square -> sum, each stage ranging over the previous
do
  local nums, squares, total = chan(), chan(8), chan()
  go(function()
    for i = 1, 200 do nums:send(i) end
    nums:close()
  end)
  go(function()
    for v in nums:range() do squares:send(v * v) end
    squares:close()
  end)
  go(function()
    local s = 0
    for v in squares:range() do s = s + v end
    total:send(s)
  end)
  assert(total:recv() == 200 * 201 * 401 // 6)
end

-- range inside a nested coroutine (each step may park the goroutine)
do
  local c = chan()
  go(function()
    for i = 1, 50 do c:send(i) end
    c:close()
  end)
  local gen = coroutine.wrap(function()
    for v in c:range() do coroutine.yield(v) end
  end)
  local s = 0
  for v in gen do s = s + v end
  assert(s == 1275)
end
