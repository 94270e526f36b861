package cli

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestImagesParse(t *testing.T) {
	var out, errb bytes.Buffer
	code := Execute(context.Background(), []string{"images", "parse", "w_2021_22", "recommended", ""}, nil, &out, &errb)
	assert.Equal(t, ExitOK, code, "stderr %q", errb.String())
	assert.JSONEq(t, `[
  {"tag": "w_2021_22", "image_type": "Weekly", "display_name": "Weekly 2021_22",
   "version": {"major": 2021, "minor": 22, "patch": 0, "prerelease": null, "build": null},
   "semantic": false, "base": null, "cycle": null, "cycle_build": null, "build": null,
   "architecture": null, "extra": null, "date": "2021-06-03 00:00:00"},
  {"tag": "recommended", "image_type": "Unknown", "display_name": "recommended", "version": null,
   "semantic": false, "base": "recommended", "cycle": null, "cycle_build": null, "build": null,
   "architecture": null, "extra": null, "date": null},
  {"tag": "latest", "image_type": "Unknown", "display_name": "latest", "version": null,
   "semantic": false, "base": "latest", "cycle": null, "cycle_build": null, "build": null,
   "architecture": null, "extra": null, "date": null}
]`, out.String())
}

func TestImagesParseUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, ExitUsage, Execute(context.Background(), []string{"images", "parse"}, nil, &out, &errb), "no tags")
	assert.Equal(t, ExitOK, Execute(context.Background(), []string{"images"}, nil, &out, &errb), "help")
}
