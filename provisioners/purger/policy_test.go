package purger

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadPolicy(t *testing.T) {
	p, err := ReadPolicy("testdata/policy_low_ctime.yaml")
	require.NoError(t, err)
	assert.Equal(t, &Policy{Directories: []DirectoryPolicy{
		{
			Path: "/placeholder/one", Threshold: 10,
			Intervals: Intervals{
				Small: SizeIntervals{Access: 30 * 24 * time.Hour, Creation: time.Second, Modification: 90 * 24 * time.Hour},
				Large: SizeIntervals{Access: time.Hour, Creation: 24 * time.Hour, Modification: 4 * time.Hour},
			},
		},
		{
			Path: "/placeholder/two", Threshold: 20,
			Intervals: Intervals{Large: SizeIntervals{Access: 3 * time.Second, Creation: 10 * time.Second, Modification: 5 * time.Second}},
		},
	}}, p)

	_, err = ReadPolicy(filepath.Join(t.TempDir(), "nope.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestParsePolicy(t *testing.T) {
	cases := map[string]struct {
		yaml    string
		want    *Policy
		wantErr string
	}{
		"EmptyList": {yaml: "directories: []\n", want: &Policy{Directories: []DirectoryPolicy{}}},
		"UnknownKeysIgnored": {
			yaml: "comment: x\ndirectories:\n- path: /s\n  owner: me\n  threshold: 1Ki\n  intervals:\n    huge: {}\n    small:\n      access_interval: 60\n      colour: red\n",
			want: &Policy{Directories: []DirectoryPolicy{{Path: "/s", Threshold: 1024, Intervals: Intervals{Small: SizeIntervals{Access: time.Minute}}}}},
		},
		"PathCleaned": {
			yaml: "directories:\n- {path: /s/./t/, threshold: 1, intervals: {}}\n",
			want: &Policy{Directories: []DirectoryPolicy{{Path: "/s/t", Threshold: 1}}},
		},
		"NullClass": {
			yaml: "directories:\n- {path: /s, threshold: 1, intervals: {large: null, small: {accessInterval: null}}}\n",
			want: &Policy{Directories: []DirectoryPolicy{{Path: "/s", Threshold: 1}}},
		},
		"MissingDirectories": {yaml: "other: 1\n", wantErr: "directories: required"},
		"DirectoriesNotList": {yaml: "directories: /s\n", wantErr: "directories: want a list"},
		"MissingPath":        {yaml: "directories:\n- {threshold: 1, intervals: {}}\n", wantErr: "directories[0].path: required"},
		"MissingThreshold":   {yaml: "directories:\n- {path: /s, intervals: {}}\n", wantErr: "directories[0].threshold: required"},
		"MissingIntervals":   {yaml: "directories:\n- {path: /s, threshold: 1}\n", wantErr: "directories[0].intervals: required"},
		"BadThreshold": {
			yaml:    "directories:\n- {path: /a, threshold: 1, intervals: {}}\n- {path: /s, threshold: 1.2345k, intervals: {}}\n",
			wantErr: `directories[1].threshold: invalid size: could not convert "1.2345k" to integer`,
		},
		"BadInterval": {
			yaml:    "directories:\n- {path: /s, threshold: 1, intervals: {large: {modificationInterval: soon}}}\n",
			wantErr: "directories[0].intervals: large: modification_interval: invalid duration",
		},
		"NegativeInterval": {
			yaml:    "directories:\n- {path: /s, threshold: 1, intervals: {small: {accessInterval: -1}}}\n",
			wantErr: "negative",
		},
		"NotYAML": {yaml: "directories: [\n", wantErr: "parsing YAML"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePolicy([]byte(tc.yaml))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "ParsePolicy(%q)", tc.yaml)
		})
	}
}

func TestReport(t *testing.T) {
	cases := map[string]struct {
		plan *Plan
		want string
	}{
		"NoDirectories": {&Plan{}, "No directories considered."},
		"NoFiles": {
			&Plan{Directories: []string{"/s", "/s/foo/bar"}},
			"Directories considered:\n  /s\n  /s/foo/bar\nNo matching files found.\n",
		},
		"Files": {
			&Plan{Directories: []string{"/s"}, Files: []File{{Path: "/s/a"}, {Path: "/s/b/c"}}},
			"Directories considered:\n  /s\n  -> /s/a\n  -> /s/b/c\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := tc.plan.Report()
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFileString(t *testing.T) {
	f := File{Path: "/s/a", Reason: CTime, FileInterval: 90*time.Second + 900*time.Millisecond, CriterionInterval: time.Minute}
	assert.Equal(t, "/s/a: CTIME 90s >= 60s", f.String())
	assert.Equal(t, "LARGE", Large.String())
	assert.Equal(t, "SMALL", Small.String())
}
