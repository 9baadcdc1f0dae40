-- poll_update.lua: replace a poll's definition if nobody changed it meanwhile.
-- KEYS[1] definition   KEYS[2] tallies
-- ARGV[1] the version the editor's change was based on
-- ARGV[2] the new definition (JSON, stored form, version already increased)
-- ARGV[3..] option ids the new definition no longer has
-- Returns {'ok'}, {'poll_not_found'}, {'version_conflict'} or
-- {'option_has_votes', option id}: an option with votes is never removed.
local def = redis.call('GET', KEYS[1])
if not def then
  return {'poll_not_found'}
end
local current = cjson.decode(def)
if tostring(current.version or 0) ~= ARGV[1] then
  return {'version_conflict'}
end
for i = 3, #ARGV do
  local votes = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
  if votes > 0 then
    return {'option_has_votes', ARGV[i]}
  end
end
redis.call('SET', KEYS[1], ARGV[2])
return {'ok'}
