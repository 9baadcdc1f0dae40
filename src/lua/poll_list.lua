-- poll_list.lua: every poll definition, ordered by id.
-- KEYS[1] the set of poll ids   ARGV[1] the key prefix
-- Reads definition keys it derives from the ids, so it runs on a single Redis
-- (standalone or behind Sentinel), not across Redis Cluster slots.
local ids = redis.call('SMEMBERS', KEYS[1])
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  local def = redis.call('GET', ARGV[1] .. '{poll:' .. id .. '}:def')
  if def then
    out[#out + 1] = def
  end
end
return out
