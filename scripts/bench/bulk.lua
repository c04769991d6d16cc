-- $BULK `arith.add` jobs per request (wrk), with the token from $TOKEN.
local size = tonumber(os.getenv("BULK") or "1000")
local jobs = {}
for i = 1, size do
  jobs[i] = string.format('{"task_path": "arith.add", "args": [%d, 1]}', i)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"jobs": [' .. table.concat(jobs, ",") .. ']}'
