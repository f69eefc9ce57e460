-- Many goroutines on every worker selecting over shared channels, senders
-- and receivers mixed: every value is delivered exactly once.

local W = go.workers()

-- ---- senders choosing among channels, receivers choosing among channels ----
do
  local NS, NR, M = 12, 12, 400
  local a = chan()            -- unbuffered
  local b = chan(3)           -- small buffer
  local c = chan(1)
  local quit = chan()
  local sent = chan(NS)
  local results = chan(NR)
  local never = chan()

  for r = 1, NR do
    go(function()
      local got, n = {}, 0
      while true do
        local i, v, ok = go.select(a, nil, b, quit, c, never, {nil, 0})
        if i == 4 then
          assert(v == nil and ok == false)
          break
        end
        assert(ok == true and (i == 1 or i == 3 or i == 5), "bad case " .. tostring(i))
        assert(type(v) == "table" and v.check == v.id * 7 + 1, "value damaged")
        n = n + 1
        got[n] = v.id
      end
      -- quit may win while buffered values remain: drain them
      while true do
        local i, v = go.select(b, c, go.default)
        if i == 3 then break end
        n = n + 1
        got[n] = v.id
      end
      results:send({worker = go.worker(), ids = got})
    end)
  end

  for s = 1, NS do
    go(function()
      for k = 1, M do
        local id = s * M + k
        local v = {id = id, check = id * 7 + 1}
        local i = go.select({a, v}, {b, v}, never, {nil, v}, {c, v})
        assert(i == 1 or i == 2 or i == 5)
        if k % 50 == 0 then go.yield() end
      end
      sent:send(go.worker())
    end)
  end

  for _ = 1, NS do sent:recv() end
  quit:close()

  local seen, total = {}, 0
  for _ = 1, NR do
    local r = results:recv()
    for _, id in ipairs(r.ids) do
      assert(not seen[id], "value delivered twice: " .. id)
      seen[id] = true
      total = total + 1
    end
  end
  assert(total == NS * M, ("delivered %d of %d"):format(total, NS * M))
  for s = 1, NS do
    for k = 1, M do assert(seen[s * M + k], "value lost: " .. (s * M + k)) end
  end
  assert(#a == 0 and #b == 0 and #c == 0)
end

-- ---- symmetric selects: each goroutine may send or receive on one channel ----
do
  local u = chan()
  local K = 8                 -- pairs per round
  for round = 1, 25 do
    local res = chan(2 * K)
    for id = 1, 2 * K do
      go(function()
        local v = round * 1000 + id
        local i, got, ok = go.select({u, v}, u)
        res:send({i = i, got = got, ok = ok, v = v})
      end)
    end
    local sends, recvs, sentv, gotv = 0, 0, {}, {}
    for _ = 1, 2 * K do
      local r = res:recv()
      assert(r.ok == true)
      if r.i == 1 then
        sends = sends + 1
        sentv[r.v] = true
      else
        assert(r.i == 2)
        recvs = recvs + 1
        assert(not gotv[r.got], "received twice")
        gotv[r.got] = true
      end
    end
    assert(sends == K and recvs == K, ("round %d: %d sends, %d receives"):format(round, sends, recvs))
    for v in pairs(sentv) do assert(gotv[v], "sent value not received") end
    for v in pairs(gotv) do assert(sentv[v], "received value never sent") end
  end
end

-- ---- ping-pong over two channels through selects, across goroutines ----
do
  local P = math.max(W, 2) * 2
  local done = chan(P)
  for p = 1, P do
    local x, y = chan(), chan()
    local stop = chan()
    go(function()                -- echo: receives on x, replies on y
      while true do
        local i, v = go.select(stop, x)
        if i == 1 then break end
        assert(go.select({y, v + 1}, stop) == 1)
      end
    end)
    go(function()
      local sum = 0
      for k = 1, 300 do
        assert(go.select({x, k}) == 1)
        local _, v, ok = go.select(nil, y)
        assert(ok and v == k + 1)
        sum = sum + v
      end
      stop:close()
      done:send(sum)
    end)
  end
  local expect = 300 * 301 // 2 + 300
  for _ = 1, P do assert(done:recv() == expect) end
end

-- ---- a fan-in: many producers, one consumer selecting over all of them ----
do
  local NP, M = 6, 500
  local chans, closedn = {}, 0
  for p = 1, NP do
    local ch = chan(p % 3)      -- capacities 0, 1, 2
    chans[p] = ch
    go(function()
      for k = 1, M do ch:send(p * 100000 + k) end
      ch:close()
    end)
  end
  local sum, count, last = 0, 0, {}
  while closedn < NP do
    local i, v, ok = go.select(table.unpack(chans, 1, NP))
    if ok then
      local p, k = v // 100000, v % 100000
      assert(p == i, "value from the chosen channel")
      assert(k == (last[p] or 0) + 1, "per-channel order kept")
      last[p] = k
      sum = sum + v
      count = count + 1
    else
      closedn = closedn + 1
      chans[i] = nil     -- a nil case: never ready, positions unchanged
    end
  end
  assert(count == NP * M)
  local expect = 0
  for p = 1, NP do expect = expect + p * 100000 * M + M * (M + 1) // 2 end
  assert(sum == expect, "checksum")
end
