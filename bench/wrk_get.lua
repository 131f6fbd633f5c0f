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

-- response() and done(): shared with the other wrk script (bench/wrk_report.lua, next to this one)
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
response, done = dofile(here .. "wrk_report.lua")(200, threads)
