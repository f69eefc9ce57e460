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
