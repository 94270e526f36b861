package startup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// minNumberOutputs is the least number of outputs a notebook keeps.
const minNumberOutputs = 10000

// trackerSettings is the notebook tracker's settings file, relative to the
// home directory. JupyterLab reads tracker.jupyterlab-settings; the original
// writes this name and its tests pin it.
var trackerSettings = filepath.Join(".jupyter", "lab", "user-settings", "@jupyterlab",
	"notebook-extension", "tracker.jupyterlab.settings")

// interactiveSettings raises the notebook's maxNumberOutputs to at least
// 10000 (§5.8), keeping the other settings. A settings file that is not a
// JSON object is an error.
func (p *preparer) interactiveSettings() error {
	path := filepath.Join(p.home, trackerSettings)
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	settings, err := readSettings(path)
	if err != nil {
		return err
	}
	if n, ok := settings["maxNumberOutputs"].(json.Number); ok {
		if f, err := n.Float64(); err == nil && f >= minNumberOutputs {
			return nil
		}
	}
	p.log.WithField("path", path).Warnf("Setting maxNumberOutputs to %d", minNumberOutputs)
	settings["maxNumberOutputs"] = minNumberOutputs
	data, err := pythonJSON(settings, 4)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o666)
}

// readSettings reads a JSON object; a missing file is an empty object.
func readSettings(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var settings map[string]any
	if err := dec.Decode(&settings); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parsing %s: extra data after the JSON object", path)
	}
	if settings == nil {
		return nil, fmt.Errorf("parsing %s: not a JSON object", path)
	}
	return settings, nil
}
