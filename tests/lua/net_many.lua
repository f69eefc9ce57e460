-- A thousand connections at once: one goroutine per connection on the
-- server, a thousand clients each sending and checking its own lines,
-- every client connected before any of them sends.
local net = go.net
local N = 1000
local ln = assert(net.listen("tcp", "127.0.0.1:0", { backlog = N }))
local addr = ln:addr()

go(function()
  for _ = 1, N do
    local c = assert(ln:accept())
    go(function()
      while true do
        local line = c:receive("*l")
        if not line then break end
        assert(c:send(line .. "\n"))
      end
      c:close()
    end)
  end
  ln:close()
end)

local connected, done = go.waitgroup(), go.waitgroup()
local start = chan()
local errors = chan(N)
connected:add(N)
done:add(N)
for i = 1, N do
  go(function()
    local c, err = net.dial("tcp", addr)
    connected:done()
    if not c then errors:send(err) done:done() return end
    start:recv()
    for k = 1, 3 do
      local msg = ("client %d line %d"):format(i, k)
      c:send(msg .. "\n")
      local back = c:receive("*l")
      if back ~= msg then errors:send(("client %d: %s"):format(i, tostring(back))) break end
    end
    c:close()
    done:done()
  end)
end
connected:wait()
start:close()
done:wait()
assert(#errors == 0, #errors > 0 and errors:recv() or "")
