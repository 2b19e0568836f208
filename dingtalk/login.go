package dingtalk

import (
	"context"
	"net/url"
	"time"

	contact "github.com/alibabacloud-go/dingtalk/contact_1_0"
	oauth2 "github.com/alibabacloud-go/dingtalk/oauth2_1_0"
	"github.com/alibabacloud-go/tea/tea"
)

// LoginUser is who a login-free code (免登码) belongs to.
type LoginUser struct {
	UserID            string `json:"userid"`
	UnionID           string `json:"unionid"`
	AssociatedUnionID string `json:"associated_unionid"`
	Name              string `json:"name"`
	DeviceID          string `json:"device_id"`
	Sys               bool   `json:"sys"`       // an admin of the organization
	SysLevel          int    `json:"sys_level"` // 1 main admin, 2 sub-admin, 100 boss, 0 other
}

// GetUserInfoByCode exchanges a login-free code from dd.requestAuthCode
// (5 minutes, single use) for the user (topapi/v2/user/getuserinfo).
// An unknown or used code matches ErrInvalidCode.
func (c *Client) GetUserInfoByCode(ctx context.Context, code string) (*LoginUser, error) {
	var out struct {
		Result LoginUser `json:"result"`
	}
	if err := c.oapiPost(ctx, APIGetUserInfo, map[string]string{"code": code}, &out); err != nil {
		return nil, err
	}
	return &out.Result, nil
}

// AuthorizeURL is the web OAuth2 page (QR code or DingTalk redirect) that
// sends the user back to redirect with ?code=…&authCode=…&state=state.
// redirect must be registered in the app's console.
func (c *Client) AuthorizeURL(state, redirect string) string {
	q := url.Values{
		"redirect_uri":  {redirect},
		"response_type": {"code"},
		"client_id":     {c.opts.AppKey},
		"scope":         {"openid"},
		"state":         {state},
		"prompt":        {"consent"},
	}
	return c.opts.LoginBaseURL + "/oauth2/auth?" + q.Encode()
}

// UserToken is a user's OAuth access token.
type UserToken struct {
	AccessToken  string
	RefreshToken string // valid 30 days
	ExpiresAt    time.Time
	CorpID       string
}

// GetUserToken exchanges an OAuth code (v1.0/oauth2/userAccessToken).
func (c *Client) GetUserToken(ctx context.Context, code string) (*UserToken, error) {
	return c.userToken(ctx, &oauth2.GetUserTokenRequest{Code: tea.String(code), GrantType: tea.String("authorization_code")})
}

// RefreshUserToken renews a user token with its refresh token.
func (c *Client) RefreshUserToken(ctx context.Context, refreshToken string) (*UserToken, error) {
	return c.userToken(ctx, &oauth2.GetUserTokenRequest{RefreshToken: tea.String(refreshToken), GrantType: tea.String("refresh_token")})
}

func (c *Client) userToken(ctx context.Context, req *oauth2.GetUserTokenRequest) (*UserToken, error) {
	req.ClientId = tea.String(c.opts.AppKey)
	req.ClientSecret = tea.String(c.opts.AppSecret)
	var resp *oauth2.GetUserTokenResponse
	err := c.do(ctx, APIUserAccessToken, hostNone, func(ctx context.Context, _ string) (err error) {
		resp, err = sdkCall(ctx, APIUserAccessToken, func() (*oauth2.GetUserTokenResponse, error) {
			cl, err := c.sdk.oauth()
			if err != nil {
				return nil, err
			}
			return cl.GetUserTokenWithOptions(req, map[string]*string{}, c.sdk.runtime())
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	b := resp.Body
	exp := tea.Int64Value(b.ExpireIn)
	if exp <= 0 {
		exp = 7200
	}
	return &UserToken{
		AccessToken:  tea.StringValue(b.AccessToken),
		RefreshToken: tea.StringValue(b.RefreshToken),
		ExpiresAt:    c.now().Add(time.Duration(exp) * time.Second),
		CorpID:       tea.StringValue(b.CorpId),
	}, nil
}

// Me is the signed-in user as v1.0/contact/users/me tells it. It has no
// userid: map UnionID with GetUserIDByUnionID.
type Me struct {
	Nick      string
	AvatarURL string
	Mobile    string // needs the 个人手机号信息 permission
	OpenID    string
	UnionID   string
	Email     string
	StateCode string
}

// GetMe returns the owner of userToken (v1.0/contact/users/me).
func (c *Client) GetMe(ctx context.Context, userToken string) (*Me, error) {
	var resp *contact.GetUserResponse
	err := c.do(ctx, APIContactUser, hostNone, func(ctx context.Context, _ string) (err error) {
		resp, err = sdkCall(ctx, APIContactUser, func() (*contact.GetUserResponse, error) {
			cl, err := c.sdk.contact()
			if err != nil {
				return nil, err
			}
			return cl.GetUserWithOptions(tea.String("me"),
				&contact.GetUserHeaders{XAcsDingtalkAccessToken: tea.String(userToken)}, c.sdk.runtime())
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	b := resp.Body
	return &Me{
		Nick: tea.StringValue(b.Nick), AvatarURL: tea.StringValue(b.AvatarUrl), Mobile: tea.StringValue(b.Mobile),
		OpenID: tea.StringValue(b.OpenId), UnionID: tea.StringValue(b.UnionId), Email: tea.StringValue(b.Email),
		StateCode: tea.StringValue(b.StateCode),
	}, nil
}

// GetUserIDByUnionID maps a unionId to the org's userid
// (topapi/user/getbyunionid). contactType is 0 for staff, 1 for an external
// contact. An unknown unionId matches ErrNotFound (60121).
func (c *Client) GetUserIDByUnionID(ctx context.Context, unionID string) (userID string, contactType int, err error) {
	var out struct {
		Result struct {
			ContactType int    `json:"contact_type"`
			UserID      string `json:"userid"`
		} `json:"result"`
	}
	if err := c.oapiPost(ctx, APIGetByUnionID, map[string]string{"unionid": unionID}, &out); err != nil {
		return "", 0, err
	}
	return out.Result.UserID, out.Result.ContactType, nil
}
