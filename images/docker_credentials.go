package images

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// DefaultDockerCredentialsPath is where the controller and `nublado images`
// look for Docker credentials when none are configured.
const DefaultDockerCredentialsPath = "/etc/secrets/.dockerconfigjson"

// DockerCredentials are registry credentials in the .dockerconfigjson
// format: {"auths": {"<host>": {"username", "password", "auth"}}}. Reading
// uses only "auth" (base64 "user:password"); entries without it are
// skipped. Writing emits all three keys. Host order is kept.
type DockerCredentials struct {
	entries []credential
}

type credential struct {
	host, username, password string
}

// credentialJSON is one host of the file.
type credentialJSON struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
}

// LoadDockerCredentials reads a credentials file.
func LoadDockerCredentials(path string) (*DockerCredentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading Docker credentials: %w", err)
	}
	c, err := ParseDockerCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseDockerCredentials parses the .dockerconfigjson format.
func ParseDockerCredentials(data []byte) (*DockerCredentials, error) {
	var top struct {
		Auths json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("parsing Docker credentials: %w", err)
	}
	c := &DockerCredentials{}
	if len(top.Auths) == 0 || string(top.Auths) == "null" {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(top.Auths))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("parsing Docker credentials: auths is not an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("parsing Docker credentials: %w", err)
		}
		host := tok.(string) // object keys are strings
		var e credentialJSON
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("parsing Docker credentials for %q: %w", host, err)
		}
		if e.Auth == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return nil, fmt.Errorf("decoding Docker credentials for %q: %w", host, err)
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		c.entries = append(c.entries, credential{host: host, username: user, password: pass})
	}
	return c, nil
}

// Lookup returns the credentials for a registry host (host[:port]): those
// of the exact host, else of the first host (in file order) that is a
// parent domain of it, so example.com credentials serve foo.example.com.
func (c *DockerCredentials) Lookup(host string) (username, password string, ok bool) {
	if c == nil {
		return "", "", false
	}
	for _, e := range c.entries {
		if e.host == host {
			return e.username, e.password, true
		}
	}
	for _, e := range c.entries {
		if strings.HasSuffix(host, "."+e.host) {
			return e.username, e.password, true
		}
	}
	return "", "", false
}

// Set stores credentials for a host, replacing any it had.
func (c *DockerCredentials) Set(host, username, password string) {
	for i := range c.entries {
		if c.entries[i].host == host {
			c.entries[i].username, c.entries[i].password = username, password
			return
		}
	}
	c.entries = append(c.entries, credential{host: host, username: username, password: password})
}

// MarshalJSON writes the .dockerconfigjson format, hosts in order.
func (c *DockerCredentials) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"auths":{`)
	for i, e := range c.entries {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(e.host)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(credentialJSON{
			Username: e.username, Password: e.password,
			Auth: base64.StdEncoding.EncodeToString([]byte(e.username + ":" + e.password)),
		})
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteString(`}}`)
	return b.Bytes(), nil
}

// Save writes the credentials to path (mode 0600), indented.
func (c *DockerCredentials) Save(path string) error {
	raw, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		return fmt.Errorf("saving Docker credentials: %w", err)
	}
	return nil
}
