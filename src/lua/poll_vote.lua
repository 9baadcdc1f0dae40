-- poll_vote.lua: count one ballot, atomically.
-- KEYS[1] definition (JSON)   KEYS[2] tallies (hash option -> votes)
-- KEYS[3] voters (hash voter id -> "unix|opt1,opt2", the time of the ballot and its options)
-- KEYS[4] statistics (hash: first_vote, last_vote, duplicates, changes)
-- KEYS[5] time series (hash "hour:option" -> votes, hour = floor(unix / 3600))
-- ARGV[1] voter id (16 raw bytes)   ARGV[2] now, Unix seconds, by the service's clock
-- ARGV[3..] the chosen option ids: distinct slugs, checked by the service
-- Returns {code, "unix|choice" or false, definition, tallies (flat), number of voters}
-- with code ok, changed, already_voted, poll_closed, poll_not_open, too_many_options,
-- invalid_option; or {'poll_not_found'}; or {'poll_damaged', why} when a key of the
-- poll does not hold what the service writes there. Opening and closing times are
-- checked here, at the moment of the vote, so a poll closes on the second whatever
-- the number of instances. The tallies and the time series move together, so they
-- always add up; a changed vote leaves its old hour and option.
--
-- Everything is checked before the first write: Redis keeps the writes a script
-- made before a command failed, so a failure halfway would leave a reader marked
-- as voted but not counted. The definition checks are those of poll_stored_check()
-- in src/poll.c: a ballot is never counted for a definition the service then
-- refuses to show.
local function damaged(why)
  return {'poll_damaged', why}
end

local function key_holds(key, kind)
  local t = redis.call('TYPE', key).ok
  return t == 'none' or t == kind
end

local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then
  return {'poll_not_found'}
end
if kind ~= 'string' then
  return damaged('the definition is not a string')
end
for i = 2, 5 do
  if not key_holds(KEYS[i], 'hash') then
    return damaged(({'', 'the tallies', 'the voters', 'the statistics', 'the time series'})[i]
      .. ' are not a hash')
  end
end

-- ---------------------------------------------------------- the definition
local def = redis.call('GET', KEYS[1])

-- Well-formed UTF-8, as the service's JSON reader requires.
local function is_utf8(s)
  local i, n = 1, #s
  while true do
    i = string.find(s, '[\128-\255]', i)
    if not i then
      return true
    end
    local c, b = string.byte(s, i), string.byte(s, i + 1) or 0
    local len = (c >= 0xc2 and c <= 0xdf and 2) or (c >= 0xe0 and c <= 0xef and 3)
      or (c >= 0xf0 and c <= 0xf4 and 4) or 0
    if len == 0 or i + len - 1 > n then
      return false
    end
    for k = 1, len - 1 do
      local x = string.byte(s, i + k)
      if x < 0x80 or x > 0xbf then
        return false
      end
    end
    if (c == 0xe0 and b < 0xa0) or (c == 0xed and b > 0x9f) or (c == 0xf0 and b < 0x90)
      or (c == 0xf4 and b > 0x8f) then
      return false -- overlong, surrogate or beyond U+10FFFF
    end
    i = i + len
  end
end

local function is_slug(s)
  return type(s) == 'string' and #s <= 64 and string.find(s, '^[a-z0-9-]+$') ~= nil
end

local function absent(v)
  return v == nil or v == cjson.null
end

local function whole(v, min, max, absent_ok)
  if absent(v) then
    return absent_ok
  end
  return type(v) == 'number' and v == math.floor(v) and v >= min and v <= max
end

local function optional(v, t)
  return absent(v) or type(v) == t
end

local TIME_MAX = 253402300799 -- 9999-12-31T23:59:59Z (text.h)

local function check(p)
  if type(p) ~= 'table' or not is_slug(p.id) then
    return 'id is not a slug'
  end
  if type(p.question) ~= 'string' then
    return 'question is not a string'
  end
  if type(p.options) ~= 'table' or #p.options < 1 or #p.options > 50 then
    return 'options is not an array of 1 to 50 options'
  end
  for _, o in ipairs(p.options) do
    if type(o) ~= 'table' or not is_slug(o.id) then
      return 'an option has no slug id'
    end
    if type(o.label) ~= 'string' then
      return 'an option label is not a string'
    end
  end
  if not whole(p.max_choices, 1, 50, false) then
    return 'max_choices is not a whole number from 1 to 50'
  end
  for _, t in ipairs({p.opens_at, p.closes_at, p.created_at, p.updated_at}) do
    if not whole(t, 0, TIME_MAX, true) then
      return 'a time is not Unix seconds from 1970 to 9999'
    end
  end
  if not whole(p.version, 0, 2 ^ 52, true) then
    return 'version is not a whole number'
  end
  if not optional(p.status, 'string') or not optional(p.results_visibility, 'string') then
    return 'status or results_visibility is not a string'
  end
  if not optional(p.allow_change, 'boolean') or not optional(p.archived, 'boolean') then
    return 'allow_change or archived is not true or false'
  end
  return nil
