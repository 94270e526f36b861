package inithome

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ids that exist nowhere on the system: ownership is checked for real.
const (
	uid = 4242
	gid = 4243
)

func requireRoot(t *testing.T) {
	t.Helper()
	require.Equal(t, 0, os.Geteuid(), "inithome tests change ownership and must run as root")
}

// owner returns the uid, gid and permission bits of path.
func owner(t *testing.T, path string) (uint32, uint32, fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid, fi.Mode().Perm()
}

func TestProvisionCreates(t *testing.T) {
	requireRoot(t)
	home := filepath.Join(t.TempDir(), "gregorsamsa")
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	res, err := Provision(Options{Home: home, UID: 2247, GID: 200})
	require.NoError(t, err)
	assert.Equal(t, &Result{Created: true}, res)
	u, g, perm := owner(t, home)
	assert.Equal(t, [3]any{uint32(2247), uint32(200), fs.FileMode(0o700)}, [3]any{u, g, perm})
}

func TestProvisionCreatesDespiteUmask(t *testing.T) {
	requireRoot(t)
	home := filepath.Join(t.TempDir(), "home")
	old := syscall.Umask(0o777)
	defer syscall.Umask(old)
	_, err := Provision(Options{Home: home, UID: uid, GID: gid})
	require.NoError(t, err)
	_, _, perm := owner(t, home)
	assert.Equal(t, fs.FileMode(0o700), perm)
}

func TestProvisionMissingParent(t *testing.T) {
	requireRoot(t)
	parent := filepath.Join(t.TempDir(), "home")
	home := filepath.Join(parent, "gregorsamsa")
	_, err := Provision(Options{Home: home, UID: uid, GID: gid})
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.False(t, exists(parent), "only one level is created")

	require.NoError(t, os.Mkdir(parent, 0o755))
	res, err := Provision(Options{Home: home, UID: uid, GID: gid})
	require.NoError(t, err)
	assert.True(t, res.Created)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestProvisionIDs(t *testing.T) {
	cases := map[string]struct {
		uid, gid int64
		wantErr  string
	}{
		"NegativeUID": {uid: -1, gid: gid, wantErr: "UID or GID must be nonnegative, not -1"},
		"NegativeGID": {uid: uid, gid: -1, wantErr: "UID or GID must be nonnegative, not -1"},
		"TooLargeUID": {uid: 1<<32 - 1, gid: gid, wantErr: "UID or GID out of range (4294967295 > 4294967294)"},
		"TooLargeGID": {uid: uid, gid: 1 << 40, wantErr: "UID or GID out of range (1099511627776 > 4294967294)"},
		"MaxAllowed":  {uid: MaxID, gid: MaxID},
		"ZeroAllowed": {uid: 0, gid: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			requireRoot(t)
			home := filepath.Join(t.TempDir(), "home")
			_, err := Provision(Options{Home: home, UID: tc.uid, GID: tc.gid})
			if tc.wantErr == "" {
				require.NoError(t, err)
				u, g, _ := owner(t, home)
				assert.Equal(t, [2]int64{tc.uid, tc.gid}, [2]int64{int64(u), int64(g)})
				return
			}
			var ierr *InvalidIDError
			require.ErrorAs(t, err, &ierr)
			assert.EqualError(t, err, tc.wantErr)
			assert.False(t, exists(home), "nothing is created for bad ids")
		})
	}
}

// existing makes home with the given owner and mode, holding files.
func existing(t *testing.T, u, g int, mode fs.FileMode, files ...string) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	require.NoError(t, os.Mkdir(home, mode))
	require.NoError(t, os.Chmod(home, mode))
	require.NoError(t, os.Chown(home, u, g))
	for _, f := range files {
		require.NoError(t, os.WriteFile(filepath.Join(home, f), nil, 0o600))
	}
	return home
}

