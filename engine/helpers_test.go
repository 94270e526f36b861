package engine_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// testFS returns the repository's cue.mod and kinds package with the test
// templates of testdata/<dir> as the templates package.
func testFS(t testing.TB, dir string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	add := func(root, prefix string) {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".cue") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			m[filepath.ToSlash(filepath.Join(prefix, rel))] = &fstest.MapFile{Data: data}
			return nil
		})
		require.NoError(t, err)
	}
	add(filepath.Join("..", "cue.mod"), "cue.mod")
	add(filepath.Join("..", "templates", "kinds"), "templates/kinds")
	add(filepath.Join("testdata", dir), "templates")
	return m
}

// labInput is the input of the test lab template for user number i.
type labInput struct {
	User        user              `json:"user"`
	Namespace   string            `json:"namespace"`
	GroupsJSON  string            `json:"groupsJSON"`
	Home        string            `json:"home"`
	Image       string            `json:"image"`
	Size        string            `json:"size"`
	Token       []byte            `json:"token"`
	Annotations map[string]string `json:"annotations"`
	Env         map[string]string `json:"env"`
	Files       map[string]string `json:"files"`
	Resources   resources         `json:"resources"`
	Quota       *cpuMem           `json:"quota,omitempty"`
}

type user struct {
	Username string  `json:"username"`
	UID      int     `json:"uid"`
	GID      int     `json:"gid"`
	Name     *string `json:"name"`
	Groups   []group `json:"groups"`
}

type group struct {
	Name string `json:"name"`
	ID   int    `json:"id"`
}

type cpuMem struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

type resources struct {
	Limits   cpuMem `json:"limits"`
	Requests cpuMem `json:"requests"`
}

func newLabInput(i int) labInput {
	name := fmt.Sprintf("user%05d", i)
	display := fmt.Sprintf("User Number %d", i)
	groups := []group{{Name: name, ID: 10000 + i}, {Name: "lunatics", ID: 2028}, {Name: fmt.Sprintf("project-%d", i%97), ID: 3000 + i%97}}
	gj, err := json.Marshal(groups)
	if err != nil {
		panic(err)
	}
	in := labInput{
		User:        user{Username: name, UID: 10000 + i, GID: 10000 + i, Name: &display, Groups: groups},
		Namespace:   "userlabs-" + name,
		GroupsJSON:  string(gj),
		Home:        "/home/" + name,
		Image:       fmt.Sprintf("lighthouse.ceres/library/sketchbook:d_2077_10_%02d@sha256:%064x", i%28+1, i),
		Size:        "Small (1.0 CPU, 3Gi RAM)",
		Token:       []byte("token-for-" + name),
		Annotations: map[string]string{"example.com/user-" + name: "yes"},
		Env: map[string]string{
			"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/" + name + "/",
			"JUPYTERHUB_USER":           name,
			"VAR_" + name:               "per-user key",
		},
		Files:     map[string]string{"lsst-dask-yml": "kubernetes:\n  name: dask-" + name + "\n"},
		Resources: resources{Limits: cpuMem{"1.0", "3221225472"}, Requests: cpuMem{"0.25", "805306368"}},
	}
	if i%2 == 0 {
		in.Quota = &cpuMem{"9.0", "28991029248"}
	}
	return in
}
