-- visit_read.lua: the counter as a portal shows it.
-- KEYS[1] today's visits   KEYS[2] visits per day (hash)   KEYS[3] this week's visits
-- KEYS[4] this month's visits   KEYS[5] all-time visits   KEYS[6] bases (hash)
-- KEYS[7] the last "online" count (hash: minute, window, online)
-- KEYS[8..] the minute HyperLogLogs of the "online" window: the whole minutes before this one
-- ARGV[1] yesterday's date   ARGV[2] base field of today ("day:YYYY-MM-DD")
-- ARGV[3] base field of this week ("week:YYYY-Www")   ARGV[4] base field of this month ("month:YYYY-MM")
-- ARGV[5] base field of yesterday ("day:YYYY-MM-DD"): a day's base stays part of that day
-- ARGV[6] this minute (Unix minutes)   ARGV[7] the window, minutes (the number of KEYS[8..])
-- ARGV[8] KEYS[7]'s TTL, seconds
-- Returns {today, yesterday, this_week, this_month, total, online,
--          base of today, of yesterday, of this week, of this month, total base}
-- as stored (strings, or nil when absent): the service adds each base to its count in 64-bit
-- integers with overflow checks, since Lua numbers are doubles, exact only below 2^53.
--
-- "online" merges the minute HyperLogLogs once a minute per site (whatever the number of
-- instances and reads): the window is made of whole past minutes, so its count does not change
-- during the minute, and the first read of a minute stores it in KEYS[7] for the others.
if #KEYS < 8 or #ARGV ~= 8 or #KEYS - 7 ~= tonumber(ARGV[7]) then
  return redis.error_reply('ERR visit_read: wrong number of keys or arguments')
end
local ttl = tonumber(ARGV[8])
if not (ttl and ttl >= 1) then
  return redis.error_reply('ERR visit_read: the TTL must be a positive number')
end
local last = redis.call('TYPE', KEYS[7]).ok
if last ~= 'none' and last ~= 'hash' then
  return redis.error_reply('ERR visit_read: damaged hash ' .. KEYS[7])
end

local stamp = redis.call('HMGET', KEYS[7], 'minute', 'window', 'online')
local online = stamp[3]
if stamp[1] ~= ARGV[6] or stamp[2] ~= ARGV[7] or not online then
  local minutes = {}
  for i = 8, #KEYS do
    minutes[#minutes + 1] = KEYS[i]
  end
  online = redis.call('PFCOUNT', unpack(minutes))
  redis.call('HSET', KEYS[7], 'minute', ARGV[6], 'window', ARGV[7], 'online', online)
  redis.call('EXPIRE', KEYS[7], ttl)
end
local base = redis.call('HMGET', KEYS[6], ARGV[2], ARGV[5], ARGV[3], ARGV[4], 'total')
return {
  redis.call('GET', KEYS[1]),
  redis.call('HGET', KEYS[2], ARGV[1]),
  redis.call('GET', KEYS[3]),
  redis.call('GET', KEYS[4]),
  redis.call('GET', KEYS[5]),
  online,
  base[1], base[2], base[3], base[4], base[5],
}
