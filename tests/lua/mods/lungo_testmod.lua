-- A plain module for require.lua.
local name = ...
local M = { name = name, answer = 42 }
function M.double(x) return 2 * x end
return M
