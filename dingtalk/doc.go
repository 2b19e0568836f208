// Package dingtalk is the CRM's client for the DingTalk open platform.
//
// One Client speaks to both hosts: the old-style oapi.dingtalk.com endpoints
// (app token, login-free code, organization lists, work notifications, the
// custom group robot) are hand-written; the new-style api.dingtalk.com
// endpoints (OAuth user token, users/me, robot 1:1 send, to-dos) go through
// the official SDK github.com/alibabacloud-go/dingtalk.
//
// Every call goes through the same road: a per-API token bucket, the app
// token from a cache shared by all instances (refreshed once, a few minutes
// before it expires; dropped and fetched again once on an invalid-token
// answer), retries with jittered exponential backoff on the platform's
// "busy" and QPS answers, no retry on the monthly-quota answer (an alert is
// raised instead), and a per-API, per-month call count.
//
// The package also holds the event-callback crypto (signature, AES payload,
// replay guard, an http.Handler) and the robot request signing. It imports
// nothing from internal/: the app passes in its kv store and call counter
// through the small interfaces declared here.
//
// The fake platform used by the tests lives in package dingtalktest.
package dingtalk
