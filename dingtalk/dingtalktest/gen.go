package dingtalktest

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// GenOptions shape a generated organization.
type GenOptions struct {
	People      int     // default 1000
	Departments int     // default People/20, at least 1
	MultiDept   float64 // share of people in two departments; default 0.05
	Admins      int     // sub-admins besides the main admin; default 2
	Seed        uint64  // same seed, same organization
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建春晓燕飞雪梅鑫宇浩凯博文斌婷颖琳欣晨阳佳雨思嘉子涵")
	units    = []string{"销售", "市场", "客服", "渠道", "大客户", "华东", "华南", "华北", "西南", "电商", "售前", "运营"}
	titles   = []string{"销售代表", "高级销售", "客户经理", "销售助理", "大客户销售", "市场专员", "售前工程师"}
)

// GenerateOrg builds a big organization for benchmarks: a department tree
// under the root (fan-out of up to 8), people spread over it, some in two
// departments, a manager in each department that has people, a main admin
// and some sub-admins. The same options give the same organization.
func GenerateOrg(opts GenOptions) *Org {
	if opts.People <= 0 {
		opts.People = 1000
	}
	if opts.Departments <= 0 {
		opts.Departments = max(opts.People/20, 1)
	}
	if opts.MultiDept == 0 {
		opts.MultiDept = 0.05
	}
	if opts.Admins == 0 {
		opts.Admins = 2
	}
	r := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	o := &Org{Departments: []Department{{ID: 1, Name: "基准测试企业"}}}
	for i := 2; i <= opts.Departments; i++ {
		parent := int64((i-2)/8 + 1) // 2–9 under the root, 10–17 under 2, …
		o.Departments = append(o.Departments, Department{
			ID: int64(i), ParentID: parent, Order: int64(i),
			Name: fmt.Sprintf("%s%d部", units[r.IntN(len(units))], i),
		})
	}
	hired := time.Date(2020, 1, 1, 9, 0, 0, 0, chinaTime)
	managed := map[int64]bool{}
	for i := 1; i <= opts.People; i++ {
		id := fmt.Sprintf("u%06d", i)
		dept := int64(1 + r.IntN(opts.Departments))
		depts := []int64{dept}
		if opts.Departments > 1 && r.Float64() < opts.MultiDept {
			if other := int64(1 + r.IntN(opts.Departments)); other != dept {
				depts = append(depts, other)
			}
		}
		name := string(surnames[r.IntN(len(surnames))]) + string(given[r.IntN(len(given))])
		if r.IntN(2) == 0 {
			name += string(given[r.IntN(len(given))])
		}
		o.Users = append(o.Users, User{
			UserID: id, Name: name, Mobile: fmt.Sprintf("139%08d", i), Title: titles[r.IntN(len(titles))],
			Email: id + "@example.com", JobNumber: fmt.Sprintf("E%06d", i), DeptIDs: depts,
			DeptOrders: map[int64]int64{dept: int64(r.IntN(1000))}, WorkPlace: "上海",
			HiredDate: hired.AddDate(0, 0, r.IntN(2000)), Inactive: r.IntN(50) == 0,
		})
		if !managed[dept] {
			managed[dept] = true
			o.Departments[dept-1].Managers = []string{id}
		}
	}
	if opts.People > 0 {
		o.Admins = append(o.Admins, Admin{UserID: o.Users[0].UserID, Level: 1})
		for i := 1; i <= opts.Admins && i < opts.People; i++ {
			o.Admins = append(o.Admins, Admin{UserID: o.Users[i*opts.People/(opts.Admins+1)].UserID, Level: 2})
		}
	}
	return o
}
