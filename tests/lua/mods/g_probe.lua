-- Module code runs with the shard's base table as _ENV: what it sees as
-- _G, package.loaded._G and require "_G" must still be the calling
-- goroutine's globals.
local M = {}
function M.views() return _G, package.loaded._G, require("_G") end
function M.set(k, v) _G[k] = v end
function M.setraw(k, v) rawset(_G, k, v) end
return M
