package main

import (
	"github.com/aiflow/aiflow/internal/metrics"
)

// invokeMetrics is the EMF sink of a function `aiflow invoke` runs, as its
// main makes it: the invocation's metrics are written after it, with the
// function's logs (on stderr here, on Lambda to the log group).
func invokeMetrics(e env) (*metrics.EMF, *metrics.Recorder, error) {
	emf, err := metrics.NewEMF(metrics.EMFConfig{Writer: e.stderr})
	if err != nil {
		return nil, nil, err
	}
	return emf, metrics.NewRecorder(emf), nil
}
