package devstack

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Paths of the Gafaelfawr and Repertoire stand-ins.
const (
	UserInfoPath  = "/auth/api/v1/user-info"
	DiscoveryPath = "/repertoire/discovery"
)

// services serves the Gafaelfawr and Repertoire stand-ins.
type services struct {
	users     *Users
	discovery []byte
}

// newServices returns the stand-ins; base is their own URL
// (http://host:port), which the discovery document points at.
func newServices(users *Users, base string) (*services, error) {
	doc := map[string]any{
		"applications": []string{"nublado"},
		"services": map[string]any{
			"internal": map[string]any{
				"gafaelfawr": map[string]any{
					"url":      base + "/auth/api",
					"versions": map[string]any{"v1": map[string]string{"url": base + "/auth/api/v1"}},
				},
			},
		},
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return &services{users: users, discovery: raw}, nil
}

func (s *services) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+UserInfoPath, s.userInfo)
	mux.HandleFunc("GET "+DiscoveryPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.discovery)
	})
	return mux
}

// userInfo answers Gafaelfawr's user-info: the bearer token names the
// user.
func (s *services) userInfo(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="nublado devstack"`)
		writeJSON(w, http.StatusUnauthorized, []byte(`{"detail":[{"msg":"Authentication required","type":"invalid_token"}]}`))
		return
	}
	info, ok := s.users.userInfo(strings.TrimSpace(token))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="nublado devstack", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, []byte(`{"detail":[{"msg":"Invalid token","type":"invalid_token"}]}`))
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