func TestProvisionExisting(t *testing.T) {
	cases := map[string]struct {
		reason    string
		owner     [2]int
		mode      fs.FileMode
		files     []string
		want      *Result
		wantErr   string
		wantOwner [2]uint32
	}{
		"Correct": {
			reason: "no warnings", owner: [2]int{uid, gid}, mode: 0o700, files: []string{"x"},
			want: &Result{}, wantOwner: [2]uint32{uid, gid},
		},
		"WrongOwnerNotEmpty": {
			reason: "refused", owner: [2]int{1, gid}, mode: 0o700, files: []string{"x"},
			wantErr: "is owned by 1:4243, not 4242:4243 and is not empty", wantOwner: [2]uint32{1, gid},
		},
		"WrongOwnerDotfile": {
			reason: "a dotfile counts", owner: [2]int{uid, 1}, mode: 0o700, files: []string{".bashrc"},
			wantErr: "is owned by 4242:1, not 4242:4243 and is not empty", wantOwner: [2]uint32{uid, 1},
		},
		"WrongGroupEmpty": {
			reason: "reset with one warning", owner: [2]int{uid, 1}, mode: 0o700,
			want:      &Result{OwnershipReset: true, Warnings: []string{"HOME is owned by 4242:1, not 4242:4243 but is empty, resetting ownership"}},
			wantOwner: [2]uint32{uid, gid},
		},
		"WrongMode": {
			reason: "warned, not changed", owner: [2]int{uid, gid}, mode: 0o775,
			want:      &Result{Warnings: []string{"HOME has unexpected permissions: 0775 != 0700"}},
			wantOwner: [2]uint32{uid, gid},
		},
		"WrongOwnerAndMode": {
			reason: "both warnings", owner: [2]int{0, 0}, mode: 0o755,
			want: &Result{OwnershipReset: true, Warnings: []string{
				"HOME is owned by 0:0, not 4242:4243 but is empty, resetting ownership",
				"HOME has unexpected permissions: 0755 != 0700",
			}},
			wantOwner: [2]uint32{uid, gid},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			requireRoot(t)
			home := existing(t, tc.owner[0], tc.owner[1], tc.mode, tc.files...)
			res, err := Provision(Options{Home: home, UID: uid, GID: gid})
			if tc.wantErr != "" {
				var herr *InvalidHomeError
				require.ErrorAs(t, err, &herr, tc.reason)
				assert.Contains(t, err.Error(), home+" "+tc.wantErr)
			} else {
				require.NoError(t, err, tc.reason)
				for i, w := range tc.want.Warnings {
					tc.want.Warnings[i] = strings.ReplaceAll(w, "HOME", home)
				}
				assert.Equal(t, tc.want, res, tc.reason)
			}
			u, g, perm := owner(t, home)
			assert.Equal(t, tc.wantOwner, [2]uint32{u, g}, tc.reason)
			assert.Equal(t, tc.mode, perm, "the mode is never changed")
		})
	}
}

func TestProvisionNotADirectory(t *testing.T) {
	requireRoot(t)
	home := filepath.Join(t.TempDir(), "home")
	require.NoError(t, os.WriteFile(home, []byte("x"), 0o600))
	_, err := Provision(Options{Home: home, UID: uid, GID: gid})
	var herr *InvalidHomeError
	require.ErrorAs(t, err, &herr)
	assert.EqualError(t, err, home+" exists but is not a directory")
}

func TestProvisionSymlinkToDirectory(t *testing.T) {
	// The path is followed: a symlink to a good directory is accepted.
	requireRoot(t)
	target := existing(t, uid, gid, 0o700)
	link := filepath.Join(t.TempDir(), "home")
	require.NoError(t, os.Symlink(target, link))
	res, err := Provision(Options{Home: link, UID: uid, GID: gid})
	require.NoError(t, err)
	assert.Equal(t, &Result{}, res)
}

func TestParseEnv(t *testing.T) {
	cases := map[string]struct {
		env     map[string]string
		want    Options
		wantErr error
		wantMsg string
	}{
		"All": {
			env:  map[string]string{EnvHome: "/home/g", EnvUID: "2247", EnvGID: " 200 "},
			want: Options{Home: "/home/g", UID: 2247, GID: 200},
		},
		"Negative": {
			env:  map[string]string{EnvHome: "/home/g", EnvUID: "-1", EnvGID: "+7"},
			want: Options{Home: "/home/g", UID: -1, GID: 7},
		},
		"MissingHome": {env: map[string]string{EnvUID: "1", EnvGID: "1"}, wantErr: ErrEnvMissing},
		"MissingUID":  {env: map[string]string{EnvHome: "/h", EnvGID: "1"}, wantErr: ErrEnvMissing},
		"EmptyGID":    {env: map[string]string{EnvHome: "/h", EnvUID: "1", EnvGID: ""}, wantErr: ErrEnvMissing},
		"NotInteger":  {env: map[string]string{EnvHome: "/h", EnvUID: "bob", EnvGID: "1"}, wantErr: ErrEnvNotInteger},
		"Float":       {env: map[string]string{EnvHome: "/h", EnvUID: "1", EnvGID: "1.0"}, wantErr: ErrEnvNotInteger},
		"Huge": {
			env:     map[string]string{EnvHome: "/h", EnvUID: "99999999999999999999", EnvGID: "1"},
			wantMsg: "UID or GID out of range (99999999999999999999 > 4294967294)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			switch {
			case tc.wantErr != nil:
				require.ErrorIs(t, err, tc.wantErr)
			case tc.wantMsg != "":
				assert.EqualError(t, err, tc.wantMsg)
			default:
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
			}
		})
	}
	assert.Equal(t, "environment variables 'NUBLADO_HOME', 'NUBLADO_UID', and 'NUBLADO_GID' must all be set", ErrEnvMissing.Error())
}
