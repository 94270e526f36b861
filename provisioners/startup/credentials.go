package startup

import (
	"os"
	"path/filepath"
	"strings"
)

// mergeCredentials merges the mounted Butler credentials into the copies in
// ~/.lsst (§5.7 step 1), for each variable configureEnv rewrote.
func (p *preparer) mergeCredentials() error {
	merges := []struct {
		variable string
		merge    func(home, orig []byte) ([]byte, error)
	}{
		{"AWS_SHARED_CREDENTIALS_FILE", mergeAWSCredentials},
		{"PGPASSFILE", mergePgpass},
	}
	for _, m := range merges {
		if _, ok := p.out[m.variable]; !ok {
			continue
		}
		if err := p.mergeCredentialFile(m.variable, m.merge); err != nil {
			return err
		}
	}
	return nil
}

// mergeCredentialFile creates the home copy (directory 0700, file 0600) if
// needed and writes merge(home copy, original) into it.
func (p *preparer) mergeCredentialFile(variable string, merge func(home, orig []byte) ([]byte, error)) error {
	path, origPath := p.out[variable], p.out["ORIG_"+variable]
	if path == "" {
		return missingEnv(variable)
	}
	if origPath == "" {
		return missingEnv("ORIG_" + variable)
	}
	if err := mkdirLeafMode(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	home, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	orig, err := os.ReadFile(origPath)
	if err != nil {
		return err
	}
	merged, err := merge(home, orig)
	if err != nil {
		return err
	}
	p.log.WithField("path", path).Debug("Merged credentials")
	return os.WriteFile(path, merged, 0o600)
}

// mergeAWSCredentials replaces the sections of home by those of orig.
func mergeAWSCredentials(home, orig []byte) ([]byte, error) {
	h, err := parseINI("home AWS credentials", string(home))
	if err != nil {
		return nil, err
	}
	o, err := parseINI("mounted AWS credentials", string(orig))
	if err != nil {
		return nil, err
	}
	h.replaceSections(o)
	return []byte(h.String()), nil
}

// mergePgpass merges two pgpass files: entries are keyed by everything
// before the last colon; orig wins; lines without a colon are dropped; the
// order is first seen.
func mergePgpass(home, orig []byte) ([]byte, error) {
	var conns []string
	pw := map[string]string{}
	for _, text := range [][]byte{home, orig} {
		for _, line := range strings.Split(string(text), "\n") {
			i := strings.LastIndexByte(line, ':')
			if i < 0 {
				continue
			}
			conn := line[:i]
			if _, ok := pw[conn]; !ok {
				conns = append(conns, conn)
			}
			pw[conn] = strings.TrimRight(line[i+1:], " \t\r\n\v\f")
		}
	}
	var b strings.Builder
	for _, c := range conns {
		b.WriteString(c + ":" + pw[c] + "\n")
	}
	return []byte(b.String()), nil
}
