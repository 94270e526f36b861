package images

import (
	"sync"
)

// Catalog is what one refresh learnt about the lab images: every known tag,
// the images with digests, the prepull set, and (after
// [Catalog.SetNodes]) which nodes have which image. The menus, the image
// lists of the API and the resolution of lab requests are computed from
// it. A Catalog is safe for concurrent use; the images it returns are
// copies.
type Catalog struct {
	mu         sync.RWMutex
	registry   string
	repository string
	settings   Settings
	// tags is every tag of a Docker repository; nil for GAR, whose
	// images are all known with their digests.
	tags *TagCollection
	// images are the images with digests: all of them for GAR, the
	// prepull set for Docker (only those are looked up).
	images *ImageCollection
	// prepull is the prepull set.
	prepull *ImageCollection
	// nodeSizes says whether node caches set image sizes (Docker, where
	// the registry gives none).
	nodeSizes bool
	nodes     []NodeState
	eligible  []string
}

// PrepullTags returns the tags of the prepull set (spec §5.5): the newest
// NumReleases releases, NumWeeklies weeklies and NumDailies dailies
// (arch-specific excluded) plus RecommendedTag and Pin when present.
func PrepullTags(tags *TagCollection, s Settings) *TagCollection {
	return tags.Subset(s.NumReleases, s.NumWeeklies, s.NumDailies, s.Include(), true)
}

// NewDockerCatalog builds the catalog of a Docker repository from all its
// tags (parsed with the aliases of s and its cycle filter) and the digests
// looked up for the prepull set (tag → digest). Tags of the prepull set
// without a digest are left out of it.
func NewDockerCatalog(cfg DockerConfig, s Settings, tags *TagCollection, digests map[string]string) *Catalog {
	var imgs []*Image
	for _, t := range PrepullTags(tags, s).AllTags(false) {
		if d, ok := digests[t.Tag]; ok {
			imgs = append(imgs, NewImage(t, cfg.Registry, cfg.Repository, d))
		}
	}
	images := NewImageCollection(imgs, nil)
	return &Catalog{
		registry: cfg.Registry, repository: cfg.Repository, settings: s,
		tags: tags, images: images, prepull: images, nodeSizes: true,
	}
}

// NewGARCatalog builds the catalog of a GAR image from all its images (one
// per tag, with digests and sizes), applying the cycle filter of s.
func NewGARCatalog(cfg GARConfig, s Settings, imgs []*Image) *Catalog {
	images := NewImageCollection(imgs, s.Cycle)
	prepull := images.Subset(s.NumReleases, s.NumWeeklies, s.NumDailies, s.Include(), true)
	return &Catalog{
		registry: cfg.Registry(), repository: cfg.Path(), settings: s,
		images: images, prepull: prepull,
	}
}

// Settings returns the settings the catalog was built with.
func (c *Catalog) Settings() Settings { return c.settings }

// SetNodes records the nodes of a refresh (selected by the lab node
// selector) and marks every image they have cached, by digest, as present
// on them (with the node's size for Docker images). Marks add up: call it
// once, on the fresh catalog of each refresh.
func (c *Catalog) SetNodes(nodes []NodeState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes = append([]NodeState(nil), nodes...)
	c.eligible = EligibleNodes(nodes)
	for _, n := range nodes {
		for _, img := range n.Cached {
			c.markLocked(img.Digest, n.Name, img.Size)
		}
	}
}

// MarkImageSeenOnNode records that a node now has the image of a digest
// (after a successful prepull). Unknown digests are ignored.
func (c *Catalog) MarkImageSeenOnNode(digest, node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.markLocked(digest, node, 0)
}

func (c *Catalog) markLocked(digest, node string, size int64) {
	if digest == "" {
		return
	}
	if !c.nodeSizes {
		size = 0
	}
	c.images.MarkImageSeenOnNode(digest, node, size)
	if c.prepull != c.images {
		c.prepull.MarkImageSeenOnNode(digest, node, size)
	}
}

// Nodes returns the node states recorded by [Catalog.SetNodes].
func (c *Catalog) Nodes() []NodeState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]NodeState(nil), c.nodes...)
}

// EligibleNodes returns the sorted names of the eligible nodes.
func (c *Catalog) EligibleNodes() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]string(nil), c.eligible...)
}

// PrepullImages returns the prepull set, one image per digest (the
// versioned image rather than its aliases), in collection order.
func (c *Catalog) PrepullImages() []*Image {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.onePerDigest(func(*Image) bool { return true })
}

// Missing returns the images of the prepull set that a node does not have,
// one per digest, in collection order: what the prepuller pulls there.
func (c *Catalog) Missing(node string) []*Image {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.onePerDigest(func(img *Image) bool { return !img.OnNode(node) })
}

func (c *Catalog) onePerDigest(keep func(*Image) bool) []*Image {
	var out []*Image
	seen := make(map[string]bool)
	for _, img := range c.prepull.AllImages(ListOptions{KeepArchSpecific: true}) {
		if seen[img.Digest] {
			continue
		}
		seen[img.Digest] = true
		if p := c.prepull.ImageForDigest(img.Digest); keep(p) {
			out = append(out, p.Clone())
		}
	}
	return out
}
