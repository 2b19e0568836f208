// Package app builds the CRM from its Config: database, shared state,
// services and the HTTP server, wired explicitly in one place.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/chatbot"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/excel"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/grouprobot"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/jobs"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/login"
	"github.com/dingcrm/crm/internal/metrics"
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/reminder"
	"github.com/dingcrm/crm/internal/report"
	reportsummary "github.com/dingcrm/crm/internal/report/summary"
	"github.com/dingcrm/crm/internal/role"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/settings"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/summary"
	"github.com/dingcrm/crm/internal/system"
	"github.com/dingcrm/crm/internal/user"
	"github.com/dingcrm/crm/internal/web"
	webfiles "github.com/dingcrm/crm/web"
)

// Version is set at build time with -ldflags "-X .../internal/app.Version=…".
var Version = "dev"

// ErrPendingMigrations means MySQL has unapplied migrations and the server
// was not told to apply them.
var ErrPendingMigrations = errors.New("app: the database has pending migrations; run `crm migrate up` (a backup first is wise) or start with --migrate")

// App is a running CRM's parts.
type App struct {
	cfg config.Config
	log *slog.Logger
	DB  *store.DB
	KV  kv.Store
	Web *web.Server
	// DingTalk is the client for the open platform (or the in-process fake
	// in simulated mode, which FakeDingTalk then holds).
	DingTalk     *dingtalk.Client
	FakeDingTalk *dingtalktest.Server
	// OrgSync keeps people and departments in step with DingTalk.
	OrgSync *orgsync.Service
	// Jobs is the scheduler's registry; Serve starts it, Close stops it.
	Jobs *jobs.Registry
	// Bot answers the chat bot's messages (HTTP callback and Stream).
	Bot *chatbot.Service
	// settings is the company settings (系统设置), for jobs that read them.
	settings *settings.Service
	zone     *time.Location // the company time zone read at start-up (companyZone)
	// Reminders and Outbox: 提醒, and the dispatcher of notifications (the
	// dispatch-reminders, check-send-results and morning-digest jobs).
	Reminders *reminder.Service
	Outbox    *outbox.Dispatcher
	// System is 系统维护: backups (the "backup" job) and log retention
	// (the "log-retention" job).
	System *system.Service
	// Indexer writes the search index of customers imported in bulk.
	Indexer *customer.Indexer
	started time.Time

	shutdownMu    sync.Mutex
	shutdownHooks []func(context.Context) error
}

// OnShutdown registers work to finish when the server stops (running jobs,
// queued deliveries). Serve calls the hooks after the HTTP server has
// drained, in registration order, with the remaining shutdown time.
func (a *App) OnShutdown(fn func(context.Context) error) {
	a.shutdownMu.Lock()
	defer a.shutdownMu.Unlock()
	a.shutdownHooks = append(a.shutdownHooks, fn)
}

// Settings is the company settings service (quiet hours, time zone, lists).
func (a *App) Settings() *settings.Service { return a.settings }

