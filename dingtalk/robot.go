package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	robot "github.com/alibabacloud-go/dingtalk/robot_1_0"
	"github.com/alibabacloud-go/tea/tea"
)

// MaxRobotUsers is the userIds batch for 1:1 robot sends. The doc's text
// says 20 and its overMax error text says 100; the smaller is used and
// larger lists are sent in several batches.
const MaxRobotUsers = 20

// RobotSignWindow is how far a robot timestamp may be from now.
const RobotSignWindow = time.Hour

// Robot signature errors.
var (
	ErrBadSignature   = errors.New("dingtalk: bad signature")
	ErrStaleTimestamp = errors.New("dingtalk: timestamp outside the allowed window")
)

// RobotSign is Base64(HmacSHA256(key=secret, timestamp+"\n"+secret)), the
// signature of custom group robot webhooks (secret "SEC…") and of the
// robot's HTTP callbacks (secret = AppSecret). timestampMS is in ms.
func RobotSign(secret string, timestampMS int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestampMS, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyRobotRequest checks the timestamp and sign headers of a robot HTTP
// callback: the timestamp (ms) must be within an hour of now and the sign
// must equal RobotSign(appSecret, timestamp).
func VerifyRobotRequest(appSecret, timestamp, sign string, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrStaleTimestamp, timestamp)
	}
	if d := now.Sub(time.UnixMilli(ts)); d > RobotSignWindow || d < -RobotSignWindow {
		return ErrStaleTimestamp
	}
	want := RobotSign(appSecret, ts)
	if !hmac.Equal([]byte(want), []byte(sign)) {
		return ErrBadSignature
	}
	return nil
}

// SignWebhookURL adds timestamp and sign to a custom group robot webhook URL
// (…/robot/send?access_token=…). An empty secret leaves the URL unsigned.
func SignWebhookURL(webhook, secret string, now time.Time) (string, error) {
	u, err := url.Parse(webhook)
	if err != nil {
		return "", fmt.Errorf("dingtalk: webhook url: %w", err)
	}
	if secret == "" {
		return webhook, nil
	}
	ts := now.UnixMilli()
	q := u.Query()
	q.Set("timestamp", strconv.FormatInt(ts, 10))
	q.Set("sign", RobotSign(secret, ts))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// RobotMessage is a 1:1 message from the app's robot
// (v1.0/robot/oToMessages/batchSend).
type RobotMessage struct {
	RobotCode string   // default Options.RobotCode (the AppKey)
	UserIDs   []string // userids; sent MaxRobotUsers at a time
	MsgKey    string   // sampleText, sampleMarkdown, sampleActionCard, …
	MsgParam  any      // encoded as the JSON string msgParam; a string is sent as is
}

// RobotSendResult merges the answers of the batches.
type RobotSendResult struct {
	ProcessQueryKeys       []string
	InvalidStaffIDs        []string
	FlowControlledStaffIDs []string
}

// SendRobotMessage sends m to each user 1:1. Batches already sent stay sent
// when a later one fails; the result so far is returned with the error.
func (c *Client) SendRobotMessage(ctx context.Context, m RobotMessage) (*RobotSendResult, error) {
	if len(m.UserIDs) == 0 || m.MsgKey == "" {
		return nil, fmt.Errorf("%w: robot message needs users and a msgKey", ErrInvalidArgument)
	}
	param, ok := m.MsgParam.(string)
	if !ok {
		b, err := marshal(m.MsgParam)
		if err != nil {
			return nil, fmt.Errorf("dingtalk: robot msgParam: %w", err)
		}
		param = string(b)
	}
	code := m.RobotCode
	if code == "" {
		code = c.opts.RobotCode
	}
	res := &RobotSendResult{}
	for start := 0; start < len(m.UserIDs); start += MaxRobotUsers {
		batch := m.UserIDs[start:min(start+MaxRobotUsers, len(m.UserIDs))]
		req := &robot.BatchSendOTORequest{
			RobotCode: tea.String(code), UserIds: tea.StringSlice(batch),
			MsgKey: tea.String(m.MsgKey), MsgParam: tea.String(param),
		}
		var resp *robot.BatchSendOTOResponse
		err := c.do(ctx, APIRobotBatchSend, hostAPI, func(ctx context.Context, token string) (err error) {
			resp, err = sdkCall(ctx, APIRobotBatchSend, func() (*robot.BatchSendOTOResponse, error) {
				cl, err := c.sdk.robot()
				if err != nil {
					return nil, err
				}
				return cl.BatchSendOTOWithOptions(req,
					&robot.BatchSendOTOHeaders{XAcsDingtalkAccessToken: tea.String(token)}, c.sdk.runtime())
			})
			return err
		})
		if err != nil {
			return res, err
		}
		b := resp.Body
		res.ProcessQueryKeys = append(res.ProcessQueryKeys, tea.StringValue(b.ProcessQueryKey))
		res.InvalidStaffIDs = append(res.InvalidStaffIDs, tea.StringSliceValue(b.InvalidStaffIdList)...)
		res.FlowControlledStaffIDs = append(res.FlowControlledStaffIDs, tea.StringSliceValue(b.FlowControlledStaffIdList)...)
	}
	return res, nil
}

// WebhookMessage is a message to a custom group robot webhook or to a
// robot conversation's sessionWebhook.
type WebhookMessage struct {
	MsgType  string    `json:"msgtype"`
	Text     *Text     `json:"text,omitempty"`
	Markdown *Markdown `json:"markdown,omitempty"`
	Link     *Link     `json:"link,omitempty"`
	At       *At       `json:"at,omitempty"`
}

// At says whom a webhook message @-mentions.
type At struct {
	AtMobiles []string `json:"atMobiles,omitempty"`
	AtUserIDs []string `json:"atUserIds,omitempty"`
	IsAtAll   bool     `json:"isAtAll,omitempty"`
}

// SendWebhook posts msg to a custom group robot webhook (signed with secret
// when it is not empty, and kept under the robot's 20 messages a minute) or
// to a sessionWebhook (secret empty). No app token is sent.
func (c *Client) SendWebhook(ctx context.Context, webhook, secret string, msg WebhookMessage) error {
	u, err := url.Parse(webhook)
	if err != nil {
		return fmt.Errorf("dingtalk: webhook url: %w", err)
	}
	api := APIRobotWebhook
	if u.Path == "/robot/sendBySession" {
		api = APIRobotSession
	} else if tok := u.Query().Get("access_token"); tok != "" {
		if err := c.webhookLimiter(tok).wait(ctx); err != nil {
			return fmt.Errorf("dingtalk %s: rate limit wait: %w", api, err)
		}
	}
	return c.do(ctx, api, hostNone, func(ctx context.Context, _ string) error {
		signed, err := SignWebhookURL(webhook, secret, c.now())
		if err != nil {
			return err
		}
		return c.exchange(ctx, api, http.MethodPost, signed, msg, nil)
	})
}
