-- poll_index.lua: one index of poll ids gains or loses one id.
-- KEYS[1] the index: the set of poll ids, the ids that have a meta hash, or the
-- ids of polls not archived (each its own key, so each in a slot of its own)
-- ARGV[1] 'add' or 'rem' (ARGV[2] the poll id), 'members' or 'card'
-- Returns {'ok'} ('members': {'ok', id, ...}; 'card': {'ok', count}), or
-- {'poll_damaged', why} when the key is not a set (nothing written). Idempotent: the service sends it before a poll's first write (the
-- set of ids) and after it (the other two); a reader of an index tolerates an
-- id whose poll is gone.
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'none' and t ~= 'set' then
  return {'poll_damaged', 'an index of poll ids is not a set'}
end
if ARGV[1] == 'members' then
  local out = redis.call('SMEMBERS', KEYS[1])
  table.insert(out, 1, 'ok')
  return out
elseif ARGV[1] == 'card' then
  return {'ok', redis.call('SCARD', KEYS[1])}
elseif ARGV[1] == 'add' then
  redis.call('SADD', KEYS[1], ARGV[2])
else
  redis.call('SREM', KEYS[1], ARGV[2])
end
return {'ok'}
