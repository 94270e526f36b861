package server

import (
	"html/template"
	"net/http"
)

// The documentation pages load Swagger UI and ReDoc from a CDN in the
// browser, as FastAPI's do.
var (
	swaggerPage = template.Must(template.New("docs").Parse(`<!DOCTYPE html>
<html>
<head>
<link type="text/css" rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
<title>{{.Title}} - Swagger UI</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>
const ui = SwaggerUIBundle({
  url: {{.URL}},
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
})
</script>
</body>
</html>`))
	redocPage = template.Must(template.New("redoc").Parse(`<!DOCTYPE html>
<html>
<head>
<title>{{.Title}} - ReDoc</title>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
<noscript>ReDoc requires Javascript to function. Please enable it to browse the documentation.</noscript>
<redoc spec-url="{{.URL}}"></redoc>
<script src="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"></script>
</body>
</html>`))
)

type docsData struct {
	Title string
	URL   string
}

// getDocs is route #20's {p}/docs (Swagger UI).
func (s *Server) getDocs(w http.ResponseWriter, r *http.Request) error {
	return render(w, swaggerPage, docsData{Title: s.cfg.Name, URL: s.prefix() + "/openapi.json"})
}

// getRedoc is route #20's {p}/redoc.
func (s *Server) getRedoc(w http.ResponseWriter, r *http.Request) error {
	return render(w, redocPage, docsData{Title: s.cfg.Name, URL: s.prefix() + "/openapi.json"})
}
