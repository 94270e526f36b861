package engine_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"cuelang.org/go/cue/load"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/engine"
)

// TestCUEFSModeGenImports pins the CUE loader bug that makes the engine load
// through an overlay instead of load.Config.FS: in cuelang.org/go v0.17.1 a
// package loaded from an fs.FS cannot import packages from cue.mod/gen. When
// this test fails after a CUE upgrade, the bug is fixed: switch loadModule to
// load.Config{FS: fsys, Dir: "/", Env: []string{}} and delete this test.
func TestCUEFSModeGenImports(t *testing.T) {
	insts := load.Instances([]string{"./templates/kinds"},
		&load.Config{FS: testFS(t, "templates"), Dir: "/", Env: []string{}})
	require.Len(t, insts, 1)
	require.Error(t, insts[0].Err, "FS mode now imports from cue.mod/gen: use it in loadModule")
	assert.Contains(t, insts[0].Err.Error(), "cannot get absolute path for FS of type")
}

// TestNewHermetic loads a module that exists only in memory.
func TestNewHermetic(t *testing.T) {
	fsys := fstest.MapFS{
		"cue.mod/module.cue": {Data: []byte("module: \"example.com/m@v0\"\nlanguage: version: \"v0.17.0\"\n")},
		"templates/a.cue":    {Data: []byte("package templates\nimport \"example.com/m/lib\"\na: {input: string, objects: [{kind: lib.kind, metadata: name: input}]}\n")},
		"lib/lib.cue":        {Data: []byte("package lib\nkind: \"ConfigMap\"\n")},
	}
	r, err := engine.New(fsys)
	require.NoError(t, err, "New")
	objs, err := r.Render("a", "x")
	require.NoError(t, err, "Render(a)")
	require.Len(t, objs, 1)
	assert.Equal(t, "ConfigMap", objs[0].GetKind())
	assert.Equal(t, "x", objs[0].GetName())
}

func TestNewErrors(t *testing.T) {
	module := &fstest.MapFile{Data: []byte("module: \"example.com/m@v0\"\nlanguage: version: \"v0.17.0\"\n")}
	cases := map[string]struct {
		reason   string
		fsys     fstest.MapFS
		opts     []engine.Option
		sentinel error
		contains string
	}{
		"NoTemplatesPackage": {
			reason:   "the templates directory must exist",
			fsys:     fstest.MapFS{"cue.mod/module.cue": module},
			contains: `loading CUE package "./templates"`,
		},
		"SyntaxError": {
			reason:   "a template that does not parse",
			fsys:     fstest.MapFS{"cue.mod/module.cue": module, "templates/a.cue": {Data: []byte("package templates\na: {\n")}},
			contains: `loading CUE package "./templates"`,
		},
		"Conflict": {
			reason:   "a template that does not evaluate",
			fsys:     fstest.MapFS{"cue.mod/module.cue": module, "templates/a.cue": {Data: []byte("package templates\nx: 1\nx: 2\n")}},
			contains: "building templates",
		},
		"NoTemplates": {
			reason:   "a package without any field holding input and objects",
			fsys:     fstest.MapFS{"cue.mod/module.cue": module, "templates/a.cue": {Data: []byte("package templates\na: 1\n")}},
			sentinel: engine.ErrNoTemplates,
		},
		"StrictWithoutKinds": {
			reason:   "strict mode needs the kinds package",
			fsys:     fstest.MapFS{"cue.mod/module.cue": module, "templates/a.cue": {Data: []byte("package templates\na: {input: _, objects: []}\n")}},
			opts:     []engine.Option{engine.Strict()},
			contains: `loading CUE package "./templates/kinds"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := engine.New(tc.fsys, tc.opts...)
			require.Error(t, err, "New: %s", tc.reason)
			assert.Nil(t, r)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel, "New: %s", tc.reason)
			}
			if tc.contains != "" {
				assert.Contains(t, err.Error(), tc.contains, "New: %s", tc.reason)
			}
		})
	}
}

func configFS() fstest.MapFS {
	return fstest.MapFS{
		"cue.mod/module.cue": {Data: []byte("module: \"example.com/m@v0\"\nlanguage: version: \"v0.17.0\"\n")},
		"templates/a.cue": {Data: []byte(`package templates
config: {prefix: string, replicas: int}
a: {
	input: string
	objects: [{kind: "ConfigMap", metadata: name: "\(config.prefix)-\(input)", data: n: "\(config.replicas)"}]
}
`)},
	}
}

// TestConfig fills the static configuration once for every render.
func TestConfig(t *testing.T) {
	type cfg struct {
		Prefix   string `json:"prefix"`
		Replicas int    `json:"replicas"`
	}
	r, err := engine.New(configFS(), engine.Config(cfg{Prefix: "userlabs", Replicas: 3}))
	require.NoError(t, err, "New")
	for _, user := range []string{"rachel", "ribbon", "rachel"} {
		objs, err := r.Render("a", user)
		require.NoError(t, err, "Render(a)")
		assert.Equal(t, "userlabs-"+user, objs[0].GetName())
		assert.Equal(t, map[string]any{"n": "3"}, objs[0].Object["data"])
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := engine.New(configFS(), engine.Config(map[string]any{"prefix": 1, "replicas": 3}))
	require.Error(t, err, "New: a config of the wrong type")
	assert.Contains(t, err.Error(), "filling the templates' config")

	r, err := engine.New(configFS())
	require.NoError(t, err, "New: no config")
	_, err = r.Render("a", "rachel")
	var rerr *engine.RenderError
	require.ErrorAs(t, err, &rerr, "Render(a) without config")
	assert.Equal(t, "ConfigMap/?", rerr.Object)
	assert.Equal(t, "metadata.name", rerr.Path)
}

// TestDirs loads the templates and the kinds table from other directories.
func TestDirs(t *testing.T) {
	fsys := testFS(t, "broken")
	moved := fstest.MapFS{}
	for name, f := range fsys {
		switch {
		case strings.HasPrefix(name, "templates/kinds/"):
			moved["k8s/"+strings.TrimPrefix(name, "templates/kinds/")] = f
		case strings.HasPrefix(name, "templates/"):
			moved["tmpl/"+strings.TrimPrefix(name, "templates/")] = f
		default:
			moved[name] = f
		}
	}
	r, err := engine.New(moved, engine.TemplatesDir("tmpl"), engine.KindsDir("k8s"), engine.Strict())
	require.NoError(t, err, "New")
	_, err = r.Render("pod", map[string]any{"name": "x"})
	var rerr *engine.RenderError
	require.ErrorAs(t, err, &rerr, "Render(pod) in strict mode")
	assert.Equal(t, "spec.containerz", rerr.Path)
}

// TestNotAnObject rejects an objects list that holds something else than
// structs.
func TestNotAnObject(t *testing.T) {
	fsys := fstest.MapFS{
		"cue.mod/module.cue": {Data: []byte("module: \"example.com/m@v0\"\nlanguage: version: \"v0.17.0\"\n")},
		"templates/a.cue":    {Data: []byte("package templates\na: {input: string, objects: [{kind: \"ConfigMap\"}, input]}\n")},
	}
	r, err := engine.New(fsys)
	require.NoError(t, err)
	_, err = r.Render("a", "x")
	require.ErrorIs(t, err, engine.ErrNotAnObject, "Render(a)")
	var rerr *engine.RenderError
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, "objects.1", rerr.Path)
}
