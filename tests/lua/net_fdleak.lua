-- No fd leak: 10 000 connections (in batches of 100 at once, closed by
-- either side first) leave as many fds open as there
-- were before. Fds are counted through /proc/self/fd: opening entry N
-- fails with ENOENT exactly when fd N is not open. No memory leak: the
-- Lua heaps of all workers (go.stats().memory, after a full collection on
-- every worker) hold no more after the last 5 000 connections than after
-- the first 5 000 (a leak of 100 bytes a connection would show 500 KB).
local net = go.net
local function count_fds()
  local n = 0
  for i = 0, 1023 do
    local f, err = io.open("/proc/self/fd/" .. i)
    if f then f:close() n = n + 1
    elseif not err:find("No such file") then n = n + 1 end
  end
  return n
end

local ln = assert(net.listen("tcp", "127.0.0.1:0", { backlog = 256 }))
local addr = ln:addr()
local warm = assert(net.dial("tcp", addr)); assert(ln:accept()):close(); warm:close()
collectgarbage()
local before = count_fds()

-- Every goroutine of the batches ended, then a full collection on each
-- worker (spread goroutines land one on each); the heaps' total.
local function settled_memory()
  while go.count() > 2 do go.sleep(0.005) end       -- main and the accept loop
  local done = chan(go.workers())
  for _ = 1, go.workers() do
    go.spread(function() collectgarbage() collectgarbage() done:send(true) end)
  end
  for _ = 1, go.workers() do done:recv() end
  collectgarbage()
  collectgarbage()
  return go.stats().memory
end

local TOTAL, BATCH = 10000, 100
local half
go(function()
  for i = 1, TOTAL do
    local c = assert(ln:accept())
    go(function()
      local line = c:receive("*l")
      if line then c:send(line .. "\n") end
      c:close()
    end)
  end
end)
for b = 1, TOTAL // BATCH do
  local wg = go.waitgroup()
  wg:add(BATCH)
  for k = 1, BATCH do
    go(function()
      local c = assert(net.dial("tcp", addr))
      c:send("hi " .. k .. "\n")
      assert(c:receive("*l") == "hi " .. k)
      if k % 2 == 0 then c:close() else c:receive("*a") c:close() end   -- (odd: the server closes first)
      wg:done()
    end)
  end
  wg:wait()
  if b % 10 == 0 then collectgarbage() end
  if b == TOTAL // BATCH // 2 then half = settled_memory() end
end
local full = settled_memory()
assert(full - half < 512 * 1024, ("Lua heaps: %d bytes after %d connections, %d after %d")
  :format(half, TOTAL // 2, full, TOTAL))
local after
for _ = 1, 100 do
  after = count_fds()
  if after <= before then break end
  collectgarbage()
  go.sleep(0.02)
end
assert(after == before, ("fds before %d, after %d"):format(before, after))
ln:close()
