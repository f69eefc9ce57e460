-- Modules cross by name: cjson and lpeg required once at the top of the
-- file, used from 20 goroutines through upvalues (cjson.encode is a C
-- function with upvalues, lpeg.P makes userdata whose metatable only a
-- worker that loaded lpeg has). Each goroutine gets its worker's own
-- module. cjson.null (a light userdata) round trips; an lpeg pattern
-- cannot cross and the error names its type.
local cjson = require "cjson"
local lpeg = require "lpeg"
local P, C, R = lpeg.P, lpeg.C, lpeg.R

local N = 20
local out = chan(N)
for i = 1, N do
  go(function(k)
    -- cjson through an upvalue
    local doc = cjson.decode(cjson.encode({ id = k, tags = { "a", "b" }, none = cjson.null }))
    assert(doc.id == k and doc.tags[2] == "b" and doc.none == cjson.null)
    -- lpeg through upvalues: a pattern made here, on this worker
    local digits = C(R("09") ^ 1)
    local word = P("id=") * digits
    assert(word:match("id=" .. k) == tostring(k))
    out:send({ k = k, json = cjson.encode({ k = k }), null = cjson.null, worker = go.worker() })
  end, i)
end
local seen = {}
for _ = 1, N do
  local r = out:recv()
  assert(r.json == '{"k":' .. r.k .. '}', r.json)
  assert(r.null == cjson.null, "cjson.null arrives as the receiver's own cjson.null")
  seen[r.k] = true
end
for i = 1, N do assert(seen[i]) end

-- a decoded document with nulls goes through a channel and back out as JSON
local ch = chan(1)
local doc = cjson.decode('{"a":null,"b":[1,null,3]}')
ch:send(doc)
local got = ch:recv()
assert(got.a == cjson.null and got.b[2] == cjson.null)
local back = cjson.decode(cjson.encode(got))
assert(back.a == cjson.null and back.b[3] == 3)
-- and from another goroutine, which re-encodes it with its own cjson
go(function(d) ch:send(cjson.encode(d.b)) end, doc)
assert(ch:recv() == "[1,null,3]")

-- the same module value twice in one message is one value there
ch:send({ cjson.null, cjson.null, enc = cjson.encode, enc2 = cjson.encode })
got = ch:recv()
assert(got[1] == got[2] and got.enc == got.enc2 and got.enc == cjson.encode)

-- the module itself crosses, as the receiver's require result
go(function(m) ch:send(m == require("cjson") and m.encode({ 1 }) or "no") end, cjson)
assert(ch:recv() == "[1]")

-- an lpeg pattern cannot cross: the error names the type and the place
local ok, err = pcall(go, function() end, 1, { pat = P("x") })
assert(not ok and err:find("cannot copy userdata 'lpeg-pattern' (at argument 3 .pat)", 1, true), err)
ok, err = pcall(ch.send, ch, P("x"))
assert(not ok and err:find("cannot copy userdata 'lpeg-pattern' (at value)", 1, true), err)

-- re (lpeg's Lua module) holds compiled patterns in its upvalues: it
-- crosses by name too, and each worker compiles its own
local re = require "re"
local got = chan(N)
for i = 1, N do go(function() got:send(re.match("id" .. i, "{%a+} {%d+}")) end) end
for _ = 1, N do assert(got:recv() == "id") end
