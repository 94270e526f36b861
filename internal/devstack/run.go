package devstack

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nublado-go/nublado/internal/testcluster"
)

// ReadyFile is written into the state directory once the stack serves
// and the cluster is seeded; it is removed when Run returns.
const ReadyFile = "ready"

// Run is the devstack command: it parses args, starts the stack, seeds
// the cluster when --kubeconfig is given, prints what it serves and runs
// until ctx ends.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var opts Options
	var usersFile, kubeconfig string
	var seed SeedOptions
	var acct accountOptions
	fs.StringVar(&opts.RegistryAddr, "registry-addr", "127.0.0.1:18443", "listen address of the Docker registry (HTTPS)")
	fs.StringVar(&opts.ServicesAddr, "services-addr", "127.0.0.1:18080", "listen address of the Gafaelfawr and Repertoire stand-ins (HTTP)")
	fs.StringVar(&opts.StateDir, "state", ".cache/devstack", "directory for the CA, the credentials, the metadata files and the ready file")
	fs.StringVar(&opts.Repository, "repository", DefaultRepository, "repository served by the registry")
	fs.StringVar(&usersFile, "users", "", "users file of the Gafaelfawr stand-in (default: rachel, ribbon and wanda)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to seed (default: seed nothing)")
	fs.StringVar(&seed.Namespace, "namespace", "nublado", "controller namespace created in the cluster")
	fs.StringVar(&seed.PullSecret, "pull-secret", "pull-secret", "name of the pull secret created in the controller namespace (empty: none)")
	fs.StringVar(&seed.MetadataDir, "metadata", "", "where to write the pod-metadata files (default: STATE/podinfo)")
	fs.StringVar(&seed.FileserverNamespace, "fileserver-namespace", "fileservers", "namespace created for file servers (empty: none)")
	fs.StringVar(&acct.overlay, "overlay", "", "kustomization applied to the cluster before seeding it (e.g. deploy/overlays/local)")
	fs.StringVar(&acct.account, "account", "nublado-controller", "ServiceAccount of the controller, in the controller namespace")
	fs.StringVar(&acct.kubeconfig, "account-kubeconfig", "", "write a kubeconfig authenticating as --account (a TokenRequest token) to this path")
	fs.DurationVar(&acct.expiry, "account-token-expiry", 24*time.Hour, "lifetime of the --account-kubeconfig token")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if usersFile != "" {
		users, err := LoadUsers(usersFile)
		if err != nil {
			return err
		}
		opts.Users = users
	}
	s, err := Start(opts)
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	}()
	if kubeconfig != "" {
		if seed.MetadataDir == "" {
			seed.MetadataDir = filepath.Join(opts.StateDir, "podinfo")
		}
		op, err := seedCluster(ctx, s, kubeconfig, seed, acct)
		if err != nil {
			return err
		}
		defer op.Stop()
	}
	ready := filepath.Join(opts.StateDir, ReadyFile)
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		return fmt.Errorf("writing ready file: %w", err)
	}
	defer os.Remove(ready)
	s.printSummary(stdout, kubeconfig != "", seed)
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.Done():
		return err
	}
}

// accountOptions are the devstack flags that install the controller's
// kustomization and give the controller its ServiceAccount's identity.
type accountOptions struct {
	overlay, account, kubeconfig string
	expiry                       time.Duration
}

// seedCluster applies the overlay (if any), seeds the cluster, writes the
// account kubeconfig (if asked) and starts the Gafaelfawr stand-in (for
// file servers: it turns GafaelfawrIngresses into Ingresses with an IP)
// on every namespace; the caller stops it.
func seedCluster(ctx context.Context, s *Stack, kubeconfig string, opts SeedOptions, acct accountOptions) (*testcluster.GafaelfawrOperator, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating Kubernetes client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if acct.overlay != "" {
		objs, err := Build(acct.overlay)
		if err != nil {
			return nil, err
		}
		if err := ApplyObjects(ctx, cfg, objs, "devstack"); err != nil {
			return nil, err
		}
	}
	if err := s.Seed(ctx, client, opts); err != nil {
		return nil, err
	}
	if acct.kubeconfig != "" {
		ns := opts.withDefaults().Namespace
		if err := AccountKubeconfig(ctx, cfg, ns, acct.account, acct.expiry, acct.kubeconfig); err != nil {
			return nil, err
		}
	}
	return testcluster.StartGafaelfawrOperator(ctx, cfg, "", testcluster.IngressBehaviour{})
}

func (s *Stack) printSummary(w io.Writer, seeded bool, seed SeedOptions) {
	fmt.Fprintf(w, "devstack: Docker registry   https://%s/v2/%s (CA %s, credentials %s)\n",
		s.RegistryHost, s.Repository, s.CAFile, s.CredentialsFile)
	fmt.Fprintf(w, "devstack: Gafaelfawr        %s%s (the token is the username)\n", s.ServicesURL, UserInfoPath)
	fmt.Fprintf(w, "devstack: Repertoire        REPERTOIRE_BASE_URL=%s\n", s.RepertoireURL())
	if seeded {
		fmt.Fprintf(w, "devstack: cluster seeded    namespace %s, pod-metadata files in %s, node images\n",
			seed.Namespace, seed.MetadataDir)
		fmt.Fprintf(w, "devstack: Gafaelfawr operator stand-in: GafaelfawrIngress → Ingress with IP %s\n",
			testcluster.DefaultIngressIP)
	}
}
