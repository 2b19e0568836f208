package chatbot_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/chatbot"
	"github.com/dingcrm/crm/internal/i18n"
)

// FuzzCommand sends arbitrary message text to the bot of a real CRM (the
// simulated org on SQLite) as a salesperson: every command, keyword, time
// and number goes through the ordinary services. Whatever is typed, the
// bot answers with something, in valid UTF-8 when the message was, and
// never with the generic apology that stands for an unexpected error (an
// SQL error, a nil dereference turned into a failed run).
func FuzzCommand(f *testing.F) {
	for _, s := range []string{"帮助", "help", "客户 张", "客户张三", "customer 138", "跟进 张三 电话沟通",
		"followup 北京 call back", "提醒 张三 明天 10:00 回电话", "remind 北京 next frİday 10:00 demo", "今日", "today",
		"业绩", "sales", "1", "99999999999999999999", "-1", "客户 %_\\", "客户 \x00\x1f", "@robot 客户 上海", "客户 " + strings.Repeat("长", 120)} {
		f.Add(s, false)
	}
	f.Add("2", true)
	srv := apptest.Start(f)
	bot := srv.App.Bot
	apology := map[string]bool{}
	for _, lang := range []string{"zh-CN", "en"} {
		apology[i18n.MustLoad().T(lang, "bot.error", nil)] = true
	}
	f.Fuzz(func(t *testing.T, text string, manager bool) {
		from := "sim_s1"
		if manager {
			from = "sim_mgr1"
		}
		var m chatbot.Message
		m.Text.Content, m.SenderStaffID, m.ConversationType = text, from, "1"
		_, reply := chatbot.Answer(context.Background(), bot, m)
		if reply == "" {
			t.Fatalf("no answer to %q", text)
		}
		if utf8.ValidString(text) && !utf8.ValidString(reply) {
			t.Fatalf("answer to %q is not valid UTF-8: %q", text, reply)
		}
		if apology[reply] {
			t.Fatalf("unexpected error answering %q (run with CRM_TEST_LOG=1 to see it)", text)
		}
	})
}
