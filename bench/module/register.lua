-- SPDX-License-Identifier: BSD-2-Clause
-- wrk: every request registers a new token (32 decimal digits are valid hex) in one of 1000 groups.
local counter = 0
local thread_id = 0
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"bundle_id":"com.example.app","app_version":"4.1"}'

function request()
  counter = counter + 1
  local token = string.format("%08d%024d", thread_id + 1, counter)
  return wrk.format(nil, "/v1/groups/bench-" .. (counter % 1000) .. "/devices/" .. token)
end
