package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes each registered job's backlog, last success and
// consecutive failures. It reads the database at scrape time, so any app
// server shows the jobs whichever process runs them.
func (w *Worker) Collector() prometheus.Collector { return collector{w} }

var (
	backlogDesc = prometheus.NewDesc("reciproca_job_backlog",
		"Items waiting for a background job (pending mails, expired holds, unhandled events, ...).", []string{"job"}, nil)
	lastSuccessDesc = prometheus.NewDesc("reciproca_job_last_success_timestamp_seconds",
		"When the job last completed a run without error (Unix time; 0 = never).", []string{"job"}, nil)
	failuresDesc = prometheus.NewDesc("reciproca_job_consecutive_failures",
		"Failed runs of the job since its last success.", []string{"job"}, nil)
)

type collector struct{ w *Worker }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- lastSuccessDesc
	ch <- failuresDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	statuses, err := Statuses(ctx, c.w.db)
	if err != nil {
		slog.WarnContext(ctx, "worker metrics: reading job states", "err", err)
	}
	byName := map[string]Status{}
	for _, s := range statuses {
		byName[s.Name] = s
	}
	for _, j := range c.w.jobs {
		s := byName[j.Name]
		last := 0.0
		if s.LastSuccessAt != nil {
			last = float64(s.LastSuccessAt.UnixMilli()) / 1000
		}
		ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, last, j.Name)
		ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.GaugeValue, float64(s.Failures), j.Name)
		if j.Backlog == nil {
			continue
		}
		n, err := j.Backlog(ctx)
		if err != nil {
			slog.WarnContext(ctx, "worker metrics: counting a backlog", "job", j.Name, "err", err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n), j.Name)
	}
}
