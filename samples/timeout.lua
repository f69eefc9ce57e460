-- Timeouts: go.select between a result and go.after(seconds).
-- Run: lungo samples/timeout.lua
local P = require "lungo.pipeline"

-- a request served by a goroutine after `delay` seconds; the reply channel
-- is buffered so that a late reply nobody waits for does not block the server
local function request(name, delay)
  local reply = chan(1)
  go(function()
    go.sleep(delay)
    reply:send(name .. " done")
  end)
  return reply
end

local function with_timeout(reply, seconds)
  local i, v = go.select(reply, go.after(seconds))
  if i == 1 then return v end
  return "timed out after " .. seconds .. " s"
end

-- 1. one request at a time, each with its own deadline
print("fast (1 ms) with a 1 s timeout:     " .. with_timeout(request("fast", 0.001), 1))
print("slow (500 ms) with a 20 ms timeout: " .. with_timeout(request("slow", 0.5), 0.02))

-- 2. several requests at once, one deadline for all of them
local deadline = go.after(0.2)
local pending = {
  a = request("a", 0.001), b = request("b", 0.6), c = request("c", 0.002), d = request("d", 0.8),
}
local names = { "a", "b", "c", "d" }
local got = {}
while true do
  local cases = {}
  for k, n in ipairs(names) do cases[k] = pending[n] end   -- nil once answered: never ready
  local i, v = go.select(deadline, table.unpack(cases, 1, #names))
  if i == 1 then break end
  got[#got + 1] = v
  pending[names[i - 1]] = nil
end
table.sort(got)
print("replies before the shared 200 ms deadline: " .. table.concat(got, ", "))
local late = {}
for _, n in ipairs(names) do if pending[n] then late[#late + 1] = n end end
print("too late: " .. table.concat(late, ", "))

-- 3. go.default: a select that never waits
local empty = chan(1)
local i = go.select(empty, go.default)
print("poll an empty channel: " .. (i == 2 and "nothing there, did not wait" or "got something?"))
empty:send("x")
local j, v = go.select(empty, go.default)
print("poll it again after a send: " .. (j == 1 and "got " .. v or "nothing?"))

-- 4. a deadline for a whole pipeline: a context with a timeout
local ctx = P.context(0.05)
local slow_items = P.map(ctx, P.range(ctx, 1, 1000), function(x) go.sleep(0.01); return x end, 2)
local n = P.drain(slow_items)
print("pipeline stopped by its 50 ms deadline: " .. tostring(ctx:cancelled() and n < 1000))
print(string.format("# it processed %d items of 1000", n))
