-- copy: the cost of copying values between goroutines on different
-- workers (no Go reference: Go shares memory). A 100-field table and a
-- 1 MiB string are sent, M times each, over a channel of capacity 8 to a
-- goroutine on another worker, which checks every message; the figure is
-- the wall time from the first send to the receiver's acknowledgement of
-- the last message, per message (µs) and as payload throughput (MB/s,
-- 1 MB = 10^6 bytes). Payload of the table: its key and string bytes plus
-- 8 bytes per number. With one worker (or when no goroutine lands on
-- another worker) it measures the same-worker copy and prints cross=0.
-- Third shape: an array of 1 000 000 integers, sent M times the same way;
-- array_ns_per_elem is the time per message / 10^6.
-- Usage: lungo bench/copy.lua [table_msgs=20000] [string_msgs=500] [array_msgs=20]
local ntab = tonumber(arg and arg[1]) or 20000
local nstr = tonumber(arg and arg[2]) or 500
local narr = tonumber(arg and arg[3]) or 20
local ARRLEN = 1000000
local STRLEN = 1 << 20

-- the record: 100 fields, integers, floats and short strings
local rec, tbytes = {}, 0
for i = 1, 100 do
  local k, v = "field" .. i, nil
  if i % 3 == 0 then v = "value number " .. i
  elseif i % 3 == 1 then v = i
  else v = i + 0.5 end
  rec[k] = v
  tbytes = tbytes + #k + (type(v) == "string" and #v or 8)
end
local big = string.rep("0123456789abcdef", STRLEN // 16)
local arr = {}
for i = 1, ARRLEN do arr[i] = i end

-- The receiver: checks each message, acknowledges each batch with how
-- many were right.
local function receiver(report, verdict, data, ack, strlen, arrlen)
  report:send(go.worker())
  if not verdict:recv() then return end
  while true do
    local kind = data:recv()
    if kind == nil then return end
    local m = data:recv()
    local good = 0
    for _ = 1, m do
      local v = data:recv()
      if kind == "table" then
        if type(v) == "table" and v.field100 == 100 and v.field2 == 2.5 and v.field99 == "value number 99"
           and math.type(v.field1) == "integer" then good = good + 1 end
      elseif kind == "array" then
        if type(v) == "table" and #v == arrlen and v[arrlen] == arrlen and v[arrlen // 2] == arrlen // 2 then
          good = good + 1
        end
      elseif type(v) == "string" and #v == strlen and v:sub(-16) == "0123456789abcdef" then
        good = good + 1
      end
    end
    ack:send(good)
  end
end

-- Find a goroutine that runs on another worker than main's.
local me = go.worker()
local report, data, ack = chan(), chan(8), chan()
local verdict, cross
for _ = 1, (go.workers() > 1) and 200 or 1 do
  verdict = chan(1)
  go(receiver, report, verdict, data, ack, STRLEN, ARRLEN)
  -- keep this worker busy for a moment so that an idle one steals the
  -- new goroutine, then wait for its report
  local w, t0 = nil, go.now()
  repeat
    local i, v = go.select(report, go.default)
    if i == 1 then w = v end
  until w or go.now() - t0 > 0.005
  w = w or report:recv()
  if w ~= me or go.workers() == 1 then
    cross = w ~= me
    break
  end
  verdict:send(false)
end
if cross == nil then        -- never landed elsewhere: measure on one worker
  verdict = chan(1)
  go(receiver, report, verdict, data, ack, STRLEN, ARRLEN)
  report:recv()
  cross = false
end
verdict:send(true)

local function run(kind, value, m)
  data:send(kind); data:send(m)
  local t0 = go.now()
  for _ = 1, m do data:send(value) end
  local good = ack:recv()
  return go.now() - t0, good == m
end

-- warm-up, then the measured runs
run("table", rec, 100)
local ttab, oktab = run("table", rec, ntab)
run("string", big, 10)
local tstr, okstr = run("string", big, nstr)
run("array", arr, 2)
local tarr, okarr = run("array", arr, narr)
data:close()

print(string.format("copy workers=%d cross=%d table_fields=100 table_bytes=%d table_us=%.2f table_mb_s=%.1f " ..
  "string_bytes=%d string_us=%.1f string_mb_s=%.1f array_len=%d array_us=%.0f array_ns_per_elem=%.2f check=%s",
  go.workers(), cross and 1 or 0, tbytes, ttab * 1e6 / ntab, tbytes * ntab / ttab / 1e6,
  STRLEN, tstr * 1e6 / nstr, STRLEN * nstr / tstr / 1e6,
  ARRLEN, tarr * 1e6 / narr, tarr * 1e9 / narr / ARRLEN,
  (oktab and okstr and okarr) and "ok" or "WRONG"))
