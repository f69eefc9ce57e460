-- The standard libraries count as modules: their functions and tables
-- cross by name, as do io.stdout and io.stderr (userdata that could not
-- be copied); each arrives as the receiver's own, so the same value twice
-- is one value there.
local ch = chan(4)
local fmt, out, err, str = string.format, io.stdout, io.stderr, string
go(function()
  ch:send(fmt("%d-%s", 7, "x") == "7-x" and out == io.stdout and err == io.stderr
          and str == string and fmt == string.format)
end)
assert(ch:recv() == true)

-- as arguments and inside tables, several at once
go(function(o, t)
  ch:send(o == io.stdout and t.w == io.stdout.write and t.f == string.format
          and t.f2 == t.f and t.m == math and t.pi == math.pi and t.tin == table.insert
          and t.loaded == package.loaded and t.req == require)
end, io.stdout, { w = io.stdout.write, f = string.format, f2 = string.format, m = math,
                  pi = math.pi, tin = table.insert, loaded = package.loaded, req = require })
assert(ch:recv() == true)

-- a function using io.write through an upvalue writes through the
-- receiver's io (nothing to copy)
local write = io.write
go(function() ch:send(write == io.write) end)
assert(ch:recv() == true)

-- received back, the sender's own values again
ch:send({ io.stdout, string.rep })
local r = ch:recv()
assert(r[1] == io.stdout and r[2] == string.rep)

-- lungo's own globals cross by name too: require is a C closure
go(function(rq) ch:send(rq("string") == string) end, require)
assert(ch:recv() == true)
