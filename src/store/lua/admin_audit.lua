-- admin_audit.lua: the audit log of editors' actions, a capped list, newest first.
-- KEYS[1] the log (list; one key: <prefix>audit)
-- ARGV[1] 'append' or 'read'
-- append: ARGV[2] the entry, a JSON object without its opening '{' (the service
--   writes it: {at, actor, action, target, request_id}); ARGV[3] the cap (10000).
--   The entry is stored as '{"seq":N,' .. ARGV[2]: N is one more than the newest
--   entry's (1 for the first), so entries are numbered without a second key (the
--   log's one key keeps the script within one hash slot). Returns {'ok', N}.
-- read: ARGV[2] before (entries with seq < before; 0: from the newest), ARGV[3]
--   limit. Returns {'ok', newest seq or 0, entry, ...}: up to limit entries, newest
--   first, starting where seq before - 1 sits (seq and position move together:
--   every append pushes one entry). The service drops any entry whose seq is not
--   below before (a log trimmed or written by hand).
-- {'audit_damaged'} when the key is not a list.
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'none' and t ~= 'list' then
  return {'audit_damaged'}
end
local function newest()
  local top = redis.call('LINDEX', KEYS[1], 0)
  return top and tonumber(string.match(top, '^{"seq":(%d+),')) or 0
end
if ARGV[1] == 'append' then
  local seq = newest() + 1
  redis.call('LPUSH', KEYS[1], '{"seq":' .. seq .. ',' .. ARGV[2])
  redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
  return {'ok', seq}
end
local top = newest()
local before, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local start = 0
if before > 0 and before <= top then
  start = top - before + 1
end
local out = {'ok', top}
if before > 0 and before <= 1 then
  return out
end
for _, e in ipairs(redis.call('LRANGE', KEYS[1], start, start + limit - 1)) do
  out[#out + 1] = e
end
return out
