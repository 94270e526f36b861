// Package startup prepares a user's JupyterLab: it is the logic of
// `nublado startup`, the last init container of every lab pod.
//
// [Run] reads the environment the controller gave the init container (passed
// in as a map; the package never reads the process environment), tidies and
// fills the user's home directory, and writes two files into the startup
// directory (by default /etc/nublado/startup, a memory emptyDir shared with
// the lab container):
//
//   - env.json: a JSON object of only the variables the preparer decided
//     (HOME, USER, TMPDIR, thread counts, credential paths, FIREFLY_URL, …),
//     indented by two spaces, keys sorted, no trailing newline;
//   - args.json: the jupyterhub-singleuser command line as a JSON list.
//
// The lab image's launcher overlays env.json on its environment and executes
// args.json.
//
// # Abnormal startup
//
// A failing step does not fail the init container. The error is converted to
// a [StartupError] (an errno, its symbolic code, a message in Python's OSError
// form), recorded in env.json under ABNORMAL_STARTUP_* keys, the remaining
// steps of its block are skipped, and the lab is started in a recovery home
// (the user's scratch directory, else /tmp) that holds a welcome.md
// explaining what went wrong. Disk full (ENOSPC), quota exceeded (EDQUOT),
// read-only or unwritable homes (EROFS, EACCES) and missing variables
// (EBADENV, code 200) get specific advice.
//
// # Paths
//
// Every root path (/etc/skel, /etc/dircolors.ansi-universal,
// /etc/nublado/startup, /tmp, /scratch, the JupyterLab configuration
// directory) is a field of [Options], so tests run on temporary trees; the
// zero Options use the production paths. The home directory comes from
// NUBLADO_HOME.
package startup
