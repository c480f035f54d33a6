package webui

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
)

// registerCatalog mounts the catalogue pages.
func (u *UI) registerCatalog(e *echo.Echo) {
	if u.deps.Catalog == nil {
		return
	}
	u.Handle(e, http.MethodGet, "/media/photos/:id", Public, u.photo)
}

// photoCache lets browsers and proxies keep a photo forever: a photo is
// never changed, a new upload gets a new id (and URL).
const photoCache = "public, max-age=31536000, immutable"

func (u *UI) photo(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "photo not found")
	}
	etag := fmt.Sprintf(`"%s"`, id)
	h := c.Response().Header()
	h.Set("Cache-Control", photoCache)
	h.Set("ETag", etag)
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	ph, err := u.deps.Catalog.Photo(c.Request().Context(), id)
	if err != nil {
		return err
	}
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, ph.ContentType, ph.Data)
}
