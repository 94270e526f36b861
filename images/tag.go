package images

import (
	"encoding/json"
	"fmt"
	"time"
)

// ImageType is the kind of an RSP image tag. Its order is the menu order:
// [ImageTypes] lists the types in it.
type ImageType int

// Image types, in menu order.
const (
	TypeAlias ImageType = iota
	TypeRelease
	TypeWeekly
	TypeDaily
	TypeCandidate
	TypeExperimental
	TypeUnknown
)

// ImageTypes lists every image type in menu order.
var ImageTypes = []ImageType{
	TypeAlias, TypeRelease, TypeWeekly, TypeDaily, TypeCandidate, TypeExperimental, TypeUnknown,
}

var typeNames = [...]string{
	TypeAlias:        "Alias",
	TypeRelease:      "Release",
	TypeWeekly:       "Weekly",
	TypeDaily:        "Daily",
	TypeCandidate:    "Release Candidate",
	TypeExperimental: "Experimental",
	TypeUnknown:      "Unknown",
}

// String returns the serialised name of the type ("Release Candidate", ...).
func (t ImageType) String() string {
	if t < 0 || int(t) >= len(typeNames) {
		return fmt.Sprintf("ImageType(%d)", int(t))
	}
	return typeNames[t]
}

// MarshalJSON writes the type as its serialised name.
func (t ImageType) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.String())
}

// Tag is a parsed RSP image tag. Pointer and empty-string fields are absent
// when nil or empty (Base may be present and empty: "-amd64" has base "").
// Tags are values: copy them freely.
type Tag struct {
	// Tag is the tag string itself; two tags are the same tag when their
	// Tag strings are equal.
	Tag string
	// Type is the kind of tag.
	Type ImageType
	// DisplayName is the human-readable name shown in menus.
	DisplayName string
	// Version is set for releases, candidates, weeklies and dailies (and
	// experimentals built on them).
	Version *Version
	// Semantic is true when Version is a real release version (releases,
	// candidates and experimentals built on them).
	Semantic bool
	// Base is the name part of Unknown and Alias tags.
	Base *string
	// Cycle and CycleBuild are the SAL cycle (_cNNNN.BBB); Build is the RSP
	// build number (_rspNN).
	Cycle, CycleBuild, Build *int
	// Architecture is the -arch suffix, empty when arch-independent.
	Architecture string
	// Extra is the free-form _rest suffix of versioned tags, empty when none.
	Extra string
	// Date is the build date of weeklies (ISO-week Thursday) and dailies,
	// midnight UTC.
	Date *time.Time
}

// IsArchSpecific reports whether the tag names an image for one architecture.
func (t *Tag) IsArchSpecific() bool { return t.Architecture != "" }

// IsPossibleAlias reports whether the tag may be an alias of another image
// (types Alias and Unknown).
func (t *Tag) IsPossibleAlias() bool { return t.Type == TypeAlias || t.Type == TypeUnknown }

// tagJSON is the serialisation of Nublado's RSPImageTag.to_dict, field order
// included.
type tagJSON struct {
	Tag          string       `json:"tag"`
	ImageType    ImageType    `json:"image_type"`
	DisplayName  string       `json:"display_name"`
	Version      *versionJSON `json:"version"`
	Semantic     bool         `json:"semantic"`
	Base         *string      `json:"base"`
	Cycle        *int         `json:"cycle"`
	CycleBuild   *int         `json:"cycle_build"`
	Build        *int         `json:"build"`
	Architecture *string      `json:"architecture"`
	Extra        *string      `json:"extra"`
	Date         *string      `json:"date"`
}

type versionJSON struct {
	Major      int     `json:"major"`
	Minor      int     `json:"minor"`
	Patch      int     `json:"patch"`
	Prerelease *string `json:"prerelease"`
	Build      *string `json:"build"`
}

// MarshalJSON writes the tag as Nublado's to_dict does: snake_case keys,
// nulls included, version as an object, date as "YYYY-MM-DD HH:MM:SS" (UTC,
// with microseconds only when non-zero).
func (t Tag) MarshalJSON() ([]byte, error) {
	out := tagJSON{
		Tag:          t.Tag,
		ImageType:    t.Type,
		DisplayName:  t.DisplayName,
		Semantic:     t.Semantic,
		Base:         t.Base,
		Cycle:        t.Cycle,
		CycleBuild:   t.CycleBuild,
		Build:        t.Build,
		Architecture: nonEmpty(t.Architecture),
		Extra:        nonEmpty(t.Extra),
	}
	if v := t.Version; v != nil {
		out.Version = &versionJSON{
			Major: v.Major, Minor: v.Minor, Patch: v.Patch,
			Prerelease: nonEmpty(v.Prerelease), Build: nonEmpty(v.Build),
		}
	}
	if t.Date != nil {
		s := formatDate(*t.Date)
		out.Date = &s
	}
	return json.Marshal(out)
}

// formatDate formats a date as Python's str(datetime) does for a naive UTC
// datetime.
func formatDate(d time.Time) string {
	d = d.UTC()
	if us := d.Nanosecond() / 1000; us != 0 {
		return d.Format("2006-01-02 15:04:05") + fmt.Sprintf(".%06d", us)
	}
	return d.Format("2006-01-02 15:04:05")
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
