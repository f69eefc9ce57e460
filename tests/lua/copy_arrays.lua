-- Arrays in the copier's packed form, across goroutines (so across
-- workers when there are several): holes, mixed types, arrays that are
-- also records, arrays of records sharing tables and field names, cycles,
-- metatables, and arrays far longer than a Lua stack (the copier never
-- pushes an array's elements at once).
local back = chan()
local function roundtrip(v)
  go(function(x) back:send(x) end, v)
  return back:recv()
end

-- holes and mixed types
local mixed = { 1, 2.5, "s", true, false, { 6 }, nil, 8, nil, nil, 11 }
local c = roundtrip(mixed)
assert(c ~= mixed and c[1] == 1 and math.type(c[1]) == "integer" and c[2] == 2.5 and c[3] == "s")
assert(c[4] == true and c[5] == false and c[6][1] == 6 and c[7] == nil and c[8] == 8)
assert(c[9] == nil and c[10] == nil and c[11] == 11)

-- an array that is also a record; a string key that looks like an index
local both = { 10, 20, 30, name = "n", ["2"] = "two", [2.5] = "f", [100] = "far" }
c = roundtrip(both)
assert(c[1] == 10 and c[2] == 20 and c[3] == 30 and c.name == "n" and c["2"] == "two")
assert(c[2.5] == "f" and c[100] == "far" and c[4] == nil)
local n = 0
for _ in pairs(c) do n = n + 1 end
assert(n == 7, "keys: " .. n)

-- records sharing tables and field names; a cycle through the list
local mt = { __index = { kind = "rec" } }
local tags = { "a", "b", "c" }
local list = {}
for i = 1, 5000 do
  list[i] = setmetatable({ id = i, name = "item" .. i, price = i * 1.5, tags = tags }, mt)
end
list.self = list
list[5001] = list[1]
c = roundtrip(list)
assert(#c == 5001 and c.self == c and c[5001] == c[1])
for i = 1, 5000 do
  local r = c[i]
  assert(r.id == i and r.name == "item" .. i and r.price == i * 1.5 and r.kind == "rec")
  assert(r.tags == c[1].tags and r.tags[3] == "c")
end
assert(getmetatable(c[1]) == getmetatable(c[5000]) and getmetatable(c[1]) ~= mt)

-- long arrays of each packed kind
local ints, flts, strs, bools = {}, {}, {}, {}
for i = 1, 300000 do ints[i] = i * 3 - 7 end
for i = 1, 100000 do flts[i] = i / 7 end
for i = 1, 100000 do strs[i] = tostring(i) end
for i = 1, 100000 do bools[i] = i % 3 == 0 end
local ci, cf, cs, cb = roundtrip(ints), roundtrip(flts), roundtrip(strs), roundtrip(bools)
assert(#ci == 300000 and #cf == 100000 and #cs == 100000 and #cb == 100000)
for i = 1, 300000, 997 do assert(ci[i] == i * 3 - 7 and math.type(ci[i]) == "integer") end
for i = 1, 100000, 97 do
  assert(cf[i] == i / 7 and cs[i] == tostring(i) and cb[i] == (i % 3 == 0))
end

-- a long array of tables
local tabs = {}
for i = 1, 50000 do tabs[i] = { i } end
local ct = roundtrip(tabs)
assert(#ct == 50000 and ct[50000][1] == 50000 and ct[1] ~= ct[2])
