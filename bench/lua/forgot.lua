-- wrk script: `POST <url path>` (give wrk the /v1/password/forgot URL) with the JSON body
-- {"login":"<address>"}, the addresses taken in turn from a file (one per line), every answer
-- counted by HTTP status. At the end it prints one line per status:
--
--   STATUS <code> <count>
--
-- which run-mail-bench.sh parses (wrk itself only counts "Non-2xx or 3xx responses").
--
-- Arguments (after `--` on the wrk command line):
--   1: the file of addresses (plain ASCII, no quotes or backslashes: no JSON escaping needed)
--
-- Each thread starts at a different offset in the list, so two threads do not walk it in step.

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

function init(args)
   addresses = {}
   for line in io.lines(args[1]) do
      if line ~= "" then
         addresses[#addresses + 1] = line
      end
   end
   if #addresses == 0 then
      error("no addresses in " .. tostring(args[1]))
   end
   counter = (thread_index or 0) * 7919
   counts = {}
   headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
end

function request()
   counter = counter + 1
   local address = addresses[(counter % #addresses) + 1]
   return wrk.format("POST", wrk.path, headers, '{"login":"' .. address .. '"}')
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
