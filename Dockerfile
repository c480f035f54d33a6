# Production image: one static binary, no shell, run as an unprivileged user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/reciproca/reciproca/internal/app.Version=${VERSION}" -o /reciproca ./cmd/reciproca

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /reciproca /reciproca
EXPOSE 8080
ENTRYPOINT ["/reciproca"]
CMD ["serve"]
