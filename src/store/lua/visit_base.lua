-- visit_base.lua: set (or, with an empty value, clear) the bases of a site's counter.
-- KEYS[1] bases (hash)
-- ARGV pairs: field, value ('' clears). Fields: total, day:YYYY-MM-DD, week:YYYY-Www, month:YYYY-MM.
-- Values: whole numbers from 0 to 10^15 (exact in Lua's doubles; the service checks them first).
-- A base is stored, never added into the counters, so it can be corrected. Every pair is
-- checked before the first write, so a refused call changes nothing.
local MAX = 1000000000000000
if #KEYS ~= 1 or #ARGV == 0 or #ARGV % 2 ~= 0 then
  return redis.error_reply('ERR visit_base: wrong number of keys or arguments')
end
local function field_ok(f)
  return f == 'total' or f:match('^day:%d%d%d%d%-%d%d%-%d%d$') or f:match('^week:%d%d%d%d%-W%d%d$')
    or f:match('^month:%d%d%d%d%-%d%d$')
end
local set, clear = {}, {}
for i = 1, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  if not field_ok(field) then
    return redis.error_reply('ERR visit_base: not a base field: ' .. field)
  end
  if value == '' then
    clear[#clear + 1] = field
  elseif value:match('^%d+$') and #value <= 16 and tonumber(value) <= MAX then
    set[#set + 1] = field
    set[#set + 1] = value
  else
    return redis.error_reply('ERR visit_base: a base must be a whole number from 0 to 10^15')
  end
end

if #set > 0 then
  redis.call('HSET', KEYS[1], unpack(set))
end
if #clear > 0 then
  redis.call('HDEL', KEYS[1], unpack(clear))
end
return 1
