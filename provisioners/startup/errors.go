package startup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Custom error codes of the startup preparer, outside the range of OS errnos.
const (
	// EBADENV means a required environment variable is missing.
	EBADENV = 200
	// EUNKNOWN is any error that has no OS errno (and any errno this
	// system does not know).
	EUNKNOWN = 201
)

// Default texts of the custom codes.
const (
	strBadEnv  = "Missing environment variable"
	strUnknown = "Unknown error 201"
)

// StartupError is an error that made the startup abnormal. Its fields are
// those of a Python OSError, because they are written verbatim into the lab's
// environment (ABNORMAL_STARTUP_ERRNO, …_ERRORCODE, …_STRERROR, …_MESSAGE).
type StartupError struct {
	// Errno is the OS errno, EBADENV or EUNKNOWN.
	Errno int
	// Code is the symbolic name of Errno, such as "EDQUOT" or "EBADENV".
	Code string
	// Strerror is the text of the error, such as "Disk quota exceeded".
	Strerror string
	// Filename is the path (or variable name) the error is about; may be empty.
	Filename string
	// Filename2 is the second path of a two-path operation such as rename.
	Filename2 string
	// Err is the error this one was converted from, if any. It is not
	// serialized.
	Err error `json:"-"`
}

// NewStartupError builds a StartupError the way the original does: an errno
// this system knows keeps its symbolic name; EBADENV and EUNKNOWN get their
// own names and default texts; any other value becomes EUNKNOWN. An empty
// strerror takes the default text of the code.
func NewStartupError(errno int, strerror, filename string) *StartupError {
	e := &StartupError{Errno: errno, Strerror: strerror, Filename: filename}
	switch {
	case errno == EBADENV:
		e.Code = "EBADENV"
		if e.Strerror == "" {
			e.Strerror = strBadEnv
		}
	case errno == EUNKNOWN:
		e.Code = "EUNKNOWN"
		if e.Strerror == "" {
			e.Strerror = strUnknown
		}
	case errno > 0 && unix.ErrnoName(syscall.Errno(errno)) != "":
		e.Code = unix.ErrnoName(syscall.Errno(errno))
		if e.Strerror == "" {
			e.Strerror = errnoText(syscall.Errno(errno))
		}
	default:
		e.Errno, e.Code, e.Strerror = EUNKNOWN, "EUNKNOWN", strUnknown
	}
	return e
}

// missingEnv is the EBADENV error for the variable name.
func missingEnv(name string) *StartupError {
	return NewStartupError(EBADENV, "", name)
}

// AsStartupError converts any error into a StartupError. Errors carrying an
// OS errno (fs.PathError, os.LinkError, os.SyscallError, syscall.Errno) keep
// the errno, its text and their paths; a command that is not on PATH is
// ENOENT on the command name, like Python's FileNotFoundError; any other error
// is EUNKNOWN with the error's text as Strerror.
func AsStartupError(err error) *StartupError {
	var se *StartupError
	if errors.As(err, &se) {
		return se
	}
	var ee *exec.Error
	if errors.As(err, &ee) && errors.Is(ee.Err, exec.ErrNotFound) {
		return wrap(NewStartupError(int(syscall.ENOENT), "", ee.Name), err)
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return wrap(NewStartupError(EUNKNOWN, err.Error(), ""), err)
	}
	out := wrap(NewStartupError(int(errno), "", ""), err)
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &le):
		out.Filename, out.Filename2 = le.Old, le.New
	case errors.As(err, &pe):
		out.Filename = pe.Path
	}
	return out
}

func wrap(e *StartupError, err error) *StartupError {
	e.Err = err
	return e
}

// Error returns the Python OSError string form: "[Errno N] text",
// "[Errno N] text: 'file'" or "[Errno N] text: 'file' -> 'file2'".
func (e *StartupError) Error() string {
	s := fmt.Sprintf("[Errno %d] %s", e.Errno, e.Strerror)
	if e.Filename == "" {
		return s
	}
	s += ": " + pyRepr(e.Filename)
	if e.Filename2 != "" {
		s += " -> " + pyRepr(e.Filename2)
	}
	return s
}

// Unwrap returns the error this one was converted from.
func (e *StartupError) Unwrap() error { return e.Err }

// errnoText is the C library's text for errno: Go's table with the first
// letter upper-cased ("no space left on device" -> "No space left on device").
func errnoText(errno syscall.Errno) string {
	s := errno.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// pyRepr quotes s the way Python's repr() quotes a str: single quotes unless
// s contains a single quote and no double quote.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
