-- poll_stats.lua: everything an editor's results page needs, in one round trip.
-- KEYS[1] definition   KEYS[2] tallies   KEYS[3] voters   KEYS[4] statistics
-- KEYS[5] time series
-- Returns {definition, tallies (flat), number of voters, statistics (flat),
-- time series (flat)}, {'poll_not_found'}, or {'poll_damaged', why} when a key
-- holds another type than the service writes there.
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then
  return {'poll_not_found'}
end
if kind ~= 'string' then
  return {'poll_damaged', 'the definition is not a string'}
end
for i = 2, 5 do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'none' and t ~= 'hash' then
    return {'poll_damaged', 'KEYS[' .. i .. '] is not a hash'}
  end
end
return {redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('HLEN', KEYS[3]),
        redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5])}
