package startup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withCredentials points the credential variables at the fixture's secrets.
func withCredentials(f *fixture) {
	f.env["AWS_SHARED_CREDENTIALS_FILE"] = filepath.Join(f.root, "etc/nublado/secrets/aws-credentials.ini")
	f.env["PGPASSFILE"] = filepath.Join(f.root, "etc/nublado/secrets/postgres-credentials.txt")
}

func TestCredentialMerge(t *testing.T) {
	f := newFixture(t)
	withCredentials(f)
	res := f.run(t)
	require.Nil(t, res.Abnormal)

	aws, err := parseINI("merged", string(f.read(t, "home/hambone/.lsst/aws-credentials.ini")))
	require.NoError(t, err)
	got := map[string]string{}
	for _, s := range aws.sections {
		got[s.name] = s.vals["aws_secret_access_key"]
	}
	assert.Equal(t, map[string]string{
		"default": "secret-default", // replaced by the mounted one
		"third":   "secret-third",   // home-only section kept
		"second":  "secret-second",  // new section appended
	}, got)
	assert.Equal(t, "[default]\naws_access_key_id = AKIA_DEFAULT\naws_secret_access_key = secret-default\n\n"+
		"[third]\naws_access_key_id = AKIA_THIRD\naws_secret_access_key = secret-third\n\n"+
		"[second]\naws_access_key_id = AKIA_SECOND\naws_secret_access_key = secret-second\n\n",
		string(f.read(t, "home/hambone/.lsst/aws-credentials.ini")), "configparser layout")

	assert.Equal(t, "db.example.org:5432:one:butler:fresh-password\ndb.example.org:5432:two:butler:kept\n",
		string(f.read(t, "home/hambone/.lsst/postgres-credentials.txt")))
}

// TestCredentialMergeFreshHome: ~/.lsst is created (0700) with the files
// (0600) when the user has none.
func TestCredentialMergeFreshHome(t *testing.T) {
	f := newFixture(t)
	withCredentials(f)
	require.NoError(t, os.RemoveAll(filepath.Join(f.home, ".lsst")))
	res := f.run(t)
	require.Nil(t, res.Abnormal)
	fi, err := os.Stat(filepath.Join(f.home, ".lsst"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), ".lsst mode")
	for _, name := range []string{"aws-credentials.ini", "postgres-credentials.txt"} {
		fi, err := os.Stat(filepath.Join(f.home, ".lsst", name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "%s mode", name)
	}
	assert.Equal(t, "db.example.org:5432:one:butler:fresh-password\n",
		string(f.read(t, "home/hambone/.lsst/postgres-credentials.txt")))
}

func TestParseINI(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    string
		wantErr bool
	}{
		"comments and case": {
			in:   "# c\n; c\n[Prof]\nKey_ID = A\nother: b \n",
			want: "[Prof]\nkey_id = A\nother = b\n\n",
		},
		"continuation": {
			in:   "[s]\nk = a\n  b\n",
			want: "[s]\nk = a\n\tb\n\n",
		},
		"empty value":        {in: "[s]\nk =\n", want: "[s]\nk = \n\n"},
		"repeated key wins":  {in: "[s]\nk = 1\nk = 2\n", want: "[s]\nk = 2\n\n"},
		"key before section": {in: "k = v\n", wantErr: true},
		"no delimiter":       {in: "[s]\njunk\n", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := parseINI("test", tc.in)
			if tc.wantErr {
				require.Error(t, err, "parseINI(%q)", tc.in)
				return
			}
			require.NoError(t, err, "parseINI(%q)", tc.in)
			assert.Equal(t, tc.want, f.String())
		})
	}
}

func TestMergePgpass(t *testing.T) {
	got, err := mergePgpass(
		[]byte("h:1:db:u:old\n# comment\nh:1:db2:u:keep  \n"),
		[]byte("h:1:db:u:new\nh:1:db3:u:pass:with:colons\n"))
	require.NoError(t, err)
	assert.Equal(t, "h:1:db:u:new\nh:1:db2:u:keep\nh:1:db3:u:pass:with:colons\n", string(got),
		"split at the last colon, orig wins, first-seen order, comments dropped")
}

// TestCredentialMergeBadINI: an unparsable home file is an abnormal startup
// (the original crashed).
func TestCredentialMergeBadINI(t *testing.T) {
	f := newFixture(t)
	withCredentials(f)
	f.write(t, "home/hambone/.lsst/aws-credentials.ini", "not ini at all\n")
	res := f.run(t)
	require.NotNil(t, res.Abnormal)
	assert.Equal(t, EUNKNOWN, res.Abnormal.Errno)
	assert.Contains(t, res.Abnormal.Strerror, "home AWS credentials, line 1")
}
