package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/seed"
)

type devUser struct {
	UserID     string   `json:"userid"`
	Name       string   `json:"name"`
	Title      string   `json:"title"`
	Department string   `json:"department"`
	Roles      []string `json:"roles"`
}

// devUsers lists the simulated organization's people for the login picker.
func (s *Server) devUsers(c *gin.Context) {
	depts := map[int64]string{}
	for _, d := range seed.SimulatedDepartments {
		depts[d.DingTalkID] = d.Name
	}
	roleNames := map[string]string{}
	for _, r := range auth.BuiltinRoles() {
		roleNames[r.Code] = r.Name
	}
	users := make([]devUser, 0, len(seed.SimulatedPeople))
	for _, p := range seed.SimulatedPeople {
		users = append(users, devUser{UserID: p.UserID, Name: p.Name, Title: p.Title,
			Department: depts[p.Depts[0]], Roles: []string{roleNames[p.Role]}})
	}
	c.JSON(http.StatusOK, gin.H{"simulated": true, "users": users})
}

type devLoginInput struct {
	UserID string `json:"userid"`
}

// devLogin signs in a simulated person.
func (s *Server) devLogin(c *gin.Context) {
	var in devLoginInput
	if !s.bind(c, &in) {
		return
	}
	res, err := s.Login.LoginDingTalkUserID(c.Request.Context(), in.UserID, "simulated", c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setSessionCookies(c, res.Token, res.Expires)
	c.Set(ctxLang, s.defaultLang(c, res.Actor.Lang))
	c.JSON(http.StatusOK, gin.H{"user": s.meBody(c, res.Actor, res.Token), "csrf_token": auth.CSRFToken(res.Token), "token": res.Token})
}

func (s *Server) setSessionCookies(c *gin.Context, token string, exp time.Time) {
	maxAge := int(time.Until(exp).Seconds())
	secure := s.SecureCookie || c.Request.TLS != nil
	http.SetCookie(c.Writer, &http.Cookie{Name: cookieSession, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(c.Writer, &http.Cookie{Name: cookieCSRF, Value: auth.CSRFToken(token), Path: "/", MaxAge: maxAge,
		HttpOnly: false, Secure: secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearCookies(c *gin.Context) {
	for _, name := range []string{cookieSession, cookieCSRF} {
		http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == cookieSession,
			SameSite: http.SameSiteLaxMode})
	}
}

func (s *Server) logout(c *gin.Context) {
	if err := s.Login.Logout(c.Request.Context(), actorOf(c), c.GetString(ctxToken)); err != nil {
		s.fail(c, err)
		return
	}
	s.clearCookies(c)
	c.Status(http.StatusNoContent)
}

type meResponse struct {
	ID          int64          `json:"id"`
	UserID      string         `json:"userid"`
	Name        string         `json:"name"`
	Mobile      *string        `json:"mobile"`
	Email       string         `json:"email"`
	Title       string         `json:"title"`
	Lang        string         `json:"lang"`
	Departments any            `json:"departments"`
	Roles       []auth.RoleRef `json:"roles"`
	Permissions []string       `json:"permissions"`
	DataScope   auth.Scope     `json:"data_scope"`
	Simulated   bool           `json:"simulated"`
	CSRFToken   string         `json:"csrf_token"`
	// Timezone is the company's, for showing times.
	Timezone string `json:"timezone"`
}

func (s *Server) meBody(c *gin.Context, a *auth.Actor, token string) meResponse {
	// lang is the person's own choice, else the company's default language
	// (the app then switches to it unless this device chose otherwise).
	lang := i18n.Match(a.Lang)
	if lang == "" {
		lang = s.companyLang(c)
	}
	body := meResponse{ID: a.UserID, UserID: a.DingUserID, Name: a.Name, Lang: lang, Roles: a.Roles,
		Permissions: a.PermList(), DataScope: a.Scope, Simulated: s.Simulated, CSRFToken: auth.CSRFToken(token),
		Timezone: s.loc.String()}
	if s.Settings != nil {
		if co, err := s.Settings.Company(c.Request.Context()); err == nil {
			body.Timezone = co.Timezone
		}
	}
	if body.Roles == nil {
		body.Roles = []auth.RoleRef{}
	}
	body.Departments = []any{}
	if u, err := s.Users.Self(c.Request.Context(), a); err == nil {
		body.Mobile, body.Email, body.Title, body.Departments = u.Mobile, u.Email, u.Title, u.Departments
	}
	return body
}

func (s *Server) me(c *gin.Context) {
	c.JSON(http.StatusOK, s.meBody(c, actorOf(c), c.GetString(ctxToken)))
}

type updateMeInput struct {
	Lang *string `json:"lang"`
}

func (s *Server) updateMe(c *gin.Context) {
	var in updateMeInput
	if !s.bind(c, &in) {
		return
	}
	a := actorOf(c)
	if in.Lang != nil {
		if err := s.Users.SetLang(c.Request.Context(), a, *in.Lang); err != nil {
			s.fail(c, err)
			return
		}
		a.Lang = *in.Lang
		c.Set(ctxLang, s.defaultLang(c, a.Lang))
	}
	c.JSON(http.StatusOK, s.meBody(c, a, c.GetString(ctxToken)))
}
