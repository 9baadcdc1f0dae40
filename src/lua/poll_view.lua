-- poll_view.lua: a poll as one reader sees it, in one round trip.
-- KEYS[1] definition   KEYS[2] tallies   KEYS[3] voters
-- ARGV[1] voter id (16 raw bytes), or '' for a reader who has no id yet
-- ARGV[2] '1' to show archived polls too (editors), '' for readers
-- Returns the same shape as poll_vote.lua: {'ok', "unix|choice" or false,
-- definition, tallies (flat), number of voters}, {'poll_not_found'}, or
-- {'poll_damaged', why} when a key holds another type than the service writes
-- there. The definition itself is checked by the service (poll_stored_check).
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then
  return {'poll_not_found'}
end
if kind ~= 'string' then
  return {'poll_damaged', 'the definition is not a string'}
end
for i = 2, 3 do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'none' and t ~= 'hash' then
    return {'poll_damaged', (i == 2 and 'the tallies' or 'the voters') .. ' are not a hash'}
  end
end
local def = redis.call('GET', KEYS[1])
if ARGV[2] ~= '1' then
  local decoded, poll = pcall(cjson.decode, def)
  if decoded and type(poll) == 'table' and poll.archived == true then
    return {'poll_not_found'}
  end
end
local choice = false
if ARGV[1] ~= '' then
  choice = redis.call('HGET', KEYS[3], ARGV[1])
end
return {'ok', choice, def, redis.call('HGETALL', KEYS[2]), redis.call('HLEN', KEYS[3])}
