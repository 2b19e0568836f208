// Package metrics is the CRM's Prometheus instrumentation: HTTP latency by
// route template, the database pool, DingTalk calls by API and errcode, job
// runs and failures, and the outbox backlog. Other packages call its small
// functions (JobRun, DingTalkCall, SetOutbox); the web layer serves Handler
// on GET /metrics.
//
// The collectors live in one process-wide registry, as metrics are
// process-wide facts (what this process served, called and ran); nothing in
// it is configuration, and tests only read it.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "crm"

var (
	registry = prometheus.NewRegistry()

	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "http_request_duration_seconds",
		Help:    "HTTP request latency by route template (never the raw path), method and status code.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method", "code"})

	dingtalkCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "dingtalk_calls_total",
		Help: "DingTalk API attempts by API and result code (0 = success, the errcode or new-style code, or transport).",
	}, []string{"api", "errcode"})
	dingtalkDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "dingtalk_call_duration_seconds",
		Help:    "DingTalk API attempt latency by API.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"api"})

	jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "job_runs_total",
		Help: "Background job runs by job name and result (ok or failed).",
	}, []string{"job", "result"})
	jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "job_duration_seconds",
		Help:    "Background job run time by job name.",
		Buckets: []float64{.1, .5, 1, 5, 15, 60, 300, 900, 3600},
	}, []string{"job"})
	jobLastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "job_last_success_timestamp_seconds",
		Help: "Unix time of each job's last successful run in this process.",
	}, []string{"job"})

	outbox atomic.Pointer[OutboxFunc]
)

// OutboxFunc reports the outbox: messages waiting to be delivered and the
// age of the oldest one.
type OutboxFunc func() (pending int64, oldest time.Duration)

func init() {
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		httpDuration, dingtalkCalls, dingtalkDuration, jobRuns, jobDuration, jobLastSuccess,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "outbox_pending",
			Help: "Outbox messages not yet delivered (0 until an outbox registers with SetOutbox).",
		}, func() float64 { n, _ := readOutbox(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "outbox_oldest_age_seconds",
			Help: "Age of the oldest undelivered outbox message (0 when none).",
		}, func() float64 { _, d := readOutbox(); return d.Seconds() }),
	)
}

// Handler serves the registry in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ObserveHTTP records one request. route is the route template (gin's
// FullPath, e.g. /api/v1/customers/:id), or "unmatched"; never a raw path,
// which would make one series per customer id.
func ObserveHTTP(route, method string, code int, d time.Duration) {
	httpDuration.WithLabelValues(route, method, strconv.Itoa(code)).Observe(d.Seconds())
}

// DingTalkCall records one attempt at a DingTalk API; code is "0" for
// success, the errcode or code of DingTalk's answer, or "transport".
func DingTalkCall(api, code string, d time.Duration) {
	dingtalkCalls.WithLabelValues(api, code).Inc()
	dingtalkDuration.WithLabelValues(api).Observe(d.Seconds())
}

// JobRun records one run of a background job. The scheduler calls it for
// every run; jobs started elsewhere (the admin's "back up now") too.
func JobRun(name string, ok bool, d time.Duration) {
	result := "ok"
	if !ok {
		result = "failed"
	} else {
		jobLastSuccess.WithLabelValues(name).SetToCurrentTime()
	}
	jobRuns.WithLabelValues(name, result).Inc()
	jobDuration.WithLabelValues(name).Observe(d.Seconds())
}

// SetOutbox registers the outbox's backlog reporter (nil removes it). It is
// read at every scrape, so it should be one cheap indexed query, and is
// called with a bounded context by the outbox itself.
func SetOutbox(f OutboxFunc) {
	if f == nil {
		outbox.Store(nil)
		return
	}
	outbox.Store(&f)
}

func readOutbox() (int64, time.Duration) {
	f := outbox.Load()
	if f == nil {
		return 0, 0
	}
	return (*f)()
}

var (
	dbMu        sync.Mutex
	dbCollector prometheus.Collector
)

// RegisterDB exports db's pool statistics (open, in use, idle, waits, wait
// time, closed connections) as go_sql_* series with db_name="crm". A later
// call replaces the earlier database (tests start several apps in one
// process; a server has one).
func RegisterDB(db *sql.DB) {
	dbMu.Lock()
	defer dbMu.Unlock()
	if dbCollector != nil {
		registry.Unregister(dbCollector)
	}
	dbCollector = collectors.NewDBStatsCollector(db, "crm")
	registry.MustRegister(dbCollector)
}
