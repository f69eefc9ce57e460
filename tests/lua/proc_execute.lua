-- os.execute keeps Lua's results but parks the goroutine while the child
-- runs: at 1 worker a ticker keeps ticking while another goroutine waits in
-- os.execute("sleep 0.3"), and a goroutine waiting for a child is no
-- deadlock (main waits only on a channel meanwhile).
local function same(a, b, what)
  for i = 1, math.max(#a, #b) do
    assert(a[i] == b[i], what .. ": result " .. i .. " is " .. tostring(a[i]) .. ", want " .. tostring(b[i]))
  end
end

-- the stock results, in main and in a goroutine
local function results()
  same({ os.execute("exit 3") }, { nil, "exit", 3 }, "exit 3")
  same({ os.execute("true") }, { true, "exit", 0 }, "true")
  same({ os.execute("kill -9 $$") }, { nil, "signal", 9 }, "signal")
  same({ os.execute() }, { true }, "no command")
  same({ os.execute("exit 300") }, { nil, "exit", 44 }, "exit 300")
end
results()
local done = chan()
go(function() results() done:send(true) end)
assert(done:recv())

-- a ticker keeps ticking while a goroutine waits in os.execute
local tick = go.ticker(0.01)
go(function() done:send({ os.execute("sleep 0.3") }) end)
local ticks, res = 0, nil
while not res do
  local i, v = go.select(done, tick)
  if i == 1 then res = v else ticks = ticks + 1 end
end
tick:close()
same(res, { true, "exit", 0 }, "sleep 0.3")
assert(ticks >= 3, "the ticker stopped while os.execute waited: " .. ticks .. " ticks")

-- several at once, on every worker: each gets its own status
local n = 8
local got = chan(n)
for i = 1, n do
  go(function(k) local _, _, code = os.execute("sleep 0.05; exit " .. k) got:send(code) end, i)
end
local sum = 0
for _ = 1, n do sum = sum + got:recv() end
assert(sum == n * (n + 1) / 2, "statuses mixed up: " .. sum)

-- a child inherits no blocked signal: SIGINT (blocked in lungo's workers)
-- still ends it
same({ os.execute("kill -INT $$; sleep 5") }, { nil, "signal", 2 }, "SIGINT reaches the child")
