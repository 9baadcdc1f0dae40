-- visit_history.lua: the per-day figures kept for reports.
-- KEYS[1] visits per day   KEYS[2] distinct readers per day   KEYS[3] bot requests per day
-- KEYS[4] bases
-- Returns {visits (flat hash), readers (flat hash), bots (flat hash), bases (flat hash)}.
return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]),
        redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4])}
