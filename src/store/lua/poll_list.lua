-- poll_list.lua: poll definitions with their totals, ordered by id.
-- KEYS[1] the set of poll ids   KEYS[2] the ids that have a meta hash
-- KEYS[3] the ids of polls not archived (kept by poll_write.lua)
-- ARGV[1] the key prefix   ARGV[2] 'all' (editors: every poll, with its totals)
-- or 'public' (the polls not archived, without totals: its cost does not grow
-- with archived polls)
-- Returns {'ok', id, problem, definition, voters, votes, legacy, id, ...}: legacy is 1
-- for a poll without a meta hash (stored by an older version), problem is
-- '' or why the poll's keys do not hold what the service writes there (then the
-- definition is '' and the totals 0); or {'poll_damaged', why} when a set of ids
-- is not a set. 'public' also returns the polls stored by an older version (in
-- the set of ids without a meta hash: the service upgrades them), archived or
-- not. Reads keys it derives from the ids, so it runs on a single Redis
-- (standalone or behind Sentinel), not across Redis Cluster slots.
local function holds(key, kind)
  local t = redis.call('TYPE', key).ok
  return t == 'none' or t == kind
end

for i = 1, 3 do
  if not holds(KEYS[i], 'set') then
    return {'poll_damaged', i == 1 and 'the set of poll ids is not a set'
      or 'an index of poll ids is not a set'}
  end
end
local all = ARGV[2] == 'all'
local ids
if all then
  ids = redis.call('SMEMBERS', KEYS[1])
else
  ids = redis.call('SMEMBERS', KEYS[3])
  if redis.call('SCARD', KEYS[1]) ~= redis.call('SCARD', KEYS[2]) then
    for _, id in ipairs(redis.call('SDIFF', KEYS[1], KEYS[2])) do
      ids[#ids + 1] = id
    end
  end
end
table.sort(ids)
local out = {'ok'}
for _, id in ipairs(ids) do
  local base = ARGV[1] .. '{poll:' .. id .. '}:'
  local kind = redis.call('TYPE', base .. 'def').ok
  local problem, def, voters, votes = '', '', 0, 0
  local legacy = redis.call('EXISTS', base .. 'meta') == 0 and 1 or 0
  if kind == 'string' then
    if not holds(base .. 'meta', 'hash') then
      problem = 'the meta hash is not a hash'
    elseif not all then
      def = redis.call('GET', base .. 'def')
    elseif holds(base .. 'counts', 'hash') and holds(base .. 'voters', 'hash') then
      def = redis.call('GET', base .. 'def')
      for _, n in ipairs(redis.call('HVALS', base .. 'counts')) do
        votes = votes + (tonumber(n) or 0)
      end
      voters = tonumber(redis.call('HGET', base .. 'meta', 'voters'))
        or redis.call('HLEN', base .. 'voters') -- an older poll: its voters hash
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
    out[#out + 1] = legacy
  end
end
return out
