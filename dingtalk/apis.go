package dingtalk

// API names. They key the per-API rate limit, the call counts and the fake
// server's fault injection; they are the request path without the host and
// the leading slash, with path parameters in braces.
const (
	APIGetToken        = "gettoken"
	APIAccessToken     = "v1.0/oauth2/accessToken"
	APIUserAccessToken = "v1.0/oauth2/userAccessToken"
	APIGetUserInfo     = "topapi/v2/user/getuserinfo"
	APIContactUser     = "v1.0/contact/users/{unionId}"
	APIGetByUnionID    = "topapi/user/getbyunionid"
	APIDeptListSub     = "topapi/v2/department/listsub"
	APIDeptListSubID   = "topapi/v2/department/listsubid"
	APIDeptGet         = "topapi/v2/department/get"
	APIUserListSimple  = "topapi/user/listsimple"
	APIUserList        = "topapi/v2/user/list"
	APIUserGet         = "topapi/v2/user/get"
	APIListAdmin       = "topapi/user/listadmin"
	APIAsyncSend       = "topapi/message/corpconversation/asyncsend_v2"
	APISendProgress    = "topapi/message/corpconversation/getsendprogress"
	APISendResult      = "topapi/message/corpconversation/getsendresult"
	APIRobotWebhook    = "robot/send"
	APIRobotSession    = "robot/sendBySession"
	APIRobotBatchSend  = "v1.0/robot/oToMessages/batchSend"
	APIRobotGroupSend  = "v1.0/robot/groupMessages/send"
	APITodoCreate      = "v1.0/todo/users/{unionId}/tasks"
)

// quotaExempt lists the APIs that do not count toward the monthly call quota
// of a free organization: tokens, login and contacts (dingtalk-api.md §4, §5).
var quotaExempt = map[string]bool{
	APIGetToken:        true,
	APIAccessToken:     true,
	APIUserAccessToken: true,
	APIGetUserInfo:     true,
	APIContactUser:     true,
	APIGetByUnionID:    true,
	APIDeptListSub:     true,
	APIDeptListSubID:   true,
	APIDeptGet:         true,
	APIUserListSimple:  true,
	APIUserList:        true,
	APIUserGet:         true,
	APIListAdmin:       true,
}

// QuotaExempt reports whether calls to api are free of the monthly quota.
// Work notifications, robot sends and to-dos are not.
func QuotaExempt(api string) bool { return quotaExempt[api] }
