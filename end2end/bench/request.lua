-- The request every benchmark run makes, set from the environment: BENCH_METHOD (GET or POST),
-- BENCH_AUTH (an Authorization header), BENCH_BODY (a form body, where "{token}" is replaced by
-- the next line of the BENCH_POOL file, for single-use codes and refresh tokens) and
-- BENCH_CONTENT_TYPE (the body's type; a form when unset). Without a pool the request is static
-- and wrk builds it once.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  local content_type = os.getenv("BENCH_CONTENT_TYPE")
  if not content_type or content_type == "" then
    content_type = "application/x-www-form-urlencoded"
  end
  wrk.headers["Content-Type"] = content_type
end

local file = os.getenv("BENCH_POOL")
if file and file ~= "" then
  local pool = {}
  for line in io.lines(file) do
    pool[#pool + 1] = line
  end
  local next_index = 0
  function request()
    next_index = next_index + 1
    local value = pool[next_index] or "pool-exhausted"
    return wrk.format(nil, nil, nil, (string.gsub(body, "{token}", value)))
  end
end
