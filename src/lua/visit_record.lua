-- visit_record.lua: record one page view of a site, atomically.
-- KEYS[1] the reader's session marker   KEYS[2] today's visits (expires)
-- KEYS[3] this ISO week's visits (expires)   KEYS[4] this month's visits (expires)
-- KEYS[5] all-time visits   KEYS[6] visits per day (hash date -> n, kept for reports)
-- KEYS[7] today's distinct readers (HyperLogLog, expires)
-- KEYS[8] distinct readers per day (hash date -> n, kept for reports)
-- KEYS[9] this minute's readers (HyperLogLog, expires; "online" merges the last minutes)
-- KEYS[10] bot requests per day (hash date -> n)
-- ARGV[1] 'session' (one visit per reader per session), 'hits' (every view) or 'bot'
-- ARGV[2] reader id   ARGV[3] local date "YYYY-MM-DD"   ARGV[4] session length, seconds
-- ARGV[5] day TTL   ARGV[6] week TTL   ARGV[7] month TTL   ARGV[8] minute TTL (seconds)
-- ARGV[9] now, Unix seconds by the service's clock (the session marker holds the last view)
-- Returns 1 when a new visit was counted, 0 otherwise. Every argument and every key is checked
-- before the first write, so a refused call changes nothing.
if #KEYS ~= 10 or #ARGV ~= 9 then
  return redis.error_reply('ERR visit_record: wrong number of keys or arguments')
end
local mode, reader, day = ARGV[1], ARGV[2], ARGV[3]
if mode ~= 'session' and mode ~= 'hits' and mode ~= 'bot' then
  return redis.error_reply('ERR visit_record: mode must be session, hits or bot')
end
if reader == '' or not day:match('^%d%d%d%d%-%d%d%-%d%d$') then
  return redis.error_reply('ERR visit_record: a reader id and a date are needed')
end
for i = 4, 9 do
  local v = tonumber(ARGV[i])
  if not v or v < (i == 9 and 0 or 1) then
    return redis.error_reply('ERR visit_record: ARGV[' .. i .. '] must be a positive number')
  end
end

if mode == 'bot' then
  redis.call('HINCRBY', KEYS[10], day, 1)
  return 0
end

-- The keys, before the first write: a damaged one refuses the call whole, so
-- a reader is never marked as seen without the view being counted.
local function kind(key)
  return redis.call('TYPE', key).ok
end
local function counter_ok(v)
  return v == false or v == nil or (#v <= 18 and v:match('^%d+$') ~= nil)
end
for i = 2, 5 do
  local t = kind(KEYS[i])
  if not (t == 'none' or (t == 'string' and counter_ok(redis.call('GET', KEYS[i])))) then
    return redis.error_reply('ERR visit_record: damaged counter ' .. KEYS[i])
  end
end
for _, i in ipairs({6, 8}) do
  local t = kind(KEYS[i])
  if not (t == 'none' or (t == 'hash' and counter_ok(redis.call('HGET', KEYS[i], day)))) then
    return redis.error_reply('ERR visit_record: damaged history ' .. KEYS[i])
  end
end
for _, i in ipairs({7, 9}) do
  local t = kind(KEYS[i])
  if not (t == 'none' or (t == 'string' and redis.call('GETRANGE', KEYS[i], 0, 3) == 'HYLL')) then
    return redis.error_reply('ERR visit_record: damaged distinct count ' .. KEYS[i])
  end
end
local marker = kind(KEYS[1])
if marker ~= 'none' and marker ~= 'string' then
  return redis.error_reply('ERR visit_record: damaged session marker') -- its key names the reader: never in a log
end

redis.call('PFADD', KEYS[9], reader)
redis.call('EXPIRE', KEYS[9], ARGV[8])
if redis.call('PFADD', KEYS[7], reader) == 1 then
  redis.call('HSET', KEYS[8], day, redis.call('PFCOUNT', KEYS[7]))
end
redis.call('EXPIRE', KEYS[7], ARGV[5])

if mode == 'session' then
  -- Seen within the session window (by the service's clock): the same visit,
  -- and the window slides. The key's own expiry only tidies up.
  local now, window = tonumber(ARGV[9]), tonumber(ARGV[4])
  local last = tonumber(redis.call('GET', KEYS[1]))
  redis.call('SET', KEYS[1], now, 'EX', window)
  if last and now - last < window then
    return 0
  end
end

redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[6])
redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], ARGV[7])
redis.call('INCR', KEYS[5])
redis.call('HINCRBY', KEYS[6], day, 1)
return 1
