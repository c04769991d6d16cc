-- One `arith.add` job per request (wrk), with the token from $TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"task_path": "arith.add", "args": [1, 2]}'
