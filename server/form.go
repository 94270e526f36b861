package server

import (
	"fmt"
	"net/http"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/schema"
)

// formImage is one radio button of the lab form's image menu.
type formImage struct {
	Index     int
	Reference string
	Name      string
	Checked   bool
}

// formSize is one radio button of the lab form's sizes.
type formSize struct {
	Name    string
	Label   string
	Checked bool
}

// labFormData is the input of templates/lab_form.html.
type labFormData struct {
	Menu            []formImage
	DropdownChecked bool
	Dropdown        []MenuEntry
	Sizes           []formSize
}

// allowedSizes returns the configured sizes the user may spawn, in config
// order: all of them without a notebook quota, else those whose limits fit
// in it.
func allowedSizes(sizes []schema.LabSize, user *nublado.User) []schema.LabSize {
	if user.Quota == nil || user.Quota.Notebook == nil {
		return sizes
	}
	q := user.Quota.Notebook
	var out []schema.LabSize
	for _, size := range sizes {
		if size.Resources.Limits.Memory <= q.MemoryBytes() && float64(size.Resources.Limits.CPU) <= q.CPU {
			out = append(out, size)
		}
	}
	return out
}

// spawnForbidden tells whether the user gets the unavailable page instead
// of the form.
func spawnForbidden(user *nublado.User, allowed []schema.LabSize) bool {
	if user.Quota == nil || user.Quota.Notebook == nil {
		return false
	}
	return !user.Quota.Notebook.Spawn || len(allowed) == 0
}

// buildLabForm assembles the form's data: the menu (first image checked,
// or the drop-down sentinel when the menu is empty), the drop-down and the
// sizes (the configured default if allowed, else the first one, checked).
func buildLabForm(menu, dropdown []MenuEntry, sizes []schema.LabSize, defaultSize string) labFormData {
	data := labFormData{DropdownChecked: len(menu) == 0, Dropdown: dropdown}
	for i, m := range menu {
		data.Menu = append(data.Menu, formImage{Index: i + 1, Reference: m.Reference, Name: m.Name, Checked: i == 0})
	}
	chosen := ""
	for _, size := range sizes {
		if size.Size == defaultSize {
			chosen = defaultSize
		}
	}
	if chosen == "" && len(sizes) > 0 {
		chosen = sizes[0].Size
	}
	for _, size := range sizes {
		data.Sizes = append(data.Sizes, formSize{Name: size.Size, Label: size.Label(), Checked: size.Size == chosen})
	}
	return data
}

// getLabForm is route #3.
func (s *Server) getLabForm(w http.ResponseWriter, r *http.Request) error {
	user, _, err := s.requireUser(r)
	if err != nil {
		return err
	}
	if user.Username != pathUser(r) {
		return permissionDenied()
	}
	allowed := allowedSizes(s.cfg.Lab.Sizes, user)
	if spawnForbidden(user, allowed) {
		return render(w, s.pages.unavailable, nil)
	}
	im, err := s.imagesOrError()
	if err != nil {
		return err
	}
	menu, dropdown, err := im.LabFormImages(r.Context())
	if err != nil {
		return fmt.Errorf("building the lab form menu: %w", err)
	}
	return render(w, s.pages.labForm, buildLabForm(menu, dropdown, allowed, s.cfg.Lab.DefaultSize))
}
