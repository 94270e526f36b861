package startup

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// spaceTestSize is the size of the file the space test writes.
const spaceTestSize = 1 << 20

// tidyHome drops expired astropy downloads, then checks that the home
// directory can take a 1 MiB file, cleaning caches once if it cannot (§5.6).
func (p *preparer) tidyHome() error {
	p.expireAstropyCache()
	return p.spaceTest()
}

// expireAstropyCache removes every astropy download whose URL carries an
// Expires parameter in the past. Problems are logged, never returned.
func (p *preparer) expireAstropyCache() {
	root := filepath.Join(p.home, ".astropy", "cache", "download", "url")
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	now := p.opts.Now().Unix()
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if !isDir(dir) || !isRegular(filepath.Join(dir, "url")) {
			continue
		}
		expired, err := astropyExpired(filepath.Join(dir, "url"), now)
		if err != nil {
			p.log.WithError(err).WithField("path", dir).Warn("Could not check astropy cache entry")
			continue
		}
		if !expired {
			continue
		}
		if err := removeAstropyEntry(dir); err != nil {
			p.log.WithError(err).WithField("path", dir).Warn("Could not remove expired astropy cache entry")
		}
	}
}

// astropyExpired reads the URL in file and reports whether one of its
// expires parameters (any case) is before now.
func astropyExpired(file string, now int64) (bool, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return false, err
	}
	u, err := url.Parse(strings.TrimSpace(string(raw)))
	if err != nil {
		return false, err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return false, err
	}
	for k, vs := range q {
		if strings.ToLower(k) != "expires" {
			continue
		}
		for _, v := range vs {
			t, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return false, err
			}
			if now > t {
				return true, nil
			}
		}
	}
	return false, nil
}

func removeAstropyEntry(dir string) error {
	for _, name := range []string{"url", "contents"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return os.Remove(dir)
}

// spaceTest writes and deletes ~/.cache/1mb.txt. On failure it empties
// ~/.cache and ~/.astropy/cache and tries once more; if that fails too it
// returns the first error (ENOSPC, EDQUOT, …).
func (p *preparer) spaceTest() error {
	err := p.writeSpaceTestFile()
	if err == nil {
		return nil
	}
	p.log.WithError(err).Warn("Could not write 1MB of text")
	p.emergencyCleanup()
	if err2 := p.writeSpaceTestFile(); err2 != nil {
		p.log.WithError(err2).Error("Cleanup failed")
		return err
	}
	p.log.Info("Emergency cleanup freed enough space")
	return nil
}

func (p *preparer) writeSpaceTestFile() error {
	cache := filepath.Join(p.home, ".cache")
	if err := os.Mkdir(cache, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	name := filepath.Join(cache, "1mb.txt")
	if err := p.opts.SpaceTestWrite(name, []byte(strings.Repeat("x", spaceTestSize)), 0o666); err != nil {
		os.Remove(name) //nolint:errcheck // best effort: the write already failed
		return err
	}
	return os.Remove(name)
}

// emergencyCleanup empties the caches of the home directory; errors are
// logged.
func (p *preparer) emergencyCleanup() {
	for _, dir := range []string{
		filepath.Join(p.home, ".cache"),
		filepath.Join(p.home, ".astropy", "cache"),
	} {
		log := p.log.WithField("path", dir)
		log.Warn("Emergency cleanup: removing cache")
		os.RemoveAll(dir) //nolint:errcheck // errors ignored, as in the original
		if err := os.Mkdir(dir, 0o777); err != nil {
			log.WithError(err).Error("Could not recreate cache directory")
		}
	}
}
