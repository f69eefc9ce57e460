-- A chat server: every line a client sends is broadcast to every other
-- client. One goroutine per connection reads; a hub goroutine owns the
-- list of clients and fans messages out through channels, so no state is
-- shared (a client's outbox is a buffered channel drained by its writer).
-- Run: lungo samples/chat_server.lua [port]   (serves until killed)
-- Without a port, three scripted users chat and leave, then it stops.
local net = require "lungo.net"

local join, leave, say, stop = chan(), chan(), chan(16), chan()

-- the hub: the only one that knows who is connected
go(function()
  local clients = {}                      -- name -> outbox
  local stopping = false
  while not (stopping and next(clients) == nil) do
    local i, v = go.select(join, leave, say, stop)
    if i == 4 then
      stopping = true                     -- (the demo's end: once everyone has left)
    elseif i == 1 then
      clients[v.name] = v.outbox
      for name, out in pairs(clients) do
        if name ~= v.name then out:send("* " .. v.name .. " joined") end
      end
    elseif i == 2 then
      clients[v]:close()
      clients[v] = nil
      for _, out in pairs(clients) do out:send("* " .. v .. " left") end
    else
      for name, out in pairs(clients) do
        if name ~= v.from then out:send(v.from .. ": " .. v.text) end
      end
    end
  end
end)

local function serve(conn)
  conn:send("name? ")
  local name = conn:receive("*l")
  if not name then conn:close() return end
  local outbox = chan(64)
  go(function()                           -- the writer: outbox -> socket
    for line in outbox:range() do conn:send(line .. "\n") end
    conn:close()
  end)
  join:send({ name = name, outbox = outbox })
  -- (the hub has this client now: whoever joins next is announced to it)
  outbox:send("* welcome " .. name)
  while true do
    local line = conn:receive("*l")
    if not line or line == "/quit" then break end
    say:send({ from = name, text = line })
  end
  leave:send(name)
end

local port = arg and arg[1]
local ln = assert(net.listen("tcp", "127.0.0.1:" .. (port or "0")))
print("# chat on " .. ln:addr())
go(function()
  while true do
    local conn, err = ln:accept()
    if conn then go(serve, conn)
    elseif err == "closed" then return
    else go.sleep(0.01) end
  end
end)
if port then return end

-- the demo: users take turns (each waits for the others to see its words)
local function user(name)
  local c = assert(net.dial("tcp", ln:addr()))
  assert(c:receive(6) == "name? ")
  c:send(name .. "\n")
  -- joined once welcomed: without the wait, two users dialling in a row
  -- could join in either order, and ann would never see bob join
  assert(c:receive("*l") == "* welcome " .. name)
  return c
end
local function expect(c, who, want)
  local line = c:receive("*l")
  print(("%-5s sees  %s"):format(who, line))
  assert(line == want, want)
end
local ann = user("ann")
local bob = user("bob")
expect(ann, "ann", "* bob joined")
ann:send("hi bob\n")
expect(bob, "bob", "ann: hi bob")
local cyd = user("cyd")
expect(ann, "ann", "* cyd joined")
expect(bob, "bob", "* cyd joined")
cyd:send("hello both\n")
expect(ann, "ann", "cyd: hello both")
expect(bob, "bob", "cyd: hello both")
bob:send("/quit\n")
print("bob   reads " .. tostring(select(2, bob:receive("*l"))) .. " after /quit")
expect(ann, "ann", "* bob left")
expect(cyd, "cyd", "* bob left")
ann:close()
expect(cyd, "cyd", "* ann left")
cyd:close()
stop:send(true)
ln:close()
