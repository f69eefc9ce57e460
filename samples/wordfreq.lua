-- Word frequencies over a folder of text files, read by a bounded number of
-- goroutines (the shape of Go's "parallel digest" example, bounded version):
-- one goroutine lists the files, READERS goroutines read and count them,
-- and the main goroutine merges the counts and prints the top 10.
-- Run: lungo samples/wordfreq.lua [folder] [readers]
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local FOLDER = arg and arg[1] or script_dir .. "/data/texts"
local READERS = tonumber(arg and arg[2]) or 3

-- the file names, sorted (ls sorts; sort again for any locale)
local function list_files(folder)
  local names = {}
  local p = assert(io.popen('ls -1 "' .. folder:gsub('"', '\\"') .. '" 2>/dev/null'))
  for name in p:lines() do
    if name:match("%.txt$") then names[#names + 1] = name end
  end
  p:close()
  table.sort(names)
  return names
end

-- one file's counts; each reader goroutine opens its own files
local function count_words(path)
  local f, err = io.open(path, "r")
  if not f then return { path = path, err = err } end
  local text = f:read("a")
  f:close()
  local counts, total = {}, 0
  for word in text:lower():gmatch("%a[%a']*") do
    counts[word] = (counts[word] or 0) + 1
    total = total + 1
  end
  return { path = path, counts = counts, total = total }
end

local names = list_files(FOLDER)
if #names == 0 then
  print("no .txt files in " .. FOLDER)
  os.exit(1)
end

-- stage 1: the paths, from one goroutine
local paths = chan()
go(function()
  for _, name in ipairs(names) do paths:send(FOLDER .. "/" .. name) end
  paths:close()
end)

-- stage 2: READERS goroutines read files; `finished` tells when all are done
local results, finished = chan(), chan(READERS)
for _ = 1, READERS do
  go(function()
    for path in paths:range() do results:send(count_words(path)) end
    finished:send(true)
  end)
end
go(function()
  for _ = 1, READERS do finished:recv() end
  results:close()
end)

-- stage 3: merge (results arrive in any order; the sums do not care)
local counts, files, total, failed = {}, 0, 0, 0
for r in results:range() do
  if r.err then
    failed = failed + 1
    io.stderr:write("wordfreq: " .. r.err .. "\n")
  else
    files, total = files + 1, total + r.total
    for w, n in pairs(r.counts) do counts[w] = (counts[w] or 0) + n end
  end
end

local words = {}
for w in pairs(counts) do words[#words + 1] = w end
table.sort(words, function(a, b)
  if counts[a] ~= counts[b] then return counts[a] > counts[b] end
  return a < b
end)

print(string.format("%d files, %d words, %d different, read by %d goroutines",
                    files, total, #words, READERS))
for i = 1, math.min(10, #words) do
  print(string.format("%4d  %s", counts[words[i]], words[i]))
end
if failed > 0 then os.exit(1) end
