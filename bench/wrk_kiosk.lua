-- GET kiosk decisions of open trips, for wrk: one trip picked at random per request.
--
-- Why: every truck's kiosk asks for its trip's decision as it drives up; with a day's trips
-- stored, one trip asked over and over would be served from warm pages only.
--
-- Usage: wrk -t1 -c8 -d10s -s bench/wrk_kiosk.lua http://127.0.0.1:PORT/api/v1/trips \
--            -- TRIPS_FILE API_KEY [revalidate]
--   TRIPS_FILE  one trip a line: "<trip id> <ETag of its JSON decision>"
--   API_KEY     bearer key of a customs (control-point) client
--   revalidate  send If-None-Match with the trip's ETag (the kiosk polling): 304 expected
--
-- done() prints the same WRK_RESULT line as wrk_post.lua; "accepted" counts 200 (304 when
-- revalidating).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local trips, etags, base_path, headers, revalidate
accepted, other_2xx, non_2xx = 0, 0, 0
statuses = {}
first_error = nil

function init(args)
  assert(args[1] and args[2], "usage: wrk ... -s wrk_kiosk.lua URL -- TRIPS_FILE API_KEY [revalidate]")
  trips, etags = {}, {}
  for line in assert(io.open(args[1], "r"), "cannot open trips file " .. args[1]):lines() do
    local id, etag = line:match("^%s*(%S+)%s+(%S+)%s*$")
    if id then
      table.insert(trips, id)
      table.insert(etags, etag)
    end
  end
  assert(#trips > 0, "trips file is empty: " .. args[1])
  base_path = wrk.path:gsub("/+$", "")
  headers = { ["Authorization"] = "Bearer " .. args[2], ["Accept"] = "application/json" }
  revalidate = args[3] == "revalidate"
  if revalidate then
    response = report(304, threads)  -- counted as "accepted"; done() runs in the main state
  end
  math.randomseed(7919 * (thread_id or 1))
end

function request()
  local n = math.random(#trips)
  if revalidate then
    headers["If-None-Match"] = etags[n]
  end
  return wrk.format("GET", base_path .. "/" .. trips[n] .. "/decision", headers)
end

-- response() and done(): shared with the other wrk scripts (bench/wrk_report.lua, next to this one)
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
report = dofile(here .. "wrk_report.lua")
response, done = report(200, threads)
