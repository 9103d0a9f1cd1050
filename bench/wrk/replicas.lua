-- Spreads wrk's threads over several servers (replicas on one database): thread i
-- connects to 127.0.0.1 at the i-th port of BENCH_PORTS (round robin), so with two
-- ports and two threads each replica gets half the connections. The request is the
-- one of the script BENCH_BASE names (client_credentials.lua, get.lua); the URL's
-- host and path are sent to every replica alike (tokens carry that host in `iss`).
-- Env: BENCH_PORTS (comma-separated), BENCH_BASE, and what the base script reads.
dofile(os.getenv("BENCH_WRK_DIR") .. "/" .. os.getenv("BENCH_BASE"))
local ports = {}
for p in string.gmatch(env("BENCH_PORTS"), "[^,]+") do
  ports[#ports + 1] = p
end
local next_thread = 0
function setup(thread)
  thread.addr = wrk.lookup("127.0.0.1", ports[next_thread % #ports + 1])[1]
  next_thread = next_thread + 1
end