// New opens the database and shared state, checks the schema, seeds what
// is needed and wires the services and the HTTP server.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log, started: time.Now()}
	db, err := store.Open(ctx, store.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, SQLitePath: cfg.SQLitePath()})
	if err != nil {
		return nil, err
	}
	a.DB = db
	if err := a.prepareSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if a.KV, err = openKV(ctx, cfg); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.openDingTalk(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.seed(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.wire(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.startStream() // dingtalk.transport stream (stream.go); App.Close stops it with OrgSync
	return a, nil
}

func (a *App) prepareSchema(ctx context.Context) error {
	pending, err := a.DB.CheckSchema(ctx)
	if err != nil {
		return err
	}
	if pending == 0 {
		return a.syncReportZone(ctx)
	}
	if a.DB.Dialect == store.MySQL && !a.cfg.Database.AutoMigrate {
		return fmt.Errorf("%w (%d pending)", ErrPendingMigrations, pending)
	}
	n, err := a.DB.MigrateUp(ctx)
	if err != nil {
		return err
	}
	a.log.Info("migrations applied", "count", n)
	return a.syncReportZone(ctx)
}

// companyZone is the company's time zone from the settings (系统设置),
// falling back to the configured one if they cannot be read. It is read
// once at start-up: the scheduler, the summaries and the reminders keep it
// until the process restarts (docs/OPERATIONS.md).
func (a *App) companyZone(ctx context.Context) *time.Location {
	c, err := a.settings.Company(ctx)
	if err != nil {
		a.log.Warn("company time zone unreadable; using the configured one", "err", err, "zone", a.cfg.Location().String())
		return a.cfg.Location()
	}
	return c.Location()
}

// syncReportZone files the report summaries by the company zone's offset
// (a rebuild when the configured zone changed since they were filled).
func (a *App) syncReportZone(ctx context.Context) error {
	return reportsummary.SyncZone(ctx, a.DB, a.cfg.Location())
}

func openKV(ctx context.Context, cfg config.Config) (kv.Store, error) {
	if cfg.Redis.Addr == "" {
		return kv.NewMemory(), nil
	}
	return kv.NewRedis(ctx, cfg.Redis.Addr, cfg.Redis.Password, cfg.Redis.DB, cfg.Redis.Prefix)
}

func (a *App) seed(ctx context.Context) error {
	if err := seed.EnsureRoles(ctx, a.DB); err != nil {
		return err
	}
	if err := a.openOrgSync(); err != nil {
		return err
	}
	if !a.cfg.Simulated() {
		return nil
	}
	// The simulated organization comes in through a real full sync from the
	// in-process fake DingTalk, as a real organization would.
	created, err := a.OrgSync.SyncIfEmpty(ctx)
	if err != nil || !created {
		return err
	}
	a.log.Info("simulated DingTalk organization synced (模拟钉钉组织)", "people", len(seed.SimulatedPeople))
	if err := seed.DemoCustomers(ctx, a.DB, 6); err != nil {
		return err
	}
	return product.SeedDemo(ctx, a.DB)
}

func (a *App) wire(ctx context.Context) error {
	msgs, err := i18n.Load()
	if err != nil {
		return err
	}
	sessions := auth.NewSessions(a.DB, a.KV, a.cfg.Session.TTL, a.log)
	loader := auth.NewLoader(a.DB)
	auditLog := audit.NewService(a.DB)
	reports := report.NewService(a.DB, a.cfg.Location(), msgs)
	company := settings.NewService(a.DB, a.KV, a.cfg.Redis.Addr != "", msgs, a.cfg.Lang, a.cfg.Location())
	a.settings = company
	a.zone = a.companyZone(ctx)
	// Customers, follow-ups and opportunities validate against the
	// company's editable option lists.
	customers := customer.NewService(a.DB, customer.NewStore(a.DB), loader, auditLog)
	customers.SetOptions(company)
	followups := followup.NewService(a.DB)
	followups.SetOptions(company)
	deals := deal.NewService(a.DB, customer.NewStore(a.DB), loader, sale.NewService(a.DB, customer.NewStore(a.DB), loader, a.cfg.Location()))
	deals.SetOptions(company)
	pools := pool.NewService(a.DB, loader)
	pools.SetOptions(company)
	exports := excel.NewService(a.DB, msgs, a.cfg.Location(), a.log)
	exports.SetOptionLabels(company)
	files, err := a.webFiles()
	if err != nil {
		return err
	}
	a.wireOutbox()
	sales := sale.NewService(a.DB, customer.NewStore(a.DB), loader, a.cfg.Location())
	robots := grouprobot.NewService(a.DB, a.DingTalk)
	// The summaries' work notifications go through the outbox.
	sum := summary.New(a.DB, loader, robots, outboxNotifier{db: a.DB}, msgs, a.cfg.Lang, a.zone, a.log)
	a.Jobs = a.buildJobs(sum, pools, sessions)
	a.Bot = chatbot.New(chatbot.Deps{DB: a.DB, KV: a.KV, Loader: loader, Customers: customers, Followups: followups,
		Sales: sales, Reminders: botReminders{svc: a.Reminders}, Replier: a.DingTalk, AppSecret: a.robotSecret(),
		WebhookAllowed: a.robotWebhookAllowed, Messages: msgs, Lang: a.cfg.Lang,
		Location: a.cfg.Location(), PublicURL: a.cfg.DingTalk.PublicURL, Log: a.log})
	metrics.RegisterDB(a.DB.DB.DB)
	a.System = system.NewService(a.DB, a.KV, a.log, system.Options{Dir: a.cfg.BackupDir(),
		DefaultKeep: a.cfg.Backup.Keep, AppVersion: Version, Started: a.started})
	a.OnShutdown(a.System.Wait)
	a.Indexer = customer.StartIndexer(customer.NewStore(a.DB), a.log)
	exports.SetIndexer(a.Indexer.Kick)
	a.Web, err = web.New(web.Deps{
		Log: a.log, Messages: msgs, KV: a.KV, Sessions: sessions, Loader: loader,
		Login:     login.NewService(a.DB, sessions, loader, a.DingTalk, a.KV),
		DingTalk:  web.NewDingTalkDeps(a.DingTalk, a.cfg.DingTalk, a.FakeDingTalk),
		Customers: customers,
		Users:     user.NewService(a.DB, user.NewStore(a.DB), sessions),
		Audit:     auditLog,
		Roles:     role.NewService(a.DB),
		Contacts:  contact.NewService(a.DB, customer.NewStore(a.DB)),
		Followups: followups,
		Products:  product.NewService(a.DB),
		Sales:     sales,
		Deals:     deals,
		Pool:      pools,
		Excel:     exports,
		OrgSync:   a.OrgSync,
		Settings:  company,
		Reports:   reports,
		Reminders: a.Reminders, Inbox: outbox.NewInbox(a.DB),
		Jobs: a.Jobs, Robots: robots, Bot: a.Bot,
		WebFiles: files, Simulated: a.cfg.Simulated(), Lang: a.cfg.Lang,
		Location: a.cfg.Location(), MaxBodyBytes: a.cfg.HTTP.MaxBodyBytes, SecureCookie: a.cfg.Session.Secure,
		SessionTTL: a.cfg.Session.TTL, Version: Version, Trusted: a.cfg.HTTP.TrustedProxies,
		Ready: web.ReadyChecks{DB: a.DB.PingContext}, System: a.System,
		MaxBackupUpload: a.cfg.Backup.MaxUploadBytes, MetricsToken: a.cfg.Metrics.Token,
		CallbackRate: a.cfg.HTTP.CallbackRatePerMinute,
	})
	return err
}

func (a *App) webFiles() (fs.FS, error) {
	if a.cfg.HTTP.WebDir != "" {
		return os.DirFS(a.cfg.HTTP.WebDir), nil
	}
	return webfiles.Files, nil
}

// Handler is the HTTP handler (for tests and embedding).
func (a *App) Handler() http.Handler { return a.Web }

// Serve listens on the configured address until ctx ends, then drains.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("app: listen on %s: %w", a.cfg.HTTP.Addr, err)
	}
	srv := &http.Server{Handler: a.Web, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	if ready != nil {
		ready(ln.Addr().String())
	}
	if err := a.Jobs.Start(ctx); err != nil {
		return fmt.Errorf("app: scheduler: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		a.stopJobs()
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let requests in flight finish, then let background
	// work (jobs, an admin's backup) finish, all within the timeout.
	a.log.Info("shutting down: finishing requests in flight and running jobs", "timeout", a.cfg.HTTP.ShutdownTimeout)
	shutdown, cancel := context.WithTimeout(context.Background(), a.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdown)
	a.stopJobs()
	a.shutdownMu.Lock()
	hooks := append([]func(context.Context) error(nil), a.shutdownHooks...)
	a.shutdownMu.Unlock()
	for _, h := range hooks {
		if herr := h(shutdown); herr != nil {
			a.log.Warn("shutdown", "err", herr)
		}
	}
	if err != nil {
		return fmt.Errorf("app: shutdown: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

// jobsGrace is how long shutdown waits for running jobs before cancelling
// them.
const jobsGrace = 30 * time.Second

// stopJobs stops the scheduler, letting running jobs finish (within
// jobsGrace).
func (a *App) stopJobs() {
	if a.Jobs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), jobsGrace)
	defer cancel()
	a.Jobs.Stop(ctx)
}

// Close releases the database and kv connections.
func (a *App) Close() {
	// Background work (jobs, event worker, running syncs) ends before the
	// database it writes to closes.
	a.stopJobs()
	if a.OrgSync != nil {
		a.OrgSync.Close()
	}
	if a.FakeDingTalk != nil {
		a.FakeDingTalk.Close()
	}
	if a.Indexer != nil {
		a.Indexer.Close()
	}
	if a.KV != nil {
		a.KV.Close()
	}
	a.DB.Close()
}
