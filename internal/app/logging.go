package app

import (
	"context"
	"io"
	"log/slog"
)

// NewLogHandler returns the JSON log handler of the program: every record
// logged with a request's context carries that request's id, so one
// request's lines can be found together.
func NewLogHandler(w io.Writer, level slog.Level) slog.Handler {
	return requestIDHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFrom(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
