package devstack

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"sigs.k8s.io/yaml"

	nublado "github.com/nublado-go/nublado"
)

// DefaultUsers is the users file used when none is given: rachel (quota 9
// CPU, 27 GiB), ribbon (spawn: false) and wanda (no quota).
//
//go:embed users.yaml
var DefaultUsers []byte

// Users are the users the Gafaelfawr stand-in knows, by name, each as the
// JSON document its user-info answers.
type Users struct {
	byName map[string]json.RawMessage
}

// LoadUsers reads a users file (YAML: a "users" list of Gafaelfawr
// user-info documents: username, name, email, uid, gid, groups [{name,
// id}], quota {notebook {cpu, memory (GiB), spawn}}).
func LoadUsers(path string) (*Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	u, err := ParseUsers(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, nil
}

// ParseUsers parses the users file format of [LoadUsers]. Each entry must
// have a username and decode as a Gafaelfawr user; usernames are unique.
func ParseUsers(data []byte) (*Users, error) {
	var file struct {
		Users []json.RawMessage `json:"users"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("parsing users: %w", err)
	}
	u := &Users{byName: make(map[string]json.RawMessage, len(file.Users))}
	for i, raw := range file.Users {
		var user nublado.User
		if err := json.Unmarshal(raw, &user); err != nil {
			return nil, fmt.Errorf("user %d: %w", i+1, err)
		}
		if user.Username == "" {
			return nil, fmt.Errorf("user %d: no username", i+1)
		}
		if _, dup := u.byName[user.Username]; dup {
			return nil, fmt.Errorf("user %d: duplicate username %q", i+1, user.Username)
		}
		u.byName[user.Username] = raw
	}
	return u, nil
}

// Names returns the usernames, sorted.
func (u *Users) Names() []string {
	out := make([]string, 0, len(u.byName))
	for n := range u.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// userInfo returns the user-info document of a user.
func (u *Users) userInfo(name string) (json.RawMessage, bool) {
	raw, ok := u.byName[name]
	return raw, ok
}
