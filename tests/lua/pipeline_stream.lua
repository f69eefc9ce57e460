-- lungo.pipeline: streams, the chainable Lua-style face of the stages.
local P = require "lungo.pipeline"
local base = go.count()

local function settle(what)
  for _ = 1, 5000 do
    if go.count() == base then return end
    go.sleep(0.001)
  end
  error((what or "") .. ": goroutines left behind: " .. go.count() .. " alive, expected " .. base)
end

local function same(a, b, what)
  assert(#a == #b, (what or "") .. ": length " .. #a .. " ~= " .. #b)
  for i = 1, #a do assert(a[i] == b[i], (what or "") .. ": differs at " .. i) end
end

local function sorted(t) table.sort(t) return t end
local sq = function(x) return x * x end
local even = function(x) return x % 2 == 0 end

-- the four kinds of source
same(P.stream({ 3, 1, 2 }):collect(), { 3, 1, 2 }, "table")
same(P.stream(4):collect(), { 1, 2, 3, 4 }, "number")
same(P.stream(2, 8, 3):collect(), { 2, 5, 8 }, "range args")
same(P.stream(function(emit, a, b) emit(a); emit(b) end, "x", "y"):collect(), { "x", "y" }, "generator")
do
  local ch = chan(3)
  ch:send(1); ch:send(2); ch:close()
  same(P.stream(ch):collect(), { 1, 2 }, "channel")
end
assert(not pcall(P.stream, true))

-- the stages
same(P.stream(10):map(sq, 4):filter(even, 2):collect(), { 4, 16, 36, 64, 100 }, "map filter")
same(sorted(P.stream(10):map_unordered(sq, 4):filter_unordered(even, 3):collect()),
     { 4, 16, 36, 64, 100 }, "unordered")
same(P.stream(10):drop(3):take(4):collect(), { 4, 5, 6, 7 }, "drop take")
local b = P.stream(5):batch(2):collect()
assert(#b == 3 and #b[1] == 2 and b[3][1] == 5, "batch")
same(sorted(P.stream(3):merge(P.stream({ 10, 20 }), P.range(nil, 100, 101)):collect()),
     { 1, 2, 3, 10, 20, 100, 101 }, "merge")
do
  local s1, s2 = P.stream(4):map(sq):tee()
  local res = chan(1)
  go(function(c) res:send(P.collect(c)) end, s2:chan())
  same(s1:collect(), { 1, 4, 9, 16 }, "tee 1")
  same(res:recv(), { 1, 4, 9, 16 }, "tee 2")
end

-- the terminals
assert(P.stream(100):reduce(function(a, x) return a + x end, 0) == 5050)
assert(P.stream({ "a", "b", "c" }):reduce(function(a, x) return a .. x end) == "abc")
do
  local got = {}
  P.stream(3):map(sq, 2):each(function(v) got[#got + 1] = v end)
  same(got, { 1, 4, 9 }, "each")
  got = {}
  for v in P.stream({ "p", "q" }):iter() do got[#got + 1] = v end
  same(got, { "p", "q" }, "iter")
end
assert(P.stream(1000):filter(even, 4):drain() == 500)

-- an endless stream is fine as long as a terminal ends it
same(P.stream(1, math.huge):filter(even, 3):map(sq, 3):take(3):collect(), { 4, 16, 36 }, "endless")
settle("endless")
do
  local sum = 0
  for v in P.stream(1, math.huge):map(sq, 4):iter() do
    if v > 100 then break end
    sum = sum + v
  end
  assert(sum == 385)
  settle("endless iter")
end

-- in a context of your own: terminals do not cancel it unless they fail
do
  local ctx = P.context()
  same(P.stream_ctx(ctx, 5):map(sq, 2):collect(), { 1, 4, 9, 16, 25 }, "stream_ctx")
  assert(not ctx:cancelled())
  local s = P.stream_ctx(ctx, 1, math.huge):map(sq, 2)
  assert(s:chan():recv() == 1)
  ctx:cancel()
  settle("stream_ctx cancel")
end

-- streams inside goroutines (the module is copied with the function)
do
  local res = chan()
  for k = 1, 4 do
    go(function(k) res:send(P.stream(k * 10):map(sq, 2):reduce(function(a, x) return a + x end)) end, k)
  end
  local total = 0
  for _ = 1, 4 do total = total + res:recv() end
  local expect = 0
  for k = 1, 4 do local n = k * 10; expect = expect + n * (n + 1) * (2 * n + 1) // 6 end
  assert(total == expect)
end

settle("end")
