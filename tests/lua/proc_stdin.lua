-- Standard input that delivers late: io.read, io.lines(), io.stdin:read
-- and io.stdin:lines keep Lua's results but park, so at 1 worker a ticker
-- keeps ticking while a goroutine waits for input. Runs a child lungo
-- (the binary named by $LUNGO_BIN) at this run's worker count, with a
-- pipe as its standard input that this script feeds slowly.
local bin = os.getenv("LUNGO_BIN") or "build/lungo"
local workers = tostring(arg and arg[1] or 1)

local child = [==[
local done = chan()
local function pack(...) return { n = select("#", ...), ... } end
local function ticking(fn)
  local tick = go.ticker(0.01)
  go(function() done:send(pack(fn())) end)
  local ticks, r = 0, nil
  while not r do
    local i, v = go.select(done, tick)
    if i == 1 then r = v else ticks = ticks + 1 end
  end
  tick:close()
  return r, ticks
end
local function show(r, ticks)
  local t = {}
  for i = 1, r.n do t[i] = string.format("%q", r[i]) end
  print(table.concat(t, " "), ticks >= 3 and "ticked" or ("stuck " .. ticks))
end
-- 1: a line that comes late (io.read: numbers, the rest of the line, "L")
show(ticking(function() return io.read("n", "l", "L") end))
-- 2: counts and 0, io.stdin:read
show(ticking(function() return io.stdin:read(3, 0, "l") end))
-- 3: io.lines() with formats until an empty line, then io.stdin:lines()
show(ticking(function()
  local t = {}
  for a, b in io.lines(nil, "n", "n") do t[#t + 1] = a + b end
  local rest = {}
  for l in io.stdin:lines("L") do rest[#rest + 1] = l end
  return table.concat(t, ","), table.concat(rest)
end))
-- 4: at the end of input
print(io.read("l"), io.read("a"), io.read(0), io.stdin:read("n"))
-- 5: where Lua cannot suspend the stock read runs (and blocks): a comparator
print(pcall(table.sort, { 2, 1 }, function(a, b) io.read() return a < b end))
]==]

local name = os.tmpname()
local f = assert(io.open(name, "w"))
f:write(child)
f:close()

local p = assert(go.exec({ bin, "-W", workers, name }, { stdin = "pipe", stdout = "pipe", stderr = "pipe" }))
local feed = {
  { 0.3, "  42 the rest\n" }, { 0, "whole line\n" },
  { 0.3, "ab" }, { 0.05, "c" }, { 0.05, "de\n" },
  { 0.3, "1 2\n3 4\n" }, { 0.05, "x\n" }, { 0.2, "tail" }, { 0.05, " end\n" },
}
go(function(inp)
  for _, step in ipairs(feed) do
    if step[1] > 0 then go.sleep(step[1]) end
    inp:send(step[2])
  end
  inp:close()
end, p.stdin)
local out = p.stdout:receive("a")
local err = p.stderr:receive("a")
local ok, how, code = p:wait()
os.remove(name)
assert(ok and how == "exit" and code == 0, "child failed: " .. tostring(how) .. " " .. tostring(code) .. "\n" .. err)
local want = table.concat({
  '42 " the rest" "whole line\\\n"\tticked',
  '"abc" "" "de"\tticked',
  '"3,7" "x\\\ntail end\\\n"\tticked',
  'nil\t\tnil\tnil',
  'true',
  '' }, "\n")
assert(out == want, "child printed:\n" .. out .. "\nwant:\n" .. want)

-- much input in pieces of odd sizes: reads that the buffer serves (the
-- stock functions) and reads on the pool (a line or a numeral split
-- between two pieces) alternate; every number arrives once
local code = [[
  local c = chan()
  go(function()
    local s1 = 0
    for _ = 1, 10000 do s1 = s1 + io.read("n") end
    local s2, n = 0, 0
    for l in io.lines() do if l ~= "" then s2 = s2 + tonumber(l) n = n + 1 end end
    c:send({ s1, s2, n })
  end)
  local r = c:recv()
  print(r[1], r[2], r[3])
]]
p = assert(go.exec({ bin, "-W", workers, "-e", code }, { stdin = "pipe", stdout = "pipe" }))
local t = {}
for i = 1, 20000 do t[i] = tostring(i) end
local all = table.concat(t, "\n") .. "\n"
go(function(inp)
  local pos, k = 1, 0
  while pos <= #all do
    k = k + 1
    local len = 1 + (k * 7919) % 3000
    inp:send(all:sub(pos, pos + len - 1))
    pos = pos + len
    if k % 10 == 0 then go.sleep(0.001) end
  end
  inp:close()
end, p.stdin)
out = p.stdout:receive("a")
assert(p:wait())
local want2 = string.format("%d\t%d\t%d\n", 10000 * 10001 // 2, (20000 * 20001 - 10000 * 10001) // 2, 10000)
assert(out == want2, "child printed " .. out .. " want " .. want2)
