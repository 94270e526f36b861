package startup

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// threadVariables all receive the CPU count.
var threadVariables = []string{
	"CPU_LIMIT", "CPU_COUNT", "GOTO_NUM_THREADS", "MKL_DOMAIN_NUM_THREADS",
	"MPI_NUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMEXPR_MAX_THREADS",
	"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS",
}

// configureEnv decides the lab's variables (§5.5), in the original's order.
// Nothing in it fails: unusable scratch and failed discovery are logged.
func (p *preparer) configureEnv(ctx context.Context) {
	user := filepath.Base(p.home)
	p.out["USER"] = user
	if p.env["TMPDIR"] == "" {
		if dir, ok := p.scratchSubdir(user, "tmp"); ok {
			p.out["TMPDIR"] = dir
		}
	}
	if p.env["DAF_BUTLER_CACHE_DIRECTORY"] == "" {
		dir, ok := p.scratchSubdir(user, "butler_cache")
		if !ok {
			dir = filepath.Join(p.opts.TmpDir, "butler_cache")
		}
		p.out["DAF_BUTLER_CACHE_DIRECTORY"] = dir
	}
	n := strconv.Itoa(cpuCount(p.env["CPU_LIMIT"]))
	for _, v := range threadVariables {
		p.out[v] = n
	}
	if _, digest, _ := strings.Cut(p.env["JUPYTER_IMAGE_SPEC"], "@sha256:"); digest != "" {
		p.out["IMAGE_DIGEST"] = digest
	}
	p.setPandaConfigRoot(user)
	p.setFireflyURL(ctx)
	p.out["JUPYTER_PREFER_ENV_PATH"] = "no"
	for _, v := range []string{"AWS_SHARED_CREDENTIALS_FILE", "PGPASSFILE"} {
		if orig := p.env[v]; orig != "" {
			p.out["ORIG_"+v] = orig
			p.out[v] = filepath.Join(p.home, ".lsst", filepath.Base(orig))
		}
	}
}

// scratchSubdir makes SCRATCH_PATH/[initial/]user/sub (leaf mode 0700) and
// returns it, recording SCRATCH_DIR. It returns false, with a warning, when
// there is no usable scratch.
func (p *preparer) scratchSubdir(user, sub string) (string, bool) {
	scratch := p.env["SCRATCH_PATH"]
	if scratch == "" {
		scratch = p.opts.ScratchPath
	}
	if !isDir(scratch) {
		return "", false
	}
	userDir := filepath.Join(scratch, user)
	if p.env["HOMEDIR_SCHEMA"] == "initialThenUsername" && user != "" {
		userDir = filepath.Join(scratch, user[:1], user)
	}
	dir := filepath.Join(userDir, sub)
	log := p.log.WithField("path", dir)
	if err := mkdirLeafMode(dir, 0o700); err != nil {
		log.WithError(err).Warn("Could not create scratch directory")
		return "", false
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		log.WithError(err).Warn("Scratch directory is not writable")
		return "", false
	}
	p.out["SCRATCH_DIR"] = userDir
	return dir, true
}

// mkdirLeafMode is mkdir -p where only the last directory gets mode (as
// Python's os.makedirs(mode=…)); the parents get the default mode.
func mkdirLeafMode(dir string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o777); err != nil {
		return err
	}
	err := os.Mkdir(dir, mode)
	if err != nil && isDir(dir) {
		return nil
	}
	return err
}

// cpuCount is the integer part of CPU_LIMIT (default 1), at least 1. Values
// that are not finite numbers, or too large for an int, count as 1.
func cpuCount(limit string) int {
	if limit == "" {
		return 1
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(limit), 64)
	if err != nil || math.IsNaN(f) || f < 1 || f >= math.MaxInt64 {
		return 1
	}
	return int(f)
}

// setPandaConfigRoot expands a leading ~ or ~user of PANDA_CONFIG_ROOT to
// the home directory. Other values are left to the process environment.
func (p *preparer) setPandaConfigRoot(user string) {
	root := p.env["PANDA_CONFIG_ROOT"]
	if !strings.HasPrefix(root, "~") {
		return
	}
	first, rest, _ := strings.Cut(root, "/")
	if first != "~" && first != "~"+user {
		p.log.WithField("value", root).Warn("Cannot expand PANDA_CONFIG_ROOT for another user; not setting it")
		return
	}
	p.out["PANDA_CONFIG_ROOT"] = filepath.Join(p.home, rest)
}
