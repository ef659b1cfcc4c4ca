-- wrk script: refresh-token chains. Every request is `POST <url path>` (give wrk the /v1/token URL)
-- with the JSON body {"grant_type":"refresh_token","refresh_token":"<current>"}. Refresh tokens
-- rotate on every use: each answer carries the next token of the chain, which the thread stores and
-- presents next. Presenting an older generation more than 10 s after its rotation revokes the
-- session, so every chain must be followed by exactly one client: run wrk with ONE CONNECTION PER
-- THREAD (-t1 -c1, -t64 -c64, ...). wrk sends a connection's next request only after response()
-- has run for the previous one, so a thread never presents a token before it has read the next.
--
-- Argument (after `--` on the wrk command line):
--   1: file of refresh tokens, one per line (required); thread i (0-based) gets line i + 1, so the
--      file needs at least as many lines as there are threads.
--
-- At the end it prints, aggregated over the threads:
--
--   STATUS <code> <count>    one line per HTTP status seen
--   NOTOKEN <count>          200 answers without a parsable refresh_token (the chain cannot go on)
--   REPEAT <count>           200 answers carrying a refresh_token this thread had already received:
--                            the server answered a replay (grace window) instead of rotating, i.e.
--                            the chain was not followed
--   CHAINS <n>               threads (= chains) that ran
--
-- which run-token-bench.sh parses (wrk itself only counts "Non-2xx or 3xx responses").
--
-- wrk runs setup(thread) once per thread in the main Lua state, then init(args) inside the thread's
-- own state. The script arguments only reach init(), so setup() hands each thread its index and
-- init() reads that line of the file.

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

function init(args)
   local path = args[1]
   if not path or path == "" then
      error("refresh-chain.lua: pass the token file after --")
   end
   local index = (thread_index or 0) + 1
   local n = 0
   for line in io.lines(path) do
      n = n + 1
      if n == index then
         token = line:match("^%s*(hp_rt_[%w_%-]+)%s*$")
         break
      end
   end
   if not token then
      error(string.format("refresh-chain.lua: no refresh token on line %d of %s", index, path))
   end
   counts = {}
   notoken = 0
   repeats = 0
   seen = {} -- every token this thread received (~100 bytes each; fine for runs of minutes)
   headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
end

-- Tokens are hp_rt_ plus base64url characters: no JSON escaping needed.
function request()
   local body = '{"grant_type":"refresh_token","refresh_token":"' .. token .. '"}'
   return wrk.format("POST", wrk.path, headers, body)
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
   if status == 200 then
      local next_token = body and body:match('"refresh_token"%s*:%s*"(hp_rt_[%w_%-]+)"')
      if not next_token then
         notoken = notoken + 1 -- keep presenting the current token (the server will see a replay)
      else
         if seen[next_token] then
            repeats = repeats + 1
         end
         seen[next_token] = true
         token = next_token
      end
   end
end

function done(summary, latency, requests)
   local total, total_notoken, total_repeats = {}, 0, 0
   for _, thread in ipairs(threads) do
      local c = thread:get("counts") or {}
      for status, n in pairs(c) do
         total[status] = (total[status] or 0) + n
      end
      total_notoken = total_notoken + (thread:get("notoken") or 0)
      total_repeats = total_repeats + (thread:get("repeats") or 0)
   end
   local codes = {}
   for status in pairs(total) do
      codes[#codes + 1] = status
   end
   table.sort(codes)
   for _, status in ipairs(codes) do
      io.write(string.format("STATUS %d %d\n", status, total[status]))
   end
   io.write(string.format("NOTOKEN %d\n", total_notoken))
   io.write(string.format("REPEAT %d\n", total_repeats))
   io.write(string.format("CHAINS %d\n", #threads))
end
