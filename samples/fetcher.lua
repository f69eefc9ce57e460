-- A concurrent fetcher: 20 pages fetched over HTTP with at most 4
-- connections open at once (a semaphore), from a small server this script
-- starts itself on a free port. Results come back over a channel and are
-- printed in order.
-- Run: lungo samples/fetcher.lua
local net = require "lungo.net"

-- the server: /page/N answers N squared, after a short pause, and counts
-- how many requests it is serving at once (reported at the end)
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local gauge = chan(100)                 -- +1 / -1 events from the handlers
go(function()
  while true do
    local conn = ln:accept()
    if not conn then return end
    go(function()
      local line = conn:receive("*l")
      repeat local h = conn:receive("*l") until not h or h == ""
      gauge:send(1)
      local n = tonumber(line and line:match("^GET /page/(%d+) ") or "")
      go.sleep(0.005)
      local body = n and tostring(n * n) or "bad request"
      conn:send(("HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
                :format(n and "200 OK" or "400 Bad Request", #body, body))
      gauge:send(-1)
      conn:close()
    end)
  end
end)
local peak = chan(1)
go(function()
  local now, most = 0, 0
  for d in gauge:range() do
    now = now + d
    if now > most then most = now end
  end
  peak:send(most)
end)

-- the fetcher
local function fetch(addr, path)
  local conn, err = net.dial("tcp", addr, { timeout = 5 })
  if not conn then return nil, err end
  conn:settimeout(5)
  conn:send("GET " .. path .. " HTTP/1.1\r\nHost: " .. addr .. "\r\nConnection: close\r\n\r\n")
  local status = conn:receive("*l")
  local body = conn:receive("*a")          -- headers and body, until the server closes
  conn:close()
  if not status or not body then return nil, "closed" end
  return status:match("^HTTP/1%.1 (%d+)"), body:match("\r\n\r\n(.*)$")
end

local N, MAXCONN = 20, 4
local slots = go.semaphore(MAXCONN)
local results = chan(N)
for i = 1, N do
  go(function()
    slots:acquire()
    local code, body = fetch(ln:addr(), "/page/" .. i)
    slots:release()
    results:send({ i, code, body })
  end)
end
local pages = {}
for _ = 1, N do
  local r = results:recv()
  pages[r[1]] = r[2] .. " " .. r[3]
end
for i = 1, N do print(("/page/%d -> %s"):format(i, pages[i])) end
ln:close()
gauge:close()
local most = peak:recv()
print("# at most " .. most .. " requests were served at once")
print(("never more than %d requests at once: %s"):format(MAXCONN, most <= MAXCONN and "yes" or "NO"))
