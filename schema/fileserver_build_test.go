package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/schema"
)

// fileserverConfig enables file servers with resources and a custom idle
// timeout.
const fileserverConfig = `
EXTERNAL_INSTANCE_URL: https://Data.Example.org:8443/rsp
fileserver:
  enabled: true
  namespace: fileservers
  idleTimeout: 90m 30s
  resources:
    limits: {cpu: 2, memory: 1Gi}
    requests: {cpu: 500m, memory: 128Mi}
  volumeMounts:
    - {containerPath: /home, volumeName: home}
`

// controllerEnv is the controller's environment of the builder tests.
var controllerEnv = schema.Environment{ControllerImage: schema.ContainerImage{
	Repository: "ghcr.io/lsst-sqre/nublado", Tag: "15.1.0", PullPolicy: "Always",
}}

func TestFileserverInput(t *testing.T) {
	cfg := buildCfg(t, fileserverConfig)
	in, err := cfg.FileserverInput(controllerEnv, rachel())
	require.NoError(t, err)
	want := &schema.FileserverInput{
		User: schema.User{Username: "rachel", Name: ptr("Rachel (?)"), UID: 1101, GID: 1101,
			Groups: []schema.UserGroup{{Name: "rachel", ID: 1101}, {Name: "ünïcode", ID: 2028}}},
		Host:    "data.example.org",
		Timeout: "5430",
		Resources: &schema.ContainerResources{
			Limits:   schema.Quantities{CPU: "2.0", Memory: "1073741824"},
			Requests: schema.Quantities{CPU: "0.5", Memory: "134217728"},
		},
		ControllerImage: schema.ContainerImageRef{Reference: "ghcr.io/lsst-sqre/nublado:15.1.0", PullPolicy: "Always"},
	}
	assert.Equal(t, want, in, "FileserverInput")

	cfg = buildCfg(t, "fileserver: {enabled: true, namespace: fileservers}")
	in, err = cfg.FileserverInput(controllerEnv, rachel())
	require.NoError(t, err)
	assert.Nil(t, in.Resources, "FileserverInput without fileserver.resources")
	assert.Equal(t, "3600", in.Timeout, "FileserverInput: default idle timeout")
	assert.Equal(t, "data.example.org", in.Host)
	assert.Equal(t, "rachel-fs", schema.FileserverName("rachel"), "FileserverName")
}

func TestFileserverInputHost(t *testing.T) {
	cases := map[string]struct {
		baseURL, want string
	}{
		"Default":         {"http://127.0.0.1:8080", "127.0.0.1"},
		"PathAndPort":     {"https://rsp.example.org:443/nb", "rsp.example.org"},
		"Capitals":        {"https://RSP.Example.ORG", "rsp.example.org"},
		"UserInformation": {"https://user:secret@rsp.example.org/", "rsp.example.org"},
		"IPv6":            {"http://[2001:db8::1]:8080/", "2001:db8::1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := buildCfg(t, "fileserver: {enabled: true, namespace: fileservers}\nEXTERNAL_INSTANCE_URL: "+tc.baseURL)
			in, err := cfg.FileserverInput(controllerEnv, rachel())
			require.NoError(t, err)
			assert.Equal(t, tc.want, in.Host, "FileserverInput(%q).Host", tc.baseURL)
		})
	}
}

func TestFileserverInputErrors(t *testing.T) {
	enabled := "fileserver: {enabled: true, namespace: fileservers}"
	user := func(edit func(u *nublado.User)) nublado.User {
		u := rachel()
		edit(&u)
		return u
	}
	cases := map[string]struct {
		reason string
		config string
		user   nublado.User
		code   nublado.ErrorCode
		msg    string
	}{
		"Disabled": {
			reason: "every file-server operation answers not_supported when file servers are off",
			config: "", user: rachel(),
			code: nublado.CodeNotSupported, msg: "Fileserver is disabled in configuration",
		},
		"NoUID": {
			reason: "a file server never runs as root (D1)",
			config: enabled, user: user(func(u *nublado.User) { u.UID = nil }),
			code: nublado.CodePermissionDenied, msg: "Must have a UID to start a file server",
		},
		"UIDZero": {
			config: enabled, user: user(func(u *nublado.User) { u.UID = ptr(int64(0)) }),
			code: nublado.CodePermissionDenied, msg: "Must have a UID to start a file server",
		},
		"GIDZero": {
			config: enabled, user: user(func(u *nublado.User) { u.GID = ptr(int64(0)) }),
			code: nublado.CodePermissionDenied, msg: "Must have a GID to start a file server",
		},
		"BadUsername": {
			reason: "{u}-fs names the Service, so it must be a DNS label",
			config: enabled, user: user(func(u *nublado.User) { u.Username = "Rachel" }),
			code: nublado.CodePermissionDenied, msg: `Username "Rachel" cannot be used to name Kubernetes objects`,
		},
		"LongUsername": {
			reason: "{u}-fs must fit in 63 characters",
			config: enabled, user: user(func(u *nublado.User) { u.Username = "r234567890123456789012345678901234567890123456789012345678901" }),
			code: nublado.CodePermissionDenied, msg: `Username "r234567890123456789012345678901234567890123456789012345678901" cannot be used to name Kubernetes objects`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := buildCfg(t, tc.config).FileserverInput(controllerEnv, tc.user)
			var nerr *nublado.Error
			require.ErrorAs(t, err, &nerr, tc.reason)
			assert.Equal(t, tc.code, nerr.Code, "FileserverInput: code")
			assert.Equal(t, tc.msg, nerr.Message, "FileserverInput: message")
		})
	}
	t.Run("LongestUsername", func(t *testing.T) {
		u := user(func(u *nublado.User) { u.Username = "r23456789012345678901234567890123456789012345678901234567890" })
		_, err := buildCfg(t, enabled).FileserverInput(controllerEnv, u)
		require.NoError(t, err, "a 60-character username gives a 63-character name")
	})
	t.Run("BaseURLWithoutHost", func(t *testing.T) {
		_, err := buildCfg(t, enabled+"\nEXTERNAL_INSTANCE_URL: /relative/only").FileserverInput(controllerEnv, rachel())
		require.EqualError(t, err, `base URL "/relative/only" has no host name`)
	})
}
