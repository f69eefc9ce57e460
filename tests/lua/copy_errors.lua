-- Values that cannot be copied raise an error in the sender naming the
-- path; nothing is sent and nothing is spawned. Too-deep nesting is an
-- error, not a crash.
local function expect_err(parts, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing '" .. parts[1] .. "'")
  err = tostring(err)
  for _, p in ipairs(parts) do
    assert(err:find(p, 1, true), ("error %q does not contain %q"):format(err, p))
  end
  return err
end

-- a userdata that is nobody's module value, a file of its own (io.stdout
-- and io.stderr cross by name, see modules_stdlib.lua)
local UD = io.tmpfile()

local never = chan()
local function blocker() never:recv() end   -- would block forever if spawned

-- go(): the function is argument 1, its arguments 2, 3, ...
local before = go.count()
expect_err({ "cannot copy userdata 'FILE*' (at argument 2 .conn)" }, go, blocker, { conn = UD })
expect_err({ "cannot copy userdata", "argument 3" }, go, blocker, 1, UD)
expect_err({ "cannot copy thread", "argument 2" }, go, blocker, coroutine.running())
do
  local co = coroutine.create(function() end)
  expect_err({ "cannot copy thread", "argument 1" }, go, function() return co end)
  local out = UD
  expect_err({ "cannot copy userdata", "argument 1" }, go, function() return out end)
end
expect_err({ "cannot copy" }, go, string.gmatch("a b", "%a+"))        -- C function with upvalues
expect_err({ "cannot copy" }, go, blocker, coroutine.wrap(function() end))
assert(go.count() == before, "nothing was spawned, go.count() = " .. go.count())

-- channel sends: the root is `value`
local ch = chan(5)
expect_err({ "cannot copy thread (at value .co)" }, ch.send, ch, { co = coroutine.create(print) })
expect_err({ "cannot copy userdata 'FILE*' (at value .a.b.c)" }, ch.send, ch, { a = { b = { c = UD } } })
expect_err({ "cannot copy userdata", "at value" }, ch.send, ch, UD)
expect_err({ "cannot copy" }, ch.send, ch, { it = string.gmatch("a b", "%a+") })
expect_err({ "cannot copy" }, ch.send, ch, coroutine.wrap(function() end))
expect_err({ "cannot copy userdata" }, ch.send, ch, { [UD] = true })
expect_err({ "cannot copy userdata" }, ch.send, ch, setmetatable({}, { __index = UD }))
do
  local out = UD
  expect_err({ "cannot copy userdata" }, ch.send, ch, function() return out end)
  expect_err({ "cannot copy userdata" }, ch.send, ch, { f = function() return out end })
end
do
  local big = {}
  for i = 1, 1000 do big[i] = i end
  big.bad = UD
  expect_err({ "cannot copy userdata", ".bad" }, ch.send, ch, big)
end
assert(#ch == 0, "nothing was sent, #ch = " .. #ch)

-- unbuffered with a receiver already waiting: it must not get anything
do
  local u, got = chan(), chan(1)
  go(function() got:send(u:recv()) end)
  for _ = 1, 50 do go.yield() end
  expect_err({ "cannot copy thread" }, u.send, u, { coroutine.running() })
  u:send(42)
  assert(got:recv() == 42, "the receiver got the first valid value")
end

-- too deep: an error, not a crash; nothing sent or spawned
do
  local deep = {}
  for _ = 1, 10000 do deep = { deep } end
  expect_err({ "cannot copy: value nested too deeply" }, ch.send, ch, deep)
  assert(#ch == 0)
  local b2 = go.count()
  expect_err({ "cannot copy: value nested too deeply" }, go, blocker, deep)
  assert(go.count() == b2)
  -- deep through metatables and nested functions as well
  local mdeep = {}
  for _ = 1, 10000 do mdeep = setmetatable({}, { __index = mdeep }) end
  expect_err({ "cannot copy: value nested too deeply" }, ch.send, ch, mdeep)
  assert(#ch == 0)
end

-- the same errors inside a goroutine are raised in that goroutine
do
  local res = chan(1)
  go(function()
    local ok, e = pcall(ch.send, ch, { x = io.tmpfile() })
    res:send(not ok and tostring(e):find("cannot copy userdata 'FILE*' (at value .x)", 1, true) ~= nil)
  end)
  assert(res:recv() == true)
  assert(#ch == 0)
end

-- everything still works afterwards
ch:send({ fine = true })
assert(ch:recv().fine == true)

-- copy errors carry the position of the call that copies, like every error
-- raised at the caller's level: "file:line: cannot copy ..."
do
  local out = UD
  local function at(f, what)
    local line = debug.getinfo(f, "S").linedefined
    local ok, err = pcall(f)
    err = tostring(err)
    assert(not ok and err:find("^[^\n]*copy_errors%.lua:" .. line .. ": cannot copy"),
           ("%s: %q lacks the position copy_errors.lua:%d"):format(what, err, line))
  end
  local deep = {}
  for _ = 1, 10000 do deep = { deep } end
  local b3 = go.count()
  at(function() go(blocker, deep) end, "go() nesting")
  at(function() go(blocker, 1, { conn = out }) end, "go() argument")
  at(function() go(function() return out end) end, "go() function upvalue")
  assert(go.count() == b3, "nothing was spawned")
  at(function() ch:send({ out }) end, "channel send")
  at(function() ch:send(out) end, "channel send of a userdata")
  at(function() ch:send(function() return out end) end, "channel send of a function")
  at(function() go.select({ ch, { out } }) end, "select send")
  at(function() go.select(never, { ch, out }, go.default) end, "select send, non-blocking")
  assert(#ch == 0, "nothing was sent")
end
