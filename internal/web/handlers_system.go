package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/metrics"
	"github.com/dingcrm/crm/internal/system"
)

// opsRoutes are the probes and metrics a load balancer and Prometheus call:
// no session, no CSRF.
func (s *Server) opsRoutes(e *gin.Engine) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics)
}

// systemRoutes is 系统维护: version and migrations, backups, retention.
func (s *Server) systemRoutes(g *gin.RouterGroup) {
	g.GET("/system/info", s.systemInfo)
	g.GET("/system/settings", s.systemSettings)
	g.PATCH("/system/settings", s.updateSystemSettings)
	g.GET("/system/backups", s.listBackups)
	g.POST("/system/backups", s.startBackup)
	g.GET("/system/backups/progress", s.backupProgress)
	g.POST("/system/backups/upload",
		s.withBodyLimit(s.MaxBackupUpload, "system.upload_too_large", map[string]any{"mb": s.MaxBackupUpload >> 20}),
		s.uploadBackup)
	g.GET("/system/backups/:name", s.downloadBackup)
}

// healthz is liveness: the process serves HTTP. It touches nothing else,
// so a slow database never gets a healthy instance restarted.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.Version})
}

// readyProbeTimeout bounds each dependency check of /readyz, so the probe
// answers within about a second even when a dependency hangs.
const readyProbeTimeout = time.Second

// readyz is readiness: the database answers. 503 otherwise, so the load
// balancer sends no traffic to an instance that cannot serve. kv (Redis)
// is reported but does not fail the probe: every instance shares the one
// Redis, and without it they still serve (sessions from the database, rate
// limits open, scheduled ticks skipped), so taking them all out of the
// load balancer would turn a degradation into an outage.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyProbeTimeout)
	defer cancel()
	var dbErr, kvErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); dbErr = s.Ready.DB(ctx) }()
	go func() { defer wg.Done(); kvErr = s.kv.Ping(ctx) }()
	wg.Wait()
	body := gin.H{"status": "ok", "version": s.Version, "database": "ok", "kv": "ok"}
	code := http.StatusOK
	if dbErr != nil {
		body["database"], body["status"], code = "unavailable", "unavailable", http.StatusServiceUnavailable
	}
	if kvErr != nil {
		body["kv"] = "unavailable"
		if code == http.StatusOK {
			body["status"] = "degraded"
		}
	}
	if code != http.StatusOK {
		s.log.Warn("not ready", "database", dbErr, "kv", kvErr)
	}
	c.JSON(code, body)
}

// metrics serves Prometheus. Allowed: a caller presenting the configured
// bearer token, or a loopback caller that did not come through a proxy (a
// local proxy forwarding the public's request would otherwise look local).
func (s *Server) metrics(c *gin.Context) {
	if !s.metricsAllowed(c.Request) {
		c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
		c.String(http.StatusForbidden, "metrics: loopback or bearer token only\n")
		return
	}
	metrics.Handler().ServeHTTP(c.Writer, c.Request)
}

func (s *Server) metricsAllowed(r *http.Request) bool {
	if tok := s.MetricsToken; tok != "" {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+tok)) == 1 {
			return true
		}
	}
	for _, h := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// observe records every request's latency under its route template.
func observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched" // the web app's files and unknown paths
	}
	metrics.ObserveHTTP(route, c.Request.Method, c.Writer.Status(), time.Since(start))
}

func (s *Server) systemInfo(c *gin.Context) {
	in, err := s.System.Info(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, in)
}

func (s *Server) systemSettings(c *gin.Context) {
	st, err := s.System.Settings(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (s *Server) updateSystemSettings(c *gin.Context) {
	var in system.SettingsInput
	if !s.bind(c, &in) {
		return
	}
	st, err := s.System.UpdateSettings(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

type backupList struct {
	Items    []system.BackupFile `json:"items"`
	Progress system.Progress     `json:"progress"`
}

func (s *Server) listBackups(c *gin.Context) {
	ctx, a := c.Request.Context(), actorOf(c)
	items, err := s.System.Backups(ctx, a)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.System.BackupProgress(ctx, a)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, backupList{Items: items, Progress: p})
}

// startBackup begins a backup in the background: 202 and the progress to
// poll (GET /system/backups/progress); 409 while one runs.
func (s *Server) startBackup(c *gin.Context) {
	p, err := s.System.StartBackup(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/system/backups/progress")
	c.JSON(http.StatusAccepted, p)
}

func (s *Server) backupProgress(c *gin.Context) {
	p, err := s.System.BackupProgress(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// uploadBackup takes an archive as the raw request body, verifies every
// checksum and keeps it in the backup folder. It restores nothing.
func (s *Server) uploadBackup(c *gin.Context) {
	f, sum, err := s.System.Upload(c.Request.Context(), actorOf(c), c.Request.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.tooLarge(c, "system.upload_too_large", map[string]any{"mb": s.MaxBackupUpload >> 20})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"file": f, "tables": sum.Tables, "rows": sum.Rows,
		"schema_version": sum.SchemaVersion, "dialect": sum.Dialect})
}

func (s *Server) downloadBackup(c *gin.Context) {
	f, info, err := s.System.OpenBackup(c.Request.Context(), actorOf(c), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	defer f.Close()
	c.Header("Content-Disposition", attachment(info.Name))
	c.Header("Cache-Control", "no-store")
	http.ServeContent(c.Writer, c.Request, info.Name, info.ModTime, f)
}
