package purger

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonLog returns a logger writing JSON lines into buf.
func jsonLog(buf *bytes.Buffer) *logrus.Entry {
	log := logrus.New()
	log.SetOutput(buf)
	log.SetFormatter(&logrus.JSONFormatter{DisableTimestamp: true})
	log.SetLevel(logrus.DebugLevel)
	return logrus.NewEntry(log)
}

// logLines decodes the JSON lines in buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(buf)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return out
		} else {
			require.NoError(t, err)
		}
		out = append(out, m)
	}
}

func messages(lines []map[string]any) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l["msg"].(string))
	}
	return out
}

// runFixture prepares the fixture tree with scratch/large 8h old and a
// config whose policy is testdata/policy.yaml rewritten to it.
func runFixture(t *testing.T) (string, Config) {
	tmp := makeTree(t)
	age(t, filepath.Join(tmp, "scratch/large"), ATime, 8*time.Hour)
	cfg := DefaultConfig()
	cfg.PolicyFile = writePolicy(t, loadPolicy(t, "testdata/policy.yaml", tmp), tmp)
	return tmp, cfg
}

func TestRunModes(t *testing.T) {
	cases := map[string]struct {
		mode    Mode
		config  func(c *Config)
		deleted bool
		wantMsg []string
	}{
		"Report": {
			mode:    ModeReport,
			wantMsg: []string{"Purger initialized", "REPORT"},
		},
		"Execute": {
			mode:    ModeExecute,
			deleted: true,
			wantMsg: []string{"Purger initialized", "REPORT", "Deleted file", "Purge finished"},
		},
		"ExecuteDryRun": {
			mode:    ModeExecute,
			config:  func(c *Config) { c.DryRun = true },
			wantMsg: []string{"Purger initialized", "Cannot purge because dry_run enabled; reporting instead", "REPORT"},
		},
		"ExecuteFuture": {
			mode:   ModeExecute,
			config: func(c *Config) { c.FutureDuration = time.Hour },
			wantMsg: []string{"Purger initialized", "Planning for time 3600s from now.",
				"Cannot purge because future_duration is set; reporting instead", "REPORT"},
		},
		"Warn": {
			mode:    ModeWarn,
			config:  func(c *Config) { c.FutureDuration = 3650 * 24 * time.Hour },
			wantMsg: []string{"Purger initialized", "Planning for time 315360000s from now.", "REPORT"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tmp, cfg := runFixture(t)
			if tc.config != nil {
				tc.config(&cfg)
			}
			var buf bytes.Buffer
			require.NoError(t, Run(context.Background(), cfg, tc.mode, jsonLog(&buf)))
			lines := logLines(t, &buf)
			msgs := messages(lines)
			for i, m := range msgs {
				if len(m) > 0 && m[0] == 'D' && m[:11] == "Directories" {
					msgs[i] = "REPORT"
				}
			}
			assert.Equal(t, tc.wantMsg, msgs)
			assert.Equal(t, !tc.deleted, exists(t, filepath.Join(tmp, "scratch/large")))
			assert.True(t, exists(t, filepath.Join(tmp, "scratch/small")))
		})
	}
}

func TestRunReportText(t *testing.T) {
	tmp, cfg := runFixture(t)
	var buf bytes.Buffer
	require.NoError(t, Run(context.Background(), cfg, ModeReport, jsonLog(&buf)))
	lines := logLines(t, &buf)
	require.Len(t, lines, 2)
	assert.Equal(t, "info", lines[1]["level"])
	assert.Equal(t, "Directories considered:\n  "+filepath.Join(tmp, "scratch")+"\n  "+filepath.Join(tmp, "scratch/foo/bar")+
		"\n  -> "+filepath.Join(tmp, "scratch/large")+"\n", lines[1]["msg"])
	assert.Equal(t, cfg.PolicyFile, lines[0]["config"].(map[string]any)["policy_file"])
}

func TestRunWarnNeedsDuration(t *testing.T) {
	_, cfg := runFixture(t)
	require.ErrorIs(t, Run(context.Background(), cfg, ModeWarn, jsonLog(&bytes.Buffer{})), ErrNoFutureDuration)
}

func TestRunMissingPolicy(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PolicyFile = filepath.Join(t.TempDir(), "nope.yaml")
	require.ErrorIs(t, Run(context.Background(), cfg, ModeReport, jsonLog(&bytes.Buffer{})), os.ErrNotExist)
}

func TestRunPlanErrorsFailAtTheEnd(t *testing.T) {
	// A policy directory that is a file is reported as missing (a warning);
	// an unreadable one is an error. Root reads anything, so use a directory
	// name that is too long to open.
	tmp, cfg := runFixture(t)
	p := loadPolicy(t, "testdata/policy.yaml", tmp)
	long := filepath.Join(tmp, string(bytes.Repeat([]byte("x"), 300)))
	p.Directories = append(p.Directories, DirectoryPolicy{Path: long}, DirectoryPolicy{Path: filepath.Join(tmp, "scratch/small")})
	cfg.PolicyFile = writePolicy(t, p, tmp)
	var buf bytes.Buffer
	err := Run(context.Background(), cfg, ModeExecute, jsonLog(&buf))
	var perr *PurgeError
	require.ErrorAs(t, err, &perr)
	assert.Contains(t, perr.FailedFiles(), long)
	assert.False(t, exists(t, filepath.Join(tmp, "scratch/large")), "the purge went on")
	lines := logLines(t, &buf)
	last := lines[len(lines)-1]
	assert.Equal(t, "Purge encountered errors", last["msg"])
	assert.Equal(t, "error", last["level"])
	assert.Contains(t, last["failed_files"], long)
	assert.Contains(t, messages(lines), "File or directory vanished or is not a directory, skipping")

	buf.Reset()
	err = Run(context.Background(), cfg, ModeReport, jsonLog(&buf))
	var planErr *PlanError
	require.ErrorAs(t, err, &planErr)
	assert.Contains(t, planErr.Error(), "plan encountered errors: "+long+": open: file name too long")
}

func TestPostAlert(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&got))
	}))
	defer srv.Close()
	perr := &PurgeError{Failed: appendErr(nil, &os.PathError{Op: "unlink", Path: "/s/a", Err: os.ErrPermission})}
	require.NoError(t, PostAlert(context.Background(), srv.Client(), srv.URL, perr))
	assert.Equal(t, "Error in Nublado File Purger: purge encountered errors: /s/a: unlink: permission denied", got["text"])
	att := got["attachments"].([]any)[0].(map[string]any)["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"]
	assert.Equal(t, "*Failed Files*\n```\n/s/a: unlink: permission denied\n```", att)

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer failing.Close()
	require.ErrorContains(t, PostAlert(context.Background(), failing.Client(), failing.URL, os.ErrClosed), "status 500")
}
