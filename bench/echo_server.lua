-- netcompare.sh's echo shape (see ../shared/README.md): a TCP line echo on
-- 127.0.0.1:PORT, one goroutine per connection, serving until killed.
-- Run: lungo bench/echo_server.lua PORT
local net = require "lungo.net"
local ln = assert(net.listen("tcp", "127.0.0.1:" .. assert(arg[1], "usage: echo_server.lua PORT")))

local function serve(conn)
  conn:setoption("tcp-nodelay", true)      -- (lungo's default already, as Go's)
  while true do
    local line = conn:receive("*l")
    if not line then break end             -- closed (or the readiness probe)
    if not conn:send(line .. "\n") then break end
  end
  conn:close()
end

while true do
  local conn = ln:accept()
  if conn then go(serve, conn) else go.sleep(0.001) end   -- an error never ends the loop
end
