// Package web is the HTTP face of the CRM: the gin engine, middleware, thin
// JSON handlers that bind, call one service and render, and the embedded
// web app.
package web

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/chatbot"
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
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/reminder"
	"github.com/dingcrm/crm/internal/report"
	"github.com/dingcrm/crm/internal/role"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/settings"
	"github.com/dingcrm/crm/internal/system"
	"github.com/dingcrm/crm/internal/user"
)

// Deps is everything the HTTP layer calls; the app wires it.
type Deps struct {
	Log          *slog.Logger
	Messages     i18n.Catalog
	KV           kv.Store
	Sessions     *auth.Sessions
	Loader       *auth.Loader
	Login        *login.Service
	Customers    *customer.Service
	Users        *user.Service
	Roles        *role.Service
	Audit        *audit.Service
	Contacts     *contact.Service
	Followups    *followup.Service
	Products     *product.Service
	Sales        *sale.Service
	Deals        *deal.Service
	Pool         *pool.Service
	Excel        *excel.Service
	OrgSync      *orgsync.Service
	Reports      *report.Service
	Settings     *settings.Service
	Reminders    *reminder.Service
	Inbox        *outbox.Inbox
	WebFiles     fs.FS
	Simulated    bool
	Lang         string
	Location     *time.Location
	MaxBodyBytes int64
	SecureCookie bool
	SessionTTL   time.Duration
	Version      string
	Trusted      []string
	DingTalk     DingTalkDeps // client and effective settings, for the DingTalk login and settings routes
	Jobs         *jobs.Registry
	Robots       *grouprobot.Service
	Bot          *chatbot.Service // the chat bot's HTTP callback (POST /dingtalk/robot)

	// Operations (系统维护, probes, metrics).
	Ready           ReadyChecks // /readyz's checks (kv is checked through KV)
	System          *system.Service
	MaxBackupUpload int64  // cap of an uploaded archive
	MetricsToken    string // bearer token that may read /metrics from anywhere
	// CallbackRate caps each address's requests per minute to DingTalk's
	// callbacks (0: defaultCallbackRate).
	CallbackRate int64
}

// defaultCallbackRate is generous: DingTalk pushes a big org change as
// bursts of events from a few addresses, and a refused push is retried.
const defaultCallbackRate = 600

// ReadyChecks are /readyz's dependency checks; each must honour ctx's
// deadline.
type ReadyChecks struct {
	DB func(ctx context.Context) error
}

// Server holds the handlers' dependencies.
type Server struct {
	Deps
	log      *slog.Logger
	msg      i18n.Catalog
	kv       kv.Store
	sessions *auth.Sessions
	loader   *auth.Loader
	loc      *time.Location
	lang     string
	maxBody  int64
	engine   *gin.Engine
	// openAPIDoc is the merged OpenAPI document, built once at start.
	openAPIDoc []byte
}

// New builds the engine with every route.
func New(d Deps) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{Deps: d, log: d.Log, msg: d.Messages, kv: d.KV, sessions: d.Sessions, loader: d.Loader,
		loc: d.Location, lang: d.Lang, maxBody: d.MaxBodyBytes}
	doc, err := buildOpenAPI()
	if err != nil {
		return nil, err
	}
	s.openAPIDoc = doc
	e := gin.New()
	e.HandleMethodNotAllowed = false
	if err := e.SetTrustedProxies(d.Trusted); err != nil {
		return nil, err
	}
	e.Use(s.requestID, observe, s.accessLog, s.recoverPanic, s.securityHeaders, s.limitBody)
	s.routes(e)
	s.engine = e
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Routes lists every registered API route as "METHOD path" (the OpenAPI
// and permission tests are built from it).
func (s *Server) Routes() []gin.RouteInfo { return s.engine.Routes() }

func (s *Server) routes(e *gin.Engine) {
	s.opsRoutes(e) // /healthz, /readyz, /metrics
	s.dingtalkEventRoutes(e)
	if s.Bot != nil {
		e.POST("/dingtalk/robot", s.callbackLimit(), gin.WrapH(s.Bot.CallbackHandler()))
	}
	api := e.Group("/api/v1")
	api.GET("/openapi.json", s.openAPI)
	api.GET("/meta/options", s.options)
	if s.Simulated {
		api.GET("/auth/dev-users", s.devUsers)
		api.POST("/auth/dev-login", s.rateLimit("login", 30, time.Minute), s.devLogin)
	}
	s.dingtalkLoginRoutes(api, e)

	in := api.Group("", s.authenticate, s.csrf)
	in.POST("/auth/logout", s.logout)
	in.GET("/me", s.me)
	in.PATCH("/me", s.updateMe)

	in.GET("/customers", s.listCustomers)
	in.POST("/customers", s.createCustomer)
	in.GET("/customers/:id", s.getCustomer)
	in.PATCH("/customers/:id", s.updateCustomer)
	in.DELETE("/customers/:id", s.deleteCustomer)
	in.POST("/customers/:id/restore", s.restoreCustomer)
	in.GET("/customers/:id/timeline", s.customerTimeline)
	in.GET("/recycle-bin/customers", s.listDeletedCustomers)

	in.GET("/users", s.listUsers)
	in.POST("/users", s.createUser)
	in.GET("/users/:id", s.getUser)
	in.PATCH("/users/:id", s.updateUser)
	in.DELETE("/users/:id", s.deactivateUser)
	in.POST("/users/:id/activate", s.activateUser)
	in.PUT("/users/:id/roles", s.setUserRoles)
	in.GET("/departments", s.listDepartments)
	in.GET("/roles", s.listRoles)

	in.GET("/audit", s.listAudit)

	// The records modules register their own routes (one handlers file each).
	s.contactRoutes(in)
	s.followupRoutes(in)
	s.saleRoutes(in) // products and sales records
	s.dealRoutes(in) // opportunities, stages, pipeline
	s.poolRoutes(in)
	s.excelRoutes(in) // imports and exports
	s.orgsyncRoutes(in)
	s.roleRoutes(in) // roles (权限管理), login log, log exports
	s.settingsRoutes(api, in)
	s.reminderRoutes(in) // 提醒 and the in-app inbox
	s.jobsRoutes(in)     // scheduled jobs (定时任务) and group robots
	s.systemRoutes(in)   // 系统维护: version, backups, retention
	s.reportRoutes(in)   // reports, RFM settings, targets

	e.NoRoute(s.static)
}
