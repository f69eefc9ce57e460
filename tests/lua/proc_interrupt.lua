-- Ctrl-C (SIGINT to a child lungo) while its main goroutine waits for
-- standard input, a child (os.execute, proc:wait), a pipe or a popen
-- pipe: "interrupted!" is raised where it waits, a pcall catches it and
-- the program goes on. The wait is taken back: an interrupted read of
-- standard input leaves no thread behind, the program ends at once.
local bin = os.getenv("LUNGO_BIN") or "build/lungo"
local workers = tostring(arg and arg[1] or 1)
-- each body runs inside a pcall'd function that first says "ready": the
-- interrupt is caught wherever it lands (before the wait, or in it)
local cases = {
  'return io.read()',
  'return os.execute("sleep 5 >/dev/null")',
  'local p = go.exec({"sleep", "5"}) return p:wait()',
  'local p = go.exec({"sleep", "5"}, {stdout = "pipe"}) return p.stdout:receive()',
  'local f = io.popen("sleep 5") return f:read("a")',
}
local results = chan(#cases)
for i, body in ipairs(cases) do
  go(function()
    local code = 'print(pcall(function() print("ready") ' .. body .. ' end)) print("after")'
    local p = assert(go.exec({ bin, "-W", workers, "-e", code },
                             { stdin = "pipe", stdout = "pipe", stderr = "null" }))
    local ready = p.stdout:receive()
    go.sleep(0.2)                       -- (most likely) parked by now
    p:kill("INT")
    local out = p.stdout:receive("a")
    results:send({ i, tostring(ready) .. "\n" .. out, p:wait() })
  end)
end
for _ = 1, #cases do
  local r = results:recv()
  local i, out, ok, how, code = r[1], r[2], r[3], r[4], r[5]
  assert(out:find("^ready\nfalse\t[^\n]*interrupted!\nafter\n$"), "case " .. i .. " printed: " .. out)
  assert(ok and how == "exit" and code == 0, "case " .. i .. ": " .. tostring(how) .. " " .. tostring(code))
end
