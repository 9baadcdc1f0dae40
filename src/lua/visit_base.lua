-- visit_base.lua: set (or, with an empty value, clear) the bases of a site's counter.
-- KEYS[1] bases (hash)
-- ARGV pairs: field, value ('' clears). Fields: total, day:YYYY-MM-DD, week:YYYY-Www, month:YYYY-MM.
-- A base is stored, never added into the counters, so it can be corrected.
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
