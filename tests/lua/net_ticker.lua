-- A goroutine waiting for the network parks, it does not hold its worker:
-- with goroutines waiting in accept, receive, send (a peer that does not
-- read) and for their turn, a ticker on the same worker keeps ticking.
local net = go.net
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local addr = ln:addr()
local accepted = chan(1)

go(function() accepted:send(ln:accept()) end)        -- waits in accept
go.sleep(0.02)
local client = assert(net.dial("tcp", addr))
local server = accepted:recv()

go(function() accepted:send(ln:accept()) end)
local quiet = assert(net.dial("tcp", addr))         -- a second pair: this end never reads
local loud = accepted:recv()

local results = chan(10)
go(function() results:send({ "receive", client:receive("*l") }) end)      -- waits in receive
go(function() results:send({ "turn", client:receive("*l") }) end)         -- waits for the turn
go(function() results:send({ "accept", ln:accept() }) end)                -- waits in accept again
local big = string.rep("x", 1 << 20)
go(function()                                                  -- waits in send: nobody reads
  local sent = 0
  loud:settimeout(0.3)
  while true do
    local n, err, part = loud:send(big)
    if not n then results:send({ "send", err, part }) return end
    sent = sent + n
  end
end)

local tick = go.ticker(0.01)
for _ = 1, 10 do tick:recv() end                     -- ticks while they all wait
tick:close()

local r = results:recv()
assert(r[1] == "send" and r[2] == "timeout" and r[3] > 0, "a send to a peer that never reads times out")
server:send("a\nb\n")
local seen = {}
for _ = 1, 2 do
  local x = results:recv()
  seen[x[1]] = x[2]
end
assert(seen.receive == "a" or seen.turn == "a")
assert(seen.receive and seen.turn, "both receivers got a line in turn")
ln:close()
local a = results:recv()
assert(a[1] == "accept" and a[2] == nil and a[3] == "closed", "accept woken by close")
client:close()
server:close()
quiet:close()
loud:close()
