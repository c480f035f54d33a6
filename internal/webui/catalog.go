package webui

import "github.com/labstack/echo/v4"

// registerCatalog mounts the catalogue pages.
func (u *UI) registerCatalog(e *echo.Echo) {
	if u.deps.Catalog == nil {
		return
	}
}
