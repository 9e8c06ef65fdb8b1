-- wrk reporting script for bench/run.sh.
--
-- Only done() is defined, so wrk keeps its fast path (a static, pre-built request; no Lua per request).
-- After wrk's usual text report (--latency), prints one machine-readable line:
--   BENCH_RESULT {"requests":..., "duration_us":..., "p50_us":..., ...}
-- The percentiles come from the same HdrHistogram that --latency prints.

done = function(summary, latency, requests)
   local e = summary.errors
   local function int(x) return math.floor(x + 0.5) end
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
      '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      int(latency:percentile(50)), int(latency:percentile(90)), int(latency:percentile(99)),
      int(latency.max), latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout))
end
