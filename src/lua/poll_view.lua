-- poll_view.lua: a poll as one reader sees it, in one round trip.
-- KEYS[1] definition   KEYS[2] tallies   KEYS[3] voters
-- ARGV[1] voter id (16 raw bytes), or '' for a reader who has no id yet
-- ARGV[2] '1' to show archived polls too (editors), '' for readers
-- Returns the same shape as poll_vote.lua: {'ok', "unix|choice" or false,
-- definition, tallies (flat), number of voters}, or {'poll_not_found'}.
local def = redis.call('GET', KEYS[1])
if not def then
  return {'poll_not_found'}
end
if ARGV[2] ~= '1' and cjson.decode(def).archived == true then
  return {'poll_not_found'}
end
local choice = false
if ARGV[1] ~= '' then
  choice = redis.call('HGET', KEYS[3], ARGV[1])
end
return {'ok', choice, def, redis.call('HGETALL', KEYS[2]), redis.call('HLEN', KEYS[3])}
