-- bench/report.lua - the end of every wrk script that bench.mjs writes: one line
-- "BENCH {json}" with the counts and the latency percentiles (microseconds), so the
-- driver never parses wrk's human-readable summary. Must stay free of request logic:
-- bench.mjs sets wrk.method, wrk.body and wrk.headers above it.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%.0f,"p90_us":%.0f,' ..
    '"p99_us":%.0f,"max_us":%.0f,"mean_us":%.1f,"errors":{"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
