-- POST /auth/token (or the peer's token endpoint, given as the URL path):
-- grant_type=client_credentials with client_secret_post.
-- Env: BENCH_CLIENT_ID, BENCH_CLIENT_SECRET.
dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials"
  .. "&client_id=" .. env("BENCH_CLIENT_ID")
  .. "&client_secret=" .. env("BENCH_CLIENT_SECRET")
