-- POST a declaration with a unique LRN per request, for wrk.
--
-- Why: an identical LRN + body is an idempotent replay (202, but no insert), so a
-- benchmark re-posting one document would measure look-ups, not intake. Each request
-- gets LRN "<tag>-<thread>-<counter>"; the rest of the body stays byte-identical.
--
-- Usage: wrk -t1 -c16 -d15s -s bench/wrk_post.lua http://127.0.0.1:PORT/api/v1/declarations \
--            -- BODY_FILE [TAG] [API_KEY]
--   BODY_FILE  a declaration containing <FunctionalReferenceID>...</FunctionalReferenceID>
--   TAG        LRN prefix, unique per run against one database (default "B")
--   API_KEY    bearer key (default: the seeded demo trading client)
--
-- done() prints one machine-parseable line (latencies in milliseconds):
--   WRK_RESULT requests=N duration_s=S accepted=N other_2xx=N non_2xx=N socket_errors=N
--              timeouts=N rps=R accepted_per_s=R p50_ms=L p95_ms=L p99_ms=L max_ms=L
--              mean_ms=L statuses=202:N,500:N
-- then WRK_QUANTILES_MS with the latency at every tenth of a percent (1000 values, comma-separated)
-- and, when any request was not 2xx, one WRK_FIRST_ERROR line with a status and body.

local OPEN_TAG = "<FunctionalReferenceID>"
local CLOSE_TAG = "</FunctionalReferenceID>"
local DEFAULT_KEY = "csw_demo_trading_0000000000000000"
local MAX_LRN = 35

-- main state: hand each thread its id and keep it to collect its counters in done()
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- thread state
local prefix, suffix, tag, headers
local counter = 0
accepted, other_2xx, non_2xx = 0, 0, 0
statuses = {}
first_error = nil

local function split_body(path)
  local file = assert(io.open(path, "rb"), "cannot open body file " .. tostring(path))
  local body = file:read("*a")
  file:close()
  local _, open_end = body:find(OPEN_TAG, 1, true)
  assert(open_end, "body file has no " .. OPEN_TAG)
  local close_start = body:find(CLOSE_TAG, open_end + 1, true)
  assert(close_start, "body file has no " .. CLOSE_TAG)
  return body:sub(1, open_end), body:sub(close_start)
end

function init(args)
  assert(args[1], "usage: wrk ... -s wrk_post.lua URL -- BODY_FILE [TAG] [API_KEY]")
  prefix, suffix = split_body(args[1])
  tag = args[2] or "B"
  headers = {
    ["Authorization"] = "Bearer " .. (args[3] or DEFAULT_KEY),
    ["Content-Type"] = "application/xml",
  }
end

function request()
  counter = counter + 1
  local lrn = string.format("%s-%d-%d", tag, thread_id, counter)
  assert(#lrn <= MAX_LRN, "LRN too long: " .. lrn)
  return wrk.format("POST", nil, headers, prefix .. lrn .. suffix)
end

-- response() and done(): shared with the other wrk script (bench/wrk_report.lua, next to this one)
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
response, done = dofile(here .. "wrk_report.lua")(202, threads)
