-- go.spread(fn, ...) is go() with a placement hint: the goroutine starts on
-- the next worker in turn after the spawner's (the spawner's own after
-- every other). So W goroutines spread in a row land one on each of W
-- workers, whatever the timing (started goroutines cannot move, and go()
-- would start them all on main's worker when main blocks at once). The
-- pipeline library's parallel stages are spread the same way.
local W = go.workers()

local function settle()   -- goroutines of the previous part have ended
  while go.count() > 1 do go.sleep(0.001) end
end

-- go.spread itself: one on each worker, main's last
do
  local rep, gate = chan(W), chan()
  for _ = 1, W do
    go.spread(function(r, g) r:send(go.worker()); g:recv() end, rep, gate)
  end
  local seen, order = {}, {}
  for i = 1, W do
    local w = rep:recv()
    order[i] = w
    assert(not seen[w], ("two spread goroutines on worker %d (got %s, main on %d)")
      :format(w, table.concat(order, ","), go.worker()))
    seen[w] = true
  end
  gate:close()
  -- returns the id, as go() does
  local id = go.spread(function() end)
  assert(math.type(id) == "integer" and id > 0)
  local ok, err = pcall(go.spread, 42)
  assert(not ok and err:find("bad argument #1 to 'go.spread' (function expected, got number)", 1, true), err)
end
settle()

-- a parallel pipeline stage: each of its W workers takes one item and
-- waits; they are on W different workers
do
  local P = require "lungo.pipeline"
  local rep, gate = chan(W), chan()
  local src = chan(W)
  for i = 1, W do src:send(i) end
  src:close()
  local out = P.map(nil, src, function(x)
    rep:send(go.worker())
    gate:recv()
    return x
  end, { workers = W })
  local seen = {}
  for _ = 1, W do
    local w = rep:recv()
    assert(not seen[w], "two workers of one stage on worker " .. w)
    seen[w] = true
  end
  gate:close()
  local n = 0
  for _ in out:range() do n = n + 1 end
  assert(n == W)
end
