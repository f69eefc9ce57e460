-- go.exec: pipes both ways, env and cwd, wait's triple (twice, and from
-- several goroutines at once), kill, a proc and its pipes travel to other
-- goroutines (any worker), concurrent receivers take turns, and at 1
-- worker a ticker keeps ticking while a goroutine waits in proc:wait or a
-- pipe's receive.
local function same(a, b, what)
  for i = 1, math.max(#a, #b) do
    assert(a[i] == b[i], what .. ": result " .. i .. " is " .. tostring(a[i]) .. ", want " .. tostring(b[i]))
  end
end

-- the descriptors a child gets: counted before lungo opens any of its own
local function childfds()
  local c = go.exec({ "sh", "-c", "ls /proc/self/fd | wc -l" }, { stdout = "pipe" })
  local n = tonumber(c.stdout:receive())
  c:wait()
  return n
end
local fds_before = childfds()

-- pipes both ways
local p = assert(go.exec({ "sh", "-c", "read a; echo got:$a; echo oops >&2; cat; exit 5" },
                         { stdin = "pipe", stdout = "pipe", stderr = "pipe" }))
assert(math.type(p.pid) == "integer" and p.pid > 0)
assert(tostring(p):find("^proc: "))
same({ p.stdin:send("hello\n", "more ", 42, "\n") }, { 14 }, "send")
p.stdin:close()
same({ p.stdout:receive() }, { "got:hello" }, "receive a line")
same({ p.stdout:receive("*L") }, { "more 42\n" }, "receive L")
same({ p.stdout:receive("*a") }, { "" }, "receive all at the end")
same({ p.stdout:receive() }, { nil, "closed", "" }, "receive at the end")
same({ p.stderr:receive("a") }, { "oops\n" }, "stderr")
same({ p:wait() }, { nil, "exit", 5 }, "wait")
same({ p:wait() }, { nil, "exit", 5 }, "wait again")
same({ p.stdin:send("x") }, { nil, "closed", 0 }, "send after close")

-- a child that has gone: send says "closed" (no SIGPIPE for lungo)
p = go.exec({ "true" }, { stdin = "pipe" })
p:wait()
local r1, r2 = p.stdin:send(string.rep("x", 100000))
assert(r1 == nil and r2 == "closed", tostring(r2))

-- patterns: \r before \n dropped, counts, prefix, partial at the end
p = go.exec({ "printf", "a\\r\\nb\\ncdefg" }, { stdout = "pipe" })
same({ p.stdout:receive("l", "> ") }, { "> a" }, "prefix, \\r dropped")
same({ p.stdout:receive(2) }, { "b\n" }, "count")
same({ p.stdout:receive(3) }, { "cde" }, "count again")
same({ p.stdout:receive(10) }, { nil, "closed", "fg" }, "count past the end")
same({ p:wait() }, { true, "exit", 0 }, "printf")

-- a timeout leaves the pipe usable
p = go.exec({ "sh", "-c", "sleep 0.3; echo late" }, { stdout = "pipe" })
p.stdout:settimeout(0.05)
same({ p.stdout:receive() }, { nil, "timeout", "" }, "timeout")
p.stdout:settimeout(nil)
same({ p.stdout:receive() }, { "late" }, "after the timeout")
p:wait()

-- env replaces the environment; cwd
p = go.exec({ "sh", "-c", 'pwd; echo "$FOO|$HOME"' }, { cwd = "/", env = { FOO = "bar" }, stdout = "pipe" })
same({ p.stdout:receive("a") }, { "/\nbar|\n" }, "env and cwd")
p:wait()
p = go.exec({ "sh", "-c", 'echo "$A$B"' }, { env = { "A=1", "B=2" }, stdout = "pipe" })
same({ p.stdout:receive() }, { "12" }, "env as a list")
p:wait()

-- null and inherit
p = go.exec({ "sh", "-c", "cat; echo done" }, { stdin = "null", stdout = "pipe", stderr = "null" })
same({ p.stdout:receive("a") }, { "done\n" }, "stdin from /dev/null")
same({ p:wait() }, { true, "exit", 0 }, "null")

-- kill
p = go.exec({ "sleep", "10" })
same({ p:kill() }, { true }, "kill")
same({ p:wait() }, { nil, "signal", 15 }, "killed by SIGTERM")
same({ p:kill() }, { nil, "process already finished" }, "kill after wait")
p = go.exec({ "sleep", "10" })
p:kill("KILL")
same({ p:wait() }, { nil, "signal", 9 }, "SIGKILL by name")
p = go.exec({ "sleep", "10" })
p:kill(2)                                 -- blocked in lungo's workers, not in the child
same({ p:wait() }, { nil, "signal", 2 }, "SIGINT by number")

-- errors: a program that does not exist is nil, err; misuse raises
local q, err = go.exec({ "/nonexistent/program" })
assert(q == nil and err:find("No such file"), err)
assert(not pcall(go.exec, {}))
assert(not pcall(go.exec, { "true" }, { stdout = "file" }))
assert(not pcall(go.exec, "true"))

-- a proc and its pipes travel; several goroutines wait for one child
p = go.exec({ "sh", "-c", "sleep 0.2; exit 4" })
local res = chan()
for _ = 1, 3 do go(function(proc) res:send({ proc:wait() }) end, p) end
for _ = 1, 3 do same(res:recv(), { nil, "exit", 4 }, "wait from another goroutine") end

-- concurrent receivers of one pipe take turns: every line once
p = go.exec({ "sh", "-c", "i=0; while [ $i -lt 200 ]; do echo $i; i=$((i+1)); done" }, { stdout = "pipe" })
local lines = chan(300)
local wg = go.waitgroup()
for _ = 1, 4 do
  wg:add(1)
  go(function(out)
    while true do
      local l = out:receive()
      if not l then break end
      lines:send(tonumber(l))
    end
    wg:done()
  end, p.stdout)
end
wg:wait()
lines:close()
local seen, count = {}, 0
for v in lines:range() do assert(not seen[v], "line twice: " .. v) seen[v] = true count = count + 1 end
assert(count == 200, "lines: " .. count)
p:wait()

-- a ticker keeps ticking while goroutines wait for a child and its pipe
local done = chan()
local function ticking(fn)
  local tick = go.ticker(0.01)
  go(function() done:send({ fn() }) end)
  local ticks, r = 0, nil
  while not r do
    local i, v = go.select(done, tick)
    if i == 1 then r = v else ticks = ticks + 1 end
  end
  tick:close()
  return r, ticks
end
local r, ticks = ticking(function() return go.exec({ "sleep", "0.3" }):wait() end)
same(r, { true, "exit", 0 }, "sleep")
assert(ticks >= 3, "the ticker stopped during proc:wait: " .. ticks)
r, ticks = ticking(function()
  local c = go.exec({ "sh", "-c", "sleep 0.3; echo late" }, { stdout = "pipe" })
  return c.stdout:receive(), c:wait()
end)
same(r, { "late", true, "exit", 0 }, "late line")
assert(ticks >= 3, "the ticker stopped during a pipe's receive: " .. ticks)

-- a big transfer both ways through cat (each side's pipe fills up)
p = go.exec({ "cat" }, { stdin = "pipe", stdout = "pipe" })
local big = string.rep("0123456789abcdef", 1 << 14)     -- 256 KiB
go(function(inp) assert(inp:send(big) == #big) inp:close() end, p.stdin)
same({ p.stdout:receive("a") == big }, { true }, "big echo")
same({ p:wait() }, { true, "exit", 0 }, "cat")

-- every descriptor lungo opens is close-on-exec: with pipes, popen files,
-- pidfds and pool threads open, a child still gets only what it got before
local held = {}
for i = 1, 4 do held[i] = go.exec({ "sleep", "5" }, { stdin = "pipe", stdout = "pipe", stderr = "pipe" }) end
go(function() local f = io.popen("sleep 0.5") f:read("a") f:close() end)
go.sleep(0.05)
local fds_after = childfds()
assert(fds_after == fds_before, "a child got " .. fds_after .. " descriptors, " .. fds_before .. " before")
for _, h in ipairs(held) do h:kill() h:wait() end
