package app

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is the Prometheus registry of one App. It is not the global
// registry, so tests can start several apps in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(dbx *sqlx.DB, extra ...prometheus.Collector) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reciproca_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "reciproca_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewDBStatsCollector(dbx.DB, "reciproca"),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(extra...)
	return m
}

// observe writes the response of a failed request, then logs one JSON
// line and counts the request by route pattern (never the raw path, which
// would make one series per id).
func (m *metrics) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		req, res := c.Request(), c.Response()
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, req.Method, strconv.Itoa(res.Status)).Inc()
		m.latency.WithLabelValues(route, req.Method).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		slog.Log(req.Context(), level, "request",
			"method", req.Method, "path", req.URL.Path, "route", route,
			"status", res.Status, "bytes", res.Size,
			"duration_ms", float64(elapsed.Microseconds())/1000)
		return nil
	}
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// metricsGuard lets a scraper through only with "Authorization: Bearer
// token" when token is set; an empty token (development and test only:
// config.Validate refuses production without one) leaves /metrics open.
func metricsGuard(token string, h echo.HandlerFunc) echo.HandlerFunc {
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return func(c echo.Context) error {
		got := []byte(c.Request().Header.Get(echo.HeaderAuthorization))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			return c.String(http.StatusUnauthorized, "metrics need the bearer token METRICS_TOKEN\n")
		}
		return h(c)
	}
}
