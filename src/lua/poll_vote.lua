-- poll_vote.lua: count one ballot, atomically.
-- KEYS[1] poll definition (JSON string)   KEYS[2] tallies (hash option -> votes)
-- KEYS[3] voters (hash voter id -> "opt1,opt2")
-- ARGV[1] voter id (16 raw bytes)   ARGV[2] now, Unix seconds, by the service's clock
-- ARGV[3..] the chosen option ids: distinct slugs, checked by the service
-- Returns {code, choice or false, definition, tallies (flat), number of voters},
-- or {'poll_not_found'}. The open/close times are checked here, at the moment
-- of the vote, so a poll closes on the second whatever the number of instances.
local def = redis.call('GET', KEYS[1])
if not def then
  return {'poll_not_found'}
end

local function answer(code, choice)
  return {code, choice or false, def, redis.call('HGETALL', KEYS[2]), redis.call('HLEN', KEYS[3])}
end

local earlier = redis.call('HGET', KEYS[3], ARGV[1])
if earlier then
  return answer('already_voted', earlier)
end

local poll = cjson.decode(def)
local now = tonumber(ARGV[2])
if poll.status ~= 'open' or (type(poll.closes_at) == 'number' and now >= poll.closes_at) then
  return answer('poll_closed')
end
if type(poll.opens_at) == 'number' and now < poll.opens_at then
  return answer('poll_not_open')
end
if #ARGV - 2 > poll.max_choices then
  return answer('too_many_options')
end

local known = {}
for _, option in ipairs(poll.options) do
  known[option.id] = true
end
for i = 3, #ARGV do
  if not known[ARGV[i]] then
    return answer('invalid_option')
  end
end

local choice = table.concat(ARGV, ',', 3)
redis.call('HSET', KEYS[3], ARGV[1], choice)
for i = 3, #ARGV do
  redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
end
return answer('ok', choice)
