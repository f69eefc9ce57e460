-- Loaded by load_env.lua with loadfile/dofile: reports the globals it runs with.
ENV_PROBE_RAN = true
return { x = LE_X, g = _G, id = go.id() }
