-- Many producers and consumers over unbuffered and buffered channels: what
-- the consumers received, counted, summed and xored, equals what the
-- producers sent, for every capacity and every producers x consumers shape.
-- Values are integers, strings and tables (so copies of every kind cross).
-- Consumers receive with recv, range and select. arg[1] = workers,
-- arg[2] = seed (the workload; what is asserted does not depend on it).
local SEED, rng, fail = dofile("tests/stress/lib/seeded.lua")(arg)

-- the integer inside any of the three shapes a value takes
local function value_of(v)
  local t = type(v)
  if t == "number" then return v end
  if t == "string" then return math.tointeger(tonumber(v:match("^%-?%d+"))) end
  if t == "table" then
    if v[2] ~= v[1] * 3 then fail("damaged table value") end
    return v[1]
  end
  fail("unexpected %s value", t)
end

local function shape(r, v)
  local k = r(3)
  if k == 1 then return v end
  if k == 2 then return tostring(v) .. (" "):rep(r(40)) end   -- around the inline size
  return {v, v * 3}
end

local function run(cap, NP, NC, M, seed)
  local ch = chan(cap)
  local sent, got = chan(NP), chan(NC)   -- room for every report: never blocks
  local producers = go.waitgroup()
  producers:add(NP)
  for p = 1, NP do
    go(function()
      local r = rng(seed * 7919 + p)
      local n, sum, x = 0, 0, 0
      for _ = 1, M do
        local v = r() - (1 << 52)
        ch:send(shape(r, v))
        n, sum, x = n + 1, sum + v, x ~ v
        if r(8) == 1 then go.yield() end
      end
      sent:send({n, sum, x})
      producers:done()
    end)
  end
  go(function() producers:wait() ch:close() end)
  for c = 1, NC do
    go(function()
      local n, sum, x = 0, 0, 0
      local function take(v)
        v = value_of(v)
        n, sum, x = n + 1, sum + v, x ~ v
      end
      local mode = c % 3
      if mode == 0 then
        for v in ch:range() do take(v) end
      elseif mode == 1 then
        while true do
          local v, ok = ch:recv()
          if not ok then break end
          take(v)
        end
      else
        local never = chan()
        while true do
          local i, v, ok = go.select(never, ch, nil)
          if i ~= 2 then fail("select chose case %s", tostring(i)) end
          if not ok then break end
          take(v)
        end
      end
      got:send({n, sum, x})
    end)
  end
  local a, b = {0, 0, 0}, {0, 0, 0}
  for _ = 1, NP do
    local t = sent:recv()
    a[1], a[2], a[3] = a[1] + t[1], a[2] + t[2], a[3] ~ t[3]
  end
  for _ = 1, NC do
    local t = got:recv()
    b[1], b[2], b[3] = b[1] + t[1], b[2] + t[2], b[3] ~ t[3]
  end
  if a[1] ~= NP * M then fail("producers report %d values, not %d", a[1], NP * M) end
  if a[1] ~= b[1] or a[2] ~= b[2] or a[3] ~= b[3] then
    fail("cap %d, %d producers, %d consumers: sent count %d sum %d xor %d, received %d %d %d",
         cap, NP, NC, a[1], a[2], a[3], b[1], b[2], b[3])
  end
end

local shapes = {{1, 1, 8000}, {1, 8, 5000}, {8, 1, 800}, {8, 8, 800}, {32, 32, 150}, {3, 50, 1000}}
local round = 0
for _, cap in ipairs({0, 1, 7, 128}) do
  for _, s in ipairs(shapes) do
    round = round + 1
    run(cap, s[1], s[2], s[3], SEED * 100 + round)
  end
end
