package nublado

import "embed"

// HTML holds the HTML templates of the controller's pages under templates/:
// the lab form (lab_form.html), the page shown when a user may not spawn
// (unavailable.html) and the file-server page (fileserver.html). They are
// Go html/template files; the server renders them without a trailing
// newline, as the original does.
//
//go:embed templates/*.html
var HTML embed.FS
