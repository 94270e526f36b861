package cli

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func setInithomeEnv(t *testing.T, home, uid, gid string) {
	t.Helper()
	t.Setenv("NUBLADO_HOME", home)
	t.Setenv("NUBLADO_UID", uid)
	t.Setenv("NUBLADO_GID", gid)
}

func TestInithomeCreates(t *testing.T) {
	require.Equal(t, 0, os.Geteuid(), "inithome changes ownership and must run as root")
	home := filepath.Join(t.TempDir(), "rachel")
	setInithomeEnv(t, home, "4242", "4243")
	code, out, errOut := runCLI(t, "inithome")
	require.Equal(t, ExitOK, code, errOut)
	assert.Empty(t, out)
	assert.Empty(t, errOut, "no log records on success")
	fi, err := os.Stat(home)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	assert.Equal(t, [3]uint32{4242, 4243, 0o700}, [3]uint32{st.Uid, st.Gid, uint32(fi.Mode().Perm())})
}

func TestInithomeWarning(t *testing.T) {
	home := filepath.Join(t.TempDir(), "rachel")
	require.NoError(t, os.Mkdir(home, 0o755))
	require.NoError(t, os.Chmod(home, 0o755))
	require.NoError(t, os.Chown(home, 4242, 4243))
	setInithomeEnv(t, home, "4242", "4243")
	code, _, errOut := runCLI(t, "inithome")
	require.Equal(t, ExitOK, code, errOut)
	lines := jsonLines(t, errOut)
	require.Len(t, lines, 1)
	assert.Equal(t, "warning", lines[0]["severity"])
	assert.Equal(t, home+" has unexpected permissions: 0755 != 0700", lines[0]["event"])
	assert.Equal(t, home, lines[0]["home"])
}

func TestInithomeFailures(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	cases := map[string]struct {
		home, uid, gid string
		severity, want string
	}{
		"MissingVariable": {
			home: tmp, uid: "", gid: "1", severity: "fatal",
			want: "Environment variables 'NUBLADO_HOME', 'NUBLADO_UID', and 'NUBLADO_GID' must all be set.",
		},
		"NotInteger": {
			home: tmp, uid: "rachel", gid: "1", severity: "fatal",
			want: "Environment variables 'NUBLADO_UID' and 'NUBLADO_GID' must each be set to an integer.",
		},
		"Negative":      {home: filepath.Join(tmp, "h"), uid: "-1", gid: "1", severity: "error", want: "UID or GID must be nonnegative, not -1"},
		"OutOfRange":    {home: filepath.Join(tmp, "h"), uid: "1", gid: "4294967295", severity: "error", want: "UID or GID out of range (4294967295 > 4294967294)"},
		"NotADirectory": {home: file, uid: "1", gid: "1", severity: "error", want: file + " exists but is not a directory"},
		"MissingParent": {home: filepath.Join(tmp, "a/b"), uid: "1", gid: "1", severity: "error", want: "no such file or directory"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			setInithomeEnv(t, tc.home, tc.uid, tc.gid)
			code, _, errOut := runCLI(t, "inithome")
			assert.Equal(t, ExitFailure, code)
			lines := jsonLines(t, errOut)
			require.Len(t, lines, 1, errOut)
			assert.Equal(t, tc.severity, lines[0]["severity"])
			if tc.severity == "fatal" {
				assert.Equal(t, tc.want, lines[0]["event"])
			} else {
				assert.Equal(t, "Cannot provision home directory", lines[0]["event"])
				assert.Contains(t, lines[0]["error"], tc.want)
			}
		})
	}
}

func TestInithomeDevelopmentFormatAndUsage(t *testing.T) {
	setInithomeEnv(t, "", "", "")
	code, _, errOut := runCLI(t, "inithome", "--log-profile", "development")
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, errOut, `level=fatal msg="Environment variables`)

	code, _, _ = runCLI(t, "inithome", "extra")
	assert.Equal(t, ExitUsage, code)
	code, _, _ = runCLI(t, "inithome", "--log-level", "chatty")
	assert.Equal(t, ExitUsage, code)
	code, out, _ := runCLI(t, "inithome", "--help")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "Exit codes:")
}
