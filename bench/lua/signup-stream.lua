-- wrk script: a stream of signups, every one with a username never used before. Every request is
-- `POST <url path>` (give wrk the /v1/signup URL) with the JSON body
-- {"username":"<prefix>t<thread>n<counter>","password":"<password>"}, and every answer is counted
-- by HTTP status. At the end it prints one line per status:
--
--   STATUS <code> <count>
--
-- which run-durability-bench.sh parses (wrk itself only counts "Non-2xx or 3xx responses").
--
-- Arguments (after `--` on the wrk command line):
--   1: username prefix, unique per wrk run (default "su"); the caller makes it differ between
--      runs against the same database, or the second run gets 409s
--   2: password                  (default "violet anchor trombone seven")
--
-- wrk runs setup() once per thread in the main Lua state, then init() inside the thread's own
-- state. Each thread gets its own index, so two threads (and two connections of one thread, which
-- share the thread's counter) never send the same username. A username is at most
-- len(prefix) + 2 + 3 + 10 characters: keep the prefix under 40 (the limit is 64).

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

function init(args)
   prefix = (args[1] or "su") .. "t" .. (thread_index or 0) .. "n"
   password = args[2] or "violet anchor trombone seven"
   counter = 0
   counts = {}
   headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
end

-- Usernames and the password are plain ASCII without quotes or backslashes; no JSON escaping needed.
function request()
   counter = counter + 1
   local body = '{"username":"' .. prefix .. counter .. '","password":"' .. password .. '"}'
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
