-- Stores an action in the read cache unless the cache already holds the same or a newer
-- version. Readers filling the cache and writers refreshing it after a commit both call
-- this, so the cache converges on the newest version whatever order they arrive in.
-- KEYS[1]: cache key. ARGV[1]: version. ARGV[2]: JSON payload. ARGV[3]: TTL in ms.
local current = redis.call('GET', KEYS[1])
if current then
  local cached = tonumber(string.match(current, '^(%d+):'))
  if cached and cached >= tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1
