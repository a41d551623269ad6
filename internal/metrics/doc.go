// Package metrics defines aiflow's metrics once and writes them two ways:
// to a Prometheus registry that aiflow dev and aiflow engine serve at
// /metrics (package metrics/prommetrics, which the Lambda functions do not
// link), and as CloudWatch Embedded Metric Format log lines
// that a Lambda function writes once per invocation (EMF).
//
// Each metric is a Def (its name, help, kind, unit and labels) in one
// table, Defs. Code records through a Recorder, whose methods name what
// happened (an execution finished, a model answered); a Recorder writes to
// a Sink, prommetrics.Prometheus or EMF, or none (a nil *Recorder records nothing). The
// same names serve both outputs: a Prometheus series
// aiflow_model_tokens_total{provider,model,direction} is the CloudWatch
// metric aiflow_model_tokens_total in namespace Namespace with those
// dimensions.
//
// What is read at scrape time rather than counted (queue depths, the age
// of a queue's oldest message, database pool statistics) is a Prometheus
// collector (prommetrics' WatchQueues, WatchPool); on AWS, SQS and RDS publish those
// themselves.
//
// Events are observed from outside the code that makes them: History reads
// the engine's history events as its store commits them (package engine
// imports no metrics library), package metrics/stepmetrics decorates the
// step workers' detail recorder and handlers, and package httpapi reports
// each request's route pattern to a RequestObserver.
package metrics
