package prepuller

import (
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
)

// Settings returns the image settings of the images configuration.
func Settings(c schema.ImagesConfig) images.Settings {
	return images.Settings{
		RecommendedTag: c.RecommendedTag,
		NumReleases:    c.NumReleases,
		NumWeeklies:    c.NumWeeklies,
		NumDailies:     c.NumDailies,
		Cycle:          c.Cycle,
		Pin:            c.Pin,
		AliasTags:      c.AliasTags,
	}
}

// SourceConfig returns the source as the prepuller status shows it: an
// [images.DockerConfig] or an [images.GARConfig].
func SourceConfig(s schema.ImageSource) any {
	if s.Type == schema.SourceGoogle {
		return garConfig(s)
	}
	return dockerConfig(s)
}

func dockerConfig(s schema.ImageSource) images.DockerConfig {
	return images.DockerConfig{Registry: s.Registry, Repository: s.Repository}
}

func garConfig(s schema.ImageSource) images.GARConfig {
	return images.GARConfig{Location: s.Location, ProjectID: s.ProjectID, Repository: s.Repository, Image: s.Image}
}

// Tolerations converts the lab tolerations for the eligibility check.
func Tolerations(in []schema.Toleration) []images.Toleration {
	out := make([]images.Toleration, 0, len(in))
	for _, t := range in {
		out = append(out, images.Toleration{
			Key:               deref(t.Key),
			Operator:          t.Operator,
			Value:             deref(t.Value),
			Effect:            t.Effect,
			TolerationSeconds: t.TolerationSeconds,
		})
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
