package images

import (
	"fmt"
	"time"
)

// FilterOptions changes what a [FilterPolicy] returns. The zero value gives
// the dropdown menu: the tags kept, arch-specific tags left out.
type FilterOptions struct {
	// Invert returns the candidates the policy does not keep (the prune
	// list) instead of those it keeps.
	Invert bool
	// KeepArchSpecific makes arch-specific tags candidates too. Without it
	// they are in neither the kept nor the inverted result.
	KeepArchSpecific bool
}

// For returns the filter of an image type: nil for Alias and Unknown, which
// are never filtered, and an empty filter (keep everything) for a type
// whose filter is unset.
func (p FilterPolicy) For(typ ImageType) *Filter {
	var f *Filter
	switch typ {
	case TypeRelease:
		f = p.Release
	case TypeWeekly:
		f = p.Weekly
	case TypeDaily:
		f = p.Daily
	case TypeCandidate:
		f = p.ReleaseCandidate
	case TypeExperimental:
		f = p.Experimental
	default:
		return nil
	}
	if f == nil {
		return &Filter{}
	}
	return f
}

// Validate checks the parts of the policy that are strings to parse: every
// CutoffVersion must be a strict semantic version.
func (p FilterPolicy) Validate() error {
	for _, typ := range ImageTypes {
		if f := p.For(typ); f != nil && f.CutoffVersion != "" {
			if _, err := ParseVersion(f.CutoffVersion); err != nil {
				return fmt.Errorf("%s filter: cutoffVersion: %w", typ, err)
			}
		}
	}
	return nil
}

// DateCutoff returns the effective date cutoff of the filter for an age
// basis (normally now): the later of ageBasis − Age and CutoffDate, or nil
// when neither is set.
func (f *Filter) DateCutoff(ageBasis time.Time) *time.Time {
	var cutoff *time.Time
	if f.Age > 0 {
		c := ageBasis.Add(-f.Age)
		cutoff = &c
	}
	if f.CutoffDate != nil && (cutoff == nil || f.CutoffDate.After(*cutoff)) {
		c := *f.CutoffDate
		cutoff = &c
	}
	return cutoff
}

// keeps reports whether the filter's cutoffs let t through (Number aside).
func (f *Filter) keeps(t *Tag, dateCutoff *time.Time, versionCutoff *Version) bool {
	if t.Build != nil && *t.Build != 0 && f.CutoffBuild != 0 && *t.Build < f.CutoffBuild {
		return false
	}
	if t.Date != nil && dateCutoff != nil && t.Date.Before(*dateCutoff) {
		return false
	}
	if t.Semantic && t.Version != nil && versionCutoff != nil && t.Version.Compare(*versionCutoff) < 0 {
		return false
	}
	return true
}

// applyFilter runs the filter algorithm of spec §5.4 over per-type lists in
// menu order, each sorted newest first.
func applyFilter[T any](p FilterPolicy, ageBasis time.Time, opts FilterOptions, lists [][]T, tag func(T) *Tag) ([]T, error) {
	var out []T
	for _, list := range lists {
		if len(list) == 0 {
			continue
		}
		kept, dropped, err := filterList(p.For(tag(list[0]).Type), ageBasis, opts, list, tag)
		if err != nil {
			return nil, err
		}
		if opts.Invert {
			out = append(out, dropped...)
		} else {
			out = append(out, kept...)
		}
	}
	return out, nil
}

// filterList splits one type's candidates into kept and dropped.
func filterList[T any](f *Filter, ageBasis time.Time, opts FilterOptions, list []T, tag func(T) *Tag) (kept, dropped []T, err error) {
	var dateCutoff *time.Time
	var versionCutoff *Version
	if f != nil {
		dateCutoff = f.DateCutoff(ageBasis)
		if f.CutoffVersion != "" {
			v, err := ParseVersion(f.CutoffVersion)
			if err != nil {
				return nil, nil, fmt.Errorf("cutoffVersion: %w", err)
			}
			versionCutoff = &v
		}
	}
	for _, item := range list {
		t := tag(item)
		if !opts.KeepArchSpecific && t.IsArchSpecific() {
			continue
		}
		full := f != nil && f.Number > 0 && len(kept) >= f.Number
		if f == nil || !full && f.keeps(t, dateCutoff, versionCutoff) {
			kept = append(kept, item)
		} else {
			dropped = append(dropped, item)
		}
	}
	return kept, dropped, nil
}
