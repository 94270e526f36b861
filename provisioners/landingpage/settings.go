package landingpage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SettingsError is a JupyterLab settings file that cannot be updated (not
// JSON, or not of the expected shape). It is left untouched.
type SettingsError struct {
	// Path is the settings file.
	Path string
	// Err says what is wrong.
	Err error
}

func (e *SettingsError) Error() string {
	return fmt.Sprintf("JupyterLab settings %s: %v", e.Path, e.Err)
}

func (e *SettingsError) Unwrap() error { return e.Err }

// setMarkdownViewer sets defaultViewers.markdown in the settings file at path
// unless it is set, creating the file and its directories as needed. It
// reports whether it wrote the file.
func setMarkdownViewer(path string) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return false, fmt.Errorf("creating JupyterLab settings directory: %w", err)
	}
	settings := map[string]any{}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, fmt.Errorf("reading JupyterLab settings: %w", err)
	default:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return false, &SettingsError{Path: path, Err: err}
		}
		if dec.More() {
			return false, &SettingsError{Path: path, Err: errors.New("trailing data after the JSON value")}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return false, &SettingsError{Path: path, Err: errors.New("not a JSON object")}
		}
		settings = m
	}
	viewers, ok := settings["defaultViewers"].(map[string]any)
	if _, present := settings["defaultViewers"]; present && !ok {
		return false, &SettingsError{Path: path, Err: errors.New("defaultViewers is not an object")}
	}
	if viewers == nil {
		viewers = map[string]any{}
		settings["defaultViewers"] = viewers
	}
	if _, set := viewers["markdown"]; set {
		return false, nil
	}
	viewers["markdown"] = MarkdownViewer
	out, err := marshalSettings(settings)
	if err != nil {
		return false, fmt.Errorf("encoding JupyterLab settings: %w", err)
	}
	if err := os.WriteFile(path, out, 0o666); err != nil {
		return false, fmt.Errorf("writing JupyterLab settings: %w", err)
	}
	return true, nil
}

// marshalSettings encodes v with sorted keys and two-space indentation, no
// HTML escaping and no trailing newline.
func marshalSettings(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
