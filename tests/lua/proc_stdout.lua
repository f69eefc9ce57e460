-- Standard output and error that are pipes whose reader is slow: print,
-- io.write, io.stdout:write, io.stdout:flush and io.flush park instead
-- of blocking the worker (the flush modes buffer fully, so lines wait in
-- the FILE's buffer, and flush every 64th: with the pipe full, the flush
-- is what waits; before it parked, these modes lost the marker). A
-- child lungo at 1 worker writes 1 MiB to stdout, which this script does
-- not read yet, while another of its goroutines sleeps a little and then
-- writes a marker to stderr: the marker arrives (a worker blocked in
-- write(2) would never run that goroutine), then every byte of stdout,
-- in order. Also: the wrapped functions still cross goroutines (go(print,
-- ...), a channel), and io.write's results and errors are the stock ones.
local bin = os.getenv("LUNGO_BIN") or "build/lungo"
local N = 1024

local child = [==[
local mode, N = arg[1], tonumber(arg[2])
-- the functions as goroutines (they cross by name or as C functions)
go(print, "via go(print)")
go(io.write, "via go(io.write)\n")
go(io.stdout.write, io.stdout, "via go(f.write)\n")
while go.count() > 1 do go.sleep(0.01) end
go(function()
  for _ = 1, 5 do go.sleep(0.02) end
  io.stderr:write("marker\n")
end)
local done = chan()
local flushing = mode == "flush" or mode == "ioflush"
if flushing then io.stdout:setvbuf("full") end
go(function()
  for i = 1, N do
    local payload = string.rep(string.char(97 + i % 26), 1000)
    if mode == "print" then
      print(i, payload, i + 0.5)
    elseif mode == "write" then
      assert(io.write(i, "\t", payload, "\t", i + 0.5, "\n") == io.stdout)
    elseif flushing then
      assert(io.stdout:write(i, "\t", payload, "\t", i + 0.5, "\n") == io.stdout)
      if i % 64 == 0 then
        if mode == "flush" then assert(io.stdout:flush() == true)
        else assert(io.flush() == true) end
      end
    else
      assert(io.stdout:write(i, "\t", payload, "\t", i + 0.5, "\n") == io.stdout)
    end
    if i == 100 then
      -- (most likely with the pipe full, parked) the values before a bad
      -- one are written, then the stock error is raised
      local f = mode == "fwrite" and function(...) return io.stdout:write(...) end or io.write
      local ok, e = pcall(f, string.rep("z", 5000), 7, {})
      assert(not ok and e:find("bad argument #%d to '[%w.:]*write' %(string expected, got table%)"), e)
      print(setmetatable({}, { __tostring = function() return "T" end }))
    end
  end
  done:send(true)
end)
done:recv()
]==]

local function expected()
  local t = { "via go(f.write)\nvia go(io.write)\nvia go(print)\n" }
  for i = 1, N do
    t[#t + 1] = i .. "\t" .. string.rep(string.char(97 + i % 26), 1000) .. "\t" .. tostring(i + 0.5) .. "\n"
    if i == 100 then t[#t + 1] = string.rep("z", 5000) .. "7T\n" end
  end
  return table.concat(t)
end

-- the three lines of the goroutines may come in any order: sorted
local function sorted_head(out)
  local lines, pos = {}, 1
  for _ = 1, 3 do
    local e = out:find("\n", pos, true)
    if not e then return out end
    lines[#lines + 1] = out:sub(pos, e)
    pos = e + 1
  end
  table.sort(lines)
  return table.concat(lines) .. out:sub(pos)
end

local name = os.tmpname()
local f = assert(io.open(name, "w"))
f:write(child)
f:close()

local want = expected()
local modes = { "print", "write", "fwrite", "flush", "ioflush" }
local results = chan(#modes)
for _, mode in ipairs(modes) do
  go(function()
    local p = assert(go.exec({ bin, "-W", "1", name, mode, tostring(N) },
                             { stdout = "pipe", stderr = "pipe" }))
    p.stderr:settimeout(15)
    local marker, err = p.stderr:receive()
    if marker ~= "marker" then
      p:kill("KILL")
      p.stdout:receive("a")
      p:wait()
      results:send(mode .. ": no marker on stderr while stdout was full (" .. tostring(err) .. ")")
      return
    end
    local out = p.stdout:receive("a")
    local rest = p.stderr:receive("a")
    local ok, how, code = p:wait()
    if not (ok and how == "exit" and code == 0) then
      results:send(mode .. ": child failed: " .. tostring(how) .. " " .. tostring(code) .. "\n" .. rest)
    elseif sorted_head(out) ~= want then
      local i = 1
      out = sorted_head(out)
      while out:sub(i, i) == want:sub(i, i) do i = i + 1 end
      results:send(string.format("%s: stdout differs at byte %d of %d (want %d): %q", mode, i,
                                 #out, #want, out:sub(i, i + 40)))
    else
      results:send(true)
    end
  end)
end
local fails = {}
for _ = 1, #modes do
  local r = results:recv()
  if r ~= true then fails[#fails + 1] = r end
end
os.remove(name)
assert(#fails == 0, table.concat(fails, "\n"))

-- the wrapped functions arrive on another worker as that worker's own
local c = chan()
go.spread(function(ch)
  local fs = ch:recv()
  ch:send(fs[1] == print and fs[2] == io.write and fs[3] == io.stdout.write
          and fs[4] == io.stderr.write)
end, c)
c:send({ print, io.write, io.stdout.write, io.stderr.write })
assert(c:recv() == true, "print, io.write or the write method did not cross as themselves")
