-- io.popen, read and write modes, keeps Lua's results (formats, counts,
-- lines, close's triple) but parks the goroutine on the child's pipe and
-- at close: at 1 worker a ticker keeps ticking while another goroutine
-- reads a slow command.
local function same(a, b, what)
  for i = 1, math.max(#a, #b) do
    assert(a[i] == b[i], what .. ": result " .. i .. " is " .. tostring(a[i]) .. ", want " .. tostring(b[i]))
  end
end

local function reads()
  local f = assert(io.popen("printf '12 0x1F -3.5e2 word\\nsecond line\\r\\nthird\\nabcdefgh'"))
  assert(io.type(f) == "file")
  same({ f:read("n", "n", "n") }, { 12, 31, -350.0 }, "numbers")
  same({ f:read("n") }, { nil }, "not a number")
  same({ f:read("l") }, { "word" }, "rest of the line")
  same({ f:read("L", 0) }, { "second line\r\n", "" }, "L and 0")
  same({ f:read(3, "l") }, { "thi", "rd" }, "count then line")
  same({ f:read("a") }, { "abcdefgh" }, "all")
  same({ f:read("a") }, { "" }, "all at the end")
  same({ f:read("l") }, { nil }, "line at the end")
  same({ f:read(0) }, { nil }, "0 at the end")
  same({ f:close() }, { true, "exit", 0 }, "close")
  assert(io.type(f) == "closed file")

  local t = {}
  f = assert(io.popen("printf 'a\\nb\\n\\nc'", "r"))
  for l in f:lines() do t[#t + 1] = l end
  same(t, { "a", "b", "", "c" }, "lines")
  f:close()
  t = {}
  f = assert(io.popen("printf '1 2\\n3 4\\n'"))
  for a, b in f:lines("n", "n") do t[#t + 1] = a * b end
  same(t, { 2, 12 }, "lines with formats")
  same({ f:close() }, { true, "exit", 0 }, "close after lines")

  f = assert(io.popen("exit 7"))
  same({ f:read("a") }, { "" }, "nothing")
  same({ f:close() }, { nil, "exit", 7 }, "exit status")

  local name = os.tmpname()
  f = assert(io.popen("cat > " .. name, "w"))
  assert(f:write("x = ", 12, "\n", 1.5, "\n") == f)
  same({ f:close() }, { true, "exit", 0 }, "close of a write pipe")
  local g = assert(io.open(name))
  same({ g:read("a") }, { "x = 12\n1.5\n" }, "written")
  g:close()
  os.remove(name)

  local ok, err = pcall(io.popen, "true", "rw")
  assert(not ok and err:find("invalid mode"), err)
  ok, err = pcall(function() local p = io.popen("true") p:read("x") end)
  assert(not ok and err:find("invalid format"), err)
end
reads()
local done = chan()
go(function() reads() done:send(true) end)
assert(done:recv())

-- a goroutine reading a pipe on the pool is a possible waker: main waits
-- only on a channel meanwhile, and that is no deadlock
go(function()
  local f = io.popen("sleep 0.2; echo x")
  local s = f:read("l")
  f:close()
  done:send(s)
end)
assert(done:recv() == "x")

-- fn's results, run in a goroutine while this one counts the ticks of a
-- ticker: at 1 worker, the ticks show that fn's waits did not hold the worker
local function ticking(fn)
  local tick = go.ticker(0.01)
  go(function() done:send({ fn() }) end)
  local ticks, res = 0, nil
  while not res do
    local i, v = go.select(done, tick)
    if i == 1 then res = v else ticks = ticks + 1 end
  end
  tick:close()
  return res, ticks
end

local res, ticks = ticking(function()
  local f = io.popen("sleep 0.3; echo slow")
  local s = f:read("a")
  return s, f:close()
end)
same(res, { "slow\n", true, "exit", 0 }, "slow read")
assert(ticks >= 3, "the ticker stopped while popen's read waited: " .. ticks .. " ticks")

-- a slow reader on the other end: write (the pipe fills up) and close wait
res, ticks = ticking(function()
  local f = io.popen("sleep 0.3; cat > /dev/null", "w")
  assert(f:write(string.rep("x", 200000)) == f)
  return f:close()
end)
same(res, { true, "exit", 0 }, "slow writer")
assert(ticks >= 3, "the ticker stopped while popen's write waited: " .. ticks .. " ticks")

-- a flush that waits: 64 KiB fill the pipe (its size on Linux), the next
-- byte stays in the buffer, and flushing it must wait for the reader; the
-- ticks are counted from then on (a worker blocked in the flush would
-- run main only once the child has read)
do
  local phase = chan(1)
  go(function()
    local f = io.popen("sleep 0.3; cat > /dev/null", "w")
    assert(f:write(string.rep("x", 65536)) == f)
    assert(f:write("y") == f)
    phase:send("flushing")
    local flushed = f:flush()
    done:send({ flushed, f:close() })
  end)
  local tick = go.ticker(0.01)
  local counting, ticks, r = false, 0, nil
  while not r do
    local i, v = go.select(phase, done, tick)
    if i == 1 then counting = true
    elseif i == 2 then r = v
    elseif counting then ticks = ticks + 1 end
  end
  tick:close()
  same(r, { true, true, "exit", 0 }, "slow reader, flush")
  assert(ticks >= 3, "the ticker stopped while popen's flush waited: " .. ticks .. " ticks")
end

-- the child went away: the write fails (Lua would die of SIGPIPE)
go(function()
  local f = io.popen("exec true", "w")
  os.execute("sleep 0.1")
  local r = { f:write(string.rep("x", 100000)) }
  done:send({ r[1] == nil, type(r[2]) })
end)
same(done:recv(), { true, "string" }, "write to a gone child")
