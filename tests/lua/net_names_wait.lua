-- A lookup that takes time (tests/slowdns.c: names ending in ".slow.test"
-- take 300 ms and answer 127.0.0.1) parks its goroutine, not its worker:
-- at any worker count, a ticker on the same worker keeps ticking while
-- net.resolve and net.dial wait for the name. Needs the test binary's seam
-- (LUNGO_TEST_SLOWDNS); the lungo command alone has none, and skips.
if not os.getenv("LUNGO_TEST_SLOWDNS") then return end
local net = go.net

-- Counts a 10 ms ticker's ticks on main's worker until `fn` (in a
-- goroutine of its own) is done. A worker blocked for the 300 ms would
-- let none through at 1 worker.
local function ticks_during(fn)
  local done = chan(1)
  local tk = go.ticker(0.01)
  go(function() done:send(fn()) end)
  local n, result = 0, nil
  while true do
    local i, v = go.select(done, tk)
    if i == 1 then result = v break end
    n = n + 1
  end
  tk:close()
  return n, result
end

local n, r = ticks_during(function()
  local t, err = net.resolve("a.slow.test")
  return t and t[1] or err
end)
assert(r == "127.0.0.1", tostring(r))
assert(n >= 3, "only " .. n .. " ticks while a 300 ms lookup waited")

local ln = assert(net.listen("tcp4", "127.0.0.1:0"))
local port = ln:addr():match(":(%d+)$")
go(function() local c = ln:accept(); c:send(c:receive() .. "!\n"); c:close() end)
n, r = ticks_during(function()
  local c, err = net.dial("tcp", "b.slow.test:" .. port)
  if not c then return err end
  c:send("hello\n")
  local line = c:receive()
  c:close()
  return line
end)
assert(r == "hello!", tostring(r))
assert(n >= 3, "only " .. n .. " ticks while a dial waited for its 300 ms lookup")
ln:close()
