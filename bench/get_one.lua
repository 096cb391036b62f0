-- GET one notifier by a random id in 1..BENCH_N.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local headers

function init(args)
  c.init_thread()
  headers = c.auth_headers()
end

function request()
  issued = issued + 1
  return wrk.format("GET", c.base .. "/" .. math.random(1, c.n), headers)
end
