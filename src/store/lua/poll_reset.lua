-- poll_reset.lua: an editor's reset of a poll's results, in steps, atomic against votes.
-- KEYS[1] meta   KEYS[2] definition   KEYS[3] tallies   KEYS[4] statistics
-- KEYS[5] time series   KEYS[6] voters of the older layout   KEYS[7] integrity counters
-- KEYS[8] buckets (zset)
-- ARGV[1] 'start', 'chunk' or 'finish'   ARGV[2] poll id   ARGV[3] the events channel
-- ARGV[4] chunk: the voter keys' prefix (PREFIX{poll:ID}:v:, the poll's slot)
-- ARGV[5] now (Unix seconds)
--
-- start: marks the meta 'resetting' = '1' (the vote script then refuses every
--   ballot with poll_resetting, so none is counted and then lost) and returns
--   {'ok', next}: the first voter bucket still to delete (0, or where a reset that
--   stopped halfway had got to: running a reset again finishes it).
-- chunk: deletes the next 4096 of the 65,536 voter buckets (PREFIX{poll:ID}:v:<2
--   bytes>; named, never scanned), records how far it got in 'reset_next', returns
--   {'ok', next} (65536: all done).
-- finish: only once every bucket is gone: deletes the tallies, statistics, time
--   series, older voters, integrity counters and buckets; voters 0; seq + 1;
--   records reset_at; clears the mark; PUBLISHes 't <id> <seq> 0 <option>:0 ...'
--   so every worker's cache shows zeros. Returns {'ok', seq}, or {'chunks_left', next}
--   when buckets are left (then nothing is cleared yet).
-- Any: {'poll_not_found'}, {'poll_damaged', why}, {'not_resetting'} (chunk or
-- finish without a start).
local CHUNK, BUCKETS = 4096, 65536
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then
  return {'poll_not_found'}
end
if t ~= 'hash' then
  return {'poll_damaged', 'the meta hash is not a hash'}
end
local mode = ARGV[1]
local resetting = redis.call('HGET', KEYS[1], 'resetting') == '1'
local next_bucket = tonumber(redis.call('HGET', KEYS[1], 'reset_next')) or 0
if mode == 'start' then
  if not resetting then
    redis.call('HSET', KEYS[1], 'resetting', '1', 'reset_next', '0')
    next_bucket = 0
  end
  return {'ok', next_bucket}
end
if not resetting then
  return {'not_resetting'}
end
if mode == 'chunk' then
  local keys = {}
  local last = math.min(next_bucket + CHUNK, BUCKETS)
  for i = next_bucket, last - 1 do
    keys[#keys + 1] = ARGV[4] .. string.char(math.floor(i / 256), i % 256)
  end
  if #keys > 0 then
    redis.call('UNLINK', unpack(keys))
  end
  redis.call('HSET', KEYS[1], 'reset_next', last)
  return {'ok', last}
end
if next_bucket < BUCKETS then
  return {'chunks_left', next_bucket} -- not yet: the chunks first
end
local options = redis.call('HGET', KEYS[1], 'options') or ''
redis.call('UNLINK', KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
redis.call('HSET', KEYS[1], 'voters', '0', 'reset_at', ARGV[5])
redis.call('HDEL', KEYS[1], 'resetting', 'reset_next', 'legacy')
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local message = {'t', ARGV[2], seq, 0}
for option in string.gmatch(options, '[^,]+') do
  message[#message + 1] = option .. ':0'
end
redis.call('PUBLISH', ARGV[3], table.concat(message, ' '))
return {'ok', seq}
