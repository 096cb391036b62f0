-- POST create with unique names: BENCH_RUN tag + thread id + per-thread counter.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local headers, prefix
local counter = 0

function init(args)
  c.init_thread()
  headers = c.auth_headers({ ["Content-Type"] = "application/json" })
  prefix = "bench-" .. c.run .. "-t" .. thread_id .. "-"
end

function request()
  issued = issued + 1
  counter = counter + 1
  local body = '{"name":"' .. prefix .. counter .. '","host":"smtp.example.com",'
    .. '"username":"u","password":"p","from_email":"a@example.com"}'
  return wrk.format("POST", c.base, headers, body)
end
