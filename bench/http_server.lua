-- netcompare.sh's http shape (see ../shared/README.md): a minimal HTTP/1.1
-- keep-alive server on 127.0.0.1:PORT, one goroutine per connection, that
-- reads the request line and headers up to the empty line and answers
-- "Hello, World!" in one send. Serves until killed.
-- Run: lungo bench/http_server.lua PORT
local net = require "lungo.net"
local ln = assert(net.listen("tcp", "127.0.0.1:" .. assert(arg[1], "usage: http_server.lua PORT")))
local RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"

local function serve(conn)
  conn:setoption("tcp-nodelay", true)
  while true do
    local line = conn:receive("*l")
    if not line then break end
    if line ~= "" then                      -- (a stray empty line between requests)
      repeat
        local h = conn:receive("*l")
        if not h then conn:close() return end
      until h == ""
      if not conn:send(RESPONSE) then break end
    end
  end
  conn:close()
end

while true do
  local conn = ln:accept()
  if conn then go(serve, conn) else go.sleep(0.001) end
end
