-- lungo.pipeline: the error group (Go's errgroup): wait for all, the first
-- error, cancellation of the others, a limit.
local P = require "lungo.pipeline"
local base = go.count()

local function settle(what)
  for _ = 1, 5000 do
    if go.count() == base then return end
    go.sleep(0.001)
  end
  error((what or "") .. ": goroutines left behind: " .. go.count() .. " alive, expected " .. base)
end

-- all succeed; results come back through a channel
do
  local g = P.group()
  local results = chan(10)
  for i = 1, 10 do
    local id = g:go(function(ctx, n) results:send(n * n) end, i)
    assert(math.type(id) == "integer")
  end
  local ok, err = g:wait()
  assert(ok == true and err == nil)
  results:close()
  local sum = 0
  for v in results:range() do sum = sum + v end
  assert(sum == 385)
  assert(g.ctx:cancelled(), "wait cancels the group's context")
  settle("all ok")
end

-- an empty group
do
  local g = P.group()
  assert(g:wait() == true)
end

-- the first error wins, with its message; the others are cancelled
for _, workers in ipairs({ 1, 5 }) do
  local g = P.group()
  local stopped = chan(100)
  for i = 1, workers do
    g:go(function(ctx)
      go.select(ctx.done)              -- blocks until the group is cancelled
      stopped:send(i)
    end)
  end
  g:go(function() error("job failed") end)
  local ok, err = g:wait()
  assert(ok == false and err:match("pipeline_group%.lua:%d+: job failed$"), tostring(err))
  assert(#stopped == workers, "every other job saw the cancellation")
  settle("first error")
end

-- several errors: exactly one is reported, and it is one of them
do
  local g = P.group()
  for i = 1, 8 do g:go(function(_, k) error("e" .. k, 0) end, i) end
  local ok, err = g:wait()
  assert(not ok and err:match("^e%d$"), tostring(err))
  settle("several errors")
end

-- error objects: tables come as they are; what cannot be copied comes as text
do
  local g = P.group()
  g:go(function() error({ code = 7 }) end)
  local ok, err = g:wait()
  assert(not ok and type(err) == "table" and err.code == 7)
  g = P.group()
  g:go(function() error(io.tmpfile()) end)
  ok, err = g:wait()
  assert(not ok and type(err) == "string" and err:find("file"), tostring(err))
  g = P.group()
  g:go(function() error() end)               -- a nil error is still a failure
  ok, err = g:wait()
  assert(ok == false and err == nil)
end

-- a limit: never more than `limit` functions running at once
do
  local limit = 3
  local gauge = chan()
  local maxc = chan(1)
  go(function()
    local cur, hi = 0, 0
    for d in gauge:range() do
      cur = cur + d
      if cur > hi then hi = cur end
    end
    maxc:send(hi)
  end)
  local g = P.group(limit)
  for _ = 1, 20 do
    g:go(function()
      gauge:send(1)
      for _ = 1, 5 do go.yield() end
      go.sleep(0.001)
      gauge:send(-1)
    end)
  end
  assert(g:wait())
  gauge:close()
  local hi = maxc:recv()
  assert(hi >= 1 and hi <= limit, "concurrency " .. hi .. " over the limit " .. limit)
  settle("limit")
end

-- a group with a parent context: cancelling the parent cancels the jobs
do
  local parent = P.context()
  local g = P.group({ parent = parent })
  for _ = 1, 3 do
    g:go(function(ctx) go.select(ctx.done) error("cancelled", 0) end)
  end
  parent:cancel()
  local ok, err = g:wait()
  assert(not ok and err == "cancelled")
  settle("parent")
end

-- pipelines inside the jobs, on the group's context: an error in one
-- stops the endless pipelines of the others
do
  local g = P.group()
  for k = 1, 3 do
    g:go(function(ctx, k)
      local Pm = require "lungo.pipeline"       -- or captured: P is copied too
      local out = Pm.map(ctx, Pm.range(ctx, 1, math.huge), function(x)
        if k == 2 and x == 100 then error("stage " .. k .. " failed at " .. x) end
        return x
      end, 2)
      Pm.drain(out, ctx)
    end, k)
  end
  g:go(function(ctx) P.drain(P.range(ctx, 1, math.huge), ctx) end)
  local ok, err = g:wait()
  assert(not ok and err:find("stage 2 failed at 100"), tostring(err))
  settle("pipelines in a group")
end

settle("end")
