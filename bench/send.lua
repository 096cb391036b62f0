-- POST .../email/<BENCH_SEND_ID>/send: one message to one recipient, sent synchronously
-- (or, with BENCH_PREFER_ASYNC=1, queued: `Prefer: respond-async`)
-- through the notifier run.sh created for the local SMTP sink (bench/smtp_sink.py).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local req

function init(args)
  c.init_thread()
  local id = os.getenv("BENCH_SEND_ID") or error("send.lua needs BENCH_SEND_ID (the notifier's id)")
  local headers = { ["Content-Type"] = "application/json" }
  -- Queued sends (run.sh's drain measurement): recorded, answered 202, sent by the workers.
  if os.getenv("BENCH_PREFER_ASYNC") == "1" then
    headers["Prefer"] = "respond-async"
  end
  req = wrk.format("POST", c.base .. "/" .. id .. "/send",
    c.auth_headers(headers),
    '{"to":["someone@example.com"],"subject":"bench","body":"hello"}')
end

function request()
  issued = issued + 1
  return req
end
