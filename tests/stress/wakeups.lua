-- Racy scenarios repeated many times, to catch lost wake-ups: hand-offs
-- between goroutines on different workers, a close waking hundreds of
-- receivers, selects and senders at once, selects racing go.after(0), and
-- waitgroups and mutexes handing over. A lost wake-up shows as a deadlock
-- report or as the watchdog's error naming the scenario and the seed.
-- arg[1] = workers, arg[2] = seed.
local SEED, rng, fail = dofile("tests/stress/lib/seeded.lua")(arg)

-- Waits for n values on ch, or fails after a generous while: a goroutine
-- spinning on go.after(0) is no deadlock, so a lost wake-up there would
-- hang instead of being reported.
local function collect(ch, n, what)
  local deadline = go.now() + 60
  local got = {}
  for k = 1, n do
    local i, v = go.select(ch, go.after(deadline - go.now()))
    if i ~= 1 then fail("%s: only %d of %d arrived in 60 s", what, k - 1, n) end
    got[k] = v
  end
  return got
end

-- ---- cross-worker hand-offs: ping-pong pairs; the first of each pair
-- computes a while before it starts, so idle workers steal some ----
local function pingpong(seed, P, R)
  local done = chan(P)
  for p = 1, P do
    local a, b = chan(), chan()
    go(function()
      local x = 0
      for i = 1, 2000 * (p % 4) do x = x + i end
      for i = 1, R do a:send(i) if b:recv() ~= -i then fail("pong out of order") end end
      done:send(x >= 0)
    end)
    go(function()
      for _ = 1, R do b:send(-a:recv()) end
    end)
  end
  collect(done, P, "ping-pong round " .. seed)
end

-- ---- close wakes hundreds: receivers, selects and senders all blocked
-- on one channel when it closes ----
local function close_wakes(seed, N)
  local r = rng(seed)
  local ch, ready, out = chan(r(2) - 1), go.waitgroup(), chan(N)
  ready:add(N)
  for g = 1, N do
    local kind = r(4)
    go(function()
      ready:done()
      -- receivers and senders meet before the close too: a receiver that
      -- got a value reports it, and every sender is accounted for
      if kind == 1 then
        local v, ok = ch:recv()
        out:send(ok and "got" or v == nil and "recv" or "bad recv")
      elseif kind == 2 then
        local i, v, ok = go.select(chan(), ch)
        out:send(i ~= 2 and "bad select" or ok and "got" or "select")
      elseif kind == 3 then
        local n = 0
        for _ in ch:range() do n = n + 1 end
        out:send(n == 0 and "range" or "got" .. n)
      else
        local ok, err = pcall(ch.send, ch, g)
        out:send(ok and "sent" or tostring(err):find("send on closed channel", 1, true) and "closed"
                 or "bad send: " .. tostring(err))
      end
    end)
  end
  ready:wait()
  for _ = 1, r(4) - 1 do go.yield() end
  ch:close()
  local got_all = collect(out, N, "close round " .. seed)
  local sent, got = 0, 0
  for _, what in ipairs(got_all) do
    if what:find("^bad") then fail("close round %d: %s", seed, what) end
    if what == "sent" then sent = sent + 1
    elseif what == "got" then got = got + 1
    elseif what:find("^got%d") then got = got + math.tointeger(tonumber(what:sub(4))) end
  end
  -- what the close left in the buffer is still received, then nil, false
  while true do
    local v, ok = ch:recv()
    if not ok then break end
    got = got + 1
  end
  if sent ~= got then fail("close round %d: %d sends succeeded, %d values received", seed, sent, got) end
end

-- ---- select racing go.after(0): on the receiving side, then on the
-- sending side; exactly the values whose send completed arrive ----
local function after_race(seed, K)
  local ch = chan()
  go(function()
    for k = 1, K do ch:send(k) end
  end)
  local k, spins = 0, 0
  local deadline = go.now() + 60
  while k < K do
    local i, v = go.select(ch, go.after(0))
    if i == 1 then
      k = k + 1
      if v ~= k then fail("after race %d: got %s, expected %d", seed, tostring(v), k) end
    else
      spins = spins + 1
      if spins % 256 == 0 and go.now() > deadline then
        fail("after race %d: value %d never came (lost wake-up)", seed, k + 1)
      end
    end
  end

  local ch2, res = chan(), chan(1)
  go(function()
    local n = 0
    for v in ch2:range() do
      n = n + 1
      if v ~= n then fail("after race %d: received %d, expected %d", seed, v, n) end
    end
    res:send(n)
  end)
  deadline = go.now() + 60
  for j = 1, K do
    while true do
      local i = go.select({ch2, j}, go.after(0))
      if i == 1 then break end
      if go.now() > deadline then fail("after race %d: send %d never taken", seed, j) end
    end
  end
  ch2:close()
  local n = collect(res, 1, "after race " .. seed)[1]
  if n ~= K then fail("after race %d: %d sends completed, %d received", seed, K, n) end
end

-- ---- waitgroup and mutex hand-overs, over and over ----
local function sync_handover(seed, N)
  local r = rng(seed)
  local wg, m, out = go.waitgroup(), go.mutex(), chan(N)
  wg:add(1)
  m:lock()
  for g = 1, N do
    go(function()
      if g % 2 == 0 then wg:wait() out:send("wg")
      else m:lock() m:unlock() out:send("m") end
    end)
  end
  for _ = 1, r(3) - 1 do go.yield() end
  wg:done()
  m:unlock()
  collect(out, N, "hand-over round " .. seed)
end

for k = 1, 120 do
  local seed = SEED * 1000 + k
  pingpong(seed, 8, 200)
  close_wakes(seed, 300)
  after_race(seed, 200)
  sync_handover(seed, 100)
end
