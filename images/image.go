package images

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Image is a tag of the lab-image repository together with the digest it
// points at: Nublado's RSPImage. The embedded [Tag] carries every tag field
// (img.Tag.Tag is the tag string).
type Image struct {
	Tag
	// Registry is the registry host[:port], Repository the repository path
	// in it.
	Registry, Repository string
	// Digest is the manifest digest including its algorithm ("sha256:…").
	Digest string
	// Size is the image size in bytes, 0 when unknown.
	Size int64
	// AliasTarget is the tag this image is an alias of, once resolved.
	AliasTarget string

	aliases map[string]struct{}
	nodes   map[string]struct{}
}

// NewImage makes an image from a tag and where it lives.
func NewImage(t Tag, registry, repository, digest string) *Image {
	return &Image{Tag: t, Registry: registry, Repository: repository, Digest: digest}
}

// Reference returns "{registry}/{repository}:{tag}".
func (i *Image) Reference() string {
	return i.Registry + "/" + i.Repository + ":" + i.Tag.Tag
}

// ReferenceWithDigest returns "{registry}/{repository}:{tag}@{digest}".
func (i *Image) ReferenceWithDigest() string {
	return i.Reference() + "@" + i.Digest
}

// MarshalJSON writes the tag's fields (as [Tag.MarshalJSON]) followed by
// registry, repository, digest, size (null when unknown), aliases,
// alias_target (null when unresolved) and nodes. Without it the embedded
// Tag's method would drop the image fields.
func (i *Image) MarshalJSON() ([]byte, error) {
	tag, err := json.Marshal(i.Tag)
	if err != nil {
		return nil, err
	}
	var size *int64
	if i.Size > 0 {
		size = &i.Size
	}
	rest, err := json.Marshal(struct {
		Registry    string   `json:"registry"`
		Repository  string   `json:"repository"`
		Digest      string   `json:"digest"`
		Size        *int64   `json:"size"`
		Aliases     []string `json:"aliases"`
		AliasTarget *string  `json:"alias_target"`
		Nodes       []string `json:"nodes"`
	}{i.Registry, i.Repository, i.Digest, size, nonNil(i.Aliases()), nonEmpty(i.AliasTarget), nonNil(i.Nodes())})
	if err != nil {
		return nil, err
	}
	return append(append(tag[:len(tag)-1], ','), rest[1:]...), nil
}

// Aliases returns the other tags known to share this image's digest, sorted.
func (i *Image) Aliases() []string { return sortedKeys(i.aliases) }

// Nodes returns the names of the nodes that have this image, sorted.
func (i *Image) Nodes() []string { return sortedKeys(i.nodes) }

// OnNode reports whether a node has this image.
func (i *Image) OnNode(node string) bool {
	_, ok := i.nodes[node]
	return ok
}

// OnAllNodes reports whether every named node has this image (vacuously
// true for none): whether it is prepulled on the eligible nodes.
func (i *Image) OnAllNodes(nodes []string) bool {
	for _, n := range nodes {
		if !i.OnNode(n) {
			return false
		}
	}
	return true
}

// Clone returns a deep copy of the image.
func (i *Image) Clone() *Image {
	c := *i
	c.aliases = maps.Clone(i.aliases)
	c.nodes = maps.Clone(i.nodes)
	return &c
}

// errNotPossibleAlias is returned when an image that cannot be an alias is
// resolved as one.
var errNotPossibleAlias = errors.New("can only resolve alias and unknown images")

// ResolveAlias makes the image (of type Alias or Unknown) an alias of
// target: type Alias, AliasTarget set, alias sets joined both ways, cycle
// taken from the target, architecture and date inherited when absent, and
// the display name rebuilt from the target's, for example
// "Recommended (Weekly 2077_43, SAL Cycle 0050, Build 002)".
func (i *Image) ResolveAlias(target *Image) error {
	if !i.IsPossibleAlias() {
		return fmt.Errorf("resolving %q as an alias of %q: %w", i.Tag.Tag, target.Tag.Tag, errNotPossibleAlias)
	}
	i.Type = TypeAlias
	i.AliasTarget = target.Tag.Tag
	for a := range target.aliases {
		if a != i.Tag.Tag {
			i.addAlias(a)
		}
	}
	target.addAlias(i.Tag.Tag)
	i.Cycle = target.Cycle
	if i.Architecture == "" {
		i.Architecture = target.Architecture
	}
	if i.Date == nil {
		i.Date = target.Date
	}
	i.DisplayName = aliasDisplayName(&i.Tag, target.DisplayName)
	return nil
}

// aliasDisplayName is Title(base or tag) + " (" + the target's display name
// with " (" → ", ", ")" removed and the alias's own " [arch]" removed + ")"
// + " [arch]".
func aliasDisplayName(t *Tag, target string) string {
	base := t.Tag
	if t.Base != nil && *t.Base != "" {
		base = *t.Base
	}
	inner := strings.ReplaceAll(strings.ReplaceAll(target, " (", ", "), ")", "")
	if t.Architecture != "" {
		inner = strings.ReplaceAll(inner, " ["+t.Architecture+"]", "")
	}
	return titleCase(strings.ReplaceAll(base, "_", " ")) + " (" + inner + ")" + archSuffix(t.Architecture)
}

func (i *Image) addAlias(name string) {
	if name == i.Tag.Tag {
		return
	}
	if i.aliases == nil {
		i.aliases = make(map[string]struct{})
	}
	i.aliases[name] = struct{}{}
}

func (i *Image) addNode(node string) {
	if i.nodes == nil {
		i.nodes = make(map[string]struct{})
	}
	i.nodes[node] = struct{}{}
}

func sortedKeys(m map[string]struct{}) []string {
	return slices.Sorted(maps.Keys(m))
}
