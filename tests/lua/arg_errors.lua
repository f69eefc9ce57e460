-- Argument errors of lungo's own functions name the function (never '?')
-- and carry the position of the call: "file:line: bad argument #N to
-- 'NAME' (...)". A method called with a colon does not count self and is
-- named 'ch:send'; called otherwise it is 'ch.send' and self is #1.

-- { call, the message's beginning after the position }, made where they run
-- (methods of channels are C functions with upvalues: they cannot be copied)
local function make_cases()
local c, wg, m, s = chan(1), go.waitgroup(), go.mutex(), go.semaphore(1)
local it = c:range()
local fake = { send = c.send, add = wg.add, lock = m.lock, acquire = s.acquire }
return {
  { function() chan(-1) end, "bad argument #1 to 'chan' (capacity must not be negative)" },
  { function() chan("x") end, "bad argument #1 to 'chan' (number expected, got string)" },
  { function() go.chan(1.5) end, "bad argument #1 to 'chan' (number has no integer representation)" },
  { function() go(1) end, "bad argument #1 to 'go' (function expected, got number)" },
  { function() go.sleep("x") end, "bad argument #1 to 'go.sleep' (number expected, got string)" },
  { function() go.sleep(-1) end, "bad argument #1 to 'go.sleep' (duration must be" },
  { function() go.after(0 / 0) end, "bad argument #1 to 'go.after' (duration must be" },
  { function() go.ticker(0) end, "bad argument #1 to 'go.ticker' (ticker period must be positive)" },
  { function() go.select(5) end, "bad argument #1 to 'go.select' (channel, {channel, value}" },
  { function() go.select(c, nil, { 5, 1 }) end, "bad argument #3 to 'go.select' (send case" },
  { function() go.select(go.default, go.default) end, "bad argument #2 to 'go.select' (more than one go.default)" },
  { function() go.semaphore(0) end, "bad argument #1 to 'go.semaphore' (size must be positive)" },
  { function() go.semaphore({}) end, "bad argument #1 to 'go.semaphore' (number expected, got table)" },
  { function() c.send(5, 1) end, "bad argument #1 to 'ch.send' (channel expected, got number)" },
  { function() fake:send(1) end, "calling 'ch:send' on bad self (channel expected, got table)" },
  { function() c.recv({}) end, "bad argument #1 to 'ch.recv' (channel expected, got table)" },
  { function() c.close(wg) end, "bad argument #1 to 'ch.close' (channel expected, got waitgroup)" },
  { function() c.len() end, "bad argument #1 to 'ch.len' (channel expected, got no value)" },
  { function() c.cap(true) end, "bad argument #1 to 'ch.cap' (channel expected, got boolean)" },
  { function() c.range(1) end, "bad argument #1 to 'ch.range' (channel expected, got number)" },
  { function() it(1) end, "bad argument #1 to 'range iterator' (channel expected, got number)" },
  { function() getmetatable(c).__tostring(1) end, "bad argument #1 to 'ch.__tostring' (channel expected" },
  { function() wg:add("x") end, "bad argument #1 to 'wg:add' (number expected, got string)" },
  { function() wg.add(wg, 1.5) end, "bad argument #2 to 'wg.add' (number has no integer representation)" },
  { function() fake:add(1) end, "calling 'wg:add' on bad self (waitgroup expected, got table)" },
  { function() wg.done(c) end, "bad argument #1 to 'wg.done' (waitgroup expected, got channel)" },
  { function() wg.wait(1) end, "bad argument #1 to 'wg.wait' (waitgroup expected, got number)" },
  { function() wg.count(1) end, "bad argument #1 to 'wg.count' (waitgroup expected, got number)" },
  { function() fake:lock() end, "calling 'mutex:lock' on bad self (mutex expected, got table)" },
  { function() m.unlock(1) end, "bad argument #1 to 'mutex.unlock' (mutex expected, got number)" },
  { function() m.trylock(s) end, "bad argument #1 to 'mutex.trylock' (mutex expected, got semaphore)" },
  { function() fake:acquire() end, "calling 'sem:acquire' on bad self (semaphore expected, got table)" },
  { function() s.release(1) end, "bad argument #1 to 'sem.release' (semaphore expected, got number)" },
  { function() s.tryacquire(m) end, "bad argument #1 to 'sem.tryacquire' (semaphore expected, got mutex)" },
  { function() coroutine.resume(1) end, "bad argument #1 to 'coroutine.resume' (thread expected" },
  { function() coroutine.wrap(1) end, "bad argument #1 to 'coroutine.wrap' (function expected" },
  { function() coroutine.isyieldable(1) end, "bad argument #1 to 'coroutine.isyieldable' (thread expected" },
  { function() load(1) end, "bad argument #1 to 'load' (function expected, got number)" },
  { function() load("x", {}) end, "bad argument #2 to 'load' (string expected, got table)" },
  { function() loadfile({}) end, "bad argument #1 to 'loadfile' (string expected, got table)" },
  { function() dofile({}) end, "bad argument #1 to 'dofile' (string expected, got table)" },
  { function() setmetatable(1, nil) end, "bad argument #1 to 'setmetatable' (table expected, got number)" },
  { function() setmetatable({}, 1) end, "bad argument #2 to 'setmetatable' (nil or table expected" },
  { function() getmetatable() end, "bad argument #1 to 'getmetatable' (value expected)" },
  { function() os.exit({}) end, "bad argument #1 to 'os.exit' (number expected, got table)" },
}
end

local function esc(p) return (p:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- Runs every case; returns nil or the first failure.
local function check(cases, where)
  for i, k in ipairs(cases) do
    local f, want = k[1], k[2]
    local line = debug.getinfo(f, "S").linedefined
    local ok, err = pcall(f)
    err = tostring(err)
    if ok then return ("%s case %d: no error"):format(where, i) end
    if not err:find("^[^\n]*arg_errors%.lua:" .. line .. ": " .. esc(want)) then
      return ("%s case %d: %q, expected %q at line %d"):format(where, i, err, want, line)
    end
  end
end

local bad = check(make_cases(), "main")
assert(not bad, bad)

-- called straight from pcall (a C caller: no position), still named
local ok, err = pcall(chan, -1)
assert(not ok and err == "bad argument #1 to 'chan' (capacity must not be negative)", err)
ok, err = pcall(chan().send, 1, 1)
assert(not ok and err == "bad argument #1 to 'ch.send' (channel expected, got number)", err)
ok, err = pcall(go.sleep)
assert(not ok and err == "bad argument #1 to 'go.sleep' (number expected, got no value)", err)

-- in goroutines, on whatever worker they run
local res = chan(8)
for g = 1, 4 do
  go(function(where) res:send(check(make_cases(), where) or true) end, "goroutine " .. g)
end
for _ = 1, 4 do
  local r = res:recv()
  assert(r == true, r)
end

-- lungo.pipeline: the module's names ('P.map'; 's:map' for a stream's
-- method, self not counted), the argument's number, the program's line
do
  local P = require "lungo.pipeline"
  local c = chan()
  local bad = check({
    { function() P.from(nil, 5) end, "bad argument #2 to 'P.from' (table expected, got number)" },
    { function() P.range(nil, "x") end, "bad argument #2 to 'P.range' (number expected, got string)" },
    { function() P.range(nil, 1, {}) end, "bad argument #3 to 'P.range' (number expected, got table)" },
    { function() P.range(nil, 1, 2, 0) end, "bad argument #4 to 'P.range' (step is zero)" },
    { function() P.generate(nil, 5) end, "bad argument #2 to 'P.generate' (function expected" },
    { function() P.generator(nil, 5) end, "bad argument #2 to 'P.generator' (function expected" },
    { function() P.map(nil, 5, print) end, "bad argument #2 to 'P.map' (channel expected, got number)" },
    { function() P.filter_unordered(nil, c, 5) end, "bad argument #3 to 'P.filter_unordered' (function" },
    { function() P.merge(nil, c, 5) end, "bad argument #3 to 'P.merge' (channel expected, got number)" },
    { function() P.take(nil, c, "x") end, "bad argument #3 to 'P.take' (number >= 0 expected, got string)" },
    { function() P.drop(nil, 5, 1) end, "bad argument #2 to 'P.drop' (channel expected, got number)" },
    { function() P.batch(nil, c, 0) end, "bad argument #3 to 'P.batch' (positive integer expected, got 0)" },
    { function() P.tee(nil, c, 0) end, "bad argument #3 to 'P.tee' (number >= 1 expected, got 0)" },
    { function() P.collect(5) end, "bad argument #1 to 'P.collect' (channel expected, got number)" },
    { function() P.reduce(c, 5) end, "bad argument #2 to 'P.reduce' (function expected, got number)" },
    { function() P.each(c) end, "bad argument #2 to 'P.each' (function expected, got nil)" },
    { function() P.drain({}) end, "bad argument #1 to 'P.drain' (channel expected, got table)" },
    { function() P.iter(nil) end, "bad argument #1 to 'P.iter' (channel expected, got nil)" },
    { function() P.stream(true) end, "bad argument #1 to 'P.stream' (table, number, function or channel" },
    { function() P.stream(1, "x") end, "bad argument #2 to 'P.stream' (number expected, got string)" },
    { function() P.stream_ctx(P.context(), true) end, "bad argument #2 to 'P.stream_ctx' (table, number" },
    { function() P.stream({}):map(5) end, "bad argument #1 to 's:map' (function expected, got number)" },
    { function() P.stream({}):filter() end, "bad argument #1 to 's:filter' (function expected, got nil)" },
    { function() P.stream({}):take() end, "bad argument #1 to 's:take' (number >= 0 expected, got nil)" },
    { function() P.stream({}):batch(0) end, "bad argument #1 to 's:batch' (positive integer expected" },
    { function() P.stream({}):merge(c, 5) end, "bad argument #2 to 's:merge' (channel expected, got number)" },
    { function() P.stream({}):tee(0) end, "bad argument #1 to 's:tee' (number >= 1 expected, got 0)" },
    { function() P.stream({}):reduce(5) end, "bad argument #1 to 's:reduce' (function expected, got number)" },
    { function() P.stream({}):each(5) end, "bad argument #1 to 's:each' (function expected, got number)" },
    { function() P.stream({}):map(print, 0) end, "bad option 'workers' (positive integer expected)" },
    { function() P.group():go(5) end, "bad argument #1 to 'g:go' (function expected, got number)" },
  }, "pipeline")
  assert(not bad, bad)
end
