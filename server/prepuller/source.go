package prepuller

import (
	"context"
	"fmt"
	"io"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
)

// SourceOptions are extra options of the registry clients that
// [NewSource] builds (tests point them at local registries).
type SourceOptions struct {
	// Docker are options of the Docker registry client, after the
	// credentials.
	Docker []images.DockerOption
	// GAR are options of the Artifact Registry client (the default is
	// Application Default Credentials, i.e. workload identity).
	GAR []images.GAROption
}

// NewSource builds the image source of the images configuration. For a
// Docker source it reads the Docker credentials file (dockerCredentialsPath)
// at once: a file that is missing or unreadable is an error, which the
// controller treats as fatal (§0); an explicitly null path means no
// credentials. The registry is reached over HTTPS with the system trust
// store (SSL_CERT_FILE is honoured). For a Google source it connects to
// Artifact Registry. Close the returned closer when done.
func NewSource(ctx context.Context, cfg schema.ImagesConfig, opts SourceOptions) (images.Source, io.Closer, error) {
	settings := Settings(cfg)
	switch cfg.Source.Type {
	case schema.SourceDocker:
		var dopts []images.DockerOption
		if cfg.DockerCredentialsPath != "" {
			creds, err := images.LoadDockerCredentials(cfg.DockerCredentialsPath)
			if err != nil {
				return nil, nil, err
			}
			dopts = append(dopts, images.WithCredentials(creds))
		}
		client, err := images.NewDockerClient(dockerConfig(cfg.Source), append(dopts, opts.Docker...)...)
		if err != nil {
			return nil, nil, err
		}
		return images.NewDockerSource(client, settings, 0), io.NopCloser(nil), nil
	case schema.SourceGoogle:
		client, err := images.NewGARClient(ctx, garConfig(cfg.Source), opts.GAR...)
		if err != nil {
			return nil, nil, err
		}
		return images.NewGARSource(client, settings), client, nil
	}
	return nil, nil, fmt.Errorf("unknown image source type %q", cfg.Source.Type)
}
