-- wrk script: a login storm. Every request is `POST <url path>` (give wrk the /v1/login URL) with the
-- JSON body {"username":"<prefix><i>","password":"<password>"}, the user chosen round robin per
-- request, and every answer is counted by HTTP status. At the end it prints one line per status:
--
--   STATUS <code> <count>
--
-- which run-session-bench.sh parses (wrk itself only counts "Non-2xx or 3xx responses").
--
-- Arguments (after `--` on the wrk command line), all optional:
--   1: number of users           (default 32)
--   2: username prefix           (default "storm")
--   3: password                  (default "violet anchor trombone seven")
--
-- wrk runs setup() once per thread in the main Lua state, then init() inside the thread's own state.
-- Each thread starts at a different user (its index) so that two threads do not walk in lockstep.

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

function init(args)
   nusers = tonumber(args[1]) or 32
   prefix = args[2] or "storm"
   password = args[3] or "violet anchor trombone seven"
   counts = {}
   cursor = (thread_index or 0) % nusers
   headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
end

-- Usernames and the password are plain ASCII without quotes or backslashes; no JSON escaping needed.
function request()
   local user = prefix .. cursor
   cursor = (cursor + 1) % nusers
   local body = '{"username":"' .. user .. '","password":"' .. password .. '"}'
   return wrk.format("POST", wrk.path, headers, body)
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, thread in ipairs(threads) do
      local c = thread:get("counts") or {}
      for status, n in pairs(c) do
         total[status] = (total[status] or 0) + n
      end
   end
   local codes = {}
   for status in pairs(total) do
      codes[#codes + 1] = status
   end
   table.sort(codes)
   for _, status in ipairs(codes) do
      io.write(string.format("STATUS %d %d\n", status, total[status]))
   end
end
