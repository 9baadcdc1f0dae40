-- poll_view.lua: a poll as one reader sees it, in one round trip.
-- KEYS[1] meta   KEYS[2] definition   KEYS[3] tallies
-- KEYS[4] the reader's bucket of voters   KEYS[5] voters of the older layout
-- (the keys of poll_vote.lua)
-- ARGV[1] voter id (16 raw bytes), or '' for a reader who has no id yet
-- ARGV[2] '1' to show archived polls too (editors), '' for readers
-- ARGV[3] the version of the definition the caller has (-1: none)
-- Returns the same shape as poll_vote.lua: {'ok', choice, definition or false,
-- tallies (flat), voters, version, seq}, {'poll_not_found'}, {'needs_upgrade',
-- definition}, or {'poll_damaged', why} when a key holds another type than the
-- service writes there. Reads only the meta hash, never the JSON.
local kind = redis.call('TYPE', KEYS[2]).ok
local mkind = redis.call('TYPE', KEYS[1]).ok
if mkind == 'none' then
  if kind == 'none' then
    return {'poll_not_found'}
  end
  if kind ~= 'string' then
    return {'poll_damaged', 'the definition is not a string'}
  end
  return {'needs_upgrade', redis.call('GET', KEYS[2])}
end
if mkind ~= 'hash' then
  return {'poll_damaged', 'the meta hash is not a hash'}
end
if kind ~= 'string' then
  return {'poll_damaged', 'the definition is not a string'}
end
local t = redis.call('TYPE', KEYS[3]).ok
if t ~= 'none' and t ~= 'hash' then
  return {'poll_damaged', 'the tallies are not a hash'}
end
local m = redis.call('HMGET', KEYS[1], 'archived', 'version', 'seq', 'voters', 'legacy', 'options')
if not (m[2] and m[3] and m[4] and m[6]) or not tonumber(m[2]) then
  return {'poll_damaged', 'the meta hash is damaged'}
end
if m[1] == '1' and ARGV[2] ~= '1' then
  return {'poll_not_found'}
end

-- The reader's ballot, as poll_vote.lua reads it.
local choice = false
if ARGV[1] ~= '' then
  t = redis.call('TYPE', KEYS[4]).ok
  if t ~= 'none' and t ~= 'hash' then
    return {'poll_damaged', 'the voters are not a hash'}
  end
  local v = redis.call('HGET', KEYS[4], string.sub(ARGV[1], 3, 12))
  if v then
    local options = {}
    local codes = string.match(v, '^[0-9a-z]+([^0-9a-z]+)$') or ''
    local by_code = {}
    for option in string.gmatch(codes ~= '' and m[6] or '', '[^,]+') do
      local code = redis.call('HGET', KEYS[1], 'o:' .. option)
      if code then
        by_code[code] = option
      end
    end
    for i = 1, #codes do
      options[i] = by_code[string.sub(codes, i, i)]
      if not options[i] then
        options = {}
        break
      end
    end
    choice = #codes > 0 and #options == #codes and table.concat(options, ',') or ''
  elseif m[5] == '1' then
    t = redis.call('TYPE', KEYS[5]).ok
    if t ~= 'none' and t ~= 'hash' then
      return {'poll_damaged', 'the voters are not a hash'}
    end
    v = redis.call('HGET', KEYS[5], ARGV[1])
    if v then -- "unix|a,b": the service checks the options
      choice = string.match(v, '^%d+|([a-z0-9,-]+)$') or ''
    end
  end
end
return {'ok', choice, ARGV[3] ~= m[2] and redis.call('GET', KEYS[2]) or false,
  redis.call('HGETALL', KEYS[3]), tonumber(m[4]) or 0, tonumber(m[2]), tonumber(m[3]) or 0}
