-- POST .../email/<BENCH_SEND_ID>/send: one message to one recipient, sent synchronously
-- through the notifier run.sh created for the local SMTP sink (bench/smtp_sink.py).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local req

function init(args)
  c.init_thread()
  local id = os.getenv("BENCH_SEND_ID") or error("send.lua needs BENCH_SEND_ID (the notifier's id)")
  req = wrk.format("POST", c.base .. "/" .. id .. "/send",
    c.auth_headers({ ["Content-Type"] = "application/json" }),
    '{"to":["someone@example.com"],"subject":"bench","body":"hello"}')
end

function request()
  issued = issued + 1
  return req
end
