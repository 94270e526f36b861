package startup

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"
)

// The dask dashboard link: dask expands the braces from the lab's
// environment. Old configurations built it from two variables that no
// longer give a usable URL.
const (
	daskLinkTemplate   = "{JUPYTERHUB_PUBLIC_URL}proxy/{port}/status"
	daskLegacyFragment = "{EXTERNAL_INSTANCE_URL}{JUPYTERHUB_SERVICE_PREFIX}"
	daskNewFragment    = "{JUPYTERHUB_PUBLIC_URL}"
)

// daskDashboard is the configuration dashboard.yaml must hold.
func daskDashboard() map[string]any {
	return map[string]any{"distributed": map[string]any{
		"dashboard": map[string]any{"link": daskLinkTemplate},
	}}
}

// setupDask makes the dask dashboard link point at the lab's proxy (§5.10):
// empty configurations are moved aside, legacy links are rewritten, and when
// no configuration has the link, dashboard.yaml gets it.
func (p *preparer) setupDask() error {
	dir := filepath.Join(p.home, ".config", "dask")
	if isDir(dir) {
		ok, err := p.tidyDaskConfigs(dir)
		if err != nil || ok {
			return err
		}
	}
	return p.ensureDaskDashboard(dir)
}

// tidyDaskConfigs examines every *.yaml then *.yml file of dir and reports
// whether one of them sets the dashboard link (the original reports only the
// last file's result).
func (p *preparer) tidyDaskConfigs(dir string) (bool, error) {
	found := false
	backupSuffix := "." + p.opts.Now().UTC().Format("2006-01-02")
	for _, suffix := range []string{"yaml", "yml"} {
		files, err := filepath.Glob(filepath.Join(dir, "*."+suffix))
		if err != nil {
			return false, err
		}
		sort.Strings(files)
		for _, f := range files {
			if !isRegular(f) {
				continue
			}
			ok, err := p.tidyDaskConfig(f, f+backupSuffix)
			if err != nil {
				return false, err
			}
			found = found || ok
		}
	}
	return found, nil
}

// tidyDaskConfig moves an empty configuration to backup, or rewrites a legacy
// dashboard link (keeping the original in backup). It reports whether the
// file now sets the link.
func (p *preparer) tidyDaskConfig(file, backup string) (bool, error) {
	log := p.log.WithField("path", file)
	cfg, err := p.loadDaskConfig(file)
	if err != nil {
		return false, err
	}
	if !truthy(cfg) {
		log.WithField("backup", backup).Warn("Moving empty dask configuration aside")
		return false, os.Rename(file, backup)
	}
	m, ok := cfg.(map[string]any)
	if !ok {
		log.Warn("Dask configuration is not a mapping; leaving it alone")
		return false, nil
	}
	link, ok := lookupPath(m, "distributed", "dashboard", "link")
	if !ok {
		return false, nil
	}
	s, ok := link.(string)
	switch {
	case !ok:
		log.Warn("Dask dashboard link is not a string; leaving it alone")
		return false, nil
	case strings.Contains(s, daskLinkTemplate):
		return true, nil
	case !strings.Contains(s, daskLegacyFragment):
		return false, nil
	}
	log.WithField("backup", backup).Warn("Rewriting legacy dask dashboard link")
	if err := copyWithMetadata(file, backup); err != nil {
		return false, err
	}
	dash := m["distributed"].(map[string]any)["dashboard"].(map[string]any)
	dash["link"] = strings.ReplaceAll(s, daskLegacyFragment, daskNewFragment)
	return true, writeYAML(file, m)
}

// ensureDaskDashboard writes the link into dir/dashboard.yaml, merging it
// into a configuration already there.
func (p *preparer) ensureDaskDashboard(dir string) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTDIR) {
			p.log.WithError(err).WithField("path", dir).Error("A file is in the way of the dask configuration directory")
			return nil
		}
		return err
	}
	file := filepath.Join(dir, "dashboard.yaml")
	want := daskDashboard()
	there, err := exists(file)
	if err != nil || !there {
		if err != nil {
			return err
		}
		return writeYAML(file, want)
	}
	cfg, err := p.loadDaskConfig(file)
	if err != nil {
		return err
	}
	m, ok := cfg.(map[string]any)
	if !ok {
		m = map[string]any{}
	}
	if reflect.DeepEqual(m, want) {
		return nil
	}
	p.log.WithField("path", file).Warn("Setting dask dashboard link in existing configuration")
	m["distributed"] = want["distributed"]
	return writeYAML(file, m)
}

// loadDaskConfig reads and flenses a YAML file. A file that is not YAML is
// logged and read as nothing; a file that cannot be read is an error.
func (p *preparer) loadDaskConfig(file string) (any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var v any
	useNumber := func(d *json.Decoder) *json.Decoder { d.UseNumber(); return d }
	if err := yaml.Unmarshal(data, &v, useNumber); err != nil {
		p.log.WithError(err).WithField("path", file).Warn("Could not parse dask configuration")
		return nil, nil
	}
	return flense(v), nil
}

// flense drops, recursively, the keys whose value is null and the keys whose
// mapping value ends up empty. Other values are returned unchanged.
func flense(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if sub, ok := x.(map[string]any); ok {
			if f := flense(sub).(map[string]any); len(f) > 0 {
				out[k] = f
			}
			continue
		}
		if x != nil {
			out[k] = x
		}
	}
	return out
}

// truthy is Python's truth value of a decoded YAML value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}

// lookupPath follows keys through nested mappings.
func lookupPath(m map[string]any, keys ...string) (any, bool) {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// writeYAML writes v as block-style YAML with sorted keys.
func writeYAML(file string, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o666)
}

// copyWithMetadata copies src to dst with its mode and times.
func copyWithMetadata(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
		return err
	}
	if err := os.Chmod(dst, fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Chtimes(dst, accessTime(fi), fi.ModTime())
}

// accessTime is the last access time of fi, or its modification time when
// the system does not say.
func accessTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Atim.Sec, st.Atim.Nsec)
	}
	return fi.ModTime()
}
