-- wrk script for `manage.py bench`: counts responses that are not 200 (a redirect
-- to sign-in would otherwise pass as a fast page) and prints one JSON line with
-- throughput and latency percentiles when the run ends.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Arguments after `--`: the page's path, then one Cookie header value per session.
-- Requests rotate through the sessions, as separate signed-in people would.
local requests = {}
local next_request = 1

function init(args)
  not_ok = 0
  last_status = 0
  local path = args[1]
  local headers = {["X-Forwarded-Proto"] = "https"}
  if #args < 2 then
    table.insert(requests, wrk.format("GET", path, headers))
  end
  for i = 2, #args do
    table.insert(requests, wrk.format("GET", path,
      {["X-Forwarded-Proto"] = "https", ["Cookie"] = args[i]}))
  end
end

function request()
  local r = requests[next_request]
  next_request = next_request % #requests + 1
  return r
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
    last_status = status
  end
end

function done(summary, latency, requests)
  local not_ok_total = 0
  local status = 0
  for _, thread in ipairs(threads) do
    not_ok_total = not_ok_total + thread:get("not_ok")
    local s = thread:get("last_status")
    if s ~= 0 then status = s end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.2f, ' ..
    '"p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "not_200": %d, "last_not_200_status": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, not_ok_total, status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
