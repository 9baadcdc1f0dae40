-- poll_list.lua: every poll definition with its totals, ordered by id.
-- KEYS[1] the set of poll ids   ARGV[1] the key prefix
-- Returns a flat list {definition, voters, votes, definition, voters, votes, ...}.
-- Reads keys it derives from the ids, so it runs on a single Redis
-- (standalone or behind Sentinel), not across Redis Cluster slots.
local ids = redis.call('SMEMBERS', KEYS[1])
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  local base = ARGV[1] .. '{poll:' .. id .. '}:'
  local def = redis.call('GET', base .. 'def')
  if def then
    local votes = 0
    for _, n in ipairs(redis.call('HVALS', base .. 'counts')) do
      votes = votes + tonumber(n)
    end
    out[#out + 1] = def
    out[#out + 1] = redis.call('HLEN', base .. 'voters')
    out[#out + 1] = votes
  end
end
return out
