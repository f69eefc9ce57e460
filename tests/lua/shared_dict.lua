-- go.dict: a map shared by every goroutine holding it. Contended incr,
-- add and set from goroutines on every worker count exactly; values are
-- copied in on set and out on get; keys are strings, integers, booleans.
local d = go.dict()
local G, N = 16, 500
local wg = go.waitgroup()
wg:add(G)
for g = 1, G do
  go(function()
    for i = 1, N do
      d:incr("hits", 1)                       -- one hot key
      d:incr("k" .. (i % 50), 2, 100)        -- fifty warm ones, starting at 100
      d:set(g * 100000 + i, { g = g, i = i })
      if i % 5 == 0 then d:delete(g * 100000 + i) end
      d:add("first", g)
    end
    wg:done()
  end)
end
wg:wait()
assert(d:get("hits") == G * N, d:get("hits"))
local warm = 0
for i = 0, 49 do warm = warm + d:get("k" .. i) - 100 end
assert(warm == 2 * G * N, warm)
local kept = G * (N - N // 5)
assert(#d == kept + 1 + 50 + 1, #d)
local f = d:get("first")
assert(math.type(f) == "integer" and f >= 1 and f <= G)
local r = d:get(3 * 100000 + 7)
assert(r.g == 3 and r.i == 7 and d:get(3 * 100000 + 10) == nil)

-- keys: every key once
local keys = d:keys()
assert(#keys == #d)
local seen = {}
for _, k in ipairs(keys) do assert(not seen[k]) seen[k] = true end
assert(seen.hits and seen.first and seen.k0 and seen[3 * 100000 + 7])

-- copies: changing what get returned changes nothing in the dict
local t = { list = { 1, 2, 3 }, name = "x" }
d:set("t", t)
t.name = "changed"
local a, b = d:get("t"), d:get("t")
assert(a.name == "x" and a ~= b and a.list[3] == 3)
a.list[1] = 99
assert(d:get("t").list[1] == 1)

-- set nil deletes; add only when absent; delete says whether it removed
local n = #d
d:set("t", nil)
assert(d:get("t") == nil and #d == n - 1)
assert(d:add("new", "v") == true and d:add("new", "w") == false and d:get("new") == "v")
assert(d:delete("new") == true and d:delete("new") == false)

-- key kinds, as table keys: 2.0 is 2; true and "true" differ
d:set(2, "int") d:set(true, "bool") d:set("true", "str") d:set(2.0, "float two")
assert(d:get(2) == "float two" and d:get(true) == "bool" and d:get("true") == "str")
assert(d:get(false) == nil)
local ok, err = pcall(d.set, d, {}, 1)
assert(not ok and err:find("string, integer or boolean expected", 1, true), err)
ok, err = pcall(d.get, d, 1.5)
assert(not ok and err:find("dict key must be", 1, true), err)

-- values: anything that can cross (channels by reference, module values by name)
local ch = chan(1)
d:set("ch", ch) d:set("fmt", string.format) d:set("f", 1.5) d:set("s", "a\0b")
assert(d:get("ch") == ch and d:get("fmt") == string.format and d:get("f") == 1.5 and d:get("s") == "a\0b")
go(function(dd) dd:get("ch"):send(dd:get("fmt")("%d", 5)) end, d)
assert(ch:recv() == "5")
ok, err = pcall(d.set, d, "co", coroutine.create(print))
assert(not ok and err:find("cannot copy thread", 1, true), err)

-- incr on a value that is not an integer raises; integers only for n
d:set("str", "x")
ok, err = pcall(d.incr, d, "str", 1)
assert(not ok and err:find("not an integer", 1, true), err)
ok, err = pcall(d.incr, d, "hits", 1.5)
assert(not ok and err:find("integer expected, got float", 1, true), err)
assert(d:incr("fresh", 5) == 5 and d:incr("fresh2", 1, 10) == 11)

-- the same dict reaching a goroutine twice is one value there
go(function(x, y) ch:send(x == y.d) end, d, { d = d })
assert(ch:recv() == true)
assert(tostring(d):find("^dict: "))
