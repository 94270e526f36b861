package images

import "time"

// TagCollection is a set of parsed tags, indexed by tag string and by type,
// each type's list sorted newest first. It is not safe for concurrent
// mutation.
type TagCollection struct {
	byName map[string]*Tag
	byType map[ImageType][]*Tag
}

// NewTagCollection builds a collection from tags. When cycle is non-nil only
// tags with that SAL cycle are kept. A repeated tag string stays twice in its
// type's list; the name index keeps the last one.
func NewTagCollection(tags []Tag, cycle *int) *TagCollection {
	c := &TagCollection{byName: make(map[string]*Tag, len(tags)), byType: make(map[ImageType][]*Tag)}
	store := make([]Tag, 0, len(tags))
	for _, t := range tags {
		if cycle == nil || (t.Cycle != nil && *t.Cycle == *cycle) {
			store = append(store, t)
		}
	}
	for i := range store {
		t := &store[i]
		c.byName[t.Tag] = t
		c.byType[t.Type] = append(c.byType[t.Type], t)
	}
	for typ := range c.byType {
		sortDescending(c.byType[typ], identity)
	}
	return c
}

// TagsFromNames parses tag names: names in aliases are built with
// [AliasTag], the others with [ParseTag].
func TagsFromNames(names []string, aliases map[string]bool) []Tag {
	tags := make([]Tag, len(names))
	for i, name := range names {
		if aliases[name] {
			tags[i] = AliasTag(name)
		} else {
			tags[i] = ParseTag(name)
		}
	}
	return tags
}

// TagCollectionFromNames is [NewTagCollection] of [TagsFromNames]: Nublado's
// RSPImageTagCollection.from_tag_names.
func TagCollectionFromNames(names []string, aliases map[string]bool, cycle *int) *TagCollection {
	return NewTagCollection(TagsFromNames(names, aliases), cycle)
}

func identity(t *Tag) *Tag { return t }

// Add adds a tag (replacing the name index entry of an equal tag string) and
// keeps its type's list sorted.
func (c *TagCollection) Add(t Tag) {
	p := &t
	c.byName[t.Tag] = p
	c.byType[t.Type] = append(c.byType[t.Type], p)
	sortDescending(c.byType[t.Type], identity)
}

// Len returns the number of tags, repeated tag strings counted each time.
func (c *TagCollection) Len() int {
	n := 0
	for _, l := range c.byType {
		n += len(l)
	}
	return n
}

// AllTags returns every tag: types in menu order, newest first within a
// type. With hideArchSpecific, tags with an architecture are left out.
func (c *TagCollection) AllTags(hideArchSpecific bool) []Tag {
	var out []Tag
	for _, typ := range ImageTypes {
		for _, t := range c.byType[typ] {
			if hideArchSpecific && t.IsArchSpecific() {
				continue
			}
			out = append(out, *t)
		}
	}
	return out
}

// Names returns every tag string in collection order, arch-specific ones
// included.
func (c *TagCollection) Names() []string {
	var out []string
	for _, t := range c.AllTags(false) {
		out = append(out, t.Tag)
	}
	return out
}

// Latest returns the newest tag of a type (which may be arch-specific).
func (c *TagCollection) Latest(typ ImageType) (Tag, bool) {
	if l := c.byType[typ]; len(l) > 0 {
		return *l[0], true
	}
	return Tag{}, false
}

// Tag returns the tag with this tag string.
func (c *TagCollection) Tag(name string) (Tag, bool) {
	if t, ok := c.byName[name]; ok {
		return *t, true
	}
	return Tag{}, false
}

// Subset returns a new collection with the newest releases, weeklies and
// dailies (arch-specific ones skipped when removeArchSpecific) plus every tag
// named in include that the collection has (whatever its architecture).
// A tag is taken once even when both rules select it.
func (c *TagCollection) Subset(releases, weeklies, dailies int, include []string, removeArchSpecific bool) *TagCollection {
	var picked []Tag
	seen := make(map[string]bool)
	take := func(t *Tag) {
		if !seen[t.Tag] {
			seen[t.Tag] = true
			picked = append(picked, *t)
		}
	}
	for _, want := range []struct {
		typ ImageType
		n   int
	}{{TypeRelease, releases}, {TypeWeekly, weeklies}, {TypeDaily, dailies}} {
		for _, t := range firstN(c.byType[want.typ], want.n, removeArchSpecific) {
			take(t)
		}
	}
	for _, name := range include {
		if t, ok := c.byName[name]; ok {
			take(t)
		}
	}
	return NewTagCollection(picked, nil)
}

// firstN returns the first n tags of a sorted list, skipping arch-specific
// ones when asked.
func firstN(tags []*Tag, n int, removeArchSpecific bool) []*Tag {
	var out []*Tag
	for _, t := range tags {
		if len(out) >= n {
			break
		}
		if removeArchSpecific && t.IsArchSpecific() {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Filter applies a [FilterPolicy] to the collection (spec §5.4): per type in
// menu order, newest first, the tags the policy keeps (or, inverted, drops).
// The only error is an invalid CutoffVersion.
func (c *TagCollection) Filter(policy FilterPolicy, ageBasis time.Time, opts FilterOptions) ([]Tag, error) {
	var lists [][]*Tag
	for _, typ := range ImageTypes {
		lists = append(lists, c.byType[typ])
	}
	kept, err := applyFilter(policy, ageBasis, opts, lists, identity)
	if err != nil {
		return nil, err
	}
	out := make([]Tag, len(kept))
	for i, t := range kept {
		out[i] = *t
	}
	return out, nil
}
