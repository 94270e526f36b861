package images

import (
	"context"
	"fmt"
	"time"
)

// Registry is the registry side of `nublado images` ([List], [Delete] and
// [Prune], tools §1.10). [*DockerClient] and [*GARClient] implement it.
type Registry interface {
	// ListImages returns one image per tag of the repository, with its
	// digest when the listing carries digests (GAR) and without (Docker).
	ListImages(ctx context.Context) ([]*Image, error)
	// Digests returns the digests of tags. Docker fails for a tag that
	// does not exist; GAR leaves it out (Nublado ignores unknown tags).
	Digests(ctx context.Context, tags []string) (map[string]string, error)
	// DeleteDigests deletes the images with these digests (at most
	// [DeleteBatch] per call), and so every tag on them.
	DeleteDigests(ctx context.Context, digests []string) error
}

// DeleteBatch is how many images [Delete] and [Prune] hand to
// [Registry.DeleteDigests] at once (GAR's batch limit), hence how often
// they report progress.
const DeleteBatch = GARDeleteBatch

// Progress is told how many of total images are deleted: once with 0
// before the first batch, then after each batch.
type Progress func(done, total int)

// List returns every tag of the repository in collection order (tools
// §1.2): types in menu order, newest first, arch-specific tags included.
// Tags are parsed without alias knowledge, so aliases such as
// "recommended" are of type Unknown and come last.
func List(ctx context.Context, reg Registry) ([]string, error) {
	imgs, err := reg.ListImages(ctx)
	if err != nil {
		return nil, err
	}
	return TagCollectionFromNames(imageTagNames(imgs), nil, nil).Names(), nil
}

// Delete deletes the images behind tags, hence every other tag on the
// same digests. Every digest is looked up before anything is deleted, and
// each is deleted once, in the order of the tags: two tags of one image
// are not an error (Nublado's Docker backend failed on the second). A
// Docker tag that does not exist fails the call before any deletion; GAR
// ignores it. progress may be nil.
func Delete(ctx context.Context, reg Registry, tags []string, progress Progress) error {
	if len(tags) == 0 {
		return nil
	}
	digests, err := reg.Digests(ctx, tags)
	if err != nil {
		return err
	}
	return deleteBatches(ctx, reg, uniqueDigests(tags, digests), progress)
}

// PruneOptions are the knobs of [Prune].
type PruneOptions struct {
	// DryRun selects the tags but deletes nothing (and looks up no
	// digests).
	DryRun bool
	// Now is the age basis of the policy's Age filters.
	Now time.Time
	// Progress, if set, follows the deletions.
	Progress Progress
}

// Prune deletes the tags that the policy does not keep (tools §1.10):
// every tag, arch-specific ones included, filtered with the policy
// inverted. Docker tags are parsed without alias knowledge; GAR images
// form a collection, so tags sharing a versioned image's digest are
// aliases and never selected (but deleting that image removes them too).
// Each selected digest is deleted once. An invalid policy fails before
// anything is listed. Prune returns the selected tags in
// collection order, also those whose image was already deleted through
// another tag.
func Prune(ctx context.Context, reg Registry, policy FilterPolicy, opts PruneOptions) ([]string, error) {
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	imgs, err := reg.ListImages(ctx)
	if err != nil {
		return nil, err
	}
	selected, known, err := pruneSelection(imgs, policy, opts.Now)
	if err != nil {
		return nil, err
	}
	if opts.DryRun || len(selected) == 0 {
		return selected, nil
	}
	if known == nil {
		if known, err = reg.Digests(ctx, selected); err != nil {
			return nil, err
		}
	}
	return selected, deleteBatches(ctx, reg, uniqueDigests(selected, known), opts.Progress)
}

// pruneSelection returns the tags to prune and, when the listing had
// digests, their digests.
func pruneSelection(imgs []*Image, policy FilterPolicy, now time.Time) ([]string, map[string]string, error) {
	opts := FilterOptions{Invert: true, KeepArchSpecific: true}
	if len(imgs) == 0 || imgs[0].Digest == "" {
		tags, err := TagCollectionFromNames(imageTagNames(imgs), nil, nil).Filter(policy, now, opts)
		if err != nil {
			return nil, nil, err
		}
		names := make([]string, len(tags))
		for i, t := range tags {
			names[i] = t.Tag
		}
		return names, nil, nil
	}
	pruned, err := NewImageCollection(imgs, nil).Filter(policy, now, opts)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(pruned))
	digests := make(map[string]string, len(pruned))
	for i, img := range pruned {
		names[i] = img.Tag.Tag
		digests[img.Tag.Tag] = img.Digest
	}
	return names, digests, nil
}

// deleteBatches deletes digests [DeleteBatch] at a time, reporting
// progress. The error says how many were deleted before it.
func deleteBatches(ctx context.Context, reg Registry, digests []string, progress Progress) error {
	total := len(digests)
	if progress == nil {
		progress = func(int, int) {}
	}
	if total > 0 {
		progress(0, total)
	}
	for start := 0; start < total; start += DeleteBatch {
		end := min(start+DeleteBatch, total)
		if err := reg.DeleteDigests(ctx, digests[start:end]); err != nil {
			return fmt.Errorf("%d of %d images deleted: %w", start, total, err)
		}
		progress(end, total)
	}
	return nil
}

// uniqueDigests returns the digests of tags in tag order, each once; tags
// without a digest are skipped.
func uniqueDigests(tags []string, digests map[string]string) []string {
	seen := make(map[string]bool, len(tags))
	var out []string
	for _, t := range tags {
		d, ok := digests[t]
		if !ok || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}

func imageTagNames(imgs []*Image) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.Tag.Tag
	}
	return out
}
