-- GET a random list page of 20 (pages 1..ceil(BENCH_N / 20)).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local headers, pages

function init(args)
  c.init_thread()
  headers = c.auth_headers()
  pages = math.max(1, math.ceil(c.n / 20))
end

function request()
  issued = issued + 1
  return wrk.format("GET", c.base .. "?page=" .. math.random(1, pages) .. "&page_size=20", headers)
end
