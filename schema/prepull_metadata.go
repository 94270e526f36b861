package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PodMetadata is the controller's own pod as the downward API describes it
// in the pod-metadata directory (metadataPath, default /etc/podinfo): one
// file per value.
type PodMetadata struct {
	// Name of the pod (file name).
	Name string
	// Namespace of the pod (file namespace): the controller's namespace.
	Namespace string
	// UID of the pod (file uid).
	UID string
}

// ReadPodMetadata reads the files name, namespace and uid of dir,
// trimming surrounding white space. A missing file is an error wrapping
// [io/fs.ErrNotExist]; an empty one wraps [ErrIncompleteRequest].
func ReadPodMetadata(dir string) (PodMetadata, error) {
	var md PodMetadata
	for _, f := range []struct {
		name string
		dst  *string
	}{{"name", &md.Name}, {"namespace", &md.Namespace}, {"uid", &md.UID}} {
		data, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return PodMetadata{}, fmt.Errorf("reading pod metadata: %w", err)
		}
		*f.dst = strings.TrimSpace(string(data))
		if *f.dst == "" {
			return PodMetadata{}, fmt.Errorf("reading pod metadata: %w: %s is empty",
				ErrIncompleteRequest, filepath.Join(dir, f.name))
		}
	}
	return md, nil
}
