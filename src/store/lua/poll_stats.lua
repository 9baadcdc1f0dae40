-- poll_stats.lua: everything an editor's results page needs, in one round trip.
-- KEYS[1] definition   KEYS[2] tallies   KEYS[3] meta   KEYS[4] statistics
-- KEYS[5] time series   KEYS[6] voters of the older layout
-- Returns {definition, tallies (flat), number of voters, statistics (flat),
-- time series (flat)}, {'poll_not_found'}, or {'poll_damaged', why} when a key
-- holds another type than the service writes there. The number of voters is the
-- meta hash's; a poll stored by an older version (no meta yet) counts its voters
-- hash.
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then
  return {'poll_not_found'}
end
if kind ~= 'string' then
  return {'poll_damaged', 'the definition is not a string'}
end
for i = 2, 6 do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'none' and t ~= 'hash' then
    return {'poll_damaged', 'KEYS[' .. i .. '] is not a hash'}
  end
end
local voters = redis.call('HGET', KEYS[3], 'voters')
if not voters and redis.call('EXISTS', KEYS[3]) == 0 then
  voters = redis.call('HLEN', KEYS[6])
end
return {redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[2]), tonumber(voters) or 0,
        redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5])}
