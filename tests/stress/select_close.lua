-- Random select mixes racing with closes. Senders select over random sets of
-- send cases (channels of random capacities, nil cases, sometimes a
-- default or a go.after(0)), or plainly send; receivers select over every
-- channel not yet seen closed; a closer closes the channels one by one while
-- all this runs. Every send that succeeded is received exactly once, and
-- nothing else is; a send that lost to a close raised "send on closed
-- channel". arg[1] = workers, arg[2] = seed.
local SEED, rng, fail = dofile("tests/stress/lib/seeded.lua")(arg)

local function round(seed, K, NS, NR, M)
  local r = rng(seed)
  local chans = {}
  for k = 1, K do chans[k] = chan(r(4) - 1) end     -- capacities 0..3
  local reports = chan(NS + NR)
  local tick = chan(1)
  local allsent = chan()
  local senders = go.waitgroup()
  senders:add(NS)

  for s = 1, NS do
    go(function()
      local r = rng(seed * 131 + s)
      local closed, nclosed, ok_ids = {}, 0, {}
      for k = 1, M do
        if nclosed == K then break end
        local id = s * 1000000 + k
        local v = r(2) == 1 and id or {id = id}
        local style = r(10)
        if style == 1 then
          -- a plain send on one channel
          local c = r(K)
          local ok, err = pcall(chans[c].send, chans[c], v)
          if ok then
            ok_ids[#ok_ids + 1] = id
          elseif not tostring(err):find("send on closed channel", 1, true) then
            fail("send: %s", tostring(err))
          elseif not closed[c] then
            closed[c], nclosed = true, nclosed + 1
          end
        else
          local cases, map, n = {}, {}, 0
          for c = 1, K do
            local pick = r(4)
            if pick <= 2 then
              n = n + 1
              cases[n], map[n] = {chans[c], v}, c
            elseif pick == 3 then
              n = n + 1
              cases[n] = r(2) == 1 and {nil, v} or nil    -- never ready
            end
          end
          local extra = r(8)
          if extra == 1 then n = n + 1 cases[n] = go.default
          elseif extra == 2 then n = n + 1 cases[n] = go.after(0) end
          if next(map) == nil and extra > 2 then
            -- no live case at all would block for ever: add one
            local c = r(K)
            n = n + 1
            cases[n] = {chans[c], v}
            map[n] = c
          end
          local ok, i = pcall(go.select, table.unpack(cases, 1, n))
          if ok then
            if map[i] then
              ok_ids[#ok_ids + 1] = id
            elseif not ((extra == 1 or extra == 2) and i == n) then
              fail("select returned case %s of %d", tostring(i), n)
            end
          elseif not tostring(i):find("send on closed channel", 1, true) then
            fail("select: %s", tostring(i))
          end
        end
        if r(16) == 1 then go.yield() end
      end
      reports:send({sent = ok_ids})
      senders:done()
    end)
  end
  go(function() senders:wait() allsent:close() end)

  -- the closer: one channel after each few ticks of progress, or at once
  -- when every sender is done
  go(function()
    local r = rng(seed * 7 + 3)
    local order = {}
    for k = 1, K do order[k] = k end
    for k = K, 2, -1 do local j = r(k) order[k], order[j] = order[j], order[k] end
    for _, c in ipairs(order) do
      for _ = 1, r(40) do go.select(tick, allsent) end
      chans[c]:close()
    end
  end)

  for q = 1, NR do
    go(function()
      local r = rng(seed * 977 + q)
      local live, nlive, ids, count = {}, K, {}, 0
      for k = 1, K do live[k] = chans[k] end
      while nlive > 0 do
        local extra = r(10)
        local i, v, ok
        if extra == 1 then
          i, v, ok = go.select(live[1], live[2], live[3], live[4], go.default)
        elseif extra == 2 then
          i, v, ok = go.select(live[1], live[2], live[3], live[4], go.after(0))
        else
          i, v, ok = go.select(live[1], live[2], live[3], live[4])
        end
        if i <= K then
          if ok then
            local id = type(v) == "table" and v.id or v
            ids[#ids + 1] = id
            count = count + 1
            if count % 16 == 0 then go.select({tick, true}, go.default) end
          else
            live[i], nlive = nil, nlive - 1
          end
        end
      end
      reports:send({received = ids})
    end)
  end

  local sent, received = {}, {}
  local nsent, nreceived = 0, 0
  for _ = 1, NS + NR do
    local rep = reports:recv()
    for _, id in ipairs(rep.sent or {}) do
      if sent[id] then fail("id %d reported sent twice", id) end
      sent[id] = true
      nsent = nsent + 1
    end
    for _, id in ipairs(rep.received or {}) do
      if received[id] then fail("id %d received twice (round seed %d)", id, seed) end
      received[id] = true
      nreceived = nreceived + 1
    end
  end
  for id in pairs(received) do
    if not sent[id] then fail("id %d received but its send did not succeed (round seed %d)", id, seed) end
  end
  if nsent ~= nreceived then
    for id in pairs(sent) do
      if not received[id] then fail("id %d sent but never received (round seed %d)", id, seed) end
    end
  end
  return nsent
end

local total = 0
for k = 1, 50 do
  total = total + round(SEED * 1000 + k, 4, 12, 6, 400)
end
if total == 0 then fail("no send ever succeeded") end
