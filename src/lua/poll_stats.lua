-- poll_stats.lua: everything an editor's results page needs, in one round trip.
-- KEYS[1] definition   KEYS[2] tallies   KEYS[3] voters   KEYS[4] statistics
-- KEYS[5] time series
-- Returns {definition, tallies (flat), number of voters, statistics (flat),
-- time series (flat)}, or {'poll_not_found'}.
local def = redis.call('GET', KEYS[1])
if not def then
  return {'poll_not_found'}
end
return {def, redis.call('HGETALL', KEYS[2]), redis.call('HLEN', KEYS[3]),
        redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5])}
