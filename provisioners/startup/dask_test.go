package startup

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	daskDir       = "home/hambone/.config/dask"
	dashboardYAML = "distributed:\n  dashboard:\n    link: '{JUPYTERHUB_PUBLIC_URL}proxy/{port}/status'\n"
	backupSuffix  = ".2025-03-04"
)

func TestDask(t *testing.T) {
	cases := map[string]struct {
		files     map[string]string // in ~/.config/dask
		want      map[string]string // expected content; "" = must not exist
		wantWarns []string
	}{
		"fresh home": {
			want: map[string]string{"dashboard.yaml": dashboardYAML},
		},
		"legacy link rewritten": {
			files: map[string]string{"lsst_dask.yml": "distributed:\n  dashboard:\n    link: \"{EXTERNAL_INSTANCE_URL}{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status\"\n  admin:\n    tick:\n      limit: 3s\n    nothing: null\n"},
			want: map[string]string{
				"lsst_dask.yml":                "distributed:\n  admin:\n    tick:\n      limit: 3s\n  dashboard:\n    link: '{JUPYTERHUB_PUBLIC_URL}proxy/{port}/status'\n",
				"lsst_dask.yml" + backupSuffix: "distributed:\n  dashboard:\n    link: \"{EXTERNAL_INSTANCE_URL}{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status\"\n  admin:\n    tick:\n      limit: 3s\n    nothing: null\n",
				"dashboard.yaml":               "",
			},
			wantWarns: []string{"Rewriting legacy dask dashboard link"},
		},
		"empty configurations moved aside": {
			files: map[string]string{
				"flense.yaml":  "key1:\n  key2:\n    key3: null\n",
				"Comment.yaml": "# Only a comment\n",
			},
			want: map[string]string{
				"flense.yaml":                 "",
				"flense.yaml" + backupSuffix:  "key1:\n  key2:\n    key3: null\n",
				"Comment.yaml":                "",
				"Comment.yaml" + backupSuffix: "# Only a comment\n",
				"dashboard.yaml":              dashboardYAML,
			},
			wantWarns: []string{"Moving empty dask configuration aside"},
		},
		"link already set elsewhere": {
			files: map[string]string{"mine.yaml": "distributed:\n  dashboard:\n    link: 'https://x/{JUPYTERHUB_PUBLIC_URL}proxy/{port}/status'\n"},
			want:  map[string]string{"dashboard.yaml": ""},
		},
		"other link kept, dashboard.yaml added": {
			files: map[string]string{"mine.yaml": "distributed:\n  dashboard:\n    link: http://elsewhere/{port}\n"},
			want: map[string]string{
				"mine.yaml":      "distributed:\n  dashboard:\n    link: http://elsewhere/{port}\n",
				"dashboard.yaml": dashboardYAML,
			},
		},
		"dashboard.yaml merged": {
			files: map[string]string{"dashboard.yaml": "distributed:\n  scheduler:\n    work-stealing: false\nlogging:\n  distributed: info\n"},
			want: map[string]string{
				"dashboard.yaml": "distributed:\n  dashboard:\n    link: '{JUPYTERHUB_PUBLIC_URL}proxy/{port}/status'\nlogging:\n  distributed: info\n",
			},
			wantWarns: []string{"Setting dask dashboard link in existing configuration"},
		},
		"non-string link": {
			files: map[string]string{"odd.yaml": "distributed:\n  dashboard:\n    link: 8787\n"},
			want: map[string]string{
				"odd.yaml":       "distributed:\n  dashboard:\n    link: 8787\n",
				"dashboard.yaml": dashboardYAML,
			},
			wantWarns: []string{"Dask dashboard link is not a string; leaving it alone"},
		},
		"not a mapping": {
			files: map[string]string{"list.yaml": "- a\n- b\n", "scalar.yml": "distributed\n"},
			want: map[string]string{
				"list.yaml":      "- a\n- b\n",
				"scalar.yml":     "distributed\n",
				"dashboard.yaml": dashboardYAML,
			},
			wantWarns: []string{"Dask configuration is not a mapping; leaving it alone"},
		},
		"not YAML": {
			files: map[string]string{"broken.yaml": "a: [\n"},
			want: map[string]string{
				"broken.yaml":                "",
				"broken.yaml" + backupSuffix: "a: [\n",
				"dashboard.yaml":             dashboardYAML,
			},
			wantWarns: []string{"Could not parse dask configuration"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			for file, text := range tc.files {
				f.write(t, filepath.Join(daskDir, file), text)
			}
			res := f.run(t)
			require.Nil(t, res.Abnormal)
			for file, want := range tc.want {
				path := filepath.Join(f.root, daskDir, file)
				if want == "" {
					assert.NoFileExists(t, path)
					continue
				}
				assert.Equal(t, want, string(readFile(t, path)), file)
			}
			for _, w := range tc.wantWarns {
				assert.Contains(t, f.messages(logrus.WarnLevel), w)
			}
		})
	}
}

// TestDaskDashboardUnchanged: a dashboard.yaml that already says the right
// thing is not rewritten.
func TestDaskDashboardUnchanged(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.root, daskDir, "dashboard.yaml")
	f.write(t, filepath.Join(daskDir, "dashboard.yaml"), "# mine\n"+dashboardYAML)
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, os.Chtimes(path, old, old))
	f.run(t)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.True(t, fi.ModTime().Equal(old), "dashboard.yaml rewritten")
	assert.Equal(t, "# mine\n"+dashboardYAML, string(readFile(t, path)))
}

// TestDaskBackupKeepsMetadata: the backup of a rewritten file keeps its
// mode and times.
func TestDaskBackupKeepsMetadata(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.root, daskDir, "lsst_dask.yml")
	f.write(t, filepath.Join(daskDir, "lsst_dask.yml"), "distributed:\n  dashboard:\n    link: '{EXTERNAL_INSTANCE_URL}{JUPYTERHUB_SERVICE_PREFIX}status'\n")
	require.NoError(t, os.Chmod(path, 0o640))
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, os.Chtimes(path, old, old))
	f.run(t)
	fi, err := os.Stat(path + backupSuffix)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	assert.True(t, fi.ModTime().Equal(old), "backup mtime %v", fi.ModTime())
	assert.Equal(t, "distributed:\n  dashboard:\n    link: '{JUPYTERHUB_PUBLIC_URL}status'\n", string(readFile(t, path)))
}

// TestDaskDirectoryIsAFile: a file in the way is logged; the startup is
// normal.
func TestDaskDirectoryIsAFile(t *testing.T) {
	f := newFixture(t)
	f.write(t, daskDir, "not a directory")
	res := f.run(t)
	require.Nil(t, res.Abnormal)
	assert.Contains(t, f.messages(logrus.ErrorLevel), "A file is in the way of the dask configuration directory")
}

func TestFlense(t *testing.T) {
	cases := map[string]struct {
		in, want any
	}{
		"all null": {
			in:   map[string]any{"key1": map[string]any{"key2": map[string]any{"key3": nil}}},
			want: map[string]any{},
		},
		"mixed": {
			in:   map[string]any{"a": nil, "b": map[string]any{}, "c": map[string]any{"d": 1, "e": nil}, "f": []any{nil}},
			want: map[string]any{"c": map[string]any{"d": 1}, "f": []any{nil}},
		},
		"scalar": {in: "x", want: "x"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := flense(tc.in)
			assert.Equal(t, tc.want, got, "flense(%v)", tc.in)
		})
	}
	assert.False(t, truthy(flense(map[string]any{"key1": map[string]any{"key2": map[string]any{"key3": nil}}})),
		"flensing the all-null config gives nothing")
}
