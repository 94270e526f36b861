// Package purger is the scratch purger behind `nublado purger`: it deletes
// old files from directory trees by a policy and removes the empty
// directories left behind.
//
// A [Policy] lists directory trees, each with a size threshold and, for small
// and large files, limits on the age of the access, inode change ("creation")
// and modification times. [MakePlan] walks each tree (a tree nested in
// another is planned by its own policy only) and lists the files whose first
// matching timestamp is older than its limit at the plan's time; [Plan.Report]
// formats the plan; [Purge] deletes the planned files and then every empty
// directory beneath the trees, deepest first, except the policy directories
// and their ancestors. [Run] strings these together for the command, with
// [Config] read by [ReadConfig] (config.yaml, with NUBLADO_* environment
// overrides).
//
// # Safety
//
// The purger runs as root over trees that users write to, so it never acts
// outside the configured directories. Only the configured directory itself is
// opened by path; everything beneath it is reached through directory file
// descriptors (openat with O_NOFOLLOW, fstatat with AT_SYMLINK_NOFOLLOW,
// unlinkat), so no symlink below a configured directory is ever followed.
// Symlinks are neither planned nor deleted: a directory holding only a symlink
// is not empty. At purge time a planned path must lie strictly beneath its
// policy directory, and must still name the same, unchanged file (same inode
// and inode change time, see [FileID]), else it is skipped; a path that now
// passes through a symlink is refused with [ErrUnsafePath].
//
// # Errors
//
// Planning and purging go on past failures. Entries that vanished are skipped
// (listed in [Plan.Missing] and [Result.Skipped]); anything else, such as a
// permission error on stat, is collected ([Plan.Errors], *[PurgeError], with
// hashicorp/go-multierror) and returned at the end.
//
// Only Linux is supported (the walk uses golang.org/x/sys/unix).
package purger
