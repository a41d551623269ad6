//go:build !unix

package enginebench

import "time"

// processCPU is unknown here: Result.CPU stays 0.
func processCPU() time.Duration { return 0 }
