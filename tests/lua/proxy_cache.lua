-- A worker remembers the last few channels and sync objects it checked
-- (vm/proxy.h). A remembered proxy must be forgotten when it is finalized,
-- by the collector or by an explicit __gc call, and a new object at the
-- same address must be taken for what it is.
local send = getmetatable(chan()).__index.send
local recv = getmetatable(chan()).__index.recv
local lock = getmetatable(go.mutex()).__index.lock

-- an explicit __gc on a proxy in use: the proxy is dead from then on
do
  local c = chan(1)
  local keep = chan(1)
  keep:send(c)                                -- the channel outlives its proxy
  c:send(1); assert(c:recv() == 1)            -- remembered now
  getmetatable(c).__gc(c)
  local ok, err = pcall(send, c, 2)
  assert(not ok and err:find("channel expected"), "a finalized channel: " .. tostring(err))
  ok, err = pcall(recv, c)
  assert(not ok and err:find("channel expected"), "a finalized channel: " .. tostring(err))
end

-- objects made and collected in turn, so that addresses are reused: each
-- use must reach the object it names, never a predecessor's
for i = 1, 300 do
  local c = chan(2)
  c:send(i); c:send(i + 1)
  assert(c:len() == 2 and c:recv() == i)
  c = nil
  collectgarbage(); collectgarbage()
  local m = go.mutex()
  local ok, err = pcall(send, m, 1)
  assert(not ok and err:find("channel expected"), "a mutex taken for a channel: " .. tostring(err))
  lock(m); m:unlock()
  local d = chan(1)
  assert(d:len() == 0, "a new channel sees an old one's values")
  d:send(-i)
  assert(d:recv() == -i)
  ok, err = pcall(lock, d)
  assert(not ok and err:find("mutex expected"), "a channel taken for a mutex: " .. tostring(err))
  m, d = nil, nil
  collectgarbage()
end

-- the same in goroutines on every worker, channels arriving as values
local done = chan()
for g = 1, 4 do
  go(function()
    local send = getmetatable(done).__index.send
    for i = 1, 100 do
      local c = chan(1)
      c:send(i); assert(c:recv() == i)
      c = nil
      collectgarbage()
      local m = go.mutex()
      assert(not pcall(send, m, 1))
    end
    done:send(g)
  end)
end
for _ = 1, 4 do done:recv() end
print("ok")
