-- get.lua with "Connection: close": the server closes after each answer, so every
-- request opens a new connection (a full TLS handshake over https; wrk keeps no
-- TLS sessions).
dofile(os.getenv("BENCH_WRK_DIR") .. "/get.lua")
wrk.headers["Connection"] = "close"
