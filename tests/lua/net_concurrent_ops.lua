-- Several goroutines (on several workers when there are) sharing one
-- connection: each send is written whole, never interleaved with another
-- (messages far larger than the socket buffer, so that each send waits
-- for the reader many times), and several receivers take turns, each
-- getting whole lines.
local net = go.net
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local sc = chan(1)
go(function() sc:send(assert(ln:accept())) end)
local a = assert(net.dial("tcp", ln:addr()))
local b = sc:recv()

local SENDERS, EACH, SIZE = 6, 4, 200000
local wg = go.waitgroup()
wg:add(SENDERS)
for i = 1, SENDERS do
  go(function()
    local body = string.rep(string.char(64 + i), SIZE) .. "\n"
    for _ = 1, EACH do assert(a:send(body) == #body) end
    wg:done()
  end)
end

-- receivers take turns: each line must be one sender's, whole
local lines = chan(SENDERS * EACH)
local RECEIVERS = 3
for _ = 1, RECEIVERS do
  go(function()
    while true do
      local line, err = b:receive("*l")
      if not line then assert(err == "closed", err) return end
      lines:send(line)
    end
  end)
end
local seen = {}
for _ = 1, SENDERS * EACH do
  local line = lines:recv()
  assert(#line == SIZE, "a whole line: " .. #line)
  local c = line:sub(1, 1)
  assert(line == string.rep(c, SIZE), "never interleaved")
  seen[c] = (seen[c] or 0) + 1
end
for i = 1, SENDERS do assert(seen[string.char(64 + i)] == EACH) end
wg:wait()
a:close()
b:close()
ln:close()
