-- visit_read.lua: the counter as a portal shows it; for a reader's ping, the reader marked online first.
-- KEYS[1] today's visits   KEYS[2] visits per day (hash)   KEYS[3] this week's visits
-- KEYS[4] this month's visits   KEYS[5] all-time visits   KEYS[6] bases (hash)
-- KEYS[7..] the minute HyperLogLogs of the "online" window, this minute's first
-- ARGV[1] yesterday's date   ARGV[2] base field of today ("day:YYYY-MM-DD")
-- ARGV[3] base field of this week ("week:YYYY-Www")   ARGV[4] base field of this month ("month:YYYY-MM")
-- ARGV[5] base field of yesterday ("day:YYYY-MM-DD"): a day's base stays part of that day
-- ARGV[6] a reader id to add to this minute's readers ('' for none)   ARGV[7] that key's TTL, seconds
-- Returns {today, yesterday, this_week, this_month, total, online,
--          base of today, of yesterday, of this week, of this month, total base}
-- as stored (strings, or nil when absent): the service adds each base to its count in 64-bit
-- integers with overflow checks, since Lua numbers are doubles, exact only below 2^53.
-- Everything is checked before the one write.
if #KEYS < 7 or #ARGV ~= 7 then
  return redis.error_reply('ERR visit_read: wrong number of keys or arguments')
end
local reader, ttl = ARGV[6], tonumber(ARGV[7])
if reader ~= '' and not (ttl and ttl >= 1) then
  return redis.error_reply('ERR visit_read: the minute TTL must be a positive number')
end

-- A ping writes this minute's distinct readers before the reads: check what
-- the reads need first, so a damaged key refuses the call whole.
if reader ~= '' then
  for _, i in ipairs({1, 3, 4, 5}) do
    local t = redis.call('TYPE', KEYS[i]).ok
    if t ~= 'none' and t ~= 'string' then
      return redis.error_reply('ERR visit_read: damaged counter ' .. KEYS[i])
    end
  end
  for _, i in ipairs({2, 6}) do
    local t = redis.call('TYPE', KEYS[i]).ok
    if t ~= 'none' and t ~= 'hash' then
      return redis.error_reply('ERR visit_read: damaged hash ' .. KEYS[i])
    end
  end
  for i = 7, #KEYS do
    local t = redis.call('TYPE', KEYS[i]).ok
    if not (t == 'none' or (t == 'string' and redis.call('GETRANGE', KEYS[i], 0, 3) == 'HYLL')) then
      return redis.error_reply('ERR visit_read: damaged distinct count ' .. KEYS[i])
    end
  end
end

if reader ~= '' then
  redis.call('PFADD', KEYS[7], reader)
  redis.call('EXPIRE', KEYS[7], ttl)
end
local base = redis.call('HMGET', KEYS[6], ARGV[2], ARGV[5], ARGV[3], ARGV[4], 'total')
local minutes = {}
for i = 7, #KEYS do
  minutes[#minutes + 1] = KEYS[i]
end
return {
  redis.call('GET', KEYS[1]),
  redis.call('HGET', KEYS[2], ARGV[1]),
  redis.call('GET', KEYS[3]),
  redis.call('GET', KEYS[4]),
  redis.call('GET', KEYS[5]),
  redis.call('PFCOUNT', unpack(minutes)),
  base[1], base[2], base[3], base[4], base[5],
}
