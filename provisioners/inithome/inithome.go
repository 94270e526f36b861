package inithome

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Environment variables read by [ParseEnv]; all are required.
const (
	EnvHome = "NUBLADO_HOME"
	EnvUID  = "NUBLADO_UID"
	EnvGID  = "NUBLADO_GID"
)

// MaxID is the largest valid UID or GID (2^32-2; 2^32-1 is "no id").
const MaxID = 1<<32 - 2

// HomeMode is the mode of a home directory.
const HomeMode fs.FileMode = 0o700

// ErrEnvMissing is returned by [ParseEnv] when a variable is unset or empty.
var ErrEnvMissing = errors.New("environment variables 'NUBLADO_HOME', 'NUBLADO_UID', and 'NUBLADO_GID' must all be set")

// ErrEnvNotInteger is returned by [ParseEnv] when NUBLADO_UID or NUBLADO_GID is
// not an integer.
var ErrEnvNotInteger = errors.New("environment variables 'NUBLADO_UID' and 'NUBLADO_GID' must each be set to an integer")

// Options are the inputs of [Provision].
type Options struct {
	// Home is the home directory's path.
	Home string
	// UID and GID are the user's ids (checked by Provision).
	UID, GID int64
}

// ParseEnv reads the options from the environment through lookup (os.LookupEnv
// in production). A missing or empty variable is [ErrEnvMissing]; a UID or GID
// that is not an integer is [ErrEnvNotInteger]; one too large for int64 is an
// *[InvalidIDError].
func ParseEnv(lookup func(string) (string, bool)) (Options, error) {
	var vals [3]string
	for i, name := range []string{EnvHome, EnvUID, EnvGID} {
		s, ok := lookup(name)
		if !ok || s == "" {
			return Options{}, ErrEnvMissing
		}
		vals[i] = s
	}
	o := Options{Home: vals[0]}
	for i, dst := range []*int64{&o.UID, &o.GID} {
		n, err := parseID(vals[i+1])
		if err != nil {
			return Options{}, ErrEnvNotInteger
		}
		if !n.IsInt64() {
			return Options{}, &InvalidIDError{ID: n.String()}
		}
		*dst = n.Int64()
	}
	return o, nil
}

// parseID reads an integer of any size (surrounding spaces and a sign allowed).
func parseID(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(strings.TrimSpace(s), 10)
	if !ok {
		return nil, fmt.Errorf("%q is not an integer", s)
	}
	return n, nil
}

// InvalidIDError is a UID or GID outside 0..[MaxID].
type InvalidIDError struct {
	// ID is the id, in decimal.
	ID string
}

func (e *InvalidIDError) Error() string {
	if strings.HasPrefix(e.ID, "-") {
		return fmt.Sprintf("UID or GID must be nonnegative, not %s", e.ID)
	}
	return fmt.Sprintf("UID or GID out of range (%s > %d)", e.ID, MaxID)
}

// InvalidHomeError is an existing home directory that cannot be used.
type InvalidHomeError struct {
	// Home is the directory's path.
	Home string
	// Reason says what is wrong, e.g. "exists but is not a directory".
	Reason string
}

func (e *InvalidHomeError) Error() string { return e.Home + " " + e.Reason }

// Result says what [Provision] did and found.
type Result struct {
	// Created is true when the directory was created.
	Created bool
	// OwnershipReset is true when an empty directory with the wrong owner or
	// group was given to the user.
	OwnershipReset bool
	// Warnings are the messages to log at warning level.
	Warnings []string
}

// Provision makes sure opts.Home is a home directory for opts.UID/opts.GID:
//
//  1. The ids must be integers in 0..[MaxID] (else *[InvalidIDError]).
//  2. If Home does not exist (following symlinks), it is created (its parent
//     must exist; else an error wrapping fs.ErrNotExist), with mode 0700 and
//     owned by UID:GID. Nothing else is checked.
//  3. If Home exists but is not a directory: *[InvalidHomeError].
//  4. If its owner or group differs: if it has any entry, *[InvalidHomeError];
//     if it is empty, its ownership is reset, with a warning.
//  5. If its permission bits are not 0700: a warning (the mode is not changed).
//
// Changing ownership needs root (CAP_CHOWN).
func Provision(opts Options) (*Result, error) {
	uid, err := checkID(opts.UID)
	if err != nil {
		return nil, err
	}
	gid, err := checkID(opts.GID)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	fi, err := os.Stat(opts.Home)
	if errors.Is(err, fs.ErrNotExist) {
		return res, create(opts.Home, uid, gid, res)
	}
	if err != nil {
		return nil, fmt.Errorf("checking home directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, &InvalidHomeError{Home: opts.Home, Reason: "exists but is not a directory"}
	}
	if err := checkOwner(opts.Home, fi, uid, gid, res); err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm != HomeMode {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s has unexpected permissions: %04o != %04o", opts.Home, perm, HomeMode))
	}
	return res, nil
}

// checkID validates one id.
func checkID(id int64) (int, error) {
	if id < 0 || id > MaxID {
		return 0, &InvalidIDError{ID: strconv.FormatInt(id, 10)}
	}
	return int(id), nil
}

// create makes the home directory, one level, 0700, owned by uid:gid.
func create(home string, uid, gid int, res *Result) error {
	if err := os.Mkdir(home, HomeMode); err != nil {
		return fmt.Errorf("creating home directory: %w", err)
	}
	res.Created = true
	// Mkdir's mode is subject to the umask; make it exactly 0700.
	if err := os.Chmod(home, HomeMode); err != nil {
		return fmt.Errorf("setting home directory mode: %w", err)
	}
	if err := os.Chown(home, uid, gid); err != nil {
		return fmt.Errorf("setting home directory owner: %w", err)
	}
	return nil
}

// checkOwner resets the ownership of an empty home directory owned by
// someone else, and refuses a non-empty one.
func checkOwner(home string, fi fs.FileInfo, uid, gid int, res *Result) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("checking home directory owner: no ownership information for %s", home)
	}
	if int(st.Uid) == uid && int(st.Gid) == gid {
		return nil
	}
	prefix := fmt.Sprintf("is owned by %d:%d, not %d:%d", st.Uid, st.Gid, uid, gid)
	empty, err := isEmpty(home)
	if err != nil {
		return fmt.Errorf("checking home directory: %w", err)
	}
	if !empty {
		return &InvalidHomeError{Home: home, Reason: prefix + " and is not empty"}
	}
	res.Warnings = append(res.Warnings, home+" "+prefix+" but is empty, resetting ownership")
	if err := os.Chown(home, uid, gid); err != nil {
		return fmt.Errorf("resetting home directory owner: %w", err)
	}
	res.OwnershipReset = true
	return nil
}

// isEmpty reports whether dir has no entries at all.
func isEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}
