--[==[
lungo.repl — the read-eval-print loop of the `lungo` command (host/repl.c).

The REPL is the main goroutine. The host reads the terminal on a C thread
of its own and hands each line over a channel; this loop compiles and runs
it, then answers on another channel, so that goroutines keep running on
every worker while the prompt waits.

    require("lungo.repl").run(input, reply, note)

Messages from the host (strings): "L<seq>:<line>" a line typed,
"C<seq>:" cancel the pending (incomplete) statement, "E<seq>:" end of
input in the middle of a statement (report it as lua does), "T<seq>:<word>"
Tab pressed after <word> (answered "<seq>:" and the completions, one a
line, at once: the prompt stays). Answers
(strings "<n>:<prompt>"): n = 0 once when ready, then +seq when the request
is done, -seq when the statement is incomplete and the continuation prompt
is due; <prompt> is the prompt to show next (_PROMPT or _PROMPT2 of the
REPL's globals as lua.c reads them, else "> " or ">> "). `note`
(capacity 1) carries "deadlock" when the host interrupts a deadlocked
statement.

Locals typed at the prompt persist: a top-level `local x = 1` becomes an
assignment to a variable kept by the REPL, which later lines see as an
upvalue (so closures given to go() copy it like any local).

go() at the prompt is wrapped: an error in a goroutine started from the
prompt (or from one of those) is printed, and the session goes on.
]==]

local M = {}

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in
  local nil not or repeat return then true until while]]):gmatch("%a+") do
  KEYWORDS[w] = true
end

local OPS2 = { ["=="] = true, ["~="] = true, ["<="] = true, [">="] = true,
  ["//"] = true, ["::"] = true, ["<<"] = true, [">>"] = true, [".."] = true }

