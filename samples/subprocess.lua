-- Streaming a subprocess: `cat` reads the texts and its output streams
-- line by line into a pipeline of goroutines (lower-case the words, count
-- them with a few workers), whose result is written into a second child,
-- `sort`, through its stdin; sort's output streams back through its stdout.
-- Waiting on a child or a pipe parks the goroutine, never the worker.
-- Run: lungo samples/subprocess.lua
local dir = "samples/data/texts"
local files = {}
for _, name in ipairs({ "the_clockmaker", "the_ferryman", "the_gardener", "the_lighthouse", "the_miller" }) do
  files[#files + 1] = dir .. "/" .. name .. ".txt"
end

-- 1. The source: a child's stdout, one line at a time, into a channel.
local cat = assert(go.exec({ "cat", table.unpack(files) }, { stdout = "pipe" }))
local lines = chan(16)
go(function(out)
  while true do
    local line, err = out:receive("*l")
    if not line then break end         -- err is "closed" at the end of the output
    lines:send(line)
  end
  lines:close()
end, cat.stdout)

-- 2. Workers: the words of each line, counted per worker, merged at the end.
local counts = chan()
for _ = 1, 3 do
  go(function()
    local mine = {}
    for line in lines:range() do
      for w in line:lower():gmatch("%a+") do mine[w] = (mine[w] or 0) + 1 end
    end
    counts:send(mine)
  end)
end
local total = {}
for _ = 1, 3 do
  for w, n in pairs(counts:recv()) do total[w] = (total[w] or 0) + n end
end
print("cat:", cat:wait())

-- 3. The sink: `sort` takes "count word" lines on its stdin; a goroutine
--    writes them while this one reads sort's output as it comes.
local sort = assert(go.exec({ "sort", "-k1,1nr", "-k2,2" }, { stdin = "pipe", stdout = "pipe" }))
go(function(inp, t)
  for w, n in pairs(t) do
    if n >= 4 then inp:send(string.format("%d %s\n", n, w)) end
  end
  inp:close()                            -- sort sees the end of its input
end, sort.stdin, total)

local shown = 0
local out = sort.stdout
while true do
  local line = out:receive()
  if not line then break end
  shown = shown + 1
  if shown <= 8 then print(line) end
end
print("sort:", sort:wait())
print("# lines from sort: " .. shown)

-- 4. The same through Lua's own functions: io.popen and os.execute park
--    the goroutine too, and return what they return in Lua.
local p = io.popen("printf 'one\\ntwo\\n'")
print("popen:", p:read("l"), p:read("l"), p:read("l"))
print("close:", p:close())
print("execute:", os.execute("exit 3"))
