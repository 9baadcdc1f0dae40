-- poll_import.lua: create a poll unless one with that id exists; never overwrites.
-- KEYS[1] definition   KEYS[2] the set of poll ids
-- ARGV[1] poll id   ARGV[2] definition (JSON, stored form)
-- Returns {'ok'} when created, {'poll_exists'} when a poll (or any key) of that id
-- was already there, {'poll_damaged', why} when the set of ids is not a set: then
-- nothing is written (every check comes before the first write).
local t = redis.call('TYPE', KEYS[2]).ok
if t ~= 'none' and t ~= 'set' then
  return {'poll_damaged', 'the set of poll ids is not a set'}
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SADD', KEYS[2], ARGV[1])
  return {'poll_exists'}
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2])
return {'ok'}