end

if not is_utf8(def) then
  return damaged('the definition is not UTF-8')
end
local decoded, poll = pcall(cjson.decode, def)
if not decoded then
  return damaged('the definition is not JSON')
end
local why = check(poll)
if why then
  return damaged(why)
end
if poll.archived == true then
  return {'poll_not_found'}
end

local function answer(code, choice)
  return {code, choice or false, def, redis.call('HGETALL', KEYS[2]), redis.call('HLEN', KEYS[3])}
end

-- Every hash field this script increments must hold a whole number (or nothing).
local function counter_ok(key, field)
  local v = redis.call('HGET', KEYS[key], field)
  return not v or (#v <= 18 and string.find(v, '^%-?%d+$') ~= nil)
end

local known = {}
for _, option in ipairs(poll.options) do
  known[option.id] = true
end

-- The earlier ballot "unix|a,b": its hour and options, or nil when it is
-- not in that form (then it is left as it is: the reader has voted).
local function read_ballot(v)
  local at, list = string.match(v, '^(%d+)|([a-z0-9,-]+)$')
  if not at or #at > 18 then
    return nil
  end
  local options = {}
  for option in string.gmatch(list, '[^,]+') do
    if not known[option] then
      return nil
    end
    options[#options + 1] = option
  end
  if #options == 0 or table.concat(options, ',') ~= list then
    return nil -- an empty item: "1|a,,b"
  end
  return math.floor(tonumber(at) / 3600), options
end

-- ---------------------------------------------------------------- the vote
local now = tonumber(ARGV[2])
local earlier = redis.call('HGET', KEYS[3], ARGV[1])
local closed = poll.status ~= 'open' or (type(poll.closes_at) == 'number' and now >= poll.closes_at)
local upcoming = type(poll.opens_at) == 'number' and now < poll.opens_at
local old_hour, old_options
if earlier then
  old_hour, old_options = read_ballot(earlier)
end

if earlier and not (old_options and poll.allow_change == true and not closed and not upcoming) then
  if not counter_ok(4, 'duplicates') then
    return damaged('the statistics hold a field that is not a number')
  end
  redis.call('HINCRBY', KEYS[4], 'duplicates', 1)
  return answer('already_voted', earlier)
end
if closed then
  return answer('poll_closed', earlier)
end
if upcoming then
  return answer('poll_not_open', earlier)
end
if #ARGV - 2 > poll.max_choices then
  return answer('too_many_options', earlier)
end
for i = 3, #ARGV do
  if not known[ARGV[i]] then
    return answer('invalid_option', earlier)
  end
end

local hour = math.floor(now / 3600)
for i = 3, #ARGV do
  if not counter_ok(2, ARGV[i]) or not counter_ok(5, hour .. ':' .. ARGV[i]) then
    return damaged('the tallies or the time series hold a field that is not a number')
  end
end
for _, option in ipairs(old_options or {}) do
  if not counter_ok(2, option) or not counter_ok(5, old_hour .. ':' .. option) then
    return damaged('the tallies or the time series hold a field that is not a number')
  end
end
if earlier and not counter_ok(4, 'changes') then
  return damaged('the statistics hold a field that is not a number')
end

-- -------------------------------------------------------------- the writes
if earlier then
  for _, option in ipairs(old_options) do
    redis.call('HINCRBY', KEYS[2], option, -1)
    redis.call('HINCRBY', KEYS[5], old_hour .. ':' .. option, -1)
  end
  redis.call('HINCRBY', KEYS[4], 'changes', 1)
end

local choice = now .. '|' .. table.concat(ARGV, ',', 3)
redis.call('HSET', KEYS[3], ARGV[1], choice)
for i = 3, #ARGV do
  redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
  redis.call('HINCRBY', KEYS[5], hour .. ':' .. ARGV[i], 1)
end
local first = tonumber(redis.call('HGET', KEYS[4], 'first_vote'))
if not first or now < first then
  redis.call('HSET', KEYS[4], 'first_vote', now)
end
local last = tonumber(redis.call('HGET', KEYS[4], 'last_vote'))
if not last or now > last then
  redis.call('HSET', KEYS[4], 'last_vote', now)
end
if earlier then
  return answer('changed', choice)
end
return answer('ok', choice)
