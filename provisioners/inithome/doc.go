// Package inithome provisions a user's home directory, as the init container
// nublado-std-inithome does before a lab starts (`nublado inithome`, as root).
//
// [Provision] creates a missing home directory (one level, mode 0700, owned by
// the user) and checks an existing one: it must be a directory; if its owner
// or group is wrong it must be empty, and then its ownership is reset; a mode
// other than 0700 is reported as a warning but not changed. [ParseEnv] reads
// the inputs from NUBLADO_HOME, NUBLADO_UID and NUBLADO_GID.
package inithome
