-- visit_read.lua: the counter as a portal shows it, bases included.
-- KEYS[1] today's visits   KEYS[2] visits per day (hash)   KEYS[3] this week's visits
-- KEYS[4] this month's visits   KEYS[5] all-time visits   KEYS[6] bases (hash)
-- KEYS[7..] the minute HyperLogLogs of the "online" window
-- ARGV[1] yesterday's date   ARGV[2] base field of today ("day:YYYY-MM-DD")
-- ARGV[3] base field of this week ("week:YYYY-Www")   ARGV[4] base field of this month ("month:YYYY-MM")
-- ARGV[5] base field of yesterday ("day:YYYY-MM-DD"): a day's base stays part of that day
-- Returns {today, yesterday, this_week, this_month, total, online}.
local function n(v)
  return tonumber(v) or 0
end
local base = redis.call('HMGET', KEYS[6], 'total', ARGV[2], ARGV[3], ARGV[4], ARGV[5])
local minutes = {}
for i = 7, #KEYS do
  minutes[#minutes + 1] = KEYS[i]
end
return {
  n(redis.call('GET', KEYS[1])) + n(base[2]),
  n(redis.call('HGET', KEYS[2], ARGV[1])) + n(base[5]),
  n(redis.call('GET', KEYS[3])) + n(base[3]),
  n(redis.call('GET', KEYS[4])) + n(base[4]),
  n(redis.call('GET', KEYS[5])) + n(base[1]),
  redis.call('PFCOUNT', unpack(minutes)),
}
