package startup

import (
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Production paths, used for the fields of [Options] left empty.
const (
	DefaultEtcDir              = "/etc"
	DefaultTmpDir              = "/tmp"
	DefaultScratchPath         = "/scratch"
	DefaultJupyterLabConfigDir = "/opt/lsst/software/jupyterlab"
	// DefaultDiscoveryTimeout bounds the Repertoire discovery request.
	DefaultDiscoveryTimeout = 10 * time.Second
)

// Options are the paths and seams of a run. The zero value uses the
// production paths; tests point them at temporary trees. Fields that name a
// path below /etc default to their place under EtcDir.
type Options struct {
	// EtcDir is the root of the other /etc paths. Default /etc.
	EtcDir string
	// SkelDir is mirrored into the home directory. Default EtcDir/skel.
	SkelDir string
	// DircolorsFile is copied to ~/.dir_colors. Default
	// EtcDir/dircolors.ansi-universal.
	DircolorsFile string
	// StartupDir receives env.json and args.json; it must exist (it is the
	// emptyDir shared with the lab). Default EtcDir/nublado/startup.
	StartupDir string
	// TmpDir is the home of last resort, the parent of the fallback butler
	// cache, and the recovery home when there is no scratch. Default /tmp.
	TmpDir string
	// ScratchPath is used when SCRATCH_PATH is unset. Default /scratch.
	ScratchPath string
	// JupyterLabConfigDir is used when JUPYTERLAB_CONFIG_DIR is unset; it
	// holds the stock IPython logging profile. Default
	// /opt/lsst/software/jupyterlab.
	JupyterLabConfigDir string
	// HTTPClient makes the Repertoire discovery request. Default: a client
	// with a DefaultDiscoveryTimeout timeout.
	HTTPClient *http.Client
	// Now returns the current time (relocation and backup names, astropy
	// cache expiry). Default time.Now.
	Now func() time.Time
	// SpaceTestWrite writes the 1 MiB file of the space test. Default
	// os.WriteFile; tests inject errors a test machine cannot produce
	// (EDQUOT).
	SpaceTestWrite func(name string, data []byte, perm os.FileMode) error
}

// withDefaults returns o with every empty field set to its default.
func (o Options) withDefaults() Options {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&o.EtcDir, DefaultEtcDir)
	def(&o.SkelDir, filepath.Join(o.EtcDir, "skel"))
	def(&o.DircolorsFile, filepath.Join(o.EtcDir, "dircolors.ansi-universal"))
	def(&o.StartupDir, filepath.Join(o.EtcDir, "nublado", "startup"))
	def(&o.TmpDir, DefaultTmpDir)
	def(&o.ScratchPath, DefaultScratchPath)
	def(&o.JupyterLabConfigDir, DefaultJupyterLabConfigDir)
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: DefaultDiscoveryTimeout}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SpaceTestWrite == nil {
		o.SpaceTestWrite = os.WriteFile
	}
	return o
}
