-- poll_vote.lua: count one ballot, atomically.
-- KEYS[1] meta (hash: what this script checks; see poll_write.lua)
-- KEYS[2] definition (JSON; returned, never decoded)   KEYS[3] tallies (hash option -> votes)
-- KEYS[4] statistics (hash: first_vote, last_vote, duplicates, changes)
-- KEYS[5] time series (hash "hour:option" -> votes, hour = floor(unix / 3600))
-- KEYS[6] the voter's bucket: PREFIX{poll:ID}:v:<the id's first 2 bytes>, a hash
--   <the id's next 10 bytes> -> <hour of the ballot, base 36><the options' codes>
-- KEYS[7] voters of the older layout (hash voter id -> "unix|a,b"), read while the
--   meta says legacy: such a ballot still counts as cast, and moves on a change
-- KEYS[8] the rate limit of the reader's address bucket in this poll:
--   PREFIX{poll:ID}:rl:<bucket>, a hash a (vote requests) and b (first ballots
--   counted) that expires ARGV[7] seconds after its first request (a window)
-- KEYS[9] integrity counters (hash "hour:kind" -> n; kinds ballots, dup, limited,
--   challenged, solved)   KEYS[10] buckets (zset bucket -> first ballots counted)
-- KEYS[11] the single-use mark of the proof of work sent: PREFIX{poll:ID}:pow:<id>
-- ARGV[1] voter id (16 raw bytes)   ARGV[2] now, Unix seconds, by the service's clock
-- ARGV[3] the version of the definition the caller has (-1: none)
-- ARGV[4] poll id   ARGV[5] the events channel
-- ARGV[6] the reader's hashed address bucket ('': the rate limits are off)
-- ARGV[7] window seconds   ARGV[8] first ballots free of a challenge per window
-- ARGV[9] first ballots at most per window   ARGV[10] vote requests at most per window
-- ARGV[11] base difficulty of a challenge (bits)
-- ARGV[12] the proof of work sent: '' none, 'bad' one the service refused (forged,
--   expired, other poll or bucket, unsolved), else its difficulty (checked by the
--   service: signature, expiry, poll, bucket, answer)   ARGV[13] its seconds left
-- ARGV[14..] the chosen option ids: distinct slugs, checked by the service
-- Returns {code, choice, definition or false (the caller has this version),
-- tallies (flat), voters, version, seq, retry after, difficulty}: code ok,
-- changed, already_voted, poll_closed, poll_not_open, too_many_options,
-- invalid_option, rate_limited (retry after: seconds left in the window) or
-- challenge_required (difficulty: what a fresh challenge needs; retry after as
-- for rate_limited); choice the
-- reader's options "a,b", '' when their stored ballot is damaged, false when
-- they have none. Or {'poll_not_found'}, {'needs_upgrade', definition} (no meta
-- hash: the service checks the definition, writes the meta and calls again), or
-- {'poll_damaged', why} when a key of the poll does not hold what the service
-- writes there. Opening and closing times are checked here, at the moment of
-- the vote, so a poll closes on the second whatever the number of instances.
-- The tallies and the time series move together, so they always add up; a
-- changed vote leaves its old hour and option. A counted or changed ballot
-- PUBLISHes 't <poll id> <seq> <voters> <option>:<votes> ...' (every option).
--
-- 96 bits of the voter id are kept (2 bytes in the key, 10 in the field): two
-- readers collide with probability about n^2 / 2^97 (1e-17 for a million voters),
-- negligible. ~15 voters per bucket at a million voters keeps each bucket a
-- listpack (hash-max-listpack-entries 128) up to about 8 million voters.
--
-- Rate limits (ARGV[6] set), per address bucket, poll and window: past ARGV[10]
-- vote requests of any kind, rate_limited; a first ballot past ARGV[9], rate_limited;
-- past ARGV[8], it needs a proof of work whose difficulty is at least the
-- required one less 2, required = base + floor(2 * log2(n / free)) for the n-th
-- first ballot of the window, at most 24; a proof is single use (its mark lives
-- until the challenge expires), and a proof refused, reused or too easy gets a
-- fresh challenge, never a count. Changed ballots need no proof.
--
-- Everything is checked before the first write: Redis keeps the writes a script
-- made before a command failed, so a failure halfway would leave a reader marked
-- as voted but not counted. (The request count of the rate limit and the
-- integrity counters are written before: they count requests, not ballots.)
local function damaged(why)
  return {'poll_damaged', why}
end

local function key_holds(key, kind)
  local t = redis.call('TYPE', key).ok
  return t == 'none' or t == kind
end

local kind = redis.call('TYPE', KEYS[2]).ok
local mkind = redis.call('TYPE', KEYS[1]).ok
if mkind == 'none' then
  if kind == 'none' then
    return {'poll_not_found'}
  end
  if kind ~= 'string' then
    return damaged('the definition is not a string')
  end
  return {'needs_upgrade', redis.call('GET', KEYS[2])}
