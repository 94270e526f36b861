package schema_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/nublado-go/nublado/schema"
)

// FuzzParseConfig feeds arbitrary bytes to the config loader (seed corpus
// in testdata/fuzz/FuzzParseConfig, plus the files of testdata). It must
// never panic; a refusal is a *multierror.Error of *schema.FieldError, each
// with a message and the file name; an accepted configuration parses the
// same way twice, marshals, and keeps its documented bounds (requests
// within limits, no negative amounts or counts).
func FuzzParseConfig(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseWithin(t, data, 10*time.Second)
		if err != nil {
			checkConfigRefusal(t, data, err)
			return
		}
		checkConfigBounds(t, data, cfg)
		again, err := schema.Parse(data, "fuzz.yaml", schema.WithLookupEnv(noEnv))
		if err != nil || !reflect.DeepEqual(cfg, again) {
			t.Fatalf("Parse(%q) twice: %+v then %+v, %v", data, cfg, again, err)
		}
		if _, err := json.Marshal(cfg); err != nil {
			t.Fatalf("Parse(%q): marshalling the configuration: %v", data, err)
		}
	})
}

// parseWithin parses data, failing the test when it takes longer than
// limit (a hostile file must not hang the loader).
func parseWithin(t *testing.T, data []byte, limit time.Duration) (*schema.Config, error) {
	t.Helper()
	type result struct {
		cfg *schema.Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		cfg, err := schema.Parse(data, "fuzz.yaml", schema.WithLookupEnv(noEnv))
		done <- result{cfg, err}
	}()
	select {
	case r := <-done:
		return r.cfg, r.err
	case <-time.After(limit):
		t.Fatalf("Parse(%q) takes longer than %v", data, limit)
		return nil, nil
	}
}

func checkConfigRefusal(t *testing.T, data []byte, err error) {
	t.Helper()
	var merr *multierror.Error
	if !errors.As(err, &merr) || len(merr.Errors) == 0 {
		t.Fatalf("Parse(%q): error %T %v, want a *multierror.Error", data, err, err)
	}
	for _, e := range merr.Errors {
		var fe *schema.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("Parse(%q): entry %T %v, want *schema.FieldError", data, e, e)
		}
		if fe.Message == "" || fe.Pos.Filename != "fuzz.yaml" {
			t.Fatalf("Parse(%q): malformed entry %+v", data, fe)
		}
	}
}

func checkConfigBounds(t *testing.T, data []byte, cfg *schema.Config) {
	t.Helper()
	fail := func(what string, args ...any) {
		t.Helper()
		t.Fatalf("Parse(%q): "+what, append([]any{data}, args...)...)
	}
	check := func(where string, r schema.Resources) {
		for _, v := range []schema.ResourceValues{r.Limits, r.Requests} {
			c := float64(v.CPU)
			if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 || v.Memory < 0 {
				fail("%s: resources %+v out of bounds", where, r)
			}
		}
		if r.Requests.CPU > r.Limits.CPU || r.Requests.Memory > r.Limits.Memory {
			fail("%s: requests %+v exceed limits %+v", where, r.Requests, r.Limits)
		}
	}
	for _, s := range cfg.Lab.Sizes {
		check("size "+s.Size, s.Resources)
	}
	if r := cfg.Fileserver.Resources; r != nil {
		check("fileserver", *r)
	}
	im := cfg.Images
	if im.NumReleases < 0 || im.NumWeeklies < 0 || im.NumDailies < 0 {
		fail("negative image counts %d/%d/%d", im.NumReleases, im.NumWeeklies, im.NumDailies)
	}
}
