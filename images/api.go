package images

import (
	"encoding/json"
	"slices"
	"time"
)

// PrepulledImage is an image in the body of GET /spawner/v1/images.
type PrepulledImage struct {
	Reference string `json:"reference"`
	Tag       string `json:"tag"`
	Name      string `json:"name"`
	// Digest is omitted for Docker tags that were not looked up.
	Digest string `json:"digest,omitempty"`
	// Aliases are the other tags of the image and its alias target.
	Aliases []string `json:"aliases"`
	// Prepulled is true when every eligible node has the image.
	Prepulled bool `json:"prepulled"`
}

// SpawnerImages is the body of GET /spawner/v1/images (null fields
// omitted).
type SpawnerImages struct {
	Recommended   *PrepulledImage  `json:"recommended,omitempty"`
	LatestWeekly  *PrepulledImage  `json:"latest_weekly,omitempty"`
	LatestDaily   *PrepulledImage  `json:"latest_daily,omitempty"`
	LatestRelease *PrepulledImage  `json:"latest_release,omitempty"`
	All           []PrepulledImage `json:"all"`
}

// SpawnerImages returns the body of GET /spawner/v1/images (spec §5.5):
// the recommended image and the newest weekly, daily and release of the
// prepull set, and every known image (arch-specific hidden) — for Docker
// every tag, those not looked up without digest and never prepulled.
func (c *Catalog) SpawnerImages() SpawnerImages {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := SpawnerImages{
		Recommended:   c.prepulled(c.prepull.ImageForTag(c.settings.RecommendedTag)),
		LatestWeekly:  c.prepulled(c.prepull.Latest(TypeWeekly)),
		LatestDaily:   c.prepulled(c.prepull.Latest(TypeDaily)),
		LatestRelease: c.prepulled(c.prepull.Latest(TypeRelease)),
		All:           []PrepulledImage{},
	}
	if c.tags == nil {
		for _, img := range c.images.AllImages(ListOptions{}) {
			out.All = append(out.All, *c.prepulled(img))
		}
		return out
	}
	for _, t := range c.tags.AllTags(true) {
		if img := c.images.ImageForTag(t.Tag); img != nil {
			out.All = append(out.All, *c.prepulled(img))
			continue
		}
		out.All = append(out.All, PrepulledImage{
			Reference: c.registry + "/" + c.repository + ":" + t.Tag,
			Tag:       t.Tag, Name: t.DisplayName, Aliases: []string{},
		})
	}
	return out
}

// prepulled converts an image; nil stays nil.
func (c *Catalog) prepulled(img *Image) *PrepulledImage {
	if img == nil {
		return nil
	}
	return &PrepulledImage{
		Reference: img.Reference(),
		Tag:       img.Tag.Tag,
		Name:      img.DisplayName,
		Digest:    img.Digest,
		Aliases:   aliasesWithTarget(img),
		Prepulled: img.OnAllNodes(c.eligible),
	}
}

// aliasesWithTarget returns sorted(aliases ∪ {alias target}), never nil.
func aliasesWithTarget(img *Image) []string {
	out := img.Aliases()
	if img.AliasTarget != "" && !slices.Contains(out, img.AliasTarget) {
		out = append(out, img.AliasTarget)
		slices.Sort(out)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// PrepullerStatus is the body of GET /spawner/v1/prepulls (snake_case,
// nulls included).
type PrepullerStatus struct {
	Config PrepullerConfig `json:"config"`
	Images PrepullerImages `json:"images"`
	Nodes  []PrepullerNode `json:"nodes"`
}

// PrepullerConfig is the image configuration shown in the prepuller status.
type PrepullerConfig struct {
	// Source is a [DockerConfig] or a [GARConfig].
	Source          any
	RefreshInterval time.Duration
	PrepullTimeout  time.Duration
	Settings        Settings
}

// MarshalJSON writes the configuration with durations as float seconds.
func (p PrepullerConfig) MarshalJSON() ([]byte, error) {
	s := p.Settings
	return json.Marshal(struct {
		Source          any      `json:"source"`
		RefreshInterval float64  `json:"refresh_interval"`
		PrepullTimeout  float64  `json:"prepull_timeout"`
		RecommendedTag  string   `json:"recommended_tag"`
		NumReleases     int      `json:"num_releases"`
		NumWeeklies     int      `json:"num_weeklies"`
		NumDailies      int      `json:"num_dailies"`
		Cycle           *int     `json:"cycle"`
		Pin             []string `json:"pin"`
		AliasTags       []string `json:"alias_tags"`
	}{
		p.Source, p.RefreshInterval.Seconds(), p.PrepullTimeout.Seconds(),
		s.RecommendedTag, s.NumReleases, s.NumWeeklies, s.NumDailies, s.Cycle,
		nonNil(s.Pin), nonNil(s.AliasTags),
	})
}

// PrepullerImages splits the prepull set by state.
type PrepullerImages struct {
	Prepulled []NodeImage `json:"prepulled"`
	Pending   []NodeImage `json:"pending"`
}

// NodeImage is an image of the prepull set with the nodes that have it
// (ineligible ones included) and the eligible nodes that miss it.
type NodeImage struct {
	Reference string   `json:"reference"`
	Tag       string   `json:"tag"`
	Name      string   `json:"name"`
	Digest    string   `json:"digest"`
	Size      *int64   `json:"size"`
	Nodes     []string `json:"nodes"`
	Missing   []string `json:"missing"`
}

// PrepullerNode is a node selected by the lab node selector.
type PrepullerNode struct {
	Name     string  `json:"name"`
	Eligible bool    `json:"eligible"`
	Comment  *string `json:"comment"`
	// Cached are the references of the prepull-set images on the node.
	Cached []string `json:"cached"`
}

// PrepullerStatus returns the body of GET /spawner/v1/prepulls (spec §5.5)
// for the given configuration: the prepull set (without aliases whose
// target is in it) split into prepulled and pending images, and the nodes
// of the last [Catalog.SetNodes] in the order given there.
func (c *Catalog) PrepullerStatus(cfg PrepullerConfig) PrepullerStatus {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := PrepullerStatus{
		Config: cfg,
		Images: PrepullerImages{Prepulled: []NodeImage{}, Pending: []NodeImage{}},
		Nodes:  []PrepullerNode{},
	}
	opts := ListOptions{HideResolvedAliases: true, KeepArchSpecific: true}
	for _, img := range c.prepull.AllImages(opts) {
		ni := NodeImage{
			Reference: img.Reference(), Tag: img.Tag.Tag, Name: img.DisplayName,
			Digest: img.Digest, Nodes: nonNil(img.Nodes()), Missing: []string{},
		}
		if img.Size > 0 {
			size := img.Size
			ni.Size = &size
		}
		for _, n := range c.eligible {
			if !img.OnNode(n) {
				ni.Missing = append(ni.Missing, n)
			}
		}
		if len(ni.Missing) == 0 {
			out.Images.Prepulled = append(out.Images.Prepulled, ni)
		} else {
			out.Images.Pending = append(out.Images.Pending, ni)
		}
	}
	all := c.prepull.AllImages(ListOptions{KeepArchSpecific: true})
	for _, n := range c.nodes {
		pn := PrepullerNode{Name: n.Name, Eligible: n.Eligible, Comment: nonEmpty(n.Comment), Cached: []string{}}
		for _, img := range all {
			if img.OnNode(n.Name) {
				pn.Cached = append(pn.Cached, img.Reference())
			}
		}
		out.Nodes = append(out.Nodes, pn)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
