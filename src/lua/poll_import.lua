-- poll_import.lua: create a poll unless one with that id exists; never overwrites.
-- KEYS[1] definition   KEYS[2] the set of poll ids
-- ARGV[1] poll id   ARGV[2] definition (JSON, stored form)
-- Returns 1 when created, 0 when the poll was already there.
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('SET', KEYS[1], ARGV[2], 'NX') then
  return 1
end
return 0
