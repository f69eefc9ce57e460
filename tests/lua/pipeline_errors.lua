-- lungo.pipeline: an error raised by a user function inside a stage reaches
-- the consumer with its original message, and kills nothing.
local P = require "lungo.pipeline"
local base = go.count()

local function settle(what)
  for _ = 1, 5000 do
    if go.count() == base then return end
    go.sleep(0.001)
  end
  error((what or "") .. ": goroutines left behind: " .. go.count() .. " alive, expected " .. base)
end

local function fails(f, pattern, what)
  local ok, err = pcall(f)
  assert(not ok, what .. ": no error")
  assert(type(err) == "string" and err:find(pattern), what .. ": wrong error: " .. tostring(err))
  return err
end

local function boom_at(n)
  return function(x)
    if x == n then error("boom at " .. x) end
    return x
  end
end

-- the original message, position included (this file and line)
for _, workers in ipairs({ 1, 4 }) do
  for _, ordered in ipairs({ true, false }) do
    local what = ("map w%d %s"):format(workers, ordered and "ordered" or "unordered")
    local err = fails(function()
      return P.collect(P.map(nil, P.range(nil, 20), boom_at(7), { workers = workers, ordered = ordered }))
    end, "boom at 7", what)
    assert(err:match("pipeline_errors%.lua:%d+: boom at 7$"), what .. ": not the original message: " .. err)
    fails(function()
      return P.collect(P.filter(nil, P.range(nil, 20), function(x) return boom_at(3)(x) > 0 end,
                                { workers = workers, ordered = ordered }))
    end, "pipeline_errors%.lua:%d+: boom at 3$", "filter " .. what)
  end
end
settle("map")   -- the stages went on after the error and finished

-- an error value takes the failed item's place; the others still arrive
do
  local out = P.map(nil, P.range(nil, 5), boom_at(2), 3)
  local items = {}
  for v in out:range() do items[#items + 1] = v end
  assert(#items == 5 and items[1] == 1 and items[3] == 3 and items[5] == 5)
  local is, e = P.iserror(items[2])
  assert(is and e:find("boom at 2"), tostring(e))
  assert(not P.iserror(items[1]) and not P.iserror({}) and not P.iserror(nil))
end

-- error values go through the other stages untouched
local function err_in(stage, pattern)
  fails(function() return P.collect(stage(P.map(nil, P.range(nil, 10), boom_at(4)))) end,
        pattern or "boom at 4", "through")
end
err_in(function(c) return P.map(nil, c, function(x) return x * 2 end, 2) end)
err_in(function(c) return P.filter(nil, c, function() return false end, 2) end)
err_in(function(c) return P.take(nil, c, 9) end)   -- 9 items and the error: reads all of c
err_in(function(c) return P.drop(nil, c, 8) end)
err_in(function(c) return P.batch(nil, c, 3) end)
err_in(function(c) return P.merge(nil, c, P.range(nil, 3)) end)
err_in(function(c)
  local a, b = P.tee(nil, c)
  go(function() for _ in b:range() do end end)
  return a
end)

-- every consumer raises it
local function src() return P.map(nil, P.range(nil, 10), boom_at(5)) end
fails(function() return P.reduce(src(), function(a, x) return a + x end, 0) end, "boom at 5", "reduce")
fails(function() P.each(src(), function() end) end, "boom at 5", "each")
fails(function() for _ in P.iter(src()) do end end, "boom at 5", "iter")
fails(function() return P.drain(src()) end, "boom at 5", "drain")
-- the consumer's own function raising is just an error in the caller
fails(function() return P.reduce(P.range(nil, 3), function() error("mine") end, 0) end, "mine", "reduce fn")
settle("consumers")   -- the stages behind each raising consumer ran to their end

-- sources
fails(function()
  return P.collect(P.generator(nil, function(emit) emit(1); error("gen failed") end))
end, "pipeline_errors%.lua:%d+: gen failed$", "generator")
fails(function()
  return P.collect(P.generate(nil, function(_, i) if i == 3 then error("iter failed") end return i + 1 end, nil, 0))
end, "iter failed", "generate")
fails(function() return P.collect(P.generator(nil, function(emit) emit(nil) end)) end, "cannot send nil", "emit nil")

-- error objects that are not strings
do
  local ok, e = pcall(P.collect, P.map(nil, P.range(nil, 3), function(x)
    if x == 2 then error({ code = 42, msg = "table error" }) end
    return x
  end))
  assert(not ok and type(e) == "table" and e.code == 42 and e.msg == "table error")
  ok, e = pcall(P.collect, P.map(nil, P.range(nil, 2), function(x) if x == 2 then error(io.tmpfile()) end return x end))
  assert(not ok and type(e) == "string" and e:find("file"), tostring(e))   -- not copyable: sent as text
end

-- a result that cannot be copied becomes an error value (the stage lives on)
for _, workers in ipairs({ 1, 3 }) do
  local ok, e = pcall(P.collect, P.map(nil, P.range(nil, 3), function(x)
    if x == 2 then return io.tmpfile() end
    return x
  end, workers))
  assert(not ok and tostring(e):find("cannot copy"), tostring(e))
end
settle("objects")

-- errors cancel a stream; the rest of the pipeline winds down
do
  fails(function()
    return P.stream(1, math.huge):map(boom_at(50), 4):collect()
  end, "boom at 50", "stream")
  settle("stream error")
  fails(function()
    for _ in P.stream(1, math.huge):map(boom_at(9), 2):iter() do end
  end, "boom at 9", "stream iter")
  settle("stream iter error")
  fails(function()
    P.stream(1, math.huge):each(function(x) if x == 3 then error("each body") end end)
  end, "each body", "stream each body")
  settle("stream each error")
end

-- a consumer given done (or a context) cancels it when it meets an error
do
  local ctx = P.context()
  local ok, err = pcall(P.collect, P.map(ctx, P.range(ctx, 1, math.huge), boom_at(10), 4), ctx)
  assert(not ok and err:find("boom at 10"))
  assert(ctx:cancelled())
  settle("ctx error")
  local done = chan()
  ok, err = pcall(P.reduce, P.map(done, P.range(done, 1, math.huge), boom_at(3)), function(a, x) return a + x end, 0, done)
  assert(not ok and err:find("boom at 3") and P.cancelled(done))
  settle("done error")
  done = chan()
  for v in P.iter(P.range(done, 1, math.huge), done) do if v == 5 then break end end
  assert(P.cancelled(done))
  settle("iter break")
end

settle("end")
