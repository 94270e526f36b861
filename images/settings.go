package images

import "encoding/json"

// Settings are the image settings of the controller configuration (spec
// §2.4) that decide what is prepulled and how tags are read.
type Settings struct {
	// RecommendedTag is the tag shown first in the form menu.
	RecommendedTag string
	// NumReleases, NumWeeklies and NumDailies are how many of the newest
	// of each type are prepulled.
	NumReleases, NumWeeklies, NumDailies int
	// Cycle, when set, keeps only images of that SAL cycle.
	Cycle *int
	// Pin lists further tags to prepull.
	Pin []string
	// AliasTags lists tags that are aliases (Docker only; GAR finds
	// aliases by digest).
	AliasTags []string
}

// DefaultSettings returns Nublado's defaults: recommended tag
// "recommended", one release, two weeklies and three dailies.
func DefaultSettings() Settings {
	return Settings{RecommendedTag: "recommended", NumReleases: 1, NumWeeklies: 2, NumDailies: 3}
}

// Aliases returns the tags read as aliases: RecommendedTag and AliasTags.
func (s Settings) Aliases() map[string]bool {
	out := map[string]bool{s.RecommendedTag: true}
	for _, a := range s.AliasTags {
		out[a] = true
	}
	return out
}

// Include returns the tags prepulled whatever their type: RecommendedTag
// and Pin.
func (s Settings) Include() []string {
	return append([]string{s.RecommendedTag}, s.Pin...)
}

// DockerConfig locates a repository in a Docker registry (source type
// "docker").
type DockerConfig struct {
	// Registry is host[:port], "docker.io" by default.
	Registry string
	// Repository is the path in the registry, e.g. "library/sketchbook".
	Repository string
}

// MarshalJSON writes the source as the prepuller status shows it:
// {"type":"docker","registry":…,"repository":…}.
func (c DockerConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type       string `json:"type"`
		Registry   string `json:"registry"`
		Repository string `json:"repository"`
	}{"docker", c.Registry, c.Repository})
}

// GARConfig locates an image in Google Artifact Registry (source type
// "google").
type GARConfig struct {
	Location   string // e.g. "us-central1"
	ProjectID  string
	Repository string // the GAR repository, e.g. "sciplat"
	Image      string // the image in it, e.g. "sciplat-lab"
}

// Registry returns the Docker registry host, "{location}-docker.pkg.dev".
func (c GARConfig) Registry() string { return c.Location + "-docker.pkg.dev" }

// Parent returns the GAR repository resource name,
// "projects/{project}/locations/{location}/repositories/{repository}".
func (c GARConfig) Parent() string {
	return "projects/" + c.ProjectID + "/locations/" + c.Location + "/repositories/" + c.Repository
}

// PackageParent returns the resource name of the image's package,
// "{parent}/packages/{image}", parent of its versions.
func (c GARConfig) PackageParent() string { return c.Parent() + "/packages/" + c.Image }

// Path returns the Docker repository path, "{project}/{repository}/{image}".
func (c GARConfig) Path() string { return c.ProjectID + "/" + c.Repository + "/" + c.Image }

// MarshalJSON writes the source as the prepuller status shows it:
// {"type":"google","location","project_id","repository","image"}.
func (c GARConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type       string `json:"type"`
		Location   string `json:"location"`
		ProjectID  string `json:"project_id"`
		Repository string `json:"repository"`
		Image      string `json:"image"`
	}{"google", c.Location, c.ProjectID, c.Repository, c.Image})
}
