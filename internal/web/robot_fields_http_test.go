package web_test

import (
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestRobotFieldVisibility: the chat bot answers with the sender's field
// policy: 客户 shows the phone masked or not at all and cannot find a
// customer by a phone the sender may not see; 业绩 gives counts without
// amounts when sale.amount or opportunity.amount is hidden. The admin sees
// the phone and the amounts.
func TestRobotFieldVisibility(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			bot := newBotEnv(t, srv)
			admin, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1")
			var c struct {
				ID int64 `json:"id"`
			}
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "机器人字段客户", "phone": "13812341234"}, &c); st != 201 {
				t.Fatalf("customer: %d", st)
			}
			if st := s1.Do("POST", "/api/v1/sales", map[string]any{"customer_id": c.ID, "amount_fen": 7654321}, nil); st != 201 {
				t.Fatalf("sale: %d", st)
			}
			ids := roleIDs(t, admin)

			mustContain(t, "visible", bot.say("sim_s1", "客户 机器人字段"), "13812341234")
			mustContain(t, "visible", bot.say("sim_s1", "业绩"), "销售数据：1 笔，¥76543.21")

			setPolicy(t, admin, ids["sales"], map[string]string{"customer.phone": "masked", "sale.amount": "hidden", "opportunity.amount": "hidden"})
			got := bot.say("sim_s1", "客户 机器人字段")
			mustContain(t, "masked", got, "138****1234")
			if strings.Contains(got, "13812341234") {
				t.Errorf("masked phone shown: %q", got)
			}
			mustContain(t, "by phone", bot.say("sim_s1", "客户 13812341234"), "没有找到")
			got = bot.say("sim_s1", "业绩")
			mustContain(t, "amounts hidden", got, "销售数据：1 笔", "赢单：0 个", "不显示金额")
			if strings.Contains(got, "¥") || strings.Contains(got, "76543") {
				t.Errorf("hidden amount shown: %q", got)
			}

			setPolicy(t, admin, ids["sales"], map[string]string{"customer.phone": "hidden"})
			if got := bot.say("sim_s1", "客户 机器人字段"); strings.Contains(got, "1234") {
				t.Errorf("hidden phone shown: %q", got)
			}
			mustContain(t, "admin", bot.say("sim_admin", "客户 机器人字段"), "13812341234")
			mustContain(t, "admin", bot.say("sim_admin", "业绩"), "¥")
		})
	}
}
