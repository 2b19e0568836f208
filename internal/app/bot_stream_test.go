package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestBotOverStream: with dingtalk.transport stream the robot's messages
// arrive as CALLBACK frames on the same connection as the contact events;
// each is acknowledged (200) and answered through its sessionWebhook as
// the sender, a group message only when it @-mentions the robot, and an
// unknown writer is refused politely.
func TestBotOverStream(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			a, err := app.New(context.Background(), streamConfig(t, e.Name), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			fake := a.FakeDingTalk
			until(t, "the stream connection", func() bool { return fake.StreamConnections() == 1 })
			replies := func(conv string) []string {
				var out []string
				for _, m := range fake.RobotMessages() {
					if m.Kind == "session" && m.ConversationID == conv {
						var b struct {
							Markdown struct {
								Text string `json:"text"`
							} `json:"markdown"`
						}
						json.Unmarshal(m.Body, &b)
						out = append(out, b.Markdown.Text)
					}
				}
				return out
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, tc := range []struct {
				name string
				msg  dingtalktest.BotMessage
				want string // "" no reply
			}{
				{"help 1:1", dingtalktest.BotMessage{SenderUserID: "sim_s1", Text: "帮助"}, "客户 关键词"},
				{"sales", dingtalktest.BotMessage{SenderUserID: "sim_mgr1", Text: "业绩"}, "本月业绩"},
				{"group without @", dingtalktest.BotMessage{SenderUserID: "sim_s1", Text: "帮助", Group: true}, ""},
				{"group with @", dingtalktest.BotMessage{SenderUserID: "sim_s1", Text: "帮助", Group: true, AtRobot: true}, "客户 关键词"},
				{"stranger", dingtalktest.BotMessage{SenderUserID: "outsider", Text: "业绩"}, "not a CRM user"},
			} {
				conv, code, err := fake.StreamBotMessage(ctx, tc.msg)
				if err != nil || code != 200 {
					t.Fatalf("%s: code %d, %v", tc.name, code, err)
				}
				got := replies(conv)
				switch {
				case tc.want == "" && len(got) != 0:
					t.Errorf("%s: answered %q", tc.name, got)
				case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
					t.Errorf("%s: replies %q, want one with %q", tc.name, got, tc.want)
				}
			}
		})
	}
}
