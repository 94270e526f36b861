package images

import (
	"context"
	"fmt"
)

// Image classes a lab request may ask for (its image_class attribute).
const (
	ClassRecommended   = "recommended"
	ClassLatestRelease = "latest-release"
	ClassLatestWeekly  = "latest-weekly"
	ClassLatestDaily   = "latest-daily"
)

// ImageRequest is how a lab request names its image: one of the
// attributes AttrImageList, AttrImageDropdown (full Docker references),
// AttrImageClass (an image class) or AttrImageTag (a tag), and its value.
type ImageRequest struct {
	Attribute string
	Value     string
}

// Digester looks up the current digest of a tag in the registry. Both
// sources implement it.
type Digester interface {
	Digest(ctx context.Context, tag string) (string, error)
}

// Resolve finds the image a lab request asks for (spec §5.6). It fails with
// an [*UnknownImageError] (the image does not exist) or an
// [*InvalidReferenceError] (a reference without a tag, or not a reference at
// all), both carrying req.Attribute; any other error comes from looking up a
// digest with d, which happens only for Docker tags outside the prepull set.
func (c *Catalog) Resolve(ctx context.Context, req ImageRequest, d Digester) (*Image, error) {
	switch req.Attribute {
	case AttrImageList, AttrImageDropdown:
		return c.resolveReference(ctx, req, d)
	case AttrImageTag:
		return c.resolveTag(ctx, req, d)
	case AttrImageClass:
		return c.resolveClass(req)
	}
	return nil, fmt.Errorf("unknown image request attribute %q", req.Attribute)
}

func (c *Catalog) resolveReference(ctx context.Context, req ImageRequest, d Digester) (*Image, error) {
	ref, err := ParseReference(req.Value)
	if err != nil {
		err.(*InvalidReferenceError).Attribute = req.Attribute
		return nil, err
	}
	notFound := &UnknownImageError{Attribute: req.Attribute, Message: `Docker reference "` + ref.String() + `" not found`}
	if ref.Registry != c.registry || ref.Repository != c.repository {
		return nil, notFound
	}
	c.mu.RLock()
	var img *Image
	var tag Tag
	known := false
	if ref.Digest != "" {
		img = c.images.ImageForDigest(ref.Digest)
	}
	if img == nil && ref.Tag != "" {
		img = c.images.ImageForTag(ref.Tag)
		if img == nil && c.tags != nil {
			tag, known = c.tags.Tag(ref.Tag)
		}
	}
	if img != nil {
		img = img.Clone()
	}
	c.mu.RUnlock()
	switch {
	case img != nil:
		return img, nil
	case ref.Tag == "":
		return nil, &InvalidReferenceError{Attribute: req.Attribute, Reference: ref.String(), Reason: ReasonNoTag}
	case !known:
		return nil, notFound
	}
	digest := ref.Digest
	if digest == "" {
		if digest, err = d.Digest(ctx, ref.Tag); err != nil {
			return nil, fmt.Errorf("looking up digest of %q: %w", ref.String(), err)
		}
	}
	return NewImage(tag, c.registry, c.repository, digest), nil
}

func (c *Catalog) resolveTag(ctx context.Context, req ImageRequest, d Digester) (*Image, error) {
	c.mu.RLock()
	img := c.images.ImageForTag(req.Value)
	if img != nil {
		img = img.Clone()
	}
	var tag Tag
	known := false
	if img == nil && c.tags != nil {
		tag, known = c.tags.Tag(req.Value)
	}
	c.mu.RUnlock()
	if img != nil {
		return img, nil
	}
	if !known {
		return nil, &UnknownImageError{Attribute: req.Attribute, Message: `Docker tag "` + req.Value + `" not found`}
	}
	digest, err := d.Digest(ctx, req.Value)
	if err != nil {
		return nil, fmt.Errorf("looking up digest of tag %q: %w", req.Value, err)
	}
	return NewImage(tag, c.registry, c.repository, digest), nil
}

func (c *Catalog) resolveClass(req ImageRequest) (*Image, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var img *Image
	switch req.Value {
	case ClassRecommended:
		img = c.prepull.ImageForTag(c.settings.RecommendedTag)
	case ClassLatestRelease:
		img = c.prepull.Latest(TypeRelease)
	case ClassLatestWeekly:
		img = c.prepull.Latest(TypeWeekly)
	case ClassLatestDaily:
		img = c.prepull.Latest(TypeDaily)
	default:
		return nil, &UnknownImageError{Attribute: req.Attribute, Message: `Unknown image class "` + req.Value + `"`}
	}
	if img == nil {
		return nil, &UnknownImageError{Attribute: req.Attribute, Message: "No " + req.Value + " image found"}
	}
	return img.Clone(), nil
}
