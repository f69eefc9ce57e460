-- A tree of goroutines unfolds depth-first: a worker starts the newest
-- goroutine it spawned first, and runs a node its child's result woke
-- before opening the next subtree. Each node reports the most goroutines
-- alive (go.count(): started or waiting to start) that any node of its
-- subtree saw when it started. Breadth-first, the first leaf sees every
-- inner node alive (2^12 - 1 = 4095 of them, plus their queued children);
-- depth-first, a path and its unstarted siblings per front: every 61st
-- pick starts the oldest goroutine waiting (so none starves), which opens
-- another front, and idle workers steal from that end too. About 300 at
-- 1, 2 and 4 workers.
local DEPTH = 12
local BOUND = 1500

local node
function node(d, out)
  local seen = go.count()
  if d > 0 then
    local c = chan()
    go(node, d - 1, c)
    go(node, d - 1, c)
    local a, b = c:recv(), c:recv()
    seen = math.max(seen, a[1], b[1])
    out:send({ seen, a[2] + b[2] + 1 })
  else
    out:send({ seen, 1 })
  end
end

local root = chan()
go(node, DEPTH, root)
local r = root:recv()
assert(r[2] == 2 ^ (DEPTH + 1) - 1, "the tree has all its nodes")
assert(r[1] < BOUND, string.format("peak of %d goroutines alive in a tree of depth %d (breadth-first order?)",
  r[1], DEPTH))
