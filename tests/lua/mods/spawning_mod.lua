-- A module whose body spawns a goroutine (spawning never blocks).
local c = chan(1)
go(function() c:send("from module goroutine") end)
return { ch = c }
