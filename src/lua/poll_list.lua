-- poll_list.lua: every poll definition with its totals, ordered by id.
-- KEYS[1] the set of poll ids   ARGV[1] the key prefix
-- Returns {'ok', id, problem, definition, voters, votes, id, problem, ...}: problem is
-- '' or why the poll's keys do not hold what the service writes there (then the
-- definition is '' and the totals 0); or {'poll_damaged', why} when the set of ids
-- is not a set. Reads keys it derives from the ids, so it runs on a single Redis
-- (standalone or behind Sentinel), not across Redis Cluster slots.
local function holds(key, kind)
  local t = redis.call('TYPE', key).ok
  return t == 'none' or t == kind
end

if not holds(KEYS[1], 'set') then
  return {'poll_damaged', 'the set of poll ids is not a set'}
end
local ids = redis.call('SMEMBERS', KEYS[1])
table.sort(ids)
local out = {'ok'}
for _, id in ipairs(ids) do
  local base = ARGV[1] .. '{poll:' .. id .. '}:'
  local kind = redis.call('TYPE', base .. 'def').ok
  local problem, def, voters, votes = '', '', 0, 0
  if kind == 'string' then
    if holds(base .. 'counts', 'hash') and holds(base .. 'voters', 'hash') then
      def = redis.call('GET', base .. 'def')
      for _, n in ipairs(redis.call('HVALS', base .. 'counts')) do
        votes = votes + (tonumber(n) or 0)
      end
      voters = redis.call('HLEN', base .. 'voters')
    else
      problem = 'the tallies or the voters are not a hash'
    end
  elseif kind ~= 'none' then
    problem = 'the definition is not a string'
  end
  if kind ~= 'none' then
    out[#out + 1] = id
    out[#out + 1] = problem
    out[#out + 1] = def
    out[#out + 1] = voters
    out[#out + 1] = votes
  end
end
return out
