-- GET /auth/verify with distinct Bearer tokens: BENCH_TOKENS_FILE has one per line.
-- Thread i of BENCH_THREADS takes every BENCH_THREADS-th token and sends each once,
-- so every request is the token's first sight (a full verification, not the cache of
-- recently verified tokens); the thread stops after its share. The few requests a
-- thread's connections send while it stops repeat its tokens and are not counted.
-- wrk's own duration is the -d it was given, so done() also prints
--   DISTINCT_RESULT tokens=N seconds=S rps=R refused=E
-- with S from the first request to the last counted answer over all threads.
dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")
local summary_done = done

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local function monotonic()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(env("BENCH_THREADS"))
  mine = {}
  local i = 0
  for line in io.lines(env("BENCH_TOKENS_FILE")) do
    if line ~= "" then
      if i % n == id then table.insert(mine, line) end
      i = i + 1
    end
  end
  share = #mine
  -- Each request formatted once here, not per request: the client's cost per request is
  -- then close to plain wrk's, and the same script against /healthz is the reference.
  for k, token in ipairs(mine) do
    mine[k] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. token })
  end
  sent, answered, refused = 0, 0, 0
  started, finished = 0, 0
end

function request()
  if sent == 0 then started = monotonic() end
  sent = sent + 1
  return mine[((sent - 1) % share) + 1]
end

function response(status, headers, body)
  if answered >= share then return end
  answered = answered + 1
  if status ~= 200 then refused = refused + 1 end
  if answered == share then
    finished = monotonic()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  summary_done(summary, latency, requests)
  local first, last, tokens, refused_all, complete = nil, nil, 0, 0, true
  for _, t in ipairs(threads) do
    local s, f = t:get("started"), t:get("finished")
    tokens = tokens + t:get("answered")
    refused_all = refused_all + t:get("refused")
    if f == 0 then complete = false end
    if first == nil or s < first then first = s end
    if last == nil or f > last then last = f end
  end
  if not complete or last <= first then
    io.write("DISTINCT_RESULT incomplete: a thread did not get through its tokens within -d\n")
    return
  end
  io.write(string.format("DISTINCT_RESULT tokens=%d seconds=%.3f rps=%.1f refused=%d\n",
    tokens, last - first, tokens / (last - first), refused_all))
end
