package dingtalk

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of work notifications (dingtalk-api.md §5).
const (
	MaxNoticeUsers    = 100  // userid_list entries per call
	MaxNoticeDepts    = 20   // dept_id_list entries per call
	MaxNoticeMsgBytes = 2048 // the msg object, JSON-encoded
	MaxMarkdownChars  = 5000 // markdown.text
)

// Message is a work-notification message; set MsgType and the one matching
// field. The constructors below build the common ones.
type Message struct {
	MsgType    string      `json:"msgtype"`
	Text       *Text       `json:"text,omitempty"`
	Markdown   *Markdown   `json:"markdown,omitempty"`
	Link       *Link       `json:"link,omitempty"`
	ActionCard *ActionCard `json:"action_card,omitempty"`
	OA         *OA         `json:"oa,omitempty"`
}

// Text is a plain text message.
type Text struct {
	Content string `json:"content"`
}

// Markdown is a markdown message (text ≤ 5000 characters).
type Markdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Link is a link message.
type Link struct {
	MessageURL string `json:"messageUrl"`
	PicURL     string `json:"picUrl"`
	Title      string `json:"title"`
	Text       string `json:"text"`
}

// ActionCard is a card with one button (SingleTitle/SingleURL) or several
// (Buttons).
type ActionCard struct {
	Title          string       `json:"title"`
	Markdown       string       `json:"markdown"`
	SingleTitle    string       `json:"single_title,omitempty"`
	SingleURL      string       `json:"single_url,omitempty"`
	BtnOrientation string       `json:"btn_orientation,omitempty"` // "0" vertical, "1" horizontal
	Buttons        []CardButton `json:"btn_json_list,omitempty"`
}

// CardButton is one button of a multi-button action card.
type CardButton struct {
	Title     string `json:"title"`
	ActionURL string `json:"action_url"`
}

// OA is an OA message (only 6 form rows are shown).
type OA struct {
	MessageURL   string    `json:"message_url"`
	PCMessageURL string    `json:"pc_message_url,omitempty"`
	Head         OAHead    `json:"head"`
	StatusBar    *OAStatus `json:"status_bar,omitempty"`
	Body         OABody    `json:"body"`
}

// OAHead is the OA message's head bar.
type OAHead struct {
	BgColor string `json:"bgcolor"`
	Text    string `json:"text"`
}

// OAStatus is the OA message's status bar.
type OAStatus struct {
	StatusValue string `json:"status_value"`
	StatusBg    string `json:"status_bg"`
}

// OABody is the OA message's body.
type OABody struct {
	Title   string   `json:"title,omitempty"`
	Form    []OAForm `json:"form,omitempty"`
	Content string   `json:"content,omitempty"`
	Author  string   `json:"author,omitempty"`
}

// OAForm is one key/value row of an OA message.
type OAForm struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TextMessage builds a text message.
func TextMessage(content string) Message {
	return Message{MsgType: "text", Text: &Text{Content: content}}
}

// MarkdownMessage builds a markdown message.
func MarkdownMessage(title, text string) Message {
	return Message{MsgType: "markdown", Markdown: &Markdown{Title: title, Text: text}}
}

// ActionCardMessage builds a single-button action card.
func ActionCardMessage(title, markdown, buttonTitle, buttonURL string) Message {
	return Message{MsgType: "action_card", ActionCard: &ActionCard{
		Title: title, Markdown: markdown, SingleTitle: buttonTitle, SingleURL: buttonURL,
	}}
}

// WorkNotice is one asyncsend_v2 call. DingTalk silently drops a message
// whose content already reached the same user today: put a reminder id or
// a time in the content when a repeat is legitimate.
type WorkNotice struct {
	AgentID    int64 // 0: Options.AgentID
	UserIDs    []string
	DeptIDs    []int64 // includes sub-departments
	ToAllUsers bool
	Msg        Message
}

// validate refuses, before any call, what DingTalk would refuse or drop.
func (n WorkNotice) validate() ([]byte, error) {
	if len(n.UserIDs) == 0 && len(n.DeptIDs) == 0 && !n.ToAllUsers {
		return nil, fmt.Errorf("%w: work notice has no recipient", ErrInvalidArgument)
	}
	if len(n.UserIDs) > MaxNoticeUsers {
		return nil, fmt.Errorf("%w: work notice to %d users (max %d)", ErrInvalidArgument, len(n.UserIDs), MaxNoticeUsers)
	}
	if len(n.DeptIDs) > MaxNoticeDepts {
		return nil, fmt.Errorf("%w: work notice to %d departments (max %d)", ErrInvalidArgument, len(n.DeptIDs), MaxNoticeDepts)
	}
	if n.Msg.MsgType == "" {
		return nil, fmt.Errorf("%w: work notice has no msgtype", ErrInvalidArgument)
	}
	if m := n.Msg.Markdown; m != nil && utf8.RuneCountInString(m.Text) > MaxMarkdownChars {
		return nil, fmt.Errorf("%w: markdown text over %d characters", ErrInvalidArgument, MaxMarkdownChars)
	}
	b, err := marshal(n.Msg)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxNoticeMsgBytes {
		return nil, fmt.Errorf("%w: message is %d bytes (max %d)", ErrInvalidArgument, len(b), MaxNoticeMsgBytes)
	}
	return b, nil
}

