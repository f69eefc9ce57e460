--[==[
lungo.pipeline — pipeline stages over channels (Go style) and streams (Lua style).

    local P = require "lungo.pipeline"

Go style: every stage is a function `stage(done, in, ...) -> out` that starts
goroutines reading channel `in` and returns a new channel `out`. Every stage
stops and closes `out` when `done` is closed (Go's "pipelines and
cancellation"), so closing `done` winds the whole pipeline down and leaves no
goroutine behind. `done` may be a channel, a context (below), or nil (no
cancellation: then every stage must be drained to the end).

Lua style: `P.stream(src)` wraps the same stages in a chainable object whose
terminal operations (collect, reduce, each, iter, drain) cancel the pipeline
when they finish, so `take` on an infinite source is safe.

Remember lungo's rule: everything handed to a stage (functions included, with
their upvalues) is COPIED into the stage's goroutines. A stage function cannot
update the caller's tables; it can only return values (or send on channels).

Sources                                   (-> channel)
  P.from(done, t)                 P.from(done, {"a", "b"})       -- t[1..#t], nils skipped
  P.range(done, [a,] b [, step])  P.range(done, 10)              -- 1..10; P.range(done, 0, math.huge) endless
  P.generate(done, f, s, c)       P.generate(done, ipairs(t))    -- a generic-for iterator; several values -> {v1, v2, ...}
  P.generator(done, fn, ...)      P.generator(done, function(emit) emit(1) emit(2) end)
Stages                                    (-> channel)
  P.map(done, in, fn [, opts])    P.map(done, ch, function(x) return x * x end, 4)   -- ordered, 4 workers
  P.map_unordered(done, in, fn [, opts])                         -- same, results as they come
  P.filter(done, in, pred [, opts]) / P.filter_unordered(...)    P.filter(done, ch, function(x) return x % 2 == 0 end)
      opts: a worker count, or {workers = 1, ordered = true, buffer = 0, window = 4 * workers}
      map: a nil result drops the item. A raising fn sends an error value downstream (see Errors).
  P.merge(done, ch1, ch2, ...)    P.merge(done, a, b)            -- fan-in; also P.merge(done, {a, b})
  P.take(done, in, n)             P.take(done, ch, 5)            -- the first n, then closes (and stops
                                                                 --   reading: close done to free the source)
  P.drop(done, in, n)             P.drop(done, ch, 5)            -- all but the first n
  P.batch(done, in, size [, wait]) P.batch(done, ch, 100, 0.01)  -- arrays of <= size; a partial one after `wait` s
  P.tee(done, in [, n])           local a, b = P.tee(done, ch)   -- n (2) copies of the stream; read them all concurrently
Consumers (in the calling goroutine; they raise the first error value they meet)
  P.collect(in [, done])          local t = P.collect(ch)
  P.reduce(in, fn [, init [, done]])  P.reduce(ch, function(a, x) return a + x end, 0)
  P.each(in, fn [, done])         P.each(ch, print)
  P.iter(in [, done])             for v in P.iter(ch) do ... end
  P.drain(in [, done])            local n = P.drain(ch)          -- discard, count
      A consumer that stops early (an error, a break out of P.iter's loop)
      closes `done` if given, else drains `in` to its end, so that the
      stages behind it finish either way (without done, never on an endless source).
Cancellation
  P.context([timeout | {parent =, timeout =}])  local ctx <close> = P.context()  -- ctx.done is the channel
  ctx:cancel()  ctx:cancelled()   ctx.done                       -- <close> cancels, like Go's defer cancel()
  P.cancel(done)  P.cancelled(done)                              -- idempotent close; non-blocking check
Errors
  A user function that raises inside a stage does not kill the program: the
  stage sends an error value downstream in the failed item's place and goes on.
  Stages pass error values along untouched; consumers raise the original error.
  P.iserror(v) -> true, err                                      -- for hand-written consumers
Error group (Go's errgroup)
  local g = P.group([limit | {limit =, parent =, timeout =}])
  g:go(function(ctx, ...) ... end, ...)  -- runs as a goroutine; ctx is cancelled at the first error
  local ok, err = g:wait()               -- waits for all; false + the first error; then cancels g.ctx
  g.ctx                                  -- the group's context, to pass to stages
Streams
  P.stream(src, ...) src: a table, a channel, a number (P.range args), or a generator function;
                     the stream owns its context: collect/reduce/each/drain/iter cancel it when they end
  P.stream_ctx(ctx, src, ...)  the same, in a context you own and cancel
  s:map(fn [, opts])  s:map_unordered  s:filter  s:filter_unordered  s:take(n)  s:drop(n)
  s:batch(size [, wait])  s:merge(s2 or ch, ...)  s:tee([n]) -> n streams (not owning the context)
  s:collect()  s:reduce(fn [, init])  s:each(fn)  s:iter()  s:drain()  s:chan()  s:cancel()
  P.stream(1, math.huge):map(function(x) return x * x end, 4):take(3):collect()  --> {1, 4, 9}
--]==]

-- Every function here may be copied into goroutines (stage bodies, a
-- context's methods, the module itself when a closure captures it). The
-- library functions are locals (C functions without upvalues copy fine),
-- and so is go.default (it copies as itself). Only spawn reads a global:
-- it is defined before _ENV is cleared, so its _ENV is the module's
-- globals, which arrive in a goroutine as that goroutine's own, and `go`
-- is looked up where it runs. Everything after `local _ENV = nil` reads no
-- global, so a misspelt name fails loudly.
local gselect, gafter, newchan, gdefault = go.select, go.after, chan, go.default
local pcall, error, type, tostring, rawget, select = pcall, error, type, tostring, rawget, select
local tpack, tunpack, tremove = table.pack, table.unpack, table.remove
local tointeger, max = math.tointeger, math.max
local setmt, getmt = debug.setmetatable, debug.getmetatable
local function spawn(...) return go(...) end
-- A stage's parallel workers start on successive workers: spawned
-- with go() they would all start, and stay, on the spawner's worker.
local function spread(...) return go.spread(...) end
local _ENV = nil

local M = {}

local ERR = "__lungo_pipeline_error"

-- Helpers used inside the stage goroutines. They have no upvalues but one
-- another, so copying them into each goroutine is cheap.

local function donech(d)
  if type(d) == "table" then return d.done end
  return d
end

-- Sends v on out unless done is closed first; true when sent.
local function send(out, v, done)
  if done == nil then
    out:send(v)
    return true
  end
  return (gselect({ out, v }, done)) == 1
end

-- Receives from inp unless done is closed first: v, true; nil, false when
-- inp is closed and drained or done is closed.
local function recv(inp, done)
  if done == nil then return inp:recv() end
  local i, v, ok = gselect(inp, done)
  if i == 1 then return v, ok end
  return nil, false
end

local function iserr(v)
  return type(v) == "table" and rawget(v, ERR) == true
end

local function errvalue(e, stage)
  local t = type(e)
  if t ~= "string" and t ~= "number" and t ~= "boolean" and t ~= "table" and t ~= "nil" then
    e = tostring(e)
  end
  return { [ERR] = true, error = e, stage = stage }
end

-- Sends an error value; an error object that cannot be copied goes as text.
local function senderr(out, e, done, stage)
  local ev = errvalue(e, stage)
  local ok, r = pcall(send, out, ev, done)
  if ok then return r end
  ev.error = tostring(ev.error)
  return send(out, ev, done)
end

-- Sends a user value; one that cannot be copied becomes an error value.
local function sendv(out, v, done, stage)
  local ok, r = pcall(send, out, v, done)
  if ok then return r end
  return senderr(out, r, done, stage)
end

-- Runs a map or filter function on v: "emit", value | "skip" | "error", err.
-- Error values are passed through untouched.
local function apply(kind, fn, v)
  if iserr(v) then return "emit", v end
  local ok, r = pcall(fn, v)
  if not ok then return "error", r end
  if kind == "map" then
    if r == nil then return "skip" end
    return "emit", r
  end
  if r then return "emit", v end
  return "skip"
end

local function close_after(fin, n, out)
  for _ = 1, n do fin:recv() end
  out:close()
end

local function check(v)
  if iserr(v) then error(v.error, 0) end
  return v
end

-- Argument errors name the function as the module's header does ('P.map',
-- 's:map' for a stream's method, which does not count self) and the
-- argument's number. level: the program's, as error() counts it from the
-- function raising (for the checks: 3 when the function the program called
-- calls the check).
local function argerror(n, name, msg, level)
  error(("bad argument #%d to '%s' (%s)"):format(n, name, msg), level)
end

local function checkfn(f, name, n, level)
  if type(f) ~= "function" then
    argerror(n, name, "function expected, got " .. type(f), (level or 3) + 1)
  end
end

local function checkchan(ch, name, n, level)
  if type(ch) ~= "userdata" then
    argerror(n, name, "channel expected, got " .. type(ch), (level or 3) + 1)
  end
end

-- A count (take, drop, tee): a number >= min.
local function checkcount(v, min, name, n, level)
  if type(v) ~= "number" or not (v >= min) then
    argerror(n, name, ("number >= %d expected, got %s"):format(min, type(v) == "number" and v or type(v)),
             (level or 3) + 1)
  end
  return v
end

-- batch's size: a positive integer.
local function checksize(v, name, n, level)
  local i = tointeger(v)
  if not i or i < 1 then
    argerror(n, name, "positive integer expected, got " .. (type(v) == "number" and v or type(v)),
             (level or 3) + 1)
  end
  return i
end

-- range's a, b, step (arguments n, n+1, n+2), normalized. level: the
-- program's, seen from rangeargs' caller.
local function rangeargs(name, n, level, a, b, step)
  local function num(v, k)
    if type(v) ~= "number" then argerror(k, name, "number expected, got " .. type(v), level + 3) end
  end
  num(a, n)
  if b == nil then a, b = 1, a else num(b, n + 1) end
  if step == nil then step = 1 else num(step, n + 2) end
  if step == 0 then argerror(n + 2, name, "step is zero", level + 2) end
  return a, b, step
end

---------------------------------------------------------------- sources

function M.from(done, t)
  if type(t) ~= "table" then argerror(2, "P.from", "table expected, got " .. type(t), 3) end
  local out = newchan()
  spawn(function(done, out, t)
    for i = 1, #t do
      local v = t[i]
      if v ~= nil and not sendv(out, v, done, "from") then break end
    end
    out:close()
  end, donech(done), out, t)
  return out
end

function M.range(done, a, b, step)
  a, b, step = rangeargs("P.range", 2, 2, a, b, step)
  local out = newchan()
  spawn(function(done, out, a, b, step)
    for i = a, b, step do
      if not send(out, i, done) then break end
    end
    out:close()
  end, donech(done), out, a, b, step)
  return out
end

function M.generate(done, f, s, c)
  checkfn(f, "P.generate", 2)
  local out = newchan()
  spawn(function(done, out, f, s, c)
    while true do
      local r = tpack(pcall(f, s, c))
      if not r[1] then
        senderr(out, r[2], done, "generate")
        break
      end
      if r[2] == nil then break end
      c = r[2]
      local v = r.n > 2 and { tunpack(r, 2, r.n) } or r[2]
      if not sendv(out, v, done, "generate") then break end
    end
    out:close()
  end, donech(done), out, f, s, c)
  return out
end

function M.generator(done, fn, ...)
  checkfn(fn, "P.generator", 2)
  local out = newchan()
  spawn(function(done, out, fn, ...)
    local stop = {}
    local function emit(v)
      if v == nil then error("emit: cannot send nil", 2) end
      if not sendv(out, v, done, "generator") then error(stop, 0) end
      return true
    end
    local ok, e = pcall(fn, emit, ...)
    if not ok and e ~= stop then senderr(out, e, done, "generator") end
    out:close()
  end, donech(done), out, fn, ...)
  return out
end

---------------------------------------------------------------- map, filter

-- level: as for the checks above
local function options(opts, level)
  if type(opts) == "number" then opts = { workers = opts } end
  opts = opts or {}
  local n = tointeger(opts.workers or 1)
  if not n or n < 1 then error("bad option 'workers' (positive integer expected)", (level or 3)) end
  local o = { workers = n, ordered = opts.ordered, buffer = opts.buffer or 0 }
  if o.ordered == nil then o.ordered = true end
  o.window = max(opts.window or 4 * n, n)
  return o
end

-- One worker reading inp itself: unordered, or ordered when alone.
local function plain_worker(kind, fn, inp, out, done, fin)
  while true do
    local v, ok = recv(inp, done)
    if not ok then break end
    local st, r = apply(kind, fn, v)
    local sent = true
    if st == "emit" then
      sent = sendv(out, r, done, kind)
    elseif st == "error" then
      sent = senderr(out, r, done, kind)
    end
    if not sent then break end
  end
  if fin then fin:send(true) else out:close() end
end

-- Ordered, n > 1: a dispatcher numbers the items, the workers send
-- {seq, result} (or {seq} for a dropped item, {0} when they finish), and a
-- reorderer emits the results in sequence. The window channel holds one
-- token per item between dispatch and emission, which bounds the reorder
-- buffer.
local function dispatcher(inp, work, window, done)
  local seq = 0
  while true do
    local v, ok = recv(inp, done)
    if not ok then break end
    seq = seq + 1
    if not send(window, true, done) then break end
    if not send(work, { seq, v }, done) then break end
  end
  work:close()
end

local function ordered_worker(kind, fn, work, results, done)
  while true do
    local job, ok = recv(work, done)
    if not ok then break end
    local st, r = apply(kind, fn, job[2])
    local msg
    if st == "emit" then msg = { job[1], r }
    elseif st == "skip" then msg = { job[1] }
    else msg = { job[1], errvalue(r, kind) } end
    local okS, sent = pcall(send, results, msg, done)
    if not okS then sent = send(results, { job[1], errvalue(sent, kind) }, done) end
    if not sent then break end
  end
  send(results, { 0 }, done)
end

local function reorderer(results, out, window, n, done)
  local pending, nexts, fins = {}, 1, 0
  while fins < n do
    local m, ok = recv(results, done)
    if not ok then break end
    if m[1] == 0 then
      fins = fins + 1
    else
      pending[m[1]] = m
      local stop = false
      while pending[nexts] do
        local e = pending[nexts]
        pending[nexts] = nil
        nexts = nexts + 1
        window:recv()
        if e[2] ~= nil and not send(out, e[2], done) then stop = true; break end
      end
      if stop then break end
    end
  end
  out:close()
end

local function stage(kind, name, done, inp, fn, opts, ordered)
  checkchan(inp, name, 2)      -- (stage is tail-called: its caller's caller is the program)
  checkfn(fn, name, 3)
  local o = options(opts)
  if ordered ~= nil then o.ordered = ordered end
  done = donech(done)
  local out = newchan(o.buffer)
  local n = o.workers
  if n == 1 then
    spawn(plain_worker, kind, fn, inp, out, done, nil)
  elseif not o.ordered then
    local fin = newchan(n)
    for _ = 1, n do spread(plain_worker, kind, fn, inp, out, done, fin) end
    spawn(close_after, fin, n, out)
  else
    local work, results, window = newchan(), newchan(n), newchan(o.window)
    spawn(dispatcher, inp, work, window, done)
    for _ = 1, n do spread(ordered_worker, kind, fn, work, results, done) end
    spawn(reorderer, results, out, window, n, done)
  end
  return out
end

function M.map(done, inp, fn, opts) return stage("map", "P.map", done, inp, fn, opts) end
function M.map_unordered(done, inp, fn, opts) return stage("map", "P.map_unordered", done, inp, fn, opts, false) end
function M.filter(done, inp, fn, opts) return stage("filter", "P.filter", done, inp, fn, opts) end
function M.filter_unordered(done, inp, fn, opts) return stage("filter", "P.filter_unordered", done, inp, fn, opts, false) end

---------------------------------------------------------------- merge, take, drop, batch, tee

local function forward(inp, out, done, fin)
  while true do
    local v, ok = recv(inp, done)
    if not ok or not send(out, v, done) then break end
  end
  fin:send(true)
end

function M.merge(done, ...)
  local ins = { ... }
  if select("#", ...) == 1 and type(ins[1]) == "table" then ins = ins[1] end
  for i = 1, #ins do checkchan(ins[i], "P.merge", ins == (...) and 2 or i + 1) end
  done = donech(done)
  local out = newchan()
  local n = #ins
  if n == 0 then
    out:close()
    return out
  end
  local fin = newchan(n)
  for i = 1, n do spawn(forward, ins[i], out, done, fin) end
  spawn(close_after, fin, n, out)
  return out
end

function M.take(done, inp, n)
  checkchan(inp, "P.take", 2)
  checkcount(n, 0, "P.take", 3)
  local out = newchan()
  spawn(function(inp, out, n, done)
    local k = 0
    while k < n do
      local v, ok = recv(inp, done)
      if not ok then break end
      if not iserr(v) then k = k + 1 end
      if not send(out, v, done) then break end
    end
    out:close()
  end, inp, out, n, donech(done))
  return out
end

function M.drop(done, inp, n)
  checkchan(inp, "P.drop", 2)
  checkcount(n, 0, "P.drop", 3)
  local out = newchan()
  spawn(function(inp, out, n, done)
    local k = 0
    while true do
      local v, ok = recv(inp, done)
      if not ok then break end
      if k < n and not iserr(v) then
        k = k + 1
      elseif not send(out, v, done) then
        break
      end
    end
    out:close()
  end, inp, out, n, donech(done))
  return out
end

function M.batch(done, inp, size, wait)
  checkchan(inp, "P.batch", 2)
  size = checksize(size, "P.batch", 3)
  local out = newchan()
  spawn(function(inp, out, size, wait, done)
    local buf, timer = {}, nil
    while true do
      local i, v, ok = gselect(inp, done, timer)
      if i == 2 then break end                       -- cancelled
      if i == 3 or not ok then                       -- timer, or end of input
        timer = nil
        if #buf > 0 then
          if not send(out, buf, done) then break end
          buf = {}
        end
        if i == 1 then break end
      elseif iserr(v) then
        if not send(out, v, done) then break end
      else
        buf[#buf + 1] = v
        if #buf >= size then
          timer = nil
          if not send(out, buf, done) then break end
          buf = {}
        elseif #buf == 1 and wait then
          timer = gafter(wait)
        end
      end
    end
    out:close()
  end, inp, out, size, wait, donech(done))
  return out
end

function M.tee(done, inp, n)
  checkchan(inp, "P.tee", 2)
  n = n == nil and 2 or checkcount(n, 1, "P.tee", 3)
  local outs = {}
  for i = 1, n do outs[i] = newchan() end
  spawn(function(inp, outs, done)
    local n = #outs
    while true do
      local v, ok = recv(inp, done)
      if not ok then break end
      local left, cancelled = {}, false
      for i = 1, n do left[i] = outs[i] end
      while #left > 0 do
        local cases = {}
        for i = 1, #left do cases[i] = { left[i], v } end
        cases[#left + 1] = done                      -- nil: never ready
        local k = gselect(tunpack(cases, 1, #left + 1))
        if k > #left then cancelled = true; break end
        tremove(left, k)
      end
      if cancelled then break end
    end
    for i = 1, n do outs[i]:close() end
  end, inp, outs, donech(done))
  return tunpack(outs, 1, n)
end

---------------------------------------------------------------- consumers

-- A consumer that stops before the end of its input (an error, a break)
-- cancels done when it has one; without, it drains the input to its end,
-- so that the stages behind it can finish.
local function stop_early(inp, done)
  done = donech(done)
  if done ~= nil then
    pcall(done.close, done)
  else
    for _ in inp:range() do end
  end
end

local function consume(inp, done, body)
  local ok, e = pcall(function()
    for v in inp:range() do body(check(v)) end
  end)
  if not ok then
    stop_early(inp, done)
    error(e, 0)
  end
end

function M.collect(inp, done)
  checkchan(inp, "P.collect", 1)
  local t, n = {}, 0
  consume(inp, done, function(v) n = n + 1; t[n] = v end)
  return t
end

function M.reduce(inp, fn, init, done)
  checkchan(inp, "P.reduce", 1)
  checkfn(fn, "P.reduce", 2)
  local acc, have = init, init ~= nil
  consume(inp, done, function(v)
    if have then acc = fn(acc, v) else acc, have = v, true end
  end)
  return acc
end

function M.each(inp, fn, done)
  checkchan(inp, "P.each", 1)
  checkfn(fn, "P.each", 2)
  consume(inp, done, fn)
end

function M.drain(inp, done)
  checkchan(inp, "P.drain", 1)
  local n = 0
  consume(inp, done, function() n = n + 1 end)
  return n
end

-- The fourth value is the generic for's closing value: leaving the loop
-- early (break, error) stops the pipeline as above.
local Closer = { __close = function(c) if not c.finished then stop_early(c.inp, c.done) end end }

function M.iter(inp, done)
  checkchan(inp, "P.iter", 1)
  local c = setmt({ inp = inp, done = done, finished = false }, Closer)
  return function()
    local v, ok = inp:recv()
    if not ok then
      c.finished = true
      return nil
    end
    return check(v)
  end, nil, nil, c
end

function M.iserror(v)
  if iserr(v) then return true, v.error end
  return false
end

---------------------------------------------------------------- cancellation

function M.cancel(done)
  done = donech(done)
  pcall(done.close, done)     -- closing twice is fine
end

function M.cancelled(done)
  done = donech(done)
  return done ~= nil and gselect(done, gdefault) == 1
end

-- Context methods have no upvalues (they may be copied with the context
-- into goroutines); the ones that need the module require it.
local Context = {}
Context.__index = Context
Context.__name = "lungo.pipeline.context"
function Context.cancel(self) local d = self.done; pcall(d.close, d) end
function Context.cancelled(self) return gselect(self.done, gdefault) == 1 end
function Context.__close(self) local d = self.done; pcall(d.close, d) end

-- Closes done when the parent is done or the timeout passes; ends when
-- done is closed.
local function watch(done, parent, timeout)
  local timer = timeout and gafter(timeout) or nil
  local i = gselect(done, parent, timer)
  if i ~= 1 then pcall(done.close, done) end
end

function M.context(opts)
  if type(opts) == "number" then opts = { timeout = opts } end
  opts = opts or {}
  local ctx = setmt({ done = newchan() }, Context)
  local parent = donech(opts.parent)
  if parent or opts.timeout then spawn(watch, ctx.done, parent, opts.timeout) end
  return ctx
end

---------------------------------------------------------------- error group

local Group = {}
Group.__index = Group

local function group_run(fn, ctx, results, sem, ...)
  local ok, e = pcall(fn, ctx, ...)
  if not ok then ctx:cancel() end
  if sem then sem:recv() end
  local t = type(e)
  if not ok and t ~= "string" and t ~= "number" and t ~= "boolean" and t ~= "table" and t ~= "nil" then
    e = tostring(e)
  end
  local sent = pcall(results.send, results, { ok, e })
  if not sent then results:send({ ok, tostring(e) }) end
end

function M.group(opts)
  if type(opts) == "number" then opts = { limit = opts } end
  opts = opts or {}
  local g = setmt({ ctx = M.context(opts), results = newchan(), n = 0 }, Group)
  if opts.limit then g.sem = newchan(opts.limit) end
  return g
end

function Group:go(fn, ...)
  checkfn(fn, "g:go", 1)
  if self.sem then self.sem:send(true) end
  self.n = self.n + 1
  return spawn(group_run, fn, self.ctx, self.results, self.sem, ...)
end

function Group:wait()
  local failed, first = false, nil
  for _ = 1, self.n do
    local r = self.results:recv()
    if not r[1] and not failed then failed, first = true, r[2] end
  end
  self.n = 0
  self.ctx:cancel()
  if failed then return false, first end
  return true
end

---------------------------------------------------------------- streams

local Stream = {}
Stream.__index = Stream

local function wrap(s, ch) return setmt({ ctx = s.ctx, owned = s.owned, ch = ch }, Stream) end

-- name and n: the function the program called, and src's argument number;
-- checked before the context is made, so a bad call leaves nothing behind.
local function newstream(name, n, ctx, owned, src, ...)
  local t = type(src)
  if t == "number" then rangeargs(name, n, 2, src, ...)   -- (newstream is tail-called)
  elseif t == "function" then
  elseif t == "table" then
  elseif t ~= "userdata" then
    argerror(n, name, "table, number, function or channel expected, got " .. t, 3)
  end
  ctx = ctx or M.context()
  local ch
  if t == "table" then ch = M.from(ctx, src)
  elseif t == "number" then ch = M.range(ctx, src, ...)
  elseif t == "function" then ch = M.generator(ctx, src, ...)
  else ch = src end
  return setmt({ ctx = ctx, owned = owned, ch = ch }, Stream)
end

function M._stream(ctx, owned, src, ...) return newstream("P.stream", 1, ctx, owned, src, ...) end
function M.stream(src, ...) return newstream("P.stream", 1, nil, true, src, ...) end
function M.stream_ctx(ctx, src, ...) return newstream("P.stream_ctx", 2, ctx, false, src, ...) end

-- The methods check their own arguments first, so that errors name them
-- ('s:map', self not counted) at the program's line.
function Stream:map(fn, opts)
  checkfn(fn, "s:map", 1); options(opts)
  return wrap(self, M.map(self.ctx, self.ch, fn, opts))
end
function Stream:map_unordered(fn, opts)
  checkfn(fn, "s:map_unordered", 1); options(opts)
  return wrap(self, M.map_unordered(self.ctx, self.ch, fn, opts))
end
function Stream:filter(fn, opts)
  checkfn(fn, "s:filter", 1); options(opts)
  return wrap(self, M.filter(self.ctx, self.ch, fn, opts))
end
function Stream:filter_unordered(fn, opts)
  checkfn(fn, "s:filter_unordered", 1); options(opts)
  return wrap(self, M.filter_unordered(self.ctx, self.ch, fn, opts))
end
function Stream:take(n)
  checkcount(n, 0, "s:take", 1)
  return wrap(self, M.take(self.ctx, self.ch, n))
end
function Stream:drop(n)
  checkcount(n, 0, "s:drop", 1)
  return wrap(self, M.drop(self.ctx, self.ch, n))
end
function Stream:batch(size, wait)
  checksize(size, "s:batch", 1)
  return wrap(self, M.batch(self.ctx, self.ch, size, wait))
end

function Stream:merge(...)
  local ins = { self.ch }
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    ins[#ins + 1] = getmt(s) == Stream and s.ch or s
    checkchan(ins[#ins], "s:merge", i)
  end
  return wrap(self, M.merge(self.ctx, ins))
end

function Stream:tee(n)
  if n ~= nil then checkcount(n, 1, "s:tee", 1) end
  local chs = { M.tee(self.ctx, self.ch, n) }
  for i = 1, #chs do
    chs[i] = setmt({ ctx = self.ctx, owned = false, ch = chs[i] }, Stream)
  end
  return tunpack(chs)
end

function Stream:chan() return self.ch end
function Stream:cancel() self.ctx:cancel() end

local function finish(self, f, ...)
  local r = tpack(pcall(f, self.ch, ...))
  if self.owned then self.ctx:cancel() end
  if not r[1] then error(r[2], 0) end
  return tunpack(r, 2, r.n)
end

function Stream:collect() return finish(self, M.collect, self.ctx) end
function Stream:reduce(fn, init)
  checkfn(fn, "s:reduce", 1)
  return finish(self, M.reduce, fn, init, self.ctx)
end
function Stream:each(fn)
  checkfn(fn, "s:each", 1)
  return finish(self, M.each, fn, self.ctx)
end
function Stream:drain() return finish(self, M.drain, self.ctx) end

-- for v in s:iter() do ... end: breaking out of the loop (or an error in
-- it) cancels the stream's context, through the loop's closing value.
function Stream:iter() return M.iter(self.ch, self.ctx) end

return M
