package schema

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	nublado "github.com/nublado-go/nublado"
)

// MsgFileserverDisabled is the message of the not_supported error of every
// file-server operation when file servers are disabled (§1.3 #12–19).
const MsgFileserverDisabled = "Fileserver is disabled in configuration"

// fileserverSuffix is appended to the username to name the file server's
// objects ({u}-fs).
const fileserverSuffix = "-fs"

// FileserverName returns the name of a user's file-server Job, Service,
// GafaelfawrIngress and Ingress: {username}-fs.
func FileserverName(username string) string { return username + fileserverSuffix }

// FileserverInput checks that file servers are enabled and that user may
// have one, and builds the input of the fileserver template (§3.6): the
// user, the host name of the base URL, WORBLEHAT_TIMEOUT and the
// container's resources. The result depends only on its arguments.
//
// Errors are [*nublado.Error] values:
//   - not_supported "Fileserver is disabled in configuration" when
//     fileserver.enabled is false;
//   - permission_denied "Must have a UID to start a file server" (or GID)
//     when the uid or gid is missing or 0: like labs (decision D1), file
//     servers never run as root;
//   - permission_denied `Username "{u}" cannot be used to name Kubernetes
//     objects` when {u}-fs is not a DNS-1123 label of at most 63
//     characters.
//
// A base URL without a host name is a plain error.
func (c *Config) FileserverInput(env Environment, user nublado.User) (*FileserverInput, error) {
	if !c.Fileserver.Enabled {
		return nil, &nublado.Error{Code: nublado.CodeNotSupported, Message: MsgFileserverDisabled}
	}
	if err := checkFileserverUser(user); err != nil {
		return nil, err
	}
	host, err := urlHostname(c.BaseURL)
	if err != nil {
		return nil, err
	}
	return &FileserverInput{
		User:            labUser(user),
		Host:            host,
		Timeout:         strconv.FormatInt(int64(c.Fileserver.IdleTimeout/time.Second), 10),
		Resources:       containerResources(c.Fileserver.Resources),
		ControllerImage: controllerImage(env),
	}, nil
}

// checkFileserverUser refuses users a file server cannot run for.
func checkFileserverUser(user nublado.User) error {
	denied := func(msg string) error {
		return &nublado.Error{Code: nublado.CodePermissionDenied, Message: msg}
	}
	switch name := FileserverName(user.Username); {
	case user.UID == nil || *user.UID == 0:
		return denied("Must have a UID to start a file server")
	case user.GID == nil || *user.GID == 0:
		return denied("Must have a GID to start a file server")
	case !dnsLabel.MatchString(user.Username) || len(name) > maxDNSLabel:
		return denied(fmt.Sprintf("Username %q cannot be used to name Kubernetes objects", user.Username))
	}
	return nil
}

// urlHostname returns the host name of a URL as Python's
// urllib.parse.urlparse(u).hostname does: without user information, port
// or IPv6 brackets, in lower case.
func urlHostname(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parsing the base URL: %w", err)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", fmt.Errorf("base URL %q has no host name", raw)
	}
	return host, nil
}

// controllerImage is the controller's own image as a reference and pull
// policy.
func controllerImage(env Environment) ContainerImageRef {
	return ContainerImageRef{Reference: env.ControllerImage.Reference(), PullPolicy: env.ControllerImage.PullPolicy}
}
