-- go.atomic: one integer shared by every goroutine holding it (it travels
-- by reference, like a channel). Contended adds from many goroutines on
-- every worker count exactly; cas admits exactly one winner per value;
-- integers only.
local a = go.atomic()
assert(a:load() == 0 and go.atomic(41):add(1) == 42)
local G, N = 16, 2000
local wg = go.waitgroup()
wg:add(G)
for _ = 1, G do
  go(function()
    for _ = 1, N do a:add(1) end
    for _ = 1, N do a:add(-1) a:add(2) end
    wg:done()
  end)
end
wg:wait()
assert(a:load() == 2 * G * N, a:load())

-- the same atomic reaching a goroutine twice is one value there
local ch = chan(1)
go(function(x, y) ch:send(rawequal(x, y[1])) end, a, { a })
assert(ch:recv() == true)

-- cas: a ticket counter where each ticket is taken exactly once
local next, taken = go.atomic(1), go.dict()
wg:add(G)
for _ = 1, G do
  go(function()
    for _ = 1, 200 do
      while true do
        local t = next:load()
        if next:cas(t, t + 1) then assert(taken:add(t, true)) break end
      end
    end
    wg:done()
  end)
end
wg:wait()
assert(next:load() == G * 200 + 1 and #taken == G * 200)

-- store, load, wrap-around like Lua integers
a:store(math.maxinteger)
assert(a:add(1) == math.mininteger and a:load() == math.mininteger)
assert(a:cas(math.mininteger, 7) and not a:cas(8, 9) and a:load() == 7)

-- integers only: floats and non-numbers raise
local function raises(part, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok and tostring(err):find(part, 1, true), tostring(err))
end
raises("integer expected, got float", a.add, a, 1.0)
raises("integer expected, got float", a.store, a, 0.5)
raises("integer expected, got string", a.add, a, "1")
raises("integer expected, got float", a.cas, a, 7, 8.0)
raises("integer expected, got float", go.atomic, 1.5)
raises("atomic expected", a.load, {})
assert(a:load() == 7)
assert(tostring(a):find("^atomic: "))
