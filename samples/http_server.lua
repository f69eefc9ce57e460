-- A minimal HTTP/1.1 server with keep-alive: one goroutine per connection
-- reads a request (its line and headers), answers, and waits for the next
-- one on the same connection until the client closes it.
-- Run: lungo samples/http_server.lua [port]   (serves until killed)
-- Without a port it serves its own client for a few requests and stops.
local net = require "lungo.net"

local function read_request(conn)
  local line, err = conn:receive("*l")
  if not line then return nil, err end
  local method, path, version = line:match("^(%S+) (%S+) (HTTP/%d%.%d)$")
  if not method then return nil, "bad request line" end
  local headers = {}
  while true do
    local h = conn:receive("*l")
    if not h then return nil, "closed" end
    if h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.*)$")
    if k then headers[k:lower()] = v end
  end
  local body = ""
  local len = tonumber(headers["content-length"] or 0)
  if len > 0 then body = conn:receive(len) end
  return { method = method, path = path, version = version, headers = headers, body = body }
end

local function respond(conn, status, body, keep)
  conn:send(("HTTP/1.1 %s\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n%s\r\n%s")
            :format(status, #body, keep and "" or "Connection: close\r\n", body))
end

local hits = 0   -- (per connection: goroutines do not share variables)
local function serve(conn)
  while true do
    local req = read_request(conn)
    if not req then break end
    hits = hits + 1
    local keep = (req.headers.connection or ""):lower() ~= "close" and req.version == "HTTP/1.1"
    if req.path == "/" then
      respond(conn, "200 OK", "Hello, World!", keep)
    else
      respond(conn, "404 Not Found", "no such page: " .. req.path .. " (request " .. hits .. " here)", keep)
    end
    if not keep then break end
  end
  conn:close()
end

local port = arg and arg[1]
local ln = assert(net.listen("tcp", "127.0.0.1:" .. (port or "0")))
print("# serving http://" .. ln:addr() .. "/")
go(function()
  while true do
    local conn, err = ln:accept()
    if conn then go(serve, conn)
    elseif err == "closed" then return
    else go.sleep(0.01) end
  end
end)
if port then return end

-- the demo: three requests on one kept-alive connection, the last closing it
local conn = assert(net.dial("tcp", ln:addr()))
for i, path in ipairs({ "/", "/missing", "/" }) do
  local last = i == 3
  conn:send(("GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n"):format(path, last and "Connection: close\r\n" or ""))
  local status = conn:receive("*l")
  local len
  repeat
    local h = conn:receive("*l")
    len = len or tonumber(h:match("^Content%-Length: (%d+)"))
  until h == ""
  print(path, status, conn:receive(len))
end
print("after Connection: close the server hangs up:", select(2, conn:receive("*l")))
conn:close()
ln:close()