end
if mkind ~= 'hash' then
  return damaged('the meta hash is not a hash')
end
if kind ~= 'string' then
  return damaged('the definition is not a string')
end
for i = 3, 6 do
  if not key_holds(KEYS[i], 'hash') then
    return damaged(({'', '', 'the tallies', 'the statistics', 'the time series', 'the voters'})[i]
      .. ' are not a hash')
  end
end

-- ------------------------------------------------------------------ the meta
local m = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  m[flat[i]] = flat[i + 1]
end
if m.archived == '1' then
  return {'poll_not_found'}
end
local max_choices = tonumber(m.max_choices)
local function whole(v)
  return v and #v <= 15 and string.find(v, '^%d+$') ~= nil
end
if not whole(m.version) or not whole(m.seq) or not whole(m.voters) or not max_choices
  or type(m.options) ~= 'string' then
  return damaged('the meta hash is damaged')
end
local order, known, by_code = {}, {}, {}
for option in string.gmatch(m.options, '[^,]+') do
  local code = m['o:' .. option]
  if not code or #code ~= 1 then
    return damaged('the meta hash is damaged')
  end
  order[#order + 1] = option
  known[option], by_code[code] = code, option
end
local legacy = m.legacy == '1'
if legacy and not key_holds(KEYS[7], 'hash') then
  return damaged('the voters are not a hash')
end

local function answer(code, choice, retry, difficulty)
  return {code, choice or false, ARGV[3] ~= m.version and redis.call('GET', KEYS[2]) or false,
    redis.call('HGETALL', KEYS[3]), tonumber(m.voters), tonumber(m.version), tonumber(m.seq),
    retry or 0, difficulty or 0}
end

-- Every hash field this script increments must hold a whole number (or nothing).
local function counter_ok(key, field)
  local v = redis.call('HGET', KEYS[key], field)
  return not v or (#v <= 18 and string.find(v, '^%-?%d+$') ~= nil)
end

-- ------------------------------------------------- integrity, rate limits
local now = tonumber(ARGV[2])
local hour = math.floor(now / 3600)
local first_option = 14 -- ARGV[first_option..]: the chosen options
local integrity_ok = key_holds(KEYS[9], 'hash')
-- Counts one outcome for the editors' integrity summary (never fails a vote).
local function note(kind)
  if integrity_ok and counter_ok(9, hour .. ':' .. kind) then
    redis.call('HINCRBY', KEYS[9], hour .. ':' .. kind, 1)
  end
end

local limits = ARGV[6] ~= ''
local window, free, most, attempts, base = tonumber(ARGV[7]), tonumber(ARGV[8]),
  tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local first_ballots, left = 0, 0
if limits then
  if not key_holds(KEYS[8], 'hash') or not counter_ok(8, 'a') or not counter_ok(8, 'b') then
    redis.call('DEL', KEYS[8]) -- a rate limit is no ballot: start the window again
  end
  local tries = redis.call('HINCRBY', KEYS[8], 'a', 1)
  left = redis.call('TTL', KEYS[8])
  if left < 0 then
    redis.call('EXPIRE', KEYS[8], window)
    left = window
  end
  left = math.max(left, 1)
  first_ballots = tonumber(redis.call('HGET', KEYS[8], 'b') or '0')
  if tries > attempts then
    note('limited')
    return answer('rate_limited', nil, left)
  end
end

-- The difficulty a challenge needs for the n-th first ballot of the window.
local function required(n)
  local k = 0
  if n > free then -- floor(2 * log2(n / free)): the largest k with n^2 >= free^2 * 2^k
    while k < 48 and n * n >= free * free * 2 ^ (k + 1) do
      k = k + 1
    end
  end
  return math.min(base + k, 24)
end

-- The earlier ballot: its hour and options, or nil when it is not in a form
-- this script writes (then it is left as it is: the reader has voted).
local function read_ballot(v, old_layout)
  local options = {}
  if old_layout then -- "unix|a,b"
    local at, list = string.match(v, '^(%d+)|([a-z0-9,-]+)$')
    if not at or #at > 18 then
      return nil
    end
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
  local hour, codes = string.match(v, '^([0-9a-z]+)([^0-9a-z]+)$')
  if not hour or #hour > 10 then
    return nil
  end
  for i = 1, #codes do
    local option = by_code[string.sub(codes, i, i)]
    if not option then
      return nil
    end
    options[#options + 1] = option
  end
  return tonumber(hour, 36), options
end

-- ---------------------------------------------------------------- the vote
local field = string.sub(ARGV[1], 3, 12)
local earlier = redis.call('HGET', KEYS[6], field)
local old_layout = false
if not earlier and legacy then
  earlier = redis.call('HGET', KEYS[7], ARGV[1])
  old_layout = earlier and true
end
local closed = m.status ~= 'open' or (tonumber(m.closes_at) and now >= tonumber(m.closes_at))
local upcoming = tonumber(m.opens_at) and now < tonumber(m.opens_at)
local old_hour, old_options, shown
if earlier then
  old_hour, old_options = read_ballot(earlier, old_layout)
  shown = old_options and table.concat(old_options, ',') or ''
end

if earlier and not (old_options and m.allow_change == '1' and not closed and not upcoming) then
  if not counter_ok(4, 'duplicates') then
    return damaged('the statistics hold a field that is not a number')
  end
  redis.call('HINCRBY', KEYS[4], 'duplicates', 1)
  note('dup')
  return answer('already_voted', shown)
end
if closed then
  return answer('poll_closed', shown)
end
if upcoming then
  return answer('poll_not_open', shown)
end
if #ARGV - first_option + 1 > max_choices then
  return answer('too_many_options', shown)
end
for i = first_option, #ARGV do
  if not known[ARGV[i]] then
    return answer('invalid_option', shown)
  end
end

for i = first_option, #ARGV do
  if not counter_ok(3, ARGV[i]) or not counter_ok(5, hour .. ':' .. ARGV[i]) then
    return damaged('the tallies or the time series hold a field that is not a number')
  end
end
for _, option in ipairs(old_options or {}) do
  if not counter_ok(3, option) or not counter_ok(5, old_hour .. ':' .. option) then
    return damaged('the tallies or the time series hold a field that is not a number')
  end
end
if earlier and not counter_ok(4, 'changes') then
  return damaged('the statistics hold a field that is not a number')
end

-- A first ballot within the rate limit, with the proof of work it needs.
local solved = false
if limits and not earlier then
  local n = first_ballots + 1
  if n > most then
    note('limited')
    return answer('rate_limited', shown, left)
  end
  local need = required(n)
  local proof = ARGV[12]
  if proof == 'bad' or (proof ~= '' and tonumber(proof) < need - 2) or (proof == '' and n > free) then
    note('challenged')
    return answer('challenge_required', shown, left, need)
  end
  if proof ~= '' then
    if not redis.call('SET', KEYS[11], '1', 'NX', 'EX', math.max(tonumber(ARGV[13]), 1)) then
      note('challenged') -- used already
      return answer('challenge_required', shown, left, need)
    end
    solved = true
  end
end

-- -------------------------------------------------------------- the writes
if earlier then
  for _, option in ipairs(old_options) do
    redis.call('HINCRBY', KEYS[3], option, -1)
    redis.call('HINCRBY', KEYS[5], old_hour .. ':' .. option, -1)
  end
  redis.call('HINCRBY', KEYS[4], 'changes', 1)
  if old_layout then
    redis.call('HDEL', KEYS[7], ARGV[1]) -- the ballot moves to its bucket
  end
end

local digits, h36 = '0123456789abcdefghijklmnopqrstuvwxyz', ''
local rest = hour
repeat
  local d = rest % 36
  h36 = string.sub(digits, d + 1, d + 1) .. h36
  rest = (rest - d) / 36
until rest == 0
local codes = {}
for i = first_option, #ARGV do
  codes[#codes + 1] = known[ARGV[i]]
  redis.call('HINCRBY', KEYS[3], ARGV[i], 1)
  redis.call('HINCRBY', KEYS[5], hour .. ':' .. ARGV[i], 1)
end
redis.call('HSET', KEYS[6], field, h36 .. table.concat(codes))
local first = tonumber(redis.call('HGET', KEYS[4], 'first_vote'))
if not first or now < first then
  redis.call('HSET', KEYS[4], 'first_vote', now)
end
local last = tonumber(redis.call('HGET', KEYS[4], 'last_vote'))
if not last or now > last then
  redis.call('HSET', KEYS[4], 'last_vote', now)
end
m.seq = tostring(redis.call('HINCRBY', KEYS[1], 'seq', 1))
if not earlier then
  m.voters = tostring(redis.call('HINCRBY', KEYS[1], 'voters', 1))
  note('ballots')
  if solved then
    note('solved')
  end
  if limits then
    redis.call('HINCRBY', KEYS[8], 'b', 1)
    if key_holds(KEYS[10], 'zset') then
      redis.call('ZINCRBY', KEYS[10], 1, ARGV[6])
    end
  end
end

local tallies = redis.call('HMGET', KEYS[3], unpack(order))
local message = {'t', ARGV[4], m.seq, m.voters}
for i, option in ipairs(order) do
  local v = tallies[i]
  message[#message + 1] = option .. ':' .. (v and string.find(v, '^%-?%d+$') and v or '0')
end
redis.call('PUBLISH', ARGV[5], table.concat(message, ' '))
return answer(earlier and 'changed' or 'ok', table.concat(ARGV, ',', first_option))
