-- GET the status of stored declarations, for wrk: one id picked at random per request.
--
-- Why: a status look-up of one declaration over and over would be served from warm pages
-- and caches; picking from a sample of the ids the benchmark stored spreads the reads.
--
-- Usage: wrk -t1 -c16 -d10s -s bench/wrk_get.lua http://127.0.0.1:PORT/api/v1/declarations \
--            -- IDS_FILE [API_KEY]
--   IDS_FILE   declaration ids, one a line (declarations of the API key's party)
--   API_KEY    bearer key (default: the seeded demo trading client)
--
-- done() prints the same WRK_RESULT line as wrk_post.lua; here "accepted" counts 200 OK.

local DEFAULT_KEY = "csw_demo_trading_0000000000000000"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local ids, base_path, headers
accepted, other_2xx, non_2xx = 0, 0, 0
statuses = {}
first_error = nil

local function read_ids(path)
  local found = {}
  for line in assert(io.open(path, "r"), "cannot open ids file " .. tostring(path)):lines() do
    local id = line:match("^%s*(%S+)%s*$")
    if id then table.insert(found, id) end
  end
  assert(#found > 0, "ids file is empty: " .. path)
  return found
end

function init(args)
  assert(args[1], "usage: wrk ... -s wrk_get.lua URL -- IDS_FILE [API_KEY]")
  ids = read_ids(args[1])
  base_path = wrk.path:gsub("/+$", "")
  headers = {
    ["Authorization"] = "Bearer " .. (args[2] or DEFAULT_KEY),
    ["Accept"] = "application/xml",
  }
  math.randomseed(7919 * (thread_id or 1))
end

function request()
  return wrk.format("GET", base_path .. "/" .. ids[math.random(#ids)], headers)
end

function response(status, _headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
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

function done(summary, latency, _requests)
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
  if error_line then
    io.write("WRK_FIRST_ERROR " .. error_line .. "\n")
  end
end
