-- poll_vote.lua: count one ballot, atomically.
-- KEYS[1] definition (JSON)   KEYS[2] tallies (hash option -> votes)
-- KEYS[3] voters (hash voter id -> "unix|opt1,opt2", the time of the ballot and its options)
-- KEYS[4] statistics (hash: first_vote, last_vote, duplicates, changes)
-- KEYS[5] time series (hash "hour:option" -> votes, hour = floor(unix / 3600))
-- ARGV[1] voter id (16 raw bytes)   ARGV[2] now, Unix seconds, by the service's clock
-- ARGV[3..] the chosen option ids: distinct slugs, checked by the service
-- Returns {code, "unix|choice" or false, definition, tallies (flat), number of voters}
-- with code ok, changed, already_voted, poll_closed, poll_not_open, too_many_options,
-- invalid_option; or {'poll_not_found'}. Opening and closing times are checked
-- here, at the moment of the vote, so a poll closes on the second whatever the
-- number of instances. The tallies and the time series move together, so they
-- always add up; a changed vote leaves its old hour and option.
local def = redis.call('GET', KEYS[1])
if not def then
  return {'poll_not_found'}
end
local poll = cjson.decode(def)
if poll.archived == true then
  return {'poll_not_found'}
end

local function answer(code, choice)
  return {code, choice or false, def, redis.call('HGETALL', KEYS[2]), redis.call('HLEN', KEYS[3])}
end

local now = tonumber(ARGV[2])
local earlier = redis.call('HGET', KEYS[3], ARGV[1])
local closed = poll.status ~= 'open' or (type(poll.closes_at) == 'number' and now >= poll.closes_at)
local upcoming = type(poll.opens_at) == 'number' and now < poll.opens_at

if earlier and not (poll.allow_change == true and not closed and not upcoming) then
  redis.call('HINCRBY', KEYS[4], 'duplicates', 1)
  return answer('already_voted', earlier)
end
if closed then
  return answer('poll_closed', earlier)
end
if upcoming then
  return answer('poll_not_open', earlier)
end
if #ARGV - 2 > poll.max_choices then
  return answer('too_many_options', earlier)
end
local known = {}
for _, option in ipairs(poll.options) do
  known[option.id] = true
end
for i = 3, #ARGV do
  if not known[ARGV[i]] then
    return answer('invalid_option', earlier)
  end
end

local hour = math.floor(now / 3600)
if earlier then
  local bar = string.find(earlier, '|', 1, true)
  local old_hour = math.floor(tonumber(string.sub(earlier, 1, bar - 1)) / 3600)
  for option in string.gmatch(string.sub(earlier, bar + 1), '[^,]+') do
    redis.call('HINCRBY', KEYS[2], option, -1)
    redis.call('HINCRBY', KEYS[5], old_hour .. ':' .. option, -1)
  end
  redis.call('HINCRBY', KEYS[4], 'changes', 1)
end

local choice = now .. '|' .. table.concat(ARGV, ',', 3)
redis.call('HSET', KEYS[3], ARGV[1], choice)
for i = 3, #ARGV do
  redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
  redis.call('HINCRBY', KEYS[5], hour .. ':' .. ARGV[i], 1)
end
local first = tonumber(redis.call('HGET', KEYS[4], 'first_vote'))
if not first or now < first then
  redis.call('HSET', KEYS[4], 'first_vote', now)
end
local last = tonumber(redis.call('HGET', KEYS[4], 'last_vote'))
if not last or now > last then
  redis.call('HSET', KEYS[4], 'last_vote', now)
end
if earlier then
  return answer('changed', choice)
end
return answer('ok', choice)
