-- poll_forget.lua: the voters of a poll closed longer than the retention are
-- forgotten, one chunk per call (the retention sweep, src/reader/retention.c).
-- KEYS[1] meta (hash, see poll_write.lua): PREFIX{poll:ID}:meta
-- KEYS[2] the buckets that cast first ballots (zset, daily-salted hashes)
-- KEYS[3] voters of the older layout (hash voter id -> "unix|a,b")
-- ARGV[1] now (Unix seconds, the service's clock)
-- ARGV[2] retention in seconds (> 0)
-- ARGV[3] where to go on: 0..65535 the next voter bucket, 65536 the address
--   buckets (then the rate-limit keys named by them), as the last call said
-- ARGV[4] how many names one call deletes (voter buckets, or address buckets)
-- Returns {'open'} (the poll takes votes: nothing done), {'kept', closed_at}
-- (closed, not long enough), {'more', next} (call again with ARGV[3] = next),
-- {'forgotten', at} (done now or before), {'poll_not_found'} (no meta hash: a
-- poll an older version stored is upgraded when it is next read), or
-- {'poll_damaged', why}.
--
-- The voters are the 65,536 hashes PREFIX{poll:ID}:v:<2 bytes>: every possible
-- name is deleted, never scanned (DEL of a missing key costs next to nothing,
-- and the names are in the poll's slot). The address buckets' zset goes, and
-- with it the rate-limit counters PREFIX{poll:ID}:rl:<bucket> it names (those
-- live minutes anyway); the proof-of-work ids PREFIX{poll:ID}:pow:<id> cannot
-- be named and expire on their own (THAMDO_POW_SECONDS). The older layout's
-- voters hash goes last (UNLINK: freed off the main thread). What stays: the
-- definition, the meta (voters counted, closed_at, voters_forgotten_at = the
-- moment the last call ended), tallies, statistics, time series and the
-- integrity counters.
--
-- A closed poll takes no new ballot (poll_vote.lua refuses it before any
-- write), so deleting in several calls is safe; each call checks again, and a
-- poll opened again meanwhile stops the work where it is.
-- The meta records closed_at here when the poll closed without a write (its
-- closes_at passed), or was closed before closed_at was kept (then: now).
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then
  return {'poll_not_found'}
end
if t ~= 'hash' then
  return {'poll_damaged', 'the meta hash is not a hash'}
end
local m = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  m[flat[i]] = flat[i + 1]
end
if m.voters_forgotten_at then
  return {'forgotten', tonumber(m.voters_forgotten_at) or 0}
end
local now, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local closes = tonumber(m.closes_at)
if m.status == 'open' and not (closes and now >= closes) then
  return {'open'}
end
local closed_at = tonumber(m.closed_at)
if not closed_at then
  closed_at = m.status == 'open' and closes or now
  redis.call('HSET', KEYS[1], 'closed_at', string.format('%d', closed_at))
end
if now < closed_at + keep then
  return {'kept', closed_at}
end

local from, size = tonumber(ARGV[3]), tonumber(ARGV[4])
local base = string.sub(KEYS[1], 1, -5) -- PREFIX{poll:ID}:
if from < 65536 then
  local to = math.min(from + size, 65536)
  local names = {}
  for i = from, to - 1 do
    names[#names + 1] = base .. 'v:' .. string.char(math.floor(i / 256), i % 256)
    if #names == 256 or i == to - 1 then
      redis.call('DEL', unpack(names))
      names = {}
    end
  end
  return {'more', to}
end

local bt = redis.call('TYPE', KEYS[2]).ok
if bt == 'zset' then
  local members = redis.call('ZRANGE', KEYS[2], 0, size - 1)
  if #members > 0 then
    for i = 1, #members, 256 do
      local names = {}
      for k = i, math.min(i + 255, #members) do
        names[#names + 1] = base .. 'rl:' .. members[k]
      end
      redis.call('DEL', unpack(names))
    end
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, #members - 1)
    return {'more', 65536}
  end
elseif bt ~= 'none' then
  redis.call('DEL', KEYS[2]) -- not what the service writes: it goes all the same
end
redis.call('UNLINK', KEYS[3])
redis.call('HSET', KEYS[1], 'voters_forgotten_at', string.format('%d', now), 'legacy', '0')
return {'forgotten', now}
