package dingtalk

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	todo "github.com/alibabacloud-go/dingtalk/todo_1_0"
	"github.com/alibabacloud-go/tea/tea"
)

// Todo is a DingTalk to-do ("工作待办") to create. People are unionIds, so
// keep the unionid from the org sync.
type Todo struct {
	CreatorUnionID string // path unionId and operatorId: the creator
	Subject        string // required, ≤ 1024 characters
	Description    string // ≤ 4096 characters
	SourceID       string // the CRM's own id of the thing (one task per id)
	DueTime        time.Time
	ExecutorIDs    []string
	ParticipantIDs []string
	AppURL         string // detail link on mobile; required since 2024-02
	PCURL          string // detail link on PC
	Priority       int    // 10, 20, 30 or 40; 0 leaves it unset
	DingNotify     bool   // also send a DING
	Fields         []TodoField
}

// TodoField is one key/value shown on the to-do card.
type TodoField struct {
	Key   string
	Value string
}

// TodoTask is the created to-do.
type TodoTask struct {
	ID        string
	Subject   string
	SourceID  string
	CreatedAt time.Time
	RequestID string
}

// CreateTodo creates a to-do (POST v1.0/todo/users/{unionId}/tasks).
func (c *Client) CreateTodo(ctx context.Context, t Todo) (*TodoTask, error) {
	switch {
	case t.CreatorUnionID == "":
		return nil, fmt.Errorf("%w: to-do needs the creator's unionId", ErrInvalidArgument)
	case t.Subject == "" || utf8.RuneCountInString(t.Subject) > 1024:
		return nil, fmt.Errorf("%w: to-do subject must be 1–1024 characters", ErrInvalidArgument)
	case utf8.RuneCountInString(t.Description) > 4096:
		return nil, fmt.Errorf("%w: to-do description over 4096 characters", ErrInvalidArgument)
	}
	req := &todo.CreateTodoTaskRequest{
		Subject:    tea.String(t.Subject),
		OperatorId: tea.String(t.CreatorUnionID),
		CreatorId:  tea.String(t.CreatorUnionID),
	}
	if t.Description != "" {
		req.Description = tea.String(t.Description)
	}
	if t.SourceID != "" {
		req.SourceId = tea.String(t.SourceID)
	}
	if !t.DueTime.IsZero() {
		req.DueTime = tea.Int64(t.DueTime.UnixMilli())
	}
	if len(t.ExecutorIDs) > 0 {
		req.ExecutorIds = tea.StringSlice(t.ExecutorIDs)
	}
	if len(t.ParticipantIDs) > 0 {
		req.ParticipantIds = tea.StringSlice(t.ParticipantIDs)
	}
	if t.AppURL != "" || t.PCURL != "" {
		req.DetailUrl = &todo.CreateTodoTaskRequestDetailUrl{AppUrl: tea.String(t.AppURL), PcUrl: tea.String(t.PCURL)}
	}
	if t.Priority != 0 {
		req.Priority = tea.Int32(int32(t.Priority))
	}
	if t.DingNotify {
		req.NotifyConfigs = &todo.CreateTodoTaskRequestNotifyConfigs{DingNotify: tea.String("1")}
	}
	for _, f := range t.Fields {
		req.ContentFieldList = append(req.ContentFieldList, &todo.CreateTodoTaskRequestContentFieldList{
			FieldKey: tea.String(f.Key), FieldValue: tea.String(f.Value),
		})
	}
	var resp *todo.CreateTodoTaskResponse
	err := c.do(ctx, APITodoCreate, hostAPI, func(ctx context.Context, token string) (err error) {
		resp, err = sdkCall(ctx, APITodoCreate, func() (*todo.CreateTodoTaskResponse, error) {
			cl, err := c.sdk.todo()
			if err != nil {
				return nil, err
			}
			return cl.CreateTodoTaskWithOptions(tea.String(t.CreatorUnionID), req,
				&todo.CreateTodoTaskHeaders{XAcsDingtalkAccessToken: tea.String(token)}, c.sdk.runtime())
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	b := resp.Body
	return &TodoTask{
		ID: tea.StringValue(b.Id), Subject: tea.StringValue(b.Subject), SourceID: tea.StringValue(b.SourceId),
		CreatedAt: time.UnixMilli(tea.Int64Value(b.CreatedTime)), RequestID: tea.StringValue(b.RequestId),
	}, nil
}
