-- lungo.pipeline: sources, stages and consumers, one by one.
local P = require "lungo.pipeline"
local base = go.count()

local function settle()
  for _ = 1, 5000 do
    if go.count() == base then return end
    go.sleep(0.001)
  end
  error("goroutines left behind: " .. go.count() .. " alive, expected " .. base)
end

local function same(a, b, what)
  assert(#a == #b, (what or "") .. ": length " .. #a .. " ~= " .. #b)
  for i = 1, #a do
    assert(a[i] == b[i], ("%s: [%d] %s ~= %s"):format(what or "", i, tostring(a[i]), tostring(b[i])))
  end
end

local function sorted(t) table.sort(t) return t end

-- sources
same(P.collect(P.from(nil, { "a", "b", "c" })), { "a", "b", "c" }, "from")
same(P.collect(P.from(nil, {})), {}, "from empty")
same(P.collect(P.from(nil, { { x = 1 }, 2 }))[1].x == 1 and { 1 } or {}, { 1 }, "from table items")
same(P.collect(P.range(nil, 5)), { 1, 2, 3, 4, 5 }, "range n")
same(P.collect(P.range(nil, 3, 6)), { 3, 4, 5, 6 }, "range a b")
same(P.collect(P.range(nil, 10, 1, -3)), { 10, 7, 4, 1 }, "range step")
same(P.collect(P.range(nil, 0)), {}, "range empty")
same(P.collect(P.range(nil, 0, 1, 0.5)), { 0, 0.5, 1 }, "range float")
assert(not pcall(P.range, nil, 1, 2, 0), "range with step 0")

local pairs_out = P.collect(P.generate(nil, ipairs({ "x", "y" })))
assert(#pairs_out == 2 and pairs_out[1][1] == 1 and pairs_out[1][2] == "x" and pairs_out[2][2] == "y")
local keys = {}
for _, kv in ipairs(P.collect(P.generate(nil, pairs({ a = 1, b = 2, c = 3 })))) do
  keys[#keys + 1] = kv[1] .. "=" .. kv[2]
end
same(sorted(keys), { "a=1", "b=2", "c=3" }, "generate pairs")
-- a stateless iterator of one value: values arrive unpacked
local function evens(limit, i) if i + 2 <= limit then return i + 2 end end
same(P.collect(P.generate(nil, evens, 10, 0)), { 2, 4, 6, 8, 10 }, "generate one value")

same(P.collect(P.generator(nil, function(emit, n)
  for i = 1, n do emit(i * 10) end
end, 3)), { 10, 20, 30 }, "generator")
-- a generator may use coroutines inside
same(P.collect(P.generator(nil, function(emit)
  for w in coroutine.wrap(function() for _, s in ipairs({ "p", "q" }) do coroutine.yield(s) end end) do
    emit(w)
  end
end)), { "p", "q" }, "generator with coroutine")

-- map and filter, one worker and several
local sq = function(x) return x * x end
same(P.collect(P.map(nil, P.range(nil, 5), sq)), { 1, 4, 9, 16, 25 }, "map")
same(P.collect(P.map(nil, P.range(nil, 5), sq, 3)), { 1, 4, 9, 16, 25 }, "map 3 ordered")
same(sorted(P.collect(P.map_unordered(nil, P.range(nil, 5), sq, 3))), { 1, 4, 9, 16, 25 }, "map_unordered")
same(sorted(P.collect(P.map(nil, P.range(nil, 5), sq, { workers = 2, ordered = false }))),
     { 1, 4, 9, 16, 25 }, "map opts unordered")
same(P.collect(P.map(nil, P.range(nil, 6), function(x) if x % 2 == 0 then return x end end, 2)),
     { 2, 4, 6 }, "map nil drops")
local odd = function(x) return x % 2 == 1 end
same(P.collect(P.filter(nil, P.range(nil, 9), odd)), { 1, 3, 5, 7, 9 }, "filter")
same(P.collect(P.filter(nil, P.range(nil, 9), odd, 4)), { 1, 3, 5, 7, 9 }, "filter 4 ordered")
same(sorted(P.collect(P.filter_unordered(nil, P.range(nil, 9), odd, 4))), { 1, 3, 5, 7, 9 }, "filter_unordered")
-- a map function's upvalues are copied: it sees them, it cannot change them
local offset, seen = 100, {}
same(P.collect(P.map(nil, P.range(nil, 3), function(x) seen[x] = true; return x + offset end, 2)),
     { 101, 102, 103 }, "map upvalue")
assert(next(seen) == nil, "a stage cannot mutate the caller's table")
-- tables go through and come back as copies
local rec = P.collect(P.map(nil, P.from(nil, { { n = 1 }, { n = 2 } }), function(t) t.n = t.n * 2; return t end, 2))
assert(rec[1].n == 2 and rec[2].n == 4)

-- merge
same(sorted(P.collect(P.merge(nil, P.range(nil, 3), P.range(nil, 4, 6), P.from(nil, { 7 })))),
     { 1, 2, 3, 4, 5, 6, 7 }, "merge")
same(sorted(P.collect(P.merge(nil, { P.range(nil, 2), P.range(nil, 3, 4) }))), { 1, 2, 3, 4 }, "merge table")
same(P.collect(P.merge(nil)), {}, "merge nothing")

-- take, drop
do  -- take stops reading: its source stays blocked until done is closed
  local done = chan()
  same(P.collect(P.take(done, P.range(done, 5), 3)), { 1, 2, 3 }, "take")
  done:close()
end
same(P.collect(P.take(nil, P.range(nil, 2), 5)), { 1, 2 }, "take more than there is")
same(P.collect(P.drop(nil, P.range(nil, 5), 3)), { 4, 5 }, "drop")
same(P.collect(P.drop(nil, P.range(nil, 2), 5)), {}, "drop everything")
do  -- take from an endless source needs done to free the source afterwards
  local done = chan()
  same(P.collect(P.take(done, P.range(done, 1, math.huge), 4)), { 1, 2, 3, 4 }, "take endless")
  done:close()
  settle()
end

-- batch
local b = P.collect(P.batch(nil, P.range(nil, 7), 3))
assert(#b == 3, "batches: " .. #b)
same(b[1], { 1, 2, 3 }); same(b[2], { 4, 5, 6 }); same(b[3], { 7 }, "batch tail")
same(P.collect(P.batch(nil, P.range(nil, 0), 3)), {}, "batch of nothing")
do  -- with a wait: a partial batch goes out once the wait passes, input still open
  local src = chan(2)
  src:send(1); src:send(2)
  local out = P.batch(nil, src, 100, 0.05)
  local got = {}
  for _, v in ipairs(out:recv()) do got[#got + 1] = v end
  if #got < 2 then for _, v in ipairs(out:recv()) do got[#got + 1] = v end end
  same(got, { 1, 2 }, "batch after wait")
  src:send(3)
  src:close()
  same(out:recv(), { 3 }, "batch after close")
  assert(select(2, out:recv()) == false)
end

-- tee: every output gets every value
do
  local a, b2, c = P.tee(nil, P.range(nil, 5), 3)
  local res = chan(3)
  for _, ch in ipairs({ a, b2 }) do go(function() res:send(P.collect(ch)) end) end
  local mine = P.collect(c)
  same(mine, { 1, 2, 3, 4, 5 }, "tee c")
  same(res:recv(), mine, "tee a"); same(res:recv(), mine, "tee b")
  local x, y = P.tee(nil, P.from(nil, { "only" }))
  assert(y ~= nil)
  go(function() P.drain(y) end)
  same(P.collect(x), { "only" }, "tee default 2")
end

-- consumers
assert(P.reduce(P.range(nil, 10), function(a, x) return a + x end, 0) == 55)
assert(P.reduce(P.range(nil, 4), function(a, x) return a * x end) == 24, "reduce without init")
assert(P.reduce(P.range(nil, 0), function(a, x) return a + x end) == nil)
assert(P.reduce(P.from(nil, { "a", "b" }), function(a, x) return a .. x end, ">") == ">ab")
local acc = {}
P.each(P.from(nil, { "u", "v" }), function(v) acc[#acc + 1] = v end)
same(acc, { "u", "v" }, "each")
acc = {}
for v in P.iter(P.range(nil, 3)) do acc[#acc + 1] = v end
same(acc, { 1, 2, 3 }, "iter")
assert(P.drain(P.range(nil, 42)) == 42)
-- false goes through, nil does not
same(P.collect(P.from(nil, { false, true })), { false, true }, "booleans")

-- argument checks raise in the caller
assert(not pcall(P.map, nil, chan(), 42))
assert(not pcall(P.map, nil, chan(), function() end, 0))
assert(not pcall(P.collect, "not a channel"))
assert(not pcall(P.batch, nil, chan(), 0))

settle()
assert(go.count() == base)
