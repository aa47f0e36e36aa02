package geo

import (
	"syscall"
	"time"
	"unsafe"
)

// processCPU returns the CPU time consumed by the test process
// (CLOCK_PROCESS_CPUTIME_ID: every thread, the garbage collector's too).
// The micro benchmarks report it beside wall time: on a shared, loaded
// machine wall time includes the time spent waiting for a core.
func processCPU() time.Duration {
	var ts syscall.Timespec
	const clockProcessCPUTimeID = 2
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
