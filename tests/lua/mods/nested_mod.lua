-- A module with a nested table, a function keeping state in an upvalue,
-- and a C closure (which can never be copied), for modules_nested.lua:
-- required as "tests.lua.mods.nested_mod" (found through ./?.lua from the
-- project root on every worker).
local calls = 0
local M = { sub = { deep = {} } }
function M.sub.f() calls = calls + 1 return calls end
function M.calls() return calls end
M.sub.deep.iter = string.gmatch("a b c", "%a")
M.loads = (M.loads or 0) + 1
return M
