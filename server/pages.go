package server

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	nublado "github.com/nublado-go/nublado"
)

// pages are the HTML templates of nublado.HTML, parsed once.
type pages struct {
	labForm     *template.Template
	unavailable *template.Template
	fileserver  *template.Template
}

// mustParsePages parses the embedded templates; they are part of the
// binary, so a failure is a programming error.
func mustParsePages() *pages {
	return &pages{
		labForm:     mustParse("lab_form.html"),
		unavailable: mustParse("unavailable.html"),
		fileserver:  mustParse("fileserver.html"),
	}
}

// mustParse parses templates/name, without the file's trailing newline:
// the pages end without one.
func mustParse(name string) *template.Template {
	data, err := fs.ReadFile(nublado.HTML, "templates/"+name)
	if err != nil {
		panic(fmt.Sprintf("reading template %s: %v", name, err))
	}
	return template.Must(template.New(name).Parse(strings.TrimSuffix(string(data), "\n")))
}

// render executes t and writes the page with status 200.
func render(w http.ResponseWriter, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// fileServer writes the page of route #19 for the file server at url.
func (p *pages) fileServer(w http.ResponseWriter, url string) error {
	return render(w, p.fileserver, struct{ URL string }{url})
}
