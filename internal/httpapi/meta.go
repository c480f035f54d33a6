package httpapi

import (
	"context"
	"time"
)

// metaHandlers answers questions about the service itself.
type metaHandlers struct {
	version string
}

// apiVersion is the version of openapi.yaml the server implements.
const apiVersion = "1.0.0"

func (h metaHandlers) GetStatus(ctx context.Context, _ GetStatusRequestObject) (GetStatusResponseObject, error) {
	return GetStatus200JSONResponse{
		Service:    "reciproca",
		Version:    h.version,
		ApiVersion: apiVersion,
		Time:       time.Now().UTC(),
	}, nil
}
