-- Shared by the other scripts (loaded with dofile): env() reads a required
-- environment variable, and done() prints one machine-readable line that
-- bench/run.sh parses. Requests answered with a status other than
-- 2xx/3xx are counted in status_errors and left out of good_rps.
function env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set (bench/run.sh sets it)")
  end
  return value
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local good = summary.requests - e.status
  io.write(string.format(
    "WRK_RESULT requests=%d good=%d seconds=%.3f good_rps=%.1f status_errors=%d " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d " ..
    "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
    summary.requests, good, seconds, good / seconds, e.status,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
