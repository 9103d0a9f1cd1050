-- POST /auth/login with a JSON body. Env: BENCH_USERNAME, BENCH_PASSWORD
-- (no quotes or backslashes: they are not escaped here).
dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"' .. env("BENCH_USERNAME")
  .. '","password":"' .. env("BENCH_PASSWORD") .. '"}'
