-- Shared by every bench/*.lua wrk script: per-thread status counting and a
-- machine-readable summary printed by done().
--
-- Environment read by the scenario scripts:
--   BENCH_TOKEN  API token (sent as "Authorization: Token ...")
--   BENCH_N      number of seeded notifiers (ids 1..N exist)
--   BENCH_RUN    a random tag that keeps created names unique across runs
--   BENCH_SEND_ID  the notifier send.lua sends through (send scenario only)
--
-- The done() output is one line that bench/run.sh parses:
--   BENCH requests=R duration_s=D rps=X p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
--         socket_errors=E [issued=I] status_200=.. status_401=.. ...

local M = {}

M.token = os.getenv("BENCH_TOKEN") or ""
M.n = tonumber(os.getenv("BENCH_N") or "1") or 1
M.run = os.getenv("BENCH_RUN") or "run"
M.base = "/api/notifications/notifiers/email"

-- Thread bookkeeping (setup() runs in the main Lua state, once per thread).
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Per-thread state (init() runs in each thread's own Lua state). Scripts that
-- generate requests in request() add 1 to `issued` per request, so done() can tell
-- how many were still in flight when wrk stopped (issued - responses).
statuses = {}
issued = 0

function M.init_thread()
  -- thread_id is set by setup() before init() runs.
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919 + math.floor(os.clock() * 1e6))
  -- Warm up LuaJIT's generator: the first values after seeding are poorly spread.
  for _ = 1, 10 do math.random() end
end

function init(args)
  M.init_thread()
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  local issued_total = 0
  for _, thread in ipairs(threads) do
    issued_total = issued_total + (tonumber(thread:get("issued")) or 0)
    local s = thread:get("statuses")
    if type(s) == "table" then
      for code, count in pairs(s) do
        total[code] = (total[code] or 0) + count
      end
    end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  local parts = {
    "BENCH",
    string.format("requests=%d", summary.requests),
    string.format("duration_s=%.3f", secs),
    string.format("rps=%.1f", secs > 0 and summary.requests / secs or 0),
    string.format("p50_ms=%.3f", latency:percentile(50) / 1000),
    string.format("p90_ms=%.3f", latency:percentile(90) / 1000),
    string.format("p99_ms=%.3f", latency:percentile(99) / 1000),
    string.format("max_ms=%.3f", latency.max / 1000),
    string.format("socket_errors=%d", e.connect + e.read + e.write + e.timeout),
  }
  if issued_total > 0 then
    table.insert(parts, string.format("issued=%d", issued_total))
  end
  local codes = {}
  for code in pairs(total) do table.insert(codes, code) end
  table.sort(codes)
  for _, code in ipairs(codes) do
    table.insert(parts, string.format("status_%d=%d", code, total[code]))
  end
  io.write(table.concat(parts, " "), "\n")
end

function M.auth_headers(extra)
  local h = { ["Authorization"] = "Token " .. M.token }
  if extra then for k, v in pairs(extra) do h[k] = v end end
  return h
end

return M
