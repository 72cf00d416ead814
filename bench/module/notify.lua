-- SPDX-License-Identifier: BSD-2-Clause
-- wrk: notify the pre-registered group (3 devices; the origin is one of them).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"tail":"T-000042","origin":"00000000000000000000000000000001"}'