// SendWorkNotice sends a work notification (corpconversation/asyncsend_v2)
// and returns its task id. Success only means accepted: ask GetSendResult
// which recipients were dropped.
func (c *Client) SendWorkNotice(ctx context.Context, n WorkNotice) (int64, error) {
	if _, err := n.validate(); err != nil {
		return 0, err
	}
	body := map[string]any{"agent_id": c.agent(n.AgentID), "msg": n.Msg}
	if len(n.UserIDs) > 0 {
		body["userid_list"] = strings.Join(n.UserIDs, ",")
	}
	if len(n.DeptIDs) > 0 {
		ids := make([]string, len(n.DeptIDs))
		for i, d := range n.DeptIDs {
			ids[i] = strconv.FormatInt(d, 10)
		}
		body["dept_id_list"] = strings.Join(ids, ",")
	}
	if n.ToAllUsers {
		body["to_all_user"] = true
	}
	var out struct {
		TaskID flexInt `json:"task_id"`
	}
	if err := c.oapiPost(ctx, APIAsyncSend, body, &out); err != nil {
		return 0, err
	}
	return int64(out.TaskID), nil
}

func (c *Client) agent(id int64) int64 {
	if id == 0 {
		return c.opts.AgentID
	}
	return id
}

// SendProgress is getsendprogress's answer.
type SendProgress struct {
	Percent int // 0–100
	Status  int // 0 not started, 1 running, 2 done
}

// GetSendProgress returns how far a work notification task got.
func (c *Client) GetSendProgress(ctx context.Context, taskID int64) (*SendProgress, error) {
	var out struct {
		Progress struct {
			Percent int `json:"progress_in_percent"`
			Status  int `json:"status"`
		} `json:"progress"`
	}
	body := map[string]any{"agent_id": c.opts.AgentID, "task_id": taskID}
	if err := c.oapiPost(ctx, APISendProgress, body, &out); err != nil {
		return nil, err
	}
	return &SendProgress{Percent: out.Progress.Percent, Status: out.Progress.Status}, nil
}

// Forbidden is a recipient DingTalk dropped, with the reason code:
// 143105 daily cap, 143106 duplicate content, 143103/143104 per-minute
// recipient limits, 1430002 banned content.
type Forbidden struct {
	Code   string
	Count  int
	UserID string
}

// Drop reasons in SendResult.Forbidden.
const (
	DropDailyCap         = "143105"
	DropDuplicateContent = "143106"
)

// SendResult is getsendresult's answer (tasks of the last 24 hours).
type SendResult struct {
	InvalidUserIDs   []string
	ForbiddenUserIDs []string
	FailedUserIDs    []string
	ReadUserIDs      []string
	UnreadUserIDs    []string
	InvalidDeptIDs   []int64
	Forbidden        []Forbidden
}

// GetSendResult returns who received, read, or was dropped from a task.
func (c *Client) GetSendResult(ctx context.Context, taskID int64) (*SendResult, error) {
	var out struct {
		SendResult struct {
			Invalid   []string `json:"invalid_user_id_list"`
			Forbidden []string `json:"forbidden_user_id_list"`
			Failed    []string `json:"failed_user_id_list"`
			Read      []string `json:"read_user_id_list"`
			Unread    []string `json:"unread_user_id_list"`
			InvDept   []int64  `json:"invalid_dept_id_list"`
			List      []struct {
				Code   flexString `json:"code"`
				Count  flexInt    `json:"count"`
				UserID string     `json:"userid"`
			} `json:"forbidden_list"`
		} `json:"send_result"`
	}
	body := map[string]any{"agent_id": c.opts.AgentID, "task_id": taskID}
	if err := c.oapiPost(ctx, APISendResult, body, &out); err != nil {
		return nil, err
	}
	r := out.SendResult
	res := &SendResult{
		InvalidUserIDs: r.Invalid, ForbiddenUserIDs: r.Forbidden, FailedUserIDs: r.Failed,
		ReadUserIDs: r.Read, UnreadUserIDs: r.Unread, InvalidDeptIDs: r.InvDept,
	}
	for _, f := range r.List {
		res.Forbidden = append(res.Forbidden, Forbidden{Code: string(f.Code), Count: int(f.Count), UserID: f.UserID})
	}
	return res, nil
}
