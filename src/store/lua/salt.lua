-- salt.lua: the day's salt of the reader identities (identity.c), made once.
-- KEYS[1] PREFIX salt:<YYYY-MM-DD> (the day in THAMDO_TIMEZONE)
-- ARGV[1] 32 random bytes, kept only when the day has no salt yet ('': only read)
-- ARGV[2] its lifetime in seconds (172800: no one can recompute a day's hashes
--   once it has expired)
-- Returns the day's salt: whichever worker of whichever instance asked first
-- wrote it, so every one computes the same hashes.
if #ARGV[1] == 32 then
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
end
return redis.call('GET', KEYS[1])
