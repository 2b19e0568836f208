package dingtalktest

import (
	"net/http"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// AnyAPI matches every API in FailNext, DelayNext, SetLatency and SetQPS.
const AnyAPI = "*"

// IPBan is the FailNext code of the per-IP ban answer
// ({"status":1111,"wait":5,"punish":"deny"} on HTTP 200).
const IPBan = 1111

type fault struct {
	code  int
	delay time.Duration
}

// FailNext makes the next n calls of api fail with code: an HTTP status
// (100–599, e.g. 429, 500, 503), IPBan (oapi endpoints), or an errcode
// (e.g. -1, 90018, 90002, 90020, 40014; 88 comes with sub_code 60011),
// written in the API's style (new-style APIs get the matching HTTP status
// and code).
func (s *Server) FailNext(api string, code, n int) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for range n {
		s.faults[api] = append(s.faults[api], fault{code: code})
	}
}

// DelayNext makes the next n calls of api wait d before answering
// normally (a client with a shorter timeout sees timeouts).
func (s *Server) DelayNext(api string, d time.Duration, n int) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for range n {
		s.faults[api] = append(s.faults[api], fault{delay: d})
	}
}

// SetLatency makes every call of api (or AnyAPI) wait d; 0 removes it.
func (s *Server) SetLatency(api string, d time.Duration) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.latency[api] = d
}

// SetQPS sets api's (or AnyAPI's) limit of calls per second; over it the
// call answers 90018 (Forbidden.AccessDenied.QpsLimitForAppkeyAndApi on
// the api host). n ≤ 0 lifts the limit. The default is Options.QPS (20).
func (s *Server) SetQPS(api string, n int) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.qps[api] = n
}

// SetMonthlyQuota limits the calls per calendar month (Asia/Shanghai) of
// the APIs that are not quota-exempt; once spent they answer 90020
// (Forbidden.AccessDenied.ApiCountLimitForOrg). 0 lifts the limit.
func (s *Server) SetMonthlyQuota(n int64) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.quota = n
}

// Calls returns how many requests reached api (faulted ones included).
func (s *Server) Calls(api string) int {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.calls[api]
}

// TokenRequests returns the app-token requests of both hosts.
func (s *Server) TokenRequests() int {
	return s.Calls(dingtalk.APIGetToken) + s.Calls(dingtalk.APIAccessToken)
}

// QuotaUsed returns the quota-counted calls of the current month.
func (s *Server) QuotaUsed() int64 {
	month := dingtalk.Month(s.Now())
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.monthCalls[month]
}

func (s *Server) countCall(api string) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.calls[api]++
}

// takeFault pops api's next fault and returns it with the delay to apply.
func (s *Server) takeFault(api string) (*apiErr, time.Duration) {
	s.fmu.Lock()
	delay := s.latency[api] + s.latency[AnyAPI]
	var f *fault
	for _, key := range []string{api, AnyAPI} {
		if q := s.faults[key]; len(q) > 0 {
			f = &q[0]
			s.faults[key] = q[1:]
			break
		}
	}
	s.fmu.Unlock()
	if f == nil {
		return nil, delay
	}
	if f.delay > 0 {
		return nil, delay + f.delay
	}
	switch {
	case f.code == IPBan:
		return &apiErr{raw: `{"status":1111,"wait":5,"punish":"deny"}`}, delay
	case f.code >= 100 && f.code <= 599:
		return &apiErr{status: f.code, msg: http.StatusText(f.code)}, delay
	}
	e := errc(f.code, errMsg(f.code))
	if f.code == 88 {
		e.subCode = "60011" // 鉴权异常: the app lacks the permission
	}
	return e, delay
}

// errMsg is the platform's message for the codes the fault injection uses.
func errMsg(code int) string {
	switch code {
	case -1:
		return "系统繁忙"
	case 90018:
		return "当前应用调用该接口并发量超过限制"
	case 90002:
		return "当前接口调用并发量超过平台限制"
	case 90020:
		return "当前企业调用API次数已达月度上限"
	case 40014:
		return "不合法的access_token"
	case 42001:
		return "access_token超时"
	case 88:
		return "鉴权异常"
	}
	return "fault injected"
}

// allowQPS admits a call if api made fewer than its limit in the last second.
// The window runs on the real clock plus Advance (not Options.Now, which a
// test may freeze), since it is about the real pace of calls.
func (s *Server) allowQPS(api string) bool {
	s.clockMu.Lock()
	now := time.Now().Add(s.offset)
	s.clockMu.Unlock()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	limit := s.opts.QPS
	if v, ok := s.qps[AnyAPI]; ok {
		limit = v
	}
	if v, ok := s.qps[api]; ok {
		limit = v
	}
	if limit <= 0 {
		return true
	}
	w := s.window[api]
	cut := 0
	for cut < len(w) && now.Sub(w[cut]) >= time.Second {
		cut++
	}
	w = w[cut:]
	if len(w) >= limit {
		s.window[api] = w
		return false
	}
	s.window[api] = append(w, now)
	return true
}

// takeQuota counts a quota call and reports whether the quota allowed it.
func (s *Server) takeQuota() bool {
	month := dingtalk.Month(s.Now())
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.quota > 0 && s.monthCalls[month] >= s.quota {
		return false
	}
	s.monthCalls[month]++
	return true
}
