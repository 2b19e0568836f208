package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store"
)

// Name parts for realistic Chinese demo data (also used by the benchmark's
// bulk loader, so both look alike).
var (
	Surnames   = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	GivenChars = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文辉鹏飞宇浩然子涵欣怡梓轩思雨晨阳佳琪雅婷俊峰海燕春梅立新永红学军")
	Cities     = []string{"上海", "北京", "杭州", "深圳", "广州", "南京", "苏州", "成都", "武汉", "西安", "宁波", "厦门", "青岛", "长沙", "合肥", "天津", "重庆", "无锡", "佛山", "东莞"}
	Words      = []string{"华信", "中科", "恒通", "瑞丰", "鼎盛", "宏达", "金桥", "天元", "博远", "新锐", "正泰", "东方", "星河", "汇智", "云帆", "凯越", "德润", "明辉", "安泰", "嘉禾", "盛世", "创新", "联合", "永信", "海纳"}
	Trades     = []string{"科技", "贸易", "制造", "物流", "信息技术", "电子", "建设", "餐饮管理", "教育咨询", "医疗器械", "网络", "实业"}
	Suffixes   = []string{"有限公司", "股份有限公司", "集团有限公司", "有限责任公司"}
)

// Person returns a random Chinese personal name.
func Person(r *rand.Rand) string {
	n := string(Surnames[r.IntN(len(Surnames))]) + string(GivenChars[r.IntN(len(GivenChars))])
	if r.IntN(3) > 0 {
		n += string(GivenChars[r.IntN(len(GivenChars))])
	}
	return n
}

// Company returns a random company name like 杭州瑞丰电子有限公司.
func Company(r *rand.Rand) string {
	return Cities[r.IntN(len(Cities))] + Words[r.IntN(len(Words))] + Trades[r.IntN(len(Trades))] + Suffixes[r.IntN(len(Suffixes))]
}

// Mobile returns a random mainland mobile number.
func Mobile(r *rand.Rand) string {
	prefixes := []string{"130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "176", "177", "180", "186", "187", "188", "189"}
	return fmt.Sprintf("%s%08d", prefixes[r.IntN(len(prefixes))], r.IntN(100000000))
}

// DemoCustomers gives every salesperson and manager of the simulated
// organization a handful of customers, deterministically.
func DemoCustomers(ctx context.Context, db *store.DB, perPerson int) error {
	var owners []struct {
		ID   int64 `db:"id"`
		Dept int64 `db:"department_id"`
	}
	err := db.SelectContext(ctx, &owners, `SELECT u.id, MIN(ud.department_id) AS department_id FROM users u
		JOIN user_departments ud ON ud.user_id = u.id
		JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
		WHERE r.code IN ('sales', 'manager') GROUP BY u.id ORDER BY u.id`)
	if err != nil {
		return fmt.Errorf("seed: owners: %w", err)
	}
	r := rand.New(rand.NewPCG(2026, 11))
	st := customer.NewStore(db)
	return db.WithTx(ctx, func(tx *sqlx.Tx) error {
		for _, o := range owners {
			for i := 0; i < perPerson; i++ {
				if err := st.Insert(ctx, tx, demoCustomer(r, o.ID, o.Dept)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func demoCustomer(r *rand.Rand, owner, dept int64) *customer.Customer {
	created := store.Now().Add(-time.Duration(r.IntN(180*24)) * time.Hour)
	company := Company(r)
	c := &customer.Customer{
		Name: Person(r), Phone: Mobile(r), Company: company, Address: company[:6] + "市高新区创业路" + fmt.Sprint(r.IntN(300)+1) + "号",
		Industry: customer.Industries[r.IntN(len(customer.Industries))], Source: customer.Sources[r.IntN(len(customer.Sources))],
		Level: customer.Levels[r.IntN(len(customer.Levels))], Status: customer.Statuses[r.IntN(len(customer.Statuses))],
		Tags: []string{}, OwnerID: owner, DepartmentID: dept, CreatedBy: owner, CreatedAt: created, UpdatedAt: created,
	}
	if r.IntN(2) == 0 {
		c.Tags = append(c.Tags, []string{"重点", "老客户", "转介绍", "待报价"}[r.IntN(4)])
	}
	if r.IntN(3) > 0 {
		next := store.Now().Add(time.Duration(r.IntN(14*24)-3*24) * time.Hour)
		c.NextFollowAt = &next
	}
	return c
}
