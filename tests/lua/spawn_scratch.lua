-- go() encodes a start message into its worker's scratch message, which
-- keeps its storage for the next spawn. A spawn from a finalizer run in
-- the middle of another spawn's encoding must not share it, and big
-- arguments must arrive intact after small ones and the reverse.
local got = chan(100000)
local N = 1500

-- finalizers that spawn, made to run while go() encodes: every spawn
-- carries, after other values, a fresh function (a new code object, which
-- the encoder allocates, so the collector may run finalizers right there)
local function run(c, v, t, f) f(c, v, t) end
collectgarbage("incremental", 0, 1000, 0)   -- collect at (nearly) every allocation
for i = 1, N do
  setmetatable({}, { __gc = function()
    go(function(c, v) c:send(v) end, got, { tag = "gc", n = i })
  end })
  local f = load("local c, v, t = ... c:send({ tag = 'go', n = v, t = t })")
  go(run, got, i, { i, tostring(i), { i } }, f)
end
collectgarbage("incremental", 200, 100, 13)
collectgarbage(); collectgarbage()

local seen_go, seen_gc = {}, {}
local ngo, ngc = 0, 0
while ngo < N or ngc < N do
  local v = got:recv()
  if v.tag == "go" then
    assert(not seen_go[v.n], "a spawn arrived twice")
    assert(v.t[1] == v.n and v.t[2] == tostring(v.n) and v.t[3][1] == v.n,
      "arguments of spawn " .. v.n .. " arrived wrong")
    seen_go[v.n] = true
    ngo = ngo + 1
  else
    assert(v.tag == "gc" and not seen_gc[v.n], "a finalizer's spawn arrived wrong")
    seen_gc[v.n] = true
    ngc = ngc + 1
  end
end

-- sizes up and down: a big message, then small ones, then big again
local sizes = { 10, 100000, 3, 5000, 1, 200000, 7 }
local echo = chan(#sizes)
for k, n in ipairs(sizes) do
  go(function(c, s, i) c:send({ i, #s, s:sub(1, 1), s:sub(-1) }) end, echo, string.rep("x", n - 1) .. "y", k)
end
local back = {}
for _ = 1, #sizes do
  local r = echo:recv()
  back[r[1]] = r
end
for k, n in ipairs(sizes) do
  local r = back[k]
  assert(r[2] == n and r[4] == "y" and (n == 1 or r[3] == "x"), "string of " .. n .. " bytes")
end
print("ok")
