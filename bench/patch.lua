-- PATCH a random id in 1..BENCH_N with a random username. (Not the port: moving a
-- notifier to another port needs its password again, and would measure sealing it.)
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local headers

function init(args)
  c.init_thread()
  headers = c.auth_headers({ ["Content-Type"] = "application/json" })
end

function request()
  issued = issued + 1
  return wrk.format("PATCH", c.base .. "/" .. math.random(1, c.n), headers,
    '{"username":"user-' .. math.random(1, 65535) .. '"}')
end
