-- records: a 3-stage pipeline of records over channels of capacity 128:
-- gen makes N records {id=i, name="item"..i, price=i*1.5,
-- tags={"a","b","c"}} -> price doubles them into a new field total =
-- price * 2 * #tags -> main sums id and total and checks every name. Each
-- record is copied twice (gen -> price, price -> main). Same shape as
-- bench/go/records (a struct with a slice, sent by value).
-- Usage: lungo bench/records.lua [N=200000]
local n = tonumber(arg and arg[1]) or 200000
local CAP = 128

local function gen(k, out)
  for i = 1, k do
    out:send({ id = i, name = "item" .. i, price = i * 1.5, tags = { "a", "b", "c" } })
  end
  out:close()
end

local function price(inc, out)
  for r in inc:range() do
    r.total = r.price * 2 * #r.tags
    out:send(r)
  end
  out:close()
end

local t0 = go.now()
local raw, priced = chan(CAP), chan(CAP)
go(gen, n, raw)
go(price, raw, priced)
local ids, total, bad = 0, 0.0, 0
for r in priced:range() do
  ids = ids + r.id
  total = total + r.total
  if r.name ~= "item" .. r.id or r.tags[3] ~= "c" then bad = bad + 1 end
end
local el = go.now() - t0
local want = 0.0
for i = 1, n do want = want + i * 1.5 * 2 * 3 end
print(string.format("records n=%d ns_per_record=%.1f records_per_s=%.0f total_ms=%.1f check=%s",
  n, el * 1e9 / n, n / el, el * 1e3,
  (bad == 0 and ids == n * (n + 1) // 2 and total == want) and "ok" or "WRONG"))
