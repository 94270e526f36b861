package images

import "time"

// MenuEntry is one choice of the spawner form: the Docker reference sent
// back on submit and the name shown.
type MenuEntry struct {
	Reference string
	Name      string
}

// Menu returns the radio-button list of the spawner form (spec §5.5): the
// prepull set in collection order without the images that an Alias in the
// set stands for; the image with the recommended tag first (even when not
// yet prepulled), the others only once prepulled on every eligible node.
// References carry the digest.
func (c *Catalog) Menu() []MenuEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var first []MenuEntry
	var rest []MenuEntry
	for _, img := range c.prepull.AllImages(ListOptions{HideAliased: true}) {
		e := MenuEntry{Reference: img.ReferenceWithDigest(), Name: img.DisplayName}
		switch {
		case img.Tag.Tag == c.settings.RecommendedTag:
			first = append(first, e)
		case img.OnAllNodes(c.eligible):
			rest = append(rest, e)
		}
	}
	return append(first, rest...)
}

// Dropdown returns the drop-down list of the spawner form: the tags that
// policy keeps at time now (arch-specific ones left out), in collection
// order. Docker tags whose image was looked up carry its digest and display
// name; the others are "{registry}/{repository}:{tag}" with the tag's
// display name. GAR images always carry their digest. The only error is an
// invalid CutoffVersion in policy.
func (c *Catalog) Dropdown(policy FilterPolicy, now time.Time) ([]MenuEntry, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []MenuEntry
	if c.tags == nil {
		imgs, err := c.images.Filter(policy, now, FilterOptions{})
		if err != nil {
			return nil, err
		}
		for _, img := range imgs {
			out = append(out, MenuEntry{Reference: img.ReferenceWithDigest(), Name: img.DisplayName})
		}
		return out, nil
	}
	tags, err := c.tags.Filter(policy, now, FilterOptions{})
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		if img := c.images.ImageForTag(t.Tag); img != nil {
			out = append(out, MenuEntry{Reference: img.ReferenceWithDigest(), Name: img.DisplayName})
		} else {
			out = append(out, MenuEntry{Reference: c.registry + "/" + c.repository + ":" + t.Tag, Name: t.DisplayName})
		}
	}
	return out, nil
}
