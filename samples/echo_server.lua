-- A TCP echo server: one goroutine per connection sends every line back.
-- Run: lungo samples/echo_server.lua [port]   (serves until killed)
-- Without a port it picks a free one, starts a few clients of its own,
-- checks their echoes, and stops: that is how the tests run it.
local net = require "lungo.net"

local function serve(conn)
  while true do
    local line, err = conn:receive("*l")
    if not line then break end            -- "closed": the client has gone
    conn:send(line .. "\n")
  end
  conn:close()
end

local port = arg and arg[1]
local ln = assert(net.listen("tcp", "127.0.0.1:" .. (port or "0")))
print("# listening on " .. ln:addr())

-- the accept loop: an error (out of fds) is no reason to stop serving
go(function()
  while true do
    local conn, err = ln:accept()
    if conn then go(serve, conn)
    elseif err == "closed" then return
    else go.sleep(0.01) end
  end
end)

if port then return end                   -- a real server: serve until killed

-- the demo: clients talk to the server at the same time
local replies = chan()
for id = 1, 3 do
  go(function()
    local conn = assert(net.dial("tcp", ln:addr()))
    local got = {}
    for k = 1, 3 do
      conn:send(("client %d, line %d\n"):format(id, k))
      got[#got + 1] = conn:receive("*l")
    end
    conn:close()
    replies:send({ id, got })
  end)
end
local byid = {}
for _ = 1, 3 do
  local r = replies:recv()
  byid[r[1]] = r[2]
end
for id = 1, 3 do print(table.concat(byid[id], " | ")) end
ln:close()
