-- poll_integrity.lua: what an editor's integrity summary needs, in one round trip.
-- KEYS[1] meta (hash; its existence says the poll exists)   KEYS[2] definition
-- KEYS[3] integrity counters (hash '<hour>:<kind>' -> n, hour = floor(unix / 3600),
--   kinds ballots, dup, limited, challenged, solved; written by the vote script)
-- KEYS[4] buckets (zset: member a daily-salted hash of an address bucket, score the
--   first ballots counted from it)
-- ARGV[1] how many of the busiest buckets to return (10)
-- Returns {'ok', counters (flat), number of buckets, busiest (flat: member, score,
-- ... highest first)}, {'poll_not_found'} or {'poll_damaged', why}.
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then
  return {'poll_not_found'}
end
local t = redis.call('TYPE', KEYS[3]).ok
if t ~= 'none' and t ~= 'hash' then
  return {'poll_damaged', 'the integrity counters are not a hash'}
end
t = redis.call('TYPE', KEYS[4]).ok
if t ~= 'none' and t ~= 'zset' then
  return {'poll_damaged', 'the buckets are not a sorted set'}
end
return {'ok', redis.call('HGETALL', KEYS[3]), redis.call('ZCARD', KEYS[4]),
        redis.call('ZREVRANGE', KEYS[4], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')}