-- The tokens of src that matter here: names (keywords included) and
-- operators, with their positions; strings, numbers and comments are
-- skipped whole. Tolerates unfinished input.
local function scan(src)
  local toks, i, n = {}, 1, #src
  while i <= n do
    local c = src:sub(i, i)
    if c:find("^%s") then
      i = i + 1
    elseif src:sub(i, i + 1) == "--" then
      local eq = src:match("^%[(=*)%[", i + 2)
      local e
      if eq then
        e = select(2, src:find("]" .. eq .. "]", i + 4 + #eq, true))
      else
        e = src:find("\n", i + 2, true)
      end
      i = (e or n) + 1
    elseif c == "[" and src:find("^%[=*%[", i) then
      local eq = src:match("^%[(=*)%[", i)
      local e = select(2, src:find("]" .. eq .. "]", i + 2 + #eq, true))
      toks[#toks + 1] = { kind = "string", s = i, e = e or n }
      i = (e or n) + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      toks[#toks + 1] = { kind = "string", s = i, e = j }
      i = j + 1
    elseif c:find("^[%a_]") then
      local s, e = src:find("^[%w_]+", i)
      toks[#toks + 1] = { kind = "name", text = src:sub(s, e), s = s, e = e }
      i = e + 1
    elseif c:find("^%d") or (c == "." and src:find("^%.%d", i)) then
      local j = i
      while j <= n do
        local d = src:sub(j, j)
        if d:find("^[%w_.]") then j = j + 1
        elseif (d == "+" or d == "-") and src:sub(j - 1, j - 1):find("^[eEpP]") then j = j + 1
        else break end
      end
      toks[#toks + 1] = { kind = "number", s = i, e = j - 1 }
      i = j
    else
      local w = src:sub(i, i + 2) == "..." and "..." or
                OPS2[src:sub(i, i + 1)] and src:sub(i, i + 1) or c
      toks[#toks + 1] = { kind = "op", text = w, s = i, e = i + #w - 1 }
      i = i + #w
    end
  end
  return toks
end

local function isname(t)
  return t and t.kind == "name" and not KEYWORDS[t.text]
end

-- Rewrites the top-level local declarations of src into assignments:
-- `local x, y = 1` -> `x, y = 1`, `local z` -> `z = nil`,
-- `local function f` -> `function f`, `<const>` dropped. A declaration with
-- a `<close>` variable, and `local _ENV`, stay real locals of the line.
-- Returns the new source, the declared names (a set) and every name used.
local function rewrite(src)
  local toks = scan(src)
  local edits, declared, used = {}, {}, {}
  local depth, k = 0, 1
  for _, t in ipairs(toks) do
    if t.kind == "name" and not KEYWORDS[t.text] then used[t.text] = true end
  end
  while k <= #toks do
    local t = toks[k]
    if t.kind == "name" then
      local w = t.text
      if w == "function" or w == "do" or w == "if" or w == "repeat" then
        depth = depth + 1
      elseif w == "end" or w == "until" then
        depth = depth - 1
      elseif w == "local" and depth == 0 then
        local nx = toks[k + 1]
        if nx and nx.text == "function" and isname(toks[k + 2]) then
          if toks[k + 2].text ~= "_ENV" then
            edits[#edits + 1] = { t.s, t.e, "" }
            declared[toks[k + 2].text] = true
          end
        elseif isname(nx) then
          local names, attribs, keep, j = {}, {}, false, k + 1
          while true do
            names[#names + 1] = toks[j].text
            if toks[j].text == "_ENV" then keep = true end
            local a = toks[j + 1]
            if a and a.text == "<" and isname(toks[j + 2]) and toks[j + 3] and toks[j + 3].text == ">" then
              if toks[j + 2].text ~= "const" then keep = true end
              attribs[#attribs + 1] = { a.s, toks[j + 3].e, "" }
              j = j + 3
            end
            if toks[j + 1] and toks[j + 1].text == "," and isname(toks[j + 2]) then
              j = j + 2
            else
              break
            end
          end
          if not keep then
            edits[#edits + 1] = { t.s, t.e, "" }
            for _, a in ipairs(attribs) do edits[#edits + 1] = a end
            if not (toks[j + 1] and toks[j + 1].text == "=") then
              edits[#edits + 1] = { toks[j].e + 1, toks[j].e, " = nil" }
            end
            for _, nm in ipairs(names) do declared[nm] = true end
          end
          k = j
        end
      end
    end
    k = k + 1
  end
  table.sort(edits, function(a, b) return a[1] > b[1] end)
  for _, e in ipairs(edits) do
    src = src:sub(1, e[1] - 1) .. e[3] .. src:sub(e[2] + 1)
  end
  return src, declared, used
end

M.rewrite = rewrite   -- for tests and the curious

local CHUNK = "=stdin"

-- ---- Showing values ----
-- A table printed at the prompt shows its contents: the array part in
-- order, then the other keys sorted (numbers, then strings, then the rest
-- by their text); a table met again on the way is marked <cycle>; nesting
-- is cut at SHOW_DEPTH and each table at SHOW_WIDTH entries. One line when
-- it fits in SHOW_LINE columns, else one entry a line, indented. A table
-- with __tostring or __name prints as tostring says, as in lua.
local SHOW_DEPTH, SHOW_WIDTH, SHOW_LINE = 4, 40, 78

local function plain_table(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return not (type(mt) == "table" and (rawget(mt, "__tostring") or rawget(mt, "__name")))
end

local KEYRANK = { number = 1, string = 2, boolean = 3 }

local function keyless(a, b)
  local ta, tb = type(a), type(b)
  local ra, rb = KEYRANK[ta] or 4, KEYRANK[tb] or 4
  if ra ~= rb then return ra < rb end
  if ra <= 2 then return a < b end
  return tostring(a) < tostring(b)
end

local function scalar(v)
  if type(v) == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  local ok, s = pcall(tostring, v)
  return ok and tostring(s) or "?"
end

local function show(v, depth, seen, indent)
  if not plain_table(v) then return scalar(v) end
  if seen[v] then return "<cycle>" end
  if depth >= SHOW_DEPTH then return next(v) == nil and "{}" or "{...}" end
  seen[v] = true
  local items, n = {}, rawlen(v)
  local count, more = 0, 0
  local function add(s)
    if count < SHOW_WIDTH then items[#items + 1] = s; count = count + 1
    else more = more + 1 end
  end
  for i = 1, n do add(show(rawget(v, i), depth + 1, seen, indent .. "  ")) end
  local keys = {}
  for k in next, v do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, keyless)
  for _, k in ipairs(keys) do
    if count >= SHOW_WIDTH then more = more + 1 else
      local name = type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] and k
                   or "[" .. show(k, SHOW_DEPTH, seen, "") .. "]"
      add(name .. " = " .. show(rawget(v, k), depth + 1, seen, indent .. "  "))
    end
  end
  seen[v] = nil
  if more > 0 then items[#items + 1] = string.format("...(%d more)", more) end
  if #items == 0 then return "{}" end
  local line = "{" .. table.concat(items, ", ") .. "}"
  if #line + #indent <= SHOW_LINE and not line:find("\n", 1, true) then return line end
  -- Too long for one line: entries packed into lines of SHOW_LINE columns,
  -- a nested table shown over several lines on lines of its own.
  local inner = indent .. "  "
  local lines, cur = {}, nil
  for i, it in ipairs(items) do
    local piece = it .. (i < #items and "," or "")
    if it:find("\n", 1, true) then
      if cur then lines[#lines + 1] = cur; cur = nil end
      lines[#lines + 1] = inner .. piece
    elseif cur and #cur + 1 + #piece <= SHOW_LINE then
      cur = cur .. " " .. piece
    else
      if cur then lines[#lines + 1] = cur end
      cur = inner .. piece
    end
  end
  if cur then lines[#lines + 1] = cur end
  return "{\n" .. table.concat(lines, "\n") .. "\n" .. indent .. "}"
end

function M.show(v) return show(v, 0, {}, "") end

-- ---- Completion (Tab at the prompt) ----
-- The names that may complete `word`: a global or a local kept by the
-- REPL, or a field of what the part before the last "." or ":" names
-- (its keys, then those of its metatable's __index tables; for a string,
-- the string library's). Read under pcall: a metamethod may raise.
local function fields(v, prefix, methods, out, seen)
  for _ = 1, 8 do
    if type(v) == "string" then v = string end
    if type(v) ~= "table" or seen[v] then return end
    seen[v] = true
    pcall(function()
      for k, x in next, v do
        if type(k) == "string" and k:match("^[%a_][%w_]*$") and k:sub(1, #prefix) == prefix and
           (not methods or type(x) == "function") then
          out[k] = true
        end
      end
    end)
    local mt = getmetatable(v)
    v = type(mt) == "table" and rawget(mt, "__index") or nil
  end
end

function M.complete(env, cells, word)
  local path, sep, last = word:match("^(.-)([.:]?)([%w_]*)$")
  if not path then return {} end
  local found = {}
  if sep == "" then
    fields(env, last, false, found, {})
    for name in pairs(cells) do
      if name:sub(1, #last) == last then found[name] = true end
    end
  else
    local ok, v = pcall(function()
      local v
      for name in (path .. "."):gmatch("([^.]*)%.") do
        if not name:match("^[%a_][%w_]*$") then return nil end
        if v == nil and cells[name] then v = cells[name]()
        elseif v == nil then v = env[name]
        else v = v[name] end
        if v == nil then return nil end
      end
      return v
    end)
    if ok and v ~= nil then fields(v, last, sep == ":", found, {}) end
  end
  local list = {}
  for k in pairs(found) do list[#list + 1] = path .. sep .. k end
  table.sort(list)
  return list
end

-- An expression's values go through this, so that a call typed at the
-- prompt is not a tail call: its traceback keeps the line's frame ("in
-- main chunk") and names the function called.
local function pass(...) return ... end

-- A variable that outlives the line that declared it: upvalue 1 of a closure.
local function newcell()
  local v
  return function() return v end
end

-- Compiles src into a function. Returns fn, or nil and "incomplete", or nil
-- and an error message (lua.c's rules: "return <src>" first, then <src>;
-- a syntax error at <eof> means more input may complete it).
local function compiler(env, cells)
  -- body: code to wrap; names: locals the line declares or may use.
  local function wrap(body, names)
    local list = {}
    for nm in pairs(names) do
      if #list >= 180 then return nil end
      list[#list + 1] = nm
    end
    table.sort(list)
    local head = #list > 0 and ("local " .. table.concat(list, ", ") .. "; ") or ""
    head = "local __lungo_pass = ...; " .. head
    local outer = load(head .. "return function(...) " .. body .. "\nend", CHUNK, "t", env)
    if not outer then return nil end
    local fn = outer(pass)
    for i = 1, math.huge do
      local nm = debug.getupvalue(fn, i)
      if not nm then break end
      if names[nm] then
        cells[nm] = cells[nm] or newcell()
        debug.upvaluejoin(fn, i, cells[nm], 1)
      end
    end
    return fn
  end

  return function(src)
    if load("return " .. src, CHUNK, "t", env) then
      local names = {}
      for _, t in ipairs(scan(src)) do
        if t.kind == "name" and cells[t.text] then names[t.text] = true end
      end
      local fn = wrap("return __lungo_pass(" .. src .. "\n)", names)
      if fn then return fn end
      return load("return " .. src, CHUNK, "t", env)
    end
    local plain, err = load(src, CHUNK, "t", env)
    if not plain then
      if err:sub(-5) == "<eof>" then return nil, "incomplete" end
      return nil, err
    end
    local body, declared, used = rewrite(src)
    local names = {}
    for nm in pairs(used) do
      if declared[nm] or cells[nm] then names[nm] = true end
    end
    return wrap(body, names) or plain
  end
end

-- A traceback without the REPL's own frames: cut where they begin (the
-- xpcall that ran the user's code); the frames of go() as seen at the prompt
-- (below) raising again what the runtime raised are dropped.
local function clean(tb)
  local out = {}
  for line in (tb .. "\n"):gmatch("(.-)\n") do
    if line:find("^%s*%[C%]: in function 'xpcall'") then
      break
    elseif line:find("[lungo]/lungo.repl.lua", 1, true) then
      if out[#out] and out[#out]:find("^%s*%[C%]: in function 'error'$") then out[#out] = nil end
    else
      out[#out + 1] = line
    end
  end
  return out
end

-- The message of an error object, with lua.c's rules; nil when it is
-- used as it is (an object with __tostring).
local function message(e)
  if type(e) == "string" or type(e) == "number" then return tostring(e) end
  local mt = getmetatable(e)
  if mt and mt.__tostring and type(tostring(e)) == "string" then return nil end
  return string.format("(error object is a %s value)", type(e))
end

-- The error message of a failed statement, with its traceback; the frame
-- of the line itself reads "in main chunk", as in lua.
local function handler(e)
  local msg = message(e)
  if not msg then return tostring(e) end
  local out = clean(debug.traceback(msg, 2))
  local last = out[#out]
  if last and last:find("^%s*stdin:%d+: in function <stdin:1>$") then
    out[#out] = last:gsub("in function <stdin:1>$", "in main chunk")
  end
  return table.concat(out, "\n")
end

-- go() as seen at the prompt: an error in a goroutine started from the
-- prompt (or from one of those) is printed and the session goes on,
-- instead of ending the program. `guarded` is what such a goroutine really
-- runs: it is copied at every spawn, so it stays small and fetches the
-- rest from this module (loaded once per worker).
local function guarded(fn, ...)
  local R = require("lungo.repl")
  go = R.goproxy(go, debug.getinfo(1, "f").func)
  return R.rungoroutine(fn, ...)
end

-- A go() that spawns through `guard`; copy errors name the user's arguments.
function M.goproxy(raw, guard)
  return setmetatable({}, {
    __index = raw,
    __call = function(_, f, ...)
      local direct = type(f) ~= "function"       -- raw's own argument error
      local ok, id
      if direct then ok, id = pcall(raw, f, ...) else ok, id = pcall(raw, guard, f, ...) end
      if not ok then
        -- raised again from the line that called go(), with its position,
        -- as in a script; not from here
        if type(id) == "string" then
          id = id:gsub("^%[lungo%]/lungo%.repl%.lua:%d+: ", "")
          if not direct then
            id = id:gsub("at argument (%d+)", function(n) return "at argument " .. (tonumber(n) - 1) end)
          end
        end
        error(id, 2)
      end
      return id
    end,
  })
end

local function goroutine_handler(e)
  if type(e) == "userdata" and not getmetatable(e) then return e end   -- os.exit where it cannot yield
  local msg = message(e)
  if not msg then return tostring(e) end
  return table.concat(clean(debug.traceback(msg, 2)), "\n")
end

function M.rungoroutine(fn, ...)
  local ok, err = xpcall(fn, goroutine_handler, ...)
  if not ok then
    if type(err) == "userdata" then error(err, 0) end
    if err == "runtime stopping" then return end              -- lng_destroy
    io.stderr:write(string.format("goroutine %d: %s\n", go.id(), tostring(err)))
  end
end

local function install_guard(env)
  if type(env.go) == "table" then env.go = M.goproxy(env.go, guarded) end
end

local DEADLOCK = "fatal error: all goroutines are asleep - deadlock!"

-- The prompt lua.c shows: the global _PROMPT (or _PROMPT2 inside a
-- statement) converted as tostring does, at every line, else the default.
local function prompt(env, more)
  local ok, s = pcall(function()
    local p = env[more and "_PROMPT2" or "_PROMPT"]
    if p ~= nil then return tostring(p) end
  end)
  if ok and type(s) == "string" then return s end
  return more and ">> " or "> "
end

function M.run(input, reply, note)
  local env = load("return _ENV")()
  install_guard(env)
  local cells = {}
  local compile = compiler(env, cells)
  local buffer          -- an incomplete statement, waiting for more lines
  local answer          -- the answer owed to the host, until it is sent

  local function report(msg)
    io.stdout:flush()
    io.stderr:write(msg, "\n")
  end

  local function execute(fn)
    while #note > 0 do note:recv() end
    local r = table.pack(xpcall(fn, handler))
    if not r[1] then
      local why = #note > 0 and note:recv()
      local msg = tostring(r[2])
      if why == "deadlock" then
        local others = go.count() - 1
        msg = DEADLOCK .. "\n\ngoroutine " .. go.id() .. " [the statement typed at the prompt]:" ..
              (msg:match("\n[^\n]*traceback:(.*)$") or "\n\t?") ..
              (others > 0 and string.format("\n\n%d other goroutine%s still blocked", others,
                                            others == 1 and " is" or "s are") or "")
      end
      report(msg)
    elseif r.n > 1 then
      local p = env.print           -- the program's own print, as lua.c does
      for i = 2, r.n do
        if plain_table(r[i]) then r[i] = M.show(r[i]) end
      end
      local ok, err = pcall(p, table.unpack(r, 2, r.n))
      if not ok then report("error calling 'print' (" .. tostring(err) .. ")") end
    end
    io.stdout:flush()
  end

  local function answer_with_prompt(n)
    io.stdout:flush()             -- what ran is shown before the host's prompt
    reply:send(n .. ":" .. prompt(env, n < 0))
  end

  local function serve()
    if answer then
      answer_with_prompt(answer)
      answer = nil
    end
    local msg = input:recv()
    if msg == nil then return true end
    local kind, seq, text = msg:match("^(%a)(%d+):(.*)$")
    seq = tonumber(seq)
    answer = seq
    if kind == "T" then             -- Tab: the completions, one a line
      answer = nil
      local ok, list = pcall(M.complete, env, cells, text)
      reply:send(seq .. ":" .. (ok and table.concat(list, "\n") or ""))
    elseif kind == "C" then
      buffer = nil
    elseif kind == "E" then
      if buffer then
        local _, err = load(buffer, CHUNK, "t", env)
        buffer = nil
        if err then report(err) end
      end
    else
      -- lua.c: "=expr" on a statement's first line means "return expr"
      if not buffer and text:sub(1, 1) == "=" then text = "return " .. text:sub(2) end
      local src = buffer and (buffer .. "\n" .. text) or text
      buffer = nil
      local fn, err = compile(src)
      if fn then
        execute(fn)
      elseif err == "incomplete" then
        buffer = src
        answer = -seq
      else
        report(err)
      end
    end
  end

  answer_with_prompt(0)
  while true do
    -- An interrupt meant for a statement that lands in this loop's own
    -- code (a late Ctrl-C) is dropped; an answer still owed is sent.
    local ok, quit = pcall(serve)
    if ok and quit then return end
  end
end

return M
