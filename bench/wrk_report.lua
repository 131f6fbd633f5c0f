-- The response counting and the WRK_RESULT line shared by wrk_post.lua and wrk_get.lua.
--
-- Usage, from a wrk script that keeps `threads` (filled in setup()):
--   response, done = dofile(<this file>)(202, threads)
-- The thread globals accepted, other_2xx, non_2xx, statuses and first_error must exist;
-- `ok_status` is the answer counted as "accepted" (202 for intake, 200 for look-ups).

return function(ok_status, threads)
  local function response(status, _headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status == ok_status then
      accepted = accepted + 1
    elseif status >= 200 and status < 300 then
      other_2xx = other_2xx + 1
    else
      non_2xx = non_2xx + 1
      if first_error == nil then
        first_error = string.format("status=%d body=%s", status, (body or ""):sub(1, 300):gsub("%s+", " "))
      end
    end
  end

  local function done(summary, latency, _requests)
    local totals = { accepted = 0, other_2xx = 0, non_2xx = 0 }
    local by_status = {}
    local error_line = nil
    for _, thread in ipairs(threads) do
      for key, _ in pairs(totals) do
        totals[key] = totals[key] + (thread:get(key) or 0)
      end
      for status, count in pairs(thread:get("statuses") or {}) do
        by_status[status] = (by_status[status] or 0) + count
      end
      error_line = error_line or thread:get("first_error")
    end
    local codes = {}
    for status, _ in pairs(by_status) do table.insert(codes, status) end
    table.sort(codes)
    local parts = {}
    for _, status in ipairs(codes) do table.insert(parts, string.format("%d:%d", status, by_status[status])) end

    local errors = summary.errors
    local seconds = summary.duration / 1e6
    local function ms(us) return us / 1000 end
    io.write(string.format(
      "WRK_RESULT requests=%d duration_s=%.3f accepted=%d other_2xx=%d non_2xx=%d socket_errors=%d " ..
      "timeouts=%d rps=%.1f accepted_per_s=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
      "mean_ms=%.2f statuses=%s\n",
      summary.requests, seconds, totals.accepted, totals.other_2xx, totals.non_2xx,
      errors.connect + errors.read + errors.write, errors.timeout,
      summary.requests / seconds, totals.accepted / seconds,
      ms(latency:percentile(50)), ms(latency:percentile(95)), ms(latency:percentile(99)),
      ms(latency.max), ms(latency.mean), #parts > 0 and table.concat(parts, ",") or "none"))
    -- the latency at every tenth of a percent, so that runs measured in turns can be pooled
    -- (bench/intake.py's pooled_percentile): percentiles of separate runs do not add up
    local quantiles = {}
    for tenth = 1, 1000 do
      table.insert(quantiles, string.format("%.2f", ms(latency:percentile(tenth / 10))))
    end
    io.write("WRK_QUANTILES_MS " .. table.concat(quantiles, ",") .. "\n")
    if error_line then
      io.write("WRK_FIRST_ERROR " .. error_line .. "\n")
    end
  end

  return response, done
end
