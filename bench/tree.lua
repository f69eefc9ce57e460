-- tree: a binary tree of goroutines; each node spawns two children, waits
-- for their counts on a channel and sends its own (children + 1) to its
-- parent. Depth D makes 2^(D+1) - 1 goroutines. With the newest unstarted
-- goroutine run first the tree unfolds depth-first and few of them live
-- at once; breadth-first, every inner node is alive at the same time.
-- Usage: lungo bench/tree.lua [D=16]
-- Same keys as bench/go/tree: total_ms, peak_rss_kb (VmHWM at the end).
local depth = tonumber(arg and arg[1]) or 16

local function hwm_kb()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) or 0
end

local node
function node(d, out)
  if d == 0 then out:send(1) return end
  local c = chan()
  go(node, d - 1, c)
  go(node, d - 1, c)
  out:send(c:recv() + c:recv() + 1)
end

local t0 = go.now()
local root = chan()
go(node, depth, root)
local n = root:recv()
local el = go.now() - t0
print(string.format("tree depth=%d n=%d total_ms=%.1f peak_rss_kb=%d check=%s",
  depth, n, el * 1e3, hwm_kb(), n == 2 ^ (depth + 1) - 1 and "ok" or "WRONG"))
