package dingtalktest

import (
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"
)

// Todo is a to-do the fake created.
type Todo struct {
	ID             string
	CreatorUnionID string // path unionId
	OperatorID     string // operatorId query parameter
	Subject        string
	Description    string
	SourceID       string
	DueTime        int64 // ms
	ExecutorIDs    []string
	ParticipantIDs []string
	AppURL         string
	PCURL          string
	Priority       int
	DingNotify     string
	Body           json.RawMessage
	Created        time.Time
}

// Todos returns every to-do created, oldest first.
func (s *Server) Todos() []Todo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Todo(nil), s.todos...)
}

func (s *Server) createTodo(r *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in struct {
		Subject        string   `json:"subject"`
		Description    string   `json:"description"`
		SourceID       string   `json:"sourceId"`
		CreatorID      string   `json:"creatorId"`
		DueTime        int64    `json:"dueTime"`
		ExecutorIDs    []string `json:"executorIds"`
		ParticipantIDs []string `json:"participantIds"`
		DetailURL      struct {
			AppURL string `json:"appUrl"`
			PCURL  string `json:"pcUrl"`
		} `json:"detailUrl"`
		Priority      int `json:"priority"`
		NotifyConfigs struct {
			DingNotify string `json:"dingNotify"`
		} `json:"notifyConfigs"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errNew(400, "todo.taskCreate.paramError", "bad body")
	}
	union := r.PathValue("unionId")
	paramErr := func(msg string) *apiErr { return errNew(400, "todo.taskCreate.paramError", msg) }
	switch {
	case in.Subject == "" || utf8.RuneCountInString(in.Subject) > 1024:
		return nil, paramErr("subject oversize or empty")
	case utf8.RuneCountInString(in.Description) > 4096:
		return nil, paramErr("description oversize")
	case len(in.ExecutorIDs) > 100:
		return nil, paramErr("executors oversize")
	case in.DetailURL.AppURL == "" && in.DetailURL.PCURL == "":
		return nil, paramErr("detailUrl is required")
	case in.DueTime < 0:
		return nil, paramErr("dueTime invalid")
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.org.union[union]; !ok {
		return nil, errNew(400, "todo.taskCreate.paramError", "unionId not found")
	}
	for _, id := range append(append([]string(nil), in.ExecutorIDs...), in.ParticipantIDs...) {
		if _, ok := s.org.union[id]; !ok {
			return nil, paramErr("executor or participant not found: " + id)
		}
	}
	if in.SourceID != "" {
		if s.todoSrc[in.SourceID] {
			return nil, paramErr("task exist")
		}
		s.todoSrc[in.SourceID] = true
	}
	t := Todo{
		ID: newID(24), CreatorUnionID: union, OperatorID: r.URL.Query().Get("operatorId"),
		Subject: in.Subject, Description: in.Description, SourceID: in.SourceID, DueTime: in.DueTime,
		ExecutorIDs: in.ExecutorIDs, ParticipantIDs: in.ParticipantIDs, AppURL: in.DetailURL.AppURL,
		PCURL: in.DetailURL.PCURL, Priority: in.Priority, DingNotify: in.NotifyConfigs.DingNotify,
		Body: body, Created: now,
	}
	s.todos = append(s.todos, t)
	ms := now.UnixMilli()
	return map[string]any{
		"id": t.ID, "subject": t.Subject, "description": t.Description, "startTime": ms, "dueTime": t.DueTime,
		"finishTime": 0, "done": false, "executorIds": nonNil(t.ExecutorIDs), "participantIds": nonNil(t.ParticipantIDs),
		"detailUrl": map[string]string{"appUrl": t.AppURL, "pcUrl": t.PCURL}, "source": "isv_dingtalkTodo",
		"sourceId": t.SourceID, "createdTime": ms, "modifiedTime": ms, "creatorId": union, "modifierId": union,
		"bizTag": "", "requestId": newID(13), "priority": t.Priority,
	}, nil
}
