package devstack

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nublado-go/nublado/images"
)

// Files the stack writes into its state directory.
const (
	// CAFile is the CA certificate of the registry (PEM), for
	// SSL_CERT_FILE.
	CAFile = "ca.pem"
	// CredentialsFile is the registry credentials in the
	// .dockerconfigjson format, for images.dockerCredentialsPath.
	CredentialsFile = "docker-config.json"
)

// Options configures [Start]. The zero value serves on free loopback
// ports with the default repository and users.
type Options struct {
	// RegistryAddr is where the registry listens (default 127.0.0.1:0).
	RegistryAddr string
	// ServicesAddr is where the Gafaelfawr and Repertoire stand-ins listen
	// (default 127.0.0.1:0).
	ServicesAddr string
	// Repository is the repository served (default [DefaultRepository]).
	Repository string
	// Tags are its tags (default [DefaultTags]).
	Tags []Tag
	// Users are the users of the Gafaelfawr stand-in (default
	// [DefaultUsers]).
	Users *Users
	// StateDir receives [CAFile] and [CredentialsFile] (created if
	// needed; default a new temporary directory).
	StateDir string
}

// Stack is a running development stack. Close it when done.
type Stack struct {
	// RegistryHost is the registry's host:port as clients name it
	// (localhost:port), the images.source.registry of the config.
	RegistryHost string
	// Repository is the repository served.
	Repository string
	// ServicesURL is the base URL of the stand-ins (http://127.0.0.1:port);
	// REPERTOIRE_BASE_URL is ServicesURL + "/repertoire".
	ServicesURL string
	// CAFile and CredentialsFile are the paths of the files written.
	CAFile, CredentialsFile string
	// Digests maps every tag to its digest.
	Digests map[string]string
	// Credentials are the registry's credentials.
	Credentials *images.DockerCredentials

	servers []*http.Server
	done    chan error
}

// Start starts the registry and the stand-ins and writes the CA and
// credentials files. The servers run until [Stack.Close].
func Start(opts Options) (*Stack, error) {
	opts = withDefaults(opts)
	certs, err := newCertificates(7 * 24 * time.Hour)
	if err != nil {
		return nil, err
	}
	password, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	reg, err := newDockerRegistry(opts.Repository, opts.Tags, "devstack", password)
	if err != nil {
		return nil, err
	}
	regLis, err := net.Listen("tcp", opts.RegistryAddr)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	svcLis, err := net.Listen("tcp", opts.ServicesAddr)
	if err != nil {
		regLis.Close()
		return nil, fmt.Errorf("services: %w", err)
	}
	s := &Stack{
		RegistryHost: "localhost:" + strconv.Itoa(regLis.Addr().(*net.TCPAddr).Port),
		Repository:   opts.Repository,
		ServicesURL:  "http://" + svcLis.Addr().String(),
		Digests:      reg.digests,
		Credentials:  &images.DockerCredentials{},
		done:         make(chan error, 2),
	}
	s.Credentials.Set(s.RegistryHost, "devstack", password)
	if err := s.writeFiles(opts.StateDir, certs); err != nil {
		regLis.Close()
		svcLis.Close()
		return nil, err
	}
	svc, err := newServices(opts.Users, s.ServicesURL)
	if err != nil {
		regLis.Close()
		svcLis.Close()
		return nil, err
	}
	s.serve(tls.NewListener(regLis, &tls.Config{Certificates: []tls.Certificate{certs.server}, MinVersion: tls.VersionTLS12}), reg)
	s.serve(svcLis, svc.handler())
	return s, nil
}

func withDefaults(o Options) Options {
	if o.RegistryAddr == "" {
		o.RegistryAddr = "127.0.0.1:0"
	}
	if o.ServicesAddr == "" {
		o.ServicesAddr = "127.0.0.1:0"
	}
	if o.Repository == "" {
		o.Repository = DefaultRepository
	}
	if o.Tags == nil {
		o.Tags = DefaultTags
	}
	if o.Users == nil {
		o.Users, _ = ParseUsers(DefaultUsers) // embedded and tested
	}
	return o
}

func (s *Stack) writeFiles(dir string, certs *certificates) error {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "devstack-"); err != nil {
			return fmt.Errorf("creating state directory: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	s.CAFile = filepath.Join(dir, CAFile)
	s.CredentialsFile = filepath.Join(dir, CredentialsFile)
	if err := os.WriteFile(s.CAFile, certs.caPEM, 0o644); err != nil {
		return fmt.Errorf("writing CA certificate: %w", err)
	}
	return s.Credentials.Save(s.CredentialsFile)
}

func (s *Stack) serve(lis net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		err := srv.Serve(lis)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
}

// Done receives the error of a server that stopped by itself.
func (s *Stack) Done() <-chan error { return s.done }

// RepertoireURL is the REPERTOIRE_BASE_URL of the stand-in.
func (s *Stack) RepertoireURL() string { return s.ServicesURL + "/repertoire" }

// Close shuts the servers down, waiting for open requests until ctx ends.
func (s *Stack) Close(ctx context.Context) error {
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating password: %w", err)
	}
	return hex.EncodeToString(b), nil
}
