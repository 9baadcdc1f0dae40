-- poll_update.lua: replace a poll's definition if nobody changed it meanwhile.
-- KEYS[1] definition   KEYS[2] tallies
-- ARGV[1] the version the editor's change was based on
-- ARGV[2] the new definition (JSON, stored form, version already increased)
-- ARGV[3..] option ids the new definition no longer has
-- Returns {'ok'}, {'poll_not_found'}, {'version_conflict'},
-- {'option_has_votes', option id} (an option with votes is never removed), or
-- {'poll_damaged', why}. The one write comes after every check.
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then
  return {'poll_not_found'}
end
if kind ~= 'string' then
  return {'poll_damaged', 'the definition is not a string'}
end
local tallies = redis.call('TYPE', KEYS[2]).ok
if tallies ~= 'none' and tallies ~= 'hash' then
  return {'poll_damaged', 'the tallies are not a hash'}
end
local decoded, current = pcall(cjson.decode, redis.call('GET', KEYS[1]))
if not decoded or type(current) ~= 'table' then
  return {'poll_damaged', 'the definition is not JSON'}
end
local version = current.version
if version == nil or version == cjson.null then
  version = 0
end
if tostring(version) ~= ARGV[1] then
  return {'version_conflict'}
end
for i = 3, #ARGV do
  local votes = redis.call('HGET', KEYS[2], ARGV[i])
  if votes and not tonumber(votes) then
    return {'poll_damaged', 'the tallies hold a field that is not a number'}
  end
  if tonumber(votes or '0') > 0 then
    return {'option_has_votes', ARGV[i]}
  end
end
redis.call('SET', KEYS[1], ARGV[2])
return {'ok'}
