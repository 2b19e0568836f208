package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envVar binds one CRM_* variable to a field. Listing them by hand keeps the
// set of variables greppable and documented in one place.
type envVar struct {
	name string
	set  func(c *Config, v string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*p(c) = b
		return nil
	}
}

func integer(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", v)
		}
		*p(c) = n
		return nil
	}
}

var envVars = []envVar{
	{"CRM_HTTP_ADDR", str(func(c *Config) *string { return &c.HTTP.Addr })},
	{"CRM_WEB_DIR", str(func(c *Config) *string { return &c.HTTP.WebDir })},
	{"CRM_DATA_DIR", str(func(c *Config) *string { return &c.DataDir })},
	{"CRM_DATABASE_DRIVER", str(func(c *Config) *string { return &c.Database.Driver })},
	{"CRM_DATABASE_DSN", str(func(c *Config) *string { return &c.Database.DSN })},
	{"CRM_DATABASE_AUTO_MIGRATE", boolean(func(c *Config) *bool { return &c.Database.AutoMigrate })},
	{"CRM_REDIS_ADDR", str(func(c *Config) *string { return &c.Redis.Addr })},
	{"CRM_REDIS_PASSWORD", str(func(c *Config) *string { return &c.Redis.Password })},
	{"CRM_REDIS_DB", integer(func(c *Config) *int { return &c.Redis.DB })},
	{"CRM_REDIS_PREFIX", str(func(c *Config) *string { return &c.Redis.Prefix })},
	{"CRM_TIMEZONE", str(func(c *Config) *string { return &c.Timezone })},
	{"CRM_LANG", str(func(c *Config) *string { return &c.Lang })},
	{"CRM_SESSION_TTL", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("want a duration like 168h, got %q", v)
		}
		c.Session.TTL = d
		return nil
	}},
	{"CRM_SESSION_SECURE", boolean(func(c *Config) *bool { return &c.Session.Secure })},
	{"CRM_DINGTALK_MODE", str(func(c *Config) *string { return &c.DingTalk.Mode })},
	{"CRM_DINGTALK_APP_KEY", str(func(c *Config) *string { return &c.DingTalk.AppKey })},
	{"CRM_DINGTALK_APP_SECRET", str(func(c *Config) *string { return &c.DingTalk.AppSecret })},
	{"CRM_DINGTALK_AGENT_ID", str(func(c *Config) *string { return &c.DingTalk.AgentID })},
	{"CRM_DINGTALK_CORP_ID", str(func(c *Config) *string { return &c.DingTalk.CorpID })},
	{"CRM_DINGTALK_CALLBACK_TOKEN", str(func(c *Config) *string { return &c.DingTalk.CallbackToken })},
	{"CRM_DINGTALK_AES_KEY", str(func(c *Config) *string { return &c.DingTalk.AESKey })},
	{"CRM_DINGTALK_TRANSPORT", str(func(c *Config) *string { return &c.DingTalk.Transport })},
	{"CRM_DINGTALK_QPS", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("want a number, got %q", v)
		}
		c.DingTalk.QPS = f
		return nil
	}},
	{"CRM_DINGTALK_PUBLIC_URL", str(func(c *Config) *string { return &c.DingTalk.PublicURL })},
	{"CRM_DINGTALK_LEAVER_CUSTOMERS", str(func(c *Config) *string { return &c.DingTalk.LeaverCustomers })},
	{"CRM_DINGTALK_OAPI_BASE_URL", str(func(c *Config) *string { return &c.DingTalk.OAPIBaseURL })},
	{"CRM_DINGTALK_API_BASE_URL", str(func(c *Config) *string { return &c.DingTalk.APIBaseURL })},
	{"CRM_DINGTALK_LOGIN_BASE_URL", str(func(c *Config) *string { return &c.DingTalk.LoginBaseURL })},
	{"CRM_HTTP_SHUTDOWN_TIMEOUT", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("want a duration like 30s, got %q", v)
		}
		c.HTTP.ShutdownTimeout = d
		return nil
	}},
	{"CRM_BACKUP_DIR", str(func(c *Config) *string { return &c.Backup.Dir })},
	{"CRM_BACKUP_KEEP", integer(func(c *Config) *int { return &c.Backup.Keep })},
	{"CRM_BACKUP_MAX_UPLOAD_BYTES", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("want a whole number of bytes, got %q", v)
		}
		c.Backup.MaxUploadBytes = n
		return nil
	}},
	{"CRM_METRICS_TOKEN", str(func(c *Config) *string { return &c.Metrics.Token })},
	{"CRM_LOG_LEVEL", str(func(c *Config) *string { return &c.Log.Level })},
	{"CRM_LOG_FORMAT", str(func(c *Config) *string { return &c.Log.Format })},
}

func applyEnv(c *Config, env func(string) (string, bool)) error {
	if env == nil {
		return nil
	}
	for _, ev := range envVars {
		v, ok := env(ev.name)
		if !ok {
			continue
		}
		if err := ev.set(c, strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("config: %s: %w", ev.name, err)
		}
	}
	return nil
}
