-- A module whose body blocks: require must fail with "cannot block" (recv).
local c = chan()
c:recv()
return {}
