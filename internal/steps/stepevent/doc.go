// Package stepevent is the vocabulary of what a running step reports
// beside its result: the detail events an ai step records on its
// execution's detail stream (model calls, tool calls, the step's usage and
// outcome) and the pieces of its streamed answer, handed to subscribers in
// the same process by a Broker. It imports nothing of aiflow's, so the
// readers of details and streams (the API, the detail store) link none of
// the step handlers' SDKs.
package stepevent
