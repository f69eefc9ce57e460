-- io.open, io.lines, io.input and io.output of a named pipe (FIFO) park
-- instead of blocking the worker: the open (a writer waits for a reader),
-- the reads (a reader waits for a writer and its bytes) and the writes.
-- At 1 worker a ticker keeps ticking through each wait, which it could
-- not do with the worker blocked in open(2) or read(2). Results and
-- errors are the stock ones.
local name = os.tmpname()
os.remove(name)
assert(os.execute("mkfifo " .. name), "mkfifo")

-- runs fn in a goroutine and counts the ticks of a 10 ms ticker until it
-- is done; returns fn's results (as a table) and the ticks
local function ticking(fn, ...)
  local done = chan(1)
  local tick = go.ticker(0.01)
  go(function(...) done:send({ fn(...) }) end, ...)
  local ticks, res = 0, nil
  while not res do
    local i, v = go.select(done, tick)
    if i == 1 then res = v else ticks = ticks + 1 end
  end
  tick:close()
  return res, ticks
end

-- a reader opens first and waits for its lines; the writer comes later
do
  local wrote = chan(1)
  go(function(n)
    go.sleep(0.2)
    local f = assert(io.open(n, "w"))
    for i = 1, 5000 do assert(f:write("line ", i, "\n") == f) end
    wrote:send({ f:close() })
  end, name)
  local res, ticks = ticking(function(n)
    local f, err = io.open(n)              -- mode "r" by default
    if not f then return "open failed: " .. tostring(err) end
    local t = {}
    for l in f:lines() do t[#t + 1] = l end
    return io.type(f), #t, t[1], t[#t], f:read("l"), f:close(), io.type(f)
  end, name)
  assert(res[1] == "file", tostring(res[1]))
  assert(res[2] == 5000 and res[3] == "line 1" and res[4] == "line 5000",
         "lines: " .. tostring(res[2]) .. " " .. tostring(res[3]) .. " " .. tostring(res[4]))
  assert(res[5] == nil and res[6] == true and res[7] == "closed file")
  assert(ticks >= 3, "the ticker stopped while the reader waited: " .. ticks .. " ticks")
  local closed = wrote:recv()
  assert(closed[1] == true, "writer's close")
end

-- a writer opens first: its open waits until a reader opens the FIFO
do
  local opened, got = chan(1), chan(1)
  go(function(n, op)
    go.sleep(0.05)
    local early = op:len()                 -- the writer cannot have opened: no reader yet
    go.sleep(0.15)
    local f = assert(io.open(n, "r"))
    local a, b, c, d = f:read("l", "n", "l", "l")
    got:send({ early, a, b, c, d, f:close() })
  end, name, opened)
  local res, ticks = ticking(function(n, op)
    local f = assert(io.open(n, "w"))
    op:send("opened")
    return f:write("hello\n", 42, "\n") == f, f:close()
  end, name, opened)
  assert(res[1] == true and res[2] == true, "writer: " .. tostring(res[1]) .. " " .. tostring(res[2]))
  assert(ticks >= 3, "the ticker stopped while the writer's open waited: " .. ticks .. " ticks")
  local r = got:recv()
  assert(r[1] == 0, "the writer's open went through with no reader")
  assert(r[2] == "hello" and r[3] == 42 and r[4] == "" and r[5] == nil,
         "reader: " .. tostring(r[2]) .. " " .. tostring(r[3]) .. " " .. tostring(r[4]) .. " " .. tostring(r[5]))
  assert(r[6] == true, "reader's close")
  assert(opened:recv() == "opened")
end

-- io.lines(name): as liolib's, four results (the file last, to be
-- closed), and the file is closed at the end
do
  go(function(n)
    local f = assert(io.open(n, "w"))
    f:write("a\nb\n\nc")
    f:close()
  end, name)
  local it, s, c, f = io.lines(name)
  assert(type(it) == "function" and s == nil and c == nil and io.type(f) == "file")
  local t = {}
  for l in it, s, c, f do t[#t + 1] = l end
  assert(#t == 4 and t[1] == "a" and t[2] == "b" and t[3] == "" and t[4] == "c", table.concat(t, "|"))
  assert(io.type(f) == "closed file", "io.lines did not close the FIFO at the end")
  -- with formats
  go(function(n)
    local w = assert(io.open(n, "w"))
    w:write("1 2\n3 4\n")
    w:close()
  end, name)
  t = {}
  for a, b in io.lines(name, "n", "n") do t[#t + 1] = a * b end
  assert(#t == 2 and t[1] == 2 and t[2] == 12)
end

-- io.output(name) waits for a reader; io.input(name) reads through it
do
  local done = chan(1)
  go(function(n)
    io.output(n)
    assert(io.write("via io.output\n") == io.output())
    io.close()
    done:send(true)
  end, name)
  go.sleep(0.05)
  assert(done:len() == 0, "io.output's open went through with no reader")
  local old = io.input()
  io.input(name)
  assert(io.read("l") == "via io.output")
  assert(io.read("l") == nil)
  io.close(io.input())
  io.input(old)
  assert(done:recv() == true)
end

-- errors and results as the stock functions give them
do
  local ok, err = pcall(io.open, name, "rz")
  assert(not ok and err:find("bad argument #2 to 'io.open' %(invalid mode%)"), err)
  local f, msg, code = io.open(name .. ".absent")
  assert(f == nil and msg == name .. ".absent: No such file or directory" and code == 2, msg)
  ok, err = pcall(io.lines, name .. ".absent")
  assert(not ok and err:find("cannot open file '" .. name .. ".absent' %(No such file or directory%)", 1), err)
  ok, err = pcall(io.input, name .. ".absent")
  assert(not ok and err:find("cannot open file"), err)
  -- a regular file and a character device that is no terminal stay stock
  f = assert(io.open("/dev/null", "r"))
  assert(f:read("a") == "" and f:close() == true)
end

os.remove(name)
