-- A plain GET of the URL (/healthz, JWKS); with BENCH_BEARER set, sent as
-- "Authorization: Bearer <token>" (/auth/verify).
dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")
local bearer = os.getenv("BENCH_BEARER")
if bearer and bearer ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. bearer
end
