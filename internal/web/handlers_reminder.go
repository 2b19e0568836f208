package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/paging"
	"github.com/dingcrm/crm/internal/reminder"
)

// reminderRoutes registers 提醒 and the in-app inbox (消息).
func (s *Server) reminderRoutes(g *gin.RouterGroup) {
	g.GET("/reminders", s.listReminders)
	g.POST("/reminders", s.createReminder)
	g.GET("/reminders/recipients", s.reminderRecipients)
	g.GET("/reminders/:id", s.getReminder)
	g.PATCH("/reminders/:id", s.updateReminder)
	g.POST("/reminders/:id/done", s.doneReminder)
	g.POST("/reminders/:id/snooze", s.snoozeReminder)
	g.POST("/reminders/:id/cancel", s.cancelReminder)
	g.GET("/inbox", s.listInbox)
	g.GET("/inbox/unread", s.inboxUnread)
	g.POST("/inbox/read-all", s.readAllInbox)
	g.POST("/inbox/:id/read", s.readInbox)
}

func (s *Server) listReminders(c *gin.Context) {
	p := s.params(c)
	f := reminder.Filter{When: p.str("when"), CustomerID: p.id("customer_id"), OpportunityID: p.id("opportunity_id")}
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, err := s.Reminders.List(c.Request.Context(), *actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// reminderRecipients lists whom the caller may remind (the form's choices).
func (s *Server) reminderRecipients(c *gin.Context) {
	items, err := s.Reminders.Recipients(c.Request.Context(), *actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (s *Server) getReminder(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var r reminder.Reminder
		if r, err = s.Reminders.Get(c.Request.Context(), *actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, r)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) createReminder(c *gin.Context) {
	var in reminder.Input
	if !s.bind(c, &in) {
		return
	}
	r, err := s.Reminders.Create(c.Request.Context(), *actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *Server) updateReminder(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in reminder.Input
	if !s.bind(c, &in) {
		return
	}
	r, err := s.Reminders.Update(c.Request.Context(), *actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) doneReminder(c *gin.Context) {
	s.reminderAction(c, s.Reminders.Done)
}

func (s *Server) cancelReminder(c *gin.Context) {
	s.reminderAction(c, s.Reminders.Cancel)
}

func (s *Server) reminderAction(c *gin.Context, fn func(context.Context, auth.Actor, int64) (reminder.Reminder, error)) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	r, err := fn(c.Request.Context(), *actorOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) snoozeReminder(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in reminder.SnoozeInput
	if !s.bind(c, &in) {
		return
	}
	r, err := s.Reminders.Snooze(c.Request.Context(), *actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

type inboxPage struct {
	Items    []outbox.Entry `json:"items"`
	Total    int            `json:"total"`
	Unread   int            `json:"unread"`
	Page     int            `json:"page"`
	PageSize int            `json:"page_size"`
}

func (s *Server) listInbox(c *gin.Context) {
	p := s.params(c)
	unread := p.boolean("unread")
	pg, size := p.int("page"), p.int("page_size")
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	var v errs.Invalid
	paging.Check(&v, &pg, &size)
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	items, total, n, err := s.Inbox.List(c.Request.Context(), actorOf(c), unread != nil && *unread, pg, size)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, inboxPage{Items: items, Total: total, Unread: n, Page: pg, PageSize: size})
}

func (s *Server) inboxUnread(c *gin.Context) {
	n, err := s.Inbox.Unread(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"unread": n})
}

func (s *Server) readInbox(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.Inbox.MarkRead(c.Request.Context(), actorOf(c), id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) readAllInbox(c *gin.Context) {
	if err := s.Inbox.MarkRead(c.Request.Context(), actorOf(c), 0); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
