-- Run by tests/test_net.c under `ulimit -n 64`: when fds run out, accept
-- and dial return nil, err (never raise, never wedge a worker) and the
-- server keeps serving once fds are free again.
local net = go.net
local ln = assert(net.listen("tcp", "127.0.0.1:0", { backlog = 128 }))
local addr = ln:addr()
local accept_errors = chan(1)     -- (a goroutine's upvalues are copies: it reports here)
go(function()
  while true do
    local c, err = ln:accept()
    if c then
      go(function()
        local line = c:receive("*l")
        if line then c:send(line .. "\n") end
        c:receive("*a")
        c:close()
      end)
    elseif err == "closed" then
      return
    else
      go.select({accept_errors, err}, go.default)
      go.sleep(0.005)          -- a full fd table: retry a little later
    end
  end
end)

local clients, dial_err = {}, nil
for _ = 1, 200 do
  local c, err = net.dial("tcp", addr)
  if not c then dial_err = err break end
  clients[#clients + 1] = c
end
assert(dial_err and dial_err:find("open files"), "dial runs out of fds: " .. tostring(dial_err))
go.sleep(0.05)
local aerr = accept_errors:recv()
assert(aerr:find("open files"), "accept ran out of fds too: " .. aerr)
for i, k in ipairs(clients) do k:close() clients[i] = nil end   -- (those still in the backlog too)
-- fds are free again: a new client is served
local c
for _ = 1, 200 do
  c = net.dial("tcp", addr)
  if c then break end
  go.sleep(0.01)
end
assert(c, "can dial again")
c:send("still serving\n")
local deadline = go.now() + 20
c:settimeout(20)
assert(c:receive("*l") == "still serving", "the server still serves")
c:close()
ln:close()
print("accept error: " .. aerr .. ", dial error: " .. dial_err)
assert(go.now() < deadline)
