package catalog

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"time"

	"github.com/google/uuid"
	"golang.org/x/image/draw"

	"github.com/reciproca/reciproca/internal/apperr"
)

// Photo limits. Uploads are sniffed (the declared type is not trusted),
// bounded in bytes and pixels (a small file can decode to a huge image),
// scaled down to fit MaxPhotoSide and re-encoded as JPEG, which also drops
// any metadata such as GPS positions.
const (
	MaxPhotoBytes  = 5 << 20
	MaxPhotoPixels = 40_000_000
	MaxPhotoSide   = 1200
	photoQuality   = 82
)

// Photo is a stored, already processed image.
type Photo struct {
	ID          uuid.UUID `db:"id"`
	ContentType string    `db:"content_type"`
	Width       int       `db:"width"`
	Height      int       `db:"height"`
	Data        []byte    `db:"data"`
	CreatedAt   time.Time `db:"created_at"`
}

// ProcessPhoto checks an upload and returns it resized as JPEG.
// Errors: invalid (empty, too large, not a JPEG or PNG image, too many pixels).
func ProcessPhoto(data []byte) (Photo, error) {
	if len(data) == 0 {
		return Photo{}, invalidField("photo", "the photo is empty")
	}
	if len(data) > MaxPhotoBytes {
		return Photo{}, apperr.New(apperr.Invalid, "the photo is too large: at most %d MB", MaxPhotoBytes>>20).
			With("field", "photo").With("max_bytes", MaxPhotoBytes)
	}
	kind := http.DetectContentType(data)
	if kind != "image/jpeg" && kind != "image/png" {
		return Photo{}, invalidField("photo", fmt.Sprintf("the file is not a JPEG or PNG image (it looks like %s)", kind))
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Photo{}, invalidField("photo", "the image is damaged and cannot be read")
	}
	if cfg.Width*cfg.Height > MaxPhotoPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return Photo{}, invalidField("photo", "the image has too many pixels: at most 40 megapixels")
	}
	var src image.Image
	if kind == "image/png" {
		src, err = png.Decode(bytes.NewReader(data))
	} else {
		src, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return Photo{}, invalidField("photo", "the image is damaged and cannot be read")
	}
	w, h := fit(cfg.Width, cfg.Height, MaxPhotoSide)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// A white background, so that transparent PNGs look right as JPEG.
	draw.Draw(dst, dst.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: photoQuality}); err != nil {
		return Photo{}, apperr.Wrap(err, "encoding photo")
	}
	return Photo{ContentType: "image/jpeg", Width: w, Height: h, Data: out.Bytes()}, nil
}

// fit scales w×h down (never up) so that its longer side is at most limit.
func fit(w, h, limit int) (int, int) {
	if w <= limit && h <= limit {
		return w, h
	}
	if w >= h {
		return limit, max(1, h*limit/w)
	}
	return max(1, w*limit/h), limit
}
