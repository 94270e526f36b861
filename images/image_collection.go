package images

import "time"

// ImageCollection is a set of images with their digests, alias
// relationships resolved (spec §5.2). Images that share a digest know each
// other as aliases; an image of type Alias or Unknown whose digest belongs
// to a versioned image becomes an Alias of it. The collection owns its
// images: the pointers it returns must not be modified. It is not safe for
// concurrent mutation.
type ImageCollection struct {
	byName map[string]*Image
	byType map[ImageType][]*Image
	// primary holds, per digest, the versioned (non-alias) image that
	// aliases resolve to.
	primary map[string]*Image
	// holder holds, per digest without a primary, the first unresolved
	// possible alias.
	holder map[string]*Image
	order  []*Image // every image in ingestion order
}

// NewImageCollection builds a collection, taking ownership of images. When
// cycle is non-nil only images with that SAL cycle are kept. Of versioned
// images sharing a digest the first is primary; possible aliases (Alias and
// Unknown) are then resolved against the primaries.
func NewImageCollection(images []*Image, cycle *int) *ImageCollection {
	c := &ImageCollection{
		byName:  make(map[string]*Image, len(images)),
		byType:  make(map[ImageType][]*Image),
		primary: make(map[string]*Image),
		holder:  make(map[string]*Image),
	}
	var kept []*Image
	for _, img := range images {
		if cycle != nil && (img.Cycle == nil || *img.Cycle != *cycle) {
			continue
		}
		kept = append(kept, img)
		c.byName[img.Tag.Tag] = img
	}
	c.order = kept
	for _, img := range kept {
		if img.IsPossibleAlias() {
			continue
		}
		if p := c.primary[img.Digest]; p != nil {
			c.linkGroup(p, img)
		} else {
			c.primary[img.Digest] = img
		}
	}
	for _, img := range kept {
		if img.IsPossibleAlias() {
			c.addPossibleAlias(img)
		}
	}
	c.reindex()
	return c
}

// addPossibleAlias resolves an Alias or Unknown image against the primary
// of its digest, or links it with the unresolved holder of the digest, or
// makes it the holder.
func (c *ImageCollection) addPossibleAlias(img *Image) {
	if p := c.primary[img.Digest]; p != nil {
		_ = img.ResolveAlias(p) // img is a possible alias
		c.linkGroup(p, img)
		return
	}
	if h := c.holder[img.Digest]; h != nil {
		c.linkGroup(h, img)
		return
	}
	c.holder[img.Digest] = img
}

// linkGroup makes every image of a digest group know all the others: the
// members, the names in their alias sets, and the images of those names
// that the collection has.
func (c *ImageCollection) linkGroup(members ...*Image) {
	names := make(map[string]struct{})
	for _, m := range members {
		names[m.Tag.Tag] = struct{}{}
		for a := range m.aliases {
			names[a] = struct{}{}
		}
	}
	group := append([]*Image(nil), members...)
	for n := range names {
		if img := c.byName[n]; img != nil && img.Digest == members[0].Digest {
			group = append(group, img)
		}
	}
	for _, img := range group {
		for n := range names {
			img.addAlias(n)
		}
	}
}

// reindex rebuilds the per-type lists, each sorted newest first.
func (c *ImageCollection) reindex() {
	clear(c.byType)
	for _, img := range c.byName {
		c.byType[img.Type] = append(c.byType[img.Type], img)
	}
	for typ := range c.byType {
		sortDescending(c.byType[typ], imageTag)
	}
}

func imageTag(i *Image) *Tag { return &i.Tag }

// Add adds one image (taking ownership). A possible alias is resolved as in
// [NewImageCollection]. A versioned image whose digest already has a
// primary becomes the new primary: aliases that targeted the old one are
// re-resolved to it. A versioned image whose digest is held by unresolved
// aliases rebuilds the collection so that they resolve to it.
func (c *ImageCollection) Add(img *Image) {
	switch {
	case img.IsPossibleAlias():
		c.byName[img.Tag.Tag] = img
		c.order = append(c.order, img)
		c.addPossibleAlias(img)
	case c.holder[img.Digest] != nil:
		*c = *NewImageCollection(append(c.order, img), nil)
		return
	case c.primary[img.Digest] != nil:
		c.byName[img.Tag.Tag] = img
		c.order = append(c.order, img)
		old := c.primary[img.Digest]
		c.primary[img.Digest] = img
		c.linkGroup(img, old)
		for a := range old.aliases {
			if alias := c.byName[a]; alias != nil && alias.Type == TypeAlias && alias.AliasTarget == old.Tag.Tag {
				_ = alias.ResolveAlias(img) // alias is of type Alias
			}
		}
	default:
		c.byName[img.Tag.Tag] = img
		c.order = append(c.order, img)
		c.primary[img.Digest] = img
	}
	c.reindex()
}

