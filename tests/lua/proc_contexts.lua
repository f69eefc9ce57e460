-- Where Lua cannot suspend (a table.sort comparator, require, __gc),
-- os.execute, io.popen and reads of standard input run the stock way and
-- wait blocking, with Lua's results; proc:wait waits blocking too. A
-- pipe's receive or send that would wait raises "cannot block", as a
-- channel operation does; one that can complete at once works. Inside a
-- coroutine of a goroutine, and in metamethods Lua calls, they park.
local function same(a, b, what)
  for i = 1, math.max(#a, #b) do
    assert(a[i] == b[i], what .. ": result " .. i .. " is " .. tostring(a[i]) .. ", want " .. tostring(b[i]))
  end
end

-- calls fn where Lua cannot suspend: inside a table.sort comparator
local function nosuspend(fn)
  local r
  table.sort({ 1, 2 }, function(a, b) if not r then r = { fn() } end return a < b end)
  return r
end

same(nosuspend(function() return os.execute("exit 2") end), { nil, "exit", 2 }, "os.execute in a comparator")
same(nosuspend(function()
  local f = io.popen("sleep 0.05; echo hi")
  return f:read("a"), f:close()
end), { "hi\n", true, "exit", 0 }, "popen in a comparator")
same(nosuspend(function()
  local f = io.popen("cat > /dev/null", "w")
  f:write("data")
  return f:close()
end), { true, "exit", 0 }, "popen write in a comparator")
local p = go.exec({ "sh", "-c", "sleep 0.05; exit 6" })
same(nosuspend(function() return p:wait() end), { nil, "exit", 6 }, "proc:wait in a comparator")

p = go.exec({ "sh", "-c", "sleep 0.3; echo late" }, { stdout = "pipe" })
local r = nosuspend(function() return pcall(p.stdout.receive, p.stdout) end)
assert(r[1] == false and r[2]:find("cannot block in conn:receive"), tostring(r[2]))
same({ p.stdout:receive() }, { "late" }, "then it parks outside")
p:wait()
p = go.exec({ "echo", "now" }, { stdout = "pipe" })
p:wait()                                  -- its output is in the pipe already
same(nosuspend(function() return p.stdout:receive() end), { "now" }, "a receive that need not wait")

-- require: the module's body cannot suspend
package.preload["proc_contexts_mod"] = function()
  local f = io.popen("echo from require")
  local s = f:read("l")
  f:close()
  return { s, os.execute("exit 1") }
end
same(require("proc_contexts_mod"), { "from require", nil, "exit", 1 }, "in require")

-- __gc: a popen file collected closes (and reaps) blocking
do
  local f = io.popen("echo collected")
  f = nil
end
collectgarbage()
collectgarbage()

-- in a coroutine inside a goroutine, and in a metamethod: they park
local done = chan()
go(function()
  local co = coroutine.wrap(function()
    coroutine.yield(os.execute("exit 4"))
    local f = io.popen("echo co")
    coroutine.yield(f:read("l"))
  end)
  local a, b, c = co()
  local d = co()
  local mt = { __index = function(_, k) return select(3, os.execute("exit " .. k)) end }
  local e = setmetatable({}, mt)[9]
  done:send({ a, b, c, d, e })
end)
same(done:recv(), { nil, "exit", 4, "co", 9 }, "coroutine and metamethod")
