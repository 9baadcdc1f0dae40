-- poll_list.lua: one poll of a list. The service reads the index of ids first
-- (poll_index.lua: the ids not archived, or every id), then calls this once per
-- id, pipelined: every key is the poll's, so each call is one hash slot.
-- KEYS[1] definition   KEYS[2] meta (hash)   KEYS[3] tallies
-- KEYS[4] voters of the older layout
-- ARGV[1] 'all' (editors: with its totals) or 'public' (without: the
-- definition alone)
-- Returns {problem, definition, voters, votes, legacy}: legacy is 1 for a poll
-- without a meta hash (stored by an older version), problem is '' or why the
-- poll's keys do not hold what the service writes there (then the definition
-- is '' and the totals 0); or {} when there is no poll of that id (an index may
-- hold the id of a poll whose write was refused, or that was removed).
local function holds(key, kind)
  local t = redis.call('TYPE', key).ok
  return t == 'none' or t == kind
end

local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then
  return {}
end
local all = ARGV[1] == 'all'
local problem, def, voters, votes = '', '', 0, 0
local legacy = redis.call('EXISTS', KEYS[2]) == 0 and 1 or 0
if kind ~= 'string' then
  problem = 'the definition is not a string'
elseif not holds(KEYS[2], 'hash') then
  problem = 'the meta hash is not a hash'
elseif not all then
  def = redis.call('GET', KEYS[1])
elseif holds(KEYS[3], 'hash') and holds(KEYS[4], 'hash') then
  def = redis.call('GET', KEYS[1])
  for _, n in ipairs(redis.call('HVALS', KEYS[3])) do
    votes = votes + (tonumber(n) or 0)
  end
  voters = tonumber(redis.call('HGET', KEYS[2], 'voters'))
    or redis.call('HLEN', KEYS[4]) -- an older poll: its voters hash
else
  problem = 'the tallies or the voters are not a hash'
end
return {problem, def, voters, votes, legacy}
