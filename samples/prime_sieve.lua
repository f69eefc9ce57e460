-- Go's concurrent prime sieve: a generator of 2, 3, 4, ... and a chain of
-- filter goroutines, one per prime found, each dropping the multiples of
-- its prime. A done channel stops the whole chain at the end.
-- Run: lungo samples/prime_sieve.lua [count]
local N = tonumber(arg and arg[1]) or 100

local function generate(done, out)
  local i = 2
  while go.select({ out, i }, done) == 1 do i = i + 1 end
end

local function filter(done, inp, out, prime)
  while true do
    local k, i = go.select(inp, done)
    if k == 2 then return end
    if i % prime ~= 0 and go.select({ out, i }, done) == 2 then return end
  end
end

local base = go.count()
local done = chan()
local ch = chan()
go(generate, done, ch)
local primes = {}
for _ = 1, N do
  local prime = ch:recv()
  primes[#primes + 1] = prime
  local ch1 = chan()
  go(filter, done, ch, ch1, prime)
  ch = ch1
end
print(string.format("the first %d primes, from a chain of %d goroutines:", N, go.count() - base))
for i = 1, #primes, 10 do
  print("  " .. table.concat(primes, " ", i, math.min(i + 9, #primes)))
end
done:close()

-- check against the sieve of Eratosthenes
local limit = primes[#primes]
local composite, expected = {}, {}
for i = 2, limit do
  if not composite[i] then
    expected[#expected + 1] = i
    for j = i * i, limit, i do composite[j] = true end
  end
end
local same = #expected == #primes
for i = 1, #primes do same = same and primes[i] == expected[i] end
print("matches the sieve of Eratosthenes: " .. (same and "yes" or "NO"))

for _ = 1, 5000 do
  if go.count() == base then break end
  go.sleep(0.001)
end
print("goroutines left after closing done: " .. go.count() - base)
