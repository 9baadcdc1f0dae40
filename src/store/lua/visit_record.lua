-- visit_record.lua: record one page view of a site (or a reader's ping), atomically.
-- KEYS[1] the reader's session marker   KEYS[2] today's visits (expires)
-- KEYS[3] this ISO week's visits (expires)   KEYS[4] this month's visits (expires)
-- KEYS[5] all-time visits   KEYS[6] visits per day (hash date -> n, kept for reports)
-- KEYS[7] today's distinct readers (HyperLogLog, expires)
-- KEYS[8] distinct readers per day (hash date -> n, kept for reports)
-- KEYS[9] this minute's readers (HyperLogLog, expires; "online" merges the last minutes)
-- KEYS[10] bot requests per day (hash date -> n)
-- KEYS[11] when KEYS[8] was last brought to the HyperLogLog's count (hash: day, minute)
-- ARGV[1] 'session' (one visit per reader per session), 'hits' (every view), 'bot', or 'ping'
--         (the reader is still on the page: this minute's readers only, no view)
-- ARGV[2] reader id   ARGV[3] local date "YYYY-MM-DD"   ARGV[4] session length, seconds
-- ARGV[5] day TTL   ARGV[6] week TTL   ARGV[7] month TTL   ARGV[8] minute TTL (seconds)
-- ARGV[9] now, Unix seconds by the service's clock (the session marker holds the last view)
-- ARGV[10] now, Unix minutes
-- KEYS[12], ARGV[11] (session mode, optional): a reader without a cookie. ARGV[2] is then the
-- cookie-less id (a daily-salted hash of address bucket, User-Agent and site) and ARGV[11] the id
-- of the cookie this view sets, KEYS[12] its session marker. The session is the cookie-less id's;
-- when that id starts a visit, the minted id is marked as the same session (the reader's next
-- page, carrying the cookie, is the same visit) and counted as the distinct reader; when it does
-- not (a tool that never keeps cookies, or another reader with the same address and browser),
-- the minted id is left unmarked, so a second page with that cookie starts its own visit, and
-- nothing is added to the distinct readers (the visit's reader is already there).
-- Returns {counted, today, this week, this month, all-time} for 'session' and 'hits' (counted: 1
-- when a new visit was counted, 0 otherwise; the four counters as they stand after this view,
-- bases not added), {0} for 'bot' and 'ping'. Every argument and every key is checked before the
-- first write, so a refused call changes nothing.
--
-- Cost: no PFCOUNT on most views. The distinct readers of the day (KEYS[8]) are brought to
-- the HyperLogLog's estimate by the first new reader of each minute (one PFCOUNT a minute per
-- site at most); a new reader later in the same minute adds 1 (PFADD reports a new reader).
if not ((#KEYS == 11 and #ARGV == 10) or (#KEYS == 12 and #ARGV == 11 and ARGV[1] == 'session'
    and ARGV[11] ~= '')) then
  return redis.error_reply('ERR visit_record: wrong number of keys or arguments')
end
local mode, reader, day, minted = ARGV[1], ARGV[2], ARGV[3], ARGV[11]
if mode ~= 'session' and mode ~= 'hits' and mode ~= 'bot' and mode ~= 'ping' then
  return redis.error_reply('ERR visit_record: mode must be session, hits, bot or ping')
end
if reader == '' or not day:match('^%d%d%d%d%-%d%d%-%d%d$') then
  return redis.error_reply('ERR visit_record: a reader id and a date are needed')
end
for i = 4, 10 do
  local v = tonumber(ARGV[i])
  if not v or v < (i >= 9 and 0 or 1) then
    return redis.error_reply('ERR visit_record: ARGV[' .. i .. '] must be a positive number')
  end
end

if mode == 'bot' then
  redis.call('HINCRBY', KEYS[10], day, 1)
  return {0}
end

-- The keys, before the first write: a damaged one refuses the call whole, so
-- a reader is never marked as seen without the view being counted.
local function kind(key)
  return redis.call('TYPE', key).ok
end
local function hll_ok(key)
  local t = kind(key)
  return t == 'none' or (t == 'string' and redis.call('GETRANGE', key, 0, 3) == 'HYLL')
end
if mode == 'ping' then
  if not hll_ok(KEYS[9]) then
    return redis.error_reply('ERR visit_record: damaged distinct count ' .. KEYS[9])
  end
  redis.call('PFADD', KEYS[9], reader)
  redis.call('EXPIRE', KEYS[9], ARGV[8])
  return {0}
end

local function counter_ok(v)
  return v == false or v == nil or (#v <= 18 and v:match('^%d+$') ~= nil)
end
local counts = {}
for i = 2, 5 do
  local t = kind(KEYS[i])
  local v = t == 'string' and redis.call('GET', KEYS[i]) or false
  if not (t == 'none' or (t == 'string' and counter_ok(v))) then
    return redis.error_reply('ERR visit_record: damaged counter ' .. KEYS[i])
  end
  counts[i - 1] = v or '0'
end
for _, i in ipairs({6, 8}) do
  local t = kind(KEYS[i])
  if not (t == 'none' or (t == 'hash' and counter_ok(redis.call('HGET', KEYS[i], day)))) then
    return redis.error_reply('ERR visit_record: damaged history ' .. KEYS[i])
  end
end
for _, i in ipairs({7, 9}) do
  if not hll_ok(KEYS[i]) then
    return redis.error_reply('ERR visit_record: damaged distinct count ' .. KEYS[i])
  end
end
local t11 = kind(KEYS[11])
if t11 ~= 'none' and t11 ~= 'hash' then
  return redis.error_reply('ERR visit_record: damaged hash ' .. KEYS[11])
end
for i = 1, #KEYS, 11 do
  local marker = kind(KEYS[i])
  if marker ~= 'none' and marker ~= 'string' then
    return redis.error_reply('ERR visit_record: damaged session marker') -- its key names the reader: never in a log
  end
end

-- Seen within the session window (by the service's clock): the same visit,
-- and the window slides. The key's own expiry only tidies up.
local new_visit, distinct = true, reader
if mode == 'session' then
  local now, window = tonumber(ARGV[9]), tonumber(ARGV[4])
  local last = tonumber(redis.call('GET', KEYS[1]))
  redis.call('SET', KEYS[1], now, 'EX', window)
  new_visit = not (last and now - last < window)
  if minted then
    distinct = false
    if new_visit then
      redis.call('SET', KEYS[12], now, 'EX', window)
      distinct = minted
    end
  end
end

if distinct then
  redis.call('PFADD', KEYS[9], distinct)
  if redis.call('PFADD', KEYS[7], distinct) == 1 then
    local at = redis.call('HMGET', KEYS[11], 'day', 'minute')
    if at[1] == day and at[2] == ARGV[10] then
      redis.call('HINCRBY', KEYS[8], day, 1)
    else
      redis.call('HSET', KEYS[8], day, redis.call('PFCOUNT', KEYS[7]))
      redis.call('HSET', KEYS[11], 'day', day, 'minute', ARGV[10])
      redis.call('EXPIRE', KEYS[11], ARGV[5])
    end
  end
end
redis.call('EXPIRE', KEYS[9], ARGV[8])
redis.call('EXPIRE', KEYS[7], ARGV[5])
if not new_visit then
  return {0, counts[1], counts[2], counts[3], counts[4]}
end

local today = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
local week = redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[6])
local month = redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], ARGV[7])
local total = redis.call('INCR', KEYS[5])
redis.call('HINCRBY', KEYS[6], day, 1)
return {1, today, week, month, total}
