-- poll_write.lua: write a poll's definition and the meta hash the other scripts
-- check instead of its JSON: create (and import), update, and upgrade (a poll
-- stored by an older version: its definition, checked by the service, gets its
-- meta hash; the definition itself is left as it is).
-- KEYS[1] definition   KEYS[2] meta (hash)   KEYS[3] tallies
-- KEYS[4] voters of the older layout (hash voter id -> "unix|a,b")
-- Every key is the poll's ({poll:ID}: one hash slot). The indexes of poll ids
-- (the set of ids, the ids that have a meta hash, the ids not archived) live
-- in other slots: the service updates them after an 'ok' (or adds the id to
-- the set of ids after a 'poll_exists'), with separate idempotent commands;
-- their readers tolerate an id whose poll is gone.
-- ARGV[1] 'create', 'update' or 'upgrade'   ARGV[2] poll id
-- ARGV[3] the definition (JSON, stored form; upgrade: as the service read and checked it)
-- ARGV[4] the events channel   ARGV[5] update: the version the change was based on
-- ARGV[6..12] status ('open', or '' for closed), opens_at, closes_at (Unix seconds, ''
--   when unset), archived ('1'/'0'), max_choices, allow_change ('1'/'0'), version
-- ARGV[13] the option ids 'a,b,c', in order
-- ARGV[14] the write's time (the definition's updated_at, Unix seconds; '' when unknown)
-- Returns {'ok'}; create: {'poll_exists'} when a definition of that id is there;
-- update: {'poll_not_found'}, {'version_conflict'}, {'option_has_votes', option id}
-- (an option the new definition no longer has keeps it while it has votes),
-- {'needs_upgrade'} (no meta hash yet: read the poll again, which upgrades it);
-- upgrade: {'changed'} when the definition is no longer the one checked,
-- {'poll_not_found'}; any: {'poll_damaged', why} when a key holds another type
-- than the service writes there. Every check comes before the first write.
-- Writes of a definition PUBLISH 'd <poll id> <version>' on the events channel.
--
-- The meta hash: status, opens_at, closes_at, archived, max_choices, allow_change,
-- version, seq (+1 with every counted or changed ballot), voters (readers who
-- voted), options ('a,b,c'), legacy ('1': the older voters hash may hold ballots),
-- nc (codes handed out), closed_at (when the poll stopped taking votes: the write
-- that closed it, or its closes_at when that came first; kept while it stays closed,
-- gone when it opens again; the retention sweep, poll_forget.lua, records it for a
-- poll whose closes_at passed after its last write), voters_forgotten_at (set by
-- poll_forget.lua, kept for good), resetting, reset_next and reset_at (poll_reset.lua:
-- kept as they are, so an edit during a reset cannot open it to votes), and 'o:<option id>' -> the option's code, one character
-- that stands for it in a stored ballot. A code stays with its option across
-- updates; a new option gets a code never handed out before, or once all are, one
-- that no option of the poll has (only an option without votes is ever removed,
-- so no ballot holds that code).
local CODES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&()*+,-./:;<=>?@[]^_{|}~'
local mode, id = ARGV[1], ARGV[2]
local options = {}
for option in string.gmatch(ARGV[13], '[^,]+') do
  options[#options + 1] = option
end

local function holds(key, kind)
  local t = redis.call('TYPE', key).ok
  return t == 'none' or t == kind
end

if not holds(KEYS[2], 'hash') then
  return {'poll_damaged', 'the meta hash is not a hash'}
end

local kind = redis.call('TYPE', KEYS[1]).ok
local meta_exists = redis.call('EXISTS', KEYS[2]) == 1
local old = {}
if mode == 'create' then
  if kind ~= 'none' then
    return {'poll_exists'}
  end
else
  if kind == 'none' then
    return {'poll_not_found'}
  end
  if kind ~= 'string' then
    return {'poll_damaged', 'the definition is not a string'}
  end
  if mode == 'upgrade' then
    if meta_exists then
      return {'ok'} -- upgraded meanwhile
    end
    if redis.call('GET', KEYS[1]) ~= ARGV[3] then
      return {'changed'}
    end
    if not holds(KEYS[4], 'hash') then
      return {'poll_damaged', 'the voters are not a hash'}
    end
  else
    if not meta_exists then
      return {'needs_upgrade'}
    end
    if not holds(KEYS[3], 'hash') then
      return {'poll_damaged', 'the tallies are not a hash'}
    end
    local flat = redis.call('HGETALL', KEYS[2])
    for i = 1, #flat, 2 do
      old[flat[i]] = flat[i + 1]
    end
    if not tonumber(old.version) or not tonumber(old.seq) or not tonumber(old.voters) then
      return {'poll_damaged', 'the meta hash is damaged'}
    end
    if old.version ~= ARGV[5] then
      return {'version_conflict'}
    end
    local kept = {}
    for _, option in ipairs(options) do
      kept[option] = true
    end
    for option in string.gmatch(old.options or '', '[^,]+') do
      if not kept[option] then
        local votes = redis.call('HGET', KEYS[3], option)
        if votes and not tonumber(votes) then
          return {'poll_damaged', 'the tallies hold a field that is not a number'}
        end
        if tonumber(votes or '0') > 0 then
          return {'option_has_votes', option}
        end
      end
    end
  end
end

-- ------------------------------------------------------------------ the meta
local meta = {
  'status', ARGV[6], 'opens_at', ARGV[7], 'closes_at', ARGV[8], 'archived', ARGV[9],
  'max_choices', ARGV[10], 'allow_change', ARGV[11], 'version', ARGV[12],
  'options', ARGV[13],
}
local seq, voters, legacy = '0', '0', '0'
if mode == 'update' then
  seq, voters, legacy = old.seq, old.voters, old.legacy or '0'
elseif mode == 'upgrade' then
  voters = redis.call('HLEN', KEYS[4])
  legacy = voters > 0 and '1' or '0'
end
local handed = tonumber(old.nc) or 0
local taken, codes = {}, {}
for i, option in ipairs(options) do -- an option keeps its code
  local c = old['o:' .. option]
  if c and #c == 1 and string.find(CODES, c, 1, true) and not taken[c] then
    codes[i], taken[c] = c, true
  end
end
for i, option in ipairs(options) do
  if not codes[i] then
    local c
    if handed < #CODES then
      handed = handed + 1
      c = string.sub(CODES, handed, handed)
    end
    if not c or taken[c] then
      for k = 1, #CODES do
        c = string.sub(CODES, k, k)
        if not taken[c] then
          break
        end
      end
    end
    codes[i], taken[c] = c, true
  end
  meta[#meta + 1] = 'o:' .. option
  meta[#meta + 1] = codes[i]
end
for _, f in ipairs({'seq', seq, 'voters', voters, 'legacy', legacy, 'nc', handed}) do
  meta[#meta + 1] = f
end
-- closed_at: a poll closed before and still closed keeps its moment; one closed
-- by this write closed now; a closes_at already passed may be earlier.
local at, closes = tonumber(ARGV[14]), tonumber(ARGV[8])
local closed_at
if ARGV[6] ~= 'open' then
  closed_at = (old.status and old.status ~= 'open' and tonumber(old.closed_at)) or at
end
if closes and at and closes <= at then
  closed_at = math.min(closed_at or closes, closes)
end
if closed_at then
  meta[#meta + 1] = 'closed_at'
  meta[#meta + 1] = string.format('%d', closed_at)
end
-- Fields other steps own, carried as they are: the retention's mark, and a
-- reset under way (dropping 'resetting' would let votes count between its chunks).
for _, f in ipairs({'voters_forgotten_at', 'resetting', 'reset_next', 'reset_at'}) do
  if old[f] then
    meta[#meta + 1] = f
    meta[#meta + 1] = old[f]
  end
end

-- ---------------------------------------------------------------- the writes
if mode ~= 'upgrade' then
  redis.call('SET', KEYS[1], ARGV[3])
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(meta))
if mode ~= 'upgrade' then
  redis.call('PUBLISH', ARGV[4], 'd ' .. id .. ' ' .. ARGV[12])
end
return {'ok'}
