-- go.yield() lets other goroutines run (1 worker included): polling loops
-- that never block still make progress; a parked main is not a deadlock
-- while others are runnable.
for _ = 1, 1000 do go.yield() end            -- alone: returns each time
assert(pcall(go.yield))

local function spin_until(cond, what)
  local spins = 0
  while not cond() do
    spins = spins + 1
    assert(spins < 10000000, "no progress: " .. what)
    go.yield()
  end
end

-- main polls a buffered channel with go.yield until a goroutine fills it
do
  local flag = chan(1)
  go(function() flag:send(true) end)
  spin_until(function() return #flag > 0 end, "flag")
  assert(flag:recv() == true)
end

-- two goroutines alternate through polling only (no blocking operation)
do
  local a, b, done = chan(200), chan(200), chan(2)
  go(function()
    for i = 1, 100 do
      a:send(i)
      spin_until(function() return #b > 0 end, "b")
      assert(b:recv() == i)
    end
    done:send(1)
  end)
  go(function()
    for i = 1, 100 do
      spin_until(function() return #a > 0 end, "a")
      assert(a:recv() == i)
      b:send(i)
    end
    done:send(2)
  end)
  assert(done:recv() + done:recv() == 3)
end

-- main blocks while another goroutine only yields for a while: no deadlock
do
  local c = chan()
  go(function()
    for _ = 1, 1000 do go.yield() end
    c:send("after yields")
  end)
  assert(c:recv() == "after yields")
end

-- many goroutines yielding many times all finish
do
  local done = chan(1000)
  for i = 1, 1000 do
    go(function()
      for _ = 1, 50 do go.yield() end
      done:send(i)
    end)
  end
  local s = 0
  for _ = 1, 1000 do s = s + done:recv() end
  assert(s == 500500)
end
