package startup

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relocated is the relocation target for fixedNow.
const relocated = ".user_env.20250304050607"

func TestRelocation(t *testing.T) {
	t.Run("dot directories and user setups", func(t *testing.T) {
		f := newFixture(t)
		f.env["RESET_USER_ENV"] = "FALSE" // any non-empty value
		f.write(t, "home/hambone/.local/foo", "local")
		f.write(t, "home/hambone/.conda/envs/x", "conda")
		f.write(t, "home/hambone/.eups/ups_db", "eups")
		f.write(t, "home/hambone/notebooks/.user_setups", "export FOO=1\n")
		res := f.run(t)
		require.Nil(t, res.Abnormal)
		target := filepath.Join(f.home, relocated)
		assert.Equal(t, "local", string(readFile(t, filepath.Join(target, "local", "foo"))))
		assert.Equal(t, "conda", string(readFile(t, filepath.Join(target, "conda", "envs", "x"))))
		assert.Equal(t, "eups", string(readFile(t, filepath.Join(target, "eups", "ups_db"))))
		assert.Equal(t, "export FOO=1\n", string(readFile(t, filepath.Join(target, "notebooks", "user_setups"))))
		assert.NoDirExists(t, filepath.Join(f.home, ".local"))
		// The skeleton then gives the user a fresh .user_setups.
		assert.Equal(t, readFile(t, filepath.Join("testdata", "tree", "etc", "skel", "notebooks", ".user_setups")),
			readFile(t, filepath.Join(f.home, "notebooks", ".user_setups")))
	})
	t.Run("only user setups", func(t *testing.T) {
		// The original fails here (it creates only the last directory
		// level); nublado creates the target.
		f := newFixture(t)
		f.env["RESET_USER_ENV"] = "TRUE"
		f.write(t, "home/hambone/notebooks/.user_setups", "export FOO=1\n")
		res := f.run(t)
		require.Nil(t, res.Abnormal)
		assert.FileExists(t, filepath.Join(f.home, relocated, "notebooks", "user_setups"))
	})
	t.Run("not requested", func(t *testing.T) {
		f := newFixture(t)
		f.write(t, "home/hambone/.local/foo", "local")
		f.run(t)
		assert.FileExists(t, filepath.Join(f.home, ".local", "foo"))
		assert.NoDirExists(t, filepath.Join(f.home, relocated))
	})
	t.Run("nothing to move", func(t *testing.T) {
		f := newFixture(t)
		f.env["RESET_USER_ENV"] = "TRUE"
		res := f.run(t)
		require.Nil(t, res.Abnormal)
		assert.NoDirExists(t, filepath.Join(f.home, relocated))
	})
}