// Len returns the number of images.
func (c *ImageCollection) Len() int { return len(c.byName) }

// ImageForDigest returns the image of a digest: its versioned primary, else
// the unresolved alias that holds it, else nil.
func (c *ImageCollection) ImageForDigest(digest string) *Image {
	if p := c.primary[digest]; p != nil {
		return p
	}
	return c.holder[digest]
}

// ImageForTag returns the image with this tag string, or nil.
func (c *ImageCollection) ImageForTag(name string) *Image { return c.byName[name] }

// Latest returns the newest image of a type (possibly arch-specific), or nil.
func (c *ImageCollection) Latest(typ ImageType) *Image {
	if l := c.byType[typ]; len(l) > 0 {
		return l[0]
	}
	return nil
}

// ListOptions selects what [ImageCollection.AllImages] returns. The zero
// value lists every arch-independent image.
type ListOptions struct {
	// HideAliased leaves out a versioned image that is the AliasTarget of
	// an Alias image in the collection.
	HideAliased bool
	// HideResolvedAliases leaves out Alias images whose target is in the
	// collection.
	HideResolvedAliases bool
	// KeepArchSpecific includes images with an architecture.
	KeepArchSpecific bool
}

// AllImages returns the images: types in menu order, newest first within a
// type.
func (c *ImageCollection) AllImages(opts ListOptions) []*Image {
	targets := make(map[string]bool)
	if opts.HideAliased {
		for _, a := range c.byType[TypeAlias] {
			if a.AliasTarget != "" {
				targets[a.AliasTarget] = true
			}
		}
	}
	var out []*Image
	for _, typ := range ImageTypes {
		for _, img := range c.byType[typ] {
			switch {
			case !opts.KeepArchSpecific && img.IsArchSpecific():
			case typ != TypeAlias && targets[img.Tag.Tag]:
			case opts.HideResolvedAliases && typ == TypeAlias && img.AliasTarget != "" && c.byName[img.AliasTarget] != nil:
			default:
				out = append(out, img)
			}
		}
	}
	return out
}

// Subset returns a new collection (of copies) with the newest releases,
// weeklies and dailies, arch-specific ones skipped when removeArchSpecific,
// plus the images named in include that the collection has.
func (c *ImageCollection) Subset(releases, weeklies, dailies int, include []string, removeArchSpecific bool) *ImageCollection {
	var picked []*Image
	seen := make(map[string]bool)
	take := func(img *Image) {
		if !seen[img.Tag.Tag] {
			seen[img.Tag.Tag] = true
			picked = append(picked, img.Clone())
		}
	}
	for _, want := range []struct {
		typ ImageType
		n   int
	}{{TypeRelease, releases}, {TypeWeekly, weeklies}, {TypeDaily, dailies}} {
		n := 0
		for _, img := range c.byType[want.typ] {
			if n >= want.n {
				break
			}
			if removeArchSpecific && img.IsArchSpecific() {
				continue
			}
			take(img)
			n++
		}
	}
	for _, name := range include {
		if img := c.byName[name]; img != nil {
			take(img)
		}
	}
	return NewImageCollection(picked, nil)
}

// Subtract returns a new collection (of copies) with one image per digest
// of c — the one [ImageCollection.ImageForDigest] returns — for every digest
// that no image of other has.
func (c *ImageCollection) Subtract(other *ImageCollection) *ImageCollection {
	var picked []*Image
	seen := make(map[string]bool)
	for _, img := range c.AllImages(ListOptions{KeepArchSpecific: true}) {
		if seen[img.Digest] || other.ImageForDigest(img.Digest) != nil {
			continue
		}
		seen[img.Digest] = true
		picked = append(picked, c.ImageForDigest(img.Digest).Clone())
	}
	return NewImageCollection(picked, nil)
}

// MarkImageSeenOnNode records that a node has the image of a digest: the
// image for the digest and every alias of it in the collection. A size > 0
// is recorded too. Unknown digests are ignored.
func (c *ImageCollection) MarkImageSeenOnNode(digest, node string, size int64) {
	img := c.ImageForDigest(digest)
	if img == nil {
		return
	}
	mark := func(i *Image) {
		i.addNode(node)
		if size > 0 {
			i.Size = size
		}
	}
	mark(img)
	for a := range img.aliases {
		if i := c.byName[a]; i != nil {
			mark(i)
		}
	}
}

// Filter applies a [FilterPolicy] to the images (spec §5.4): per type in
// menu order, newest first, the images the policy keeps (or, inverted,
// drops). The only error is an invalid CutoffVersion.
func (c *ImageCollection) Filter(policy FilterPolicy, ageBasis time.Time, opts FilterOptions) ([]*Image, error) {
	var lists [][]*Image
	for _, typ := range ImageTypes {
		lists = append(lists, c.byType[typ])
	}
	return applyFilter(policy, ageBasis, opts, lists, imageTag)
}
