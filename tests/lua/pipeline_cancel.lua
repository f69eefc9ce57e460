-- lungo.pipeline: closing done stops every stage, closes every output and
-- leaves no goroutine behind (go.count() returns to its starting value).
local P = require "lungo.pipeline"
local base = go.count()

local function settle(what)
  for _ = 1, 5000 do
    if go.count() == base then return end
    go.sleep(0.001)
  end
  error((what or "") .. ": goroutines left behind: " .. go.count() .. " alive, expected " .. base)
end

-- reads n values, then cancels, then checks the output gets closed
local function take_then_cancel(done, out, n, what)
  for i = 1, n do
    local v, ok = out:recv()
    assert(ok, what .. ": closed too early at " .. i)
  end
  P.cancel(done)
  P.cancel(done)                          -- twice is fine
  assert(P.cancelled(done))
  -- the output closes: anything still in flight is dropped, then nil, false
  for _ = 1, 1000000 do
    local v, ok = out:recv()
    if not ok then break end
  end
  settle(what)
end

local function endless(done) return P.range(done, 1, math.huge) end
local id = function(x) return x end

-- every stage on its own, cut short while its source is endless
local stages = {
  range = function(done) return endless(done) end,
  generate = function(done)
    return P.generate(done, function(_, i) return i + 1 end, nil, 0)
  end,
  generator = function(done)
    return P.generator(done, function(emit) local i = 0 while true do i = i + 1; emit(i) end end)
  end,
  generator_swallow = function(done)            -- a generator that ignores emit's result still stops
    return P.generator(done, function(emit) while true do emit(1) end end)
  end,
  from = function(done) local t = {} for i = 1, 1000 do t[i] = i end return P.from(done, t) end,
  map1 = function(done) return P.map(done, endless(done), id) end,
  map4 = function(done) return P.map(done, endless(done), id, 4) end,
  map4u = function(done) return P.map_unordered(done, endless(done), id, 4) end,
  filter4 = function(done) return P.filter(done, endless(done), function(x) return x % 2 == 0 end, 4) end,
  filter4u = function(done) return P.filter_unordered(done, endless(done), function() return true end, 4) end,
  merge = function(done) return P.merge(done, endless(done), endless(done), endless(done)) end,
  take = function(done) return P.take(done, endless(done), 1000) end,
  drop = function(done) return P.drop(done, endless(done), 3) end,
  batch = function(done) return P.batch(done, endless(done), 3) end,
  batch_wait = function(done) return P.batch(done, endless(done), 5, 0.001) end,
  tee = function(done)
    local a, b = P.tee(done, endless(done))
    go(function() for _ in b:range() do end end)   -- the other branch reads too
    return a
  end,
  tee_unread = function(done)                      -- the other branch is never read
    local a, b = P.tee(done, endless(done))
    return a, b
  end,
  long_chain = function(done)
    local c = endless(done)
    c = P.map(done, c, function(x) return x * 2 end, 3)
    c = P.filter_unordered(done, c, function(x) return x % 3 ~= 0 end, 2)
    c = P.merge(done, c, endless(done))
    c = P.batch(done, c, 4)
    c = P.map(done, c, function(b) return #b end, 4)
    return P.drop(done, c, 2)
  end,
}
local names = {}
for name in pairs(stages) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  for _, n in ipairs({ 0, 1, 7 }) do
    local done = chan()
    local out = stages[name](done)
    if name == "tee_unread" then n = math.min(n, 1) end
    take_then_cancel(done, out, n, name .. "/" .. n)
  end
end

-- cancelling before anything is read
do
  local done = chan()
  local out = P.map(done, P.map(done, endless(done), id, 4), id, 4)
  done:close()
  for _ in out:range() do end
  settle("cancel at once")
end

-- a context: done is ctx.done; <close> cancels like Go's defer cancel()
do
  do
    local ctx <close> = P.context()
    assert(not ctx:cancelled() and not P.cancelled(ctx))
    local firsts = P.collect(P.take(ctx, P.map(ctx, endless(ctx), function(x) return x * 10 end, 4), 3))
    assert(#firsts == 3 and firsts[1] == 10 and firsts[3] == 30)
    assert(go.count() > base)                    -- the endless part is still blocked
  end
  settle("context <close>")
  local ctx = P.context()
  ctx:cancel(); ctx:cancel()
  assert(ctx:cancelled() and P.cancelled(ctx.done))
end

-- a context with a timeout cancels itself; its watcher goroutine ends
do
  local ctx = P.context(0.01)
  -- runs until the timeout; how many items pass before it depends on the
  -- machine (none, under a sanitizer on a loaded one), so only the end counts
  P.drain(P.map(ctx, endless(ctx), id, 2))
  assert(ctx:cancelled())
  settle("timeout")
end

-- a child context ends with its parent, and the watcher goes with it
do
  local parent = P.context()
  local child = P.context({ parent = parent })
  local out = P.map(child, endless(child), id, 2)
  assert(out:recv() == 1)
  parent:cancel()
  for _ in out:range() do end
  assert(child:cancelled())
  settle("parent")
  -- cancelling the child alone leaves the parent alone
  local p2 = P.context()
  local c2 = P.context({ parent = p2, timeout = 100 })
  c2:cancel()
  settle("child")
  assert(not p2:cancelled())
  p2:cancel()
end

-- a context crosses into goroutines (it is copied; its channel is shared)
do
  local ctx = P.context()
  local stopped = chan()
  for _ = 1, 3 do
    go(function(c)
      go.select(c.done)
      assert(c:cancelled())
      stopped:send(true)
    end, ctx)
  end
  go(function() ctx:cancel() end)
  for _ = 1, 3 do stopped:recv() end
  assert(ctx:cancelled())
  settle("ctx in goroutines")
end

-- streams own their context: a terminal cancels it, take on an endless source is fine
do
  local t = P.stream(1, math.huge):map(function(x) return x * x end, 4):take(3):collect()
  assert(#t == 3 and t[1] == 1 and t[2] == 4 and t[3] == 9)
  settle("stream take")
  local seen = 0
  for v in P.stream(function(emit) local i = 0 while true do i = i + 1; emit(i) end end):map(id, 4):iter() do
    seen = seen + 1
    assert(v == seen)
    if v == 10 then break end                    -- the loop's closing value cancels the stream
  end
  assert(seen == 10)
  settle("stream iter break")
  local s = P.stream(1, math.huge):filter(function(x) return x % 2 == 0 end, 3)
  assert(s:chan():recv() == 2)
  s:cancel()
  settle("stream cancel")
end

-- the module itself can be captured by a goroutine (its functions copy)
do
  local done = chan()
  local res = chan()
  go(function()
    res:send(P.collect(P.take(done, P.map(done, P.range(done, 1, math.huge), function(x) return x + 1 end, 2), 2)))
  end)
  local t = res:recv()
  assert(t[1] == 2 and t[2] == 3)
  done:close()
  settle("module in a goroutine")
end

settle("end")
