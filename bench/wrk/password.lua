-- POST /auth/token: grant_type=password (resource owner password credentials)
-- with client_secret_post. Env: BENCH_CLIENT_ID, BENCH_CLIENT_SECRET,
-- BENCH_USERNAME, BENCH_PASSWORD (URL-safe values: they are not encoded here).
dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=password"
  .. "&client_id=" .. env("BENCH_CLIENT_ID")
  .. "&client_secret=" .. env("BENCH_CLIENT_SECRET")
  .. "&username=" .. env("BENCH_USERNAME")
  .. "&password=" .. env("BENCH_PASSWORD")
