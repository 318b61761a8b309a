-- Generic cell rate algorithm: a token bucket kept as one timestamp, the theoretical
-- arrival time (TAT) of the next request. `limit` requests per `period_ms`, with a burst
-- of `limit`. Uses the Redis clock so that API processes with skewed clocks agree.
-- KEYS[1]: bucket key. ARGV[1]: limit. ARGV[2]: period_ms.
-- Returns {allowed (1|0), retry_after_ms}.
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local interval = period / limit
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - period
if allow_at > now then
  return {0, math.ceil(allow_at - now)}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return {1, 0}
