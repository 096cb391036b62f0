-- A fixed request (the URL given to wrk) with no Authorization header:
-- used for GET /healthz and the unauthenticated list (expects 401).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
require("common")
