// Package launchenv is the environment the launcher (cmd/vidtag-launcher)
// gives vidtag-core: settings that must be in place before the core's
// process starts, because the C libraries read them as they load (glibc's
// malloc, OpenBLAS). The bench uses it too when it runs the core directly
// (to sample its RSS).
package launchenv

import "strings"

// tunable is one glibc tunable the core gets.
type tunable struct{ name, value string }

// mallocTunables shape glibc's malloc for a process whose big blocks
// (frame buffers, x264's pictures, network tensors, dlib's scratch) are
// reused over and over, and whose pages cost most the first time they are
// touched: a page fault, the kernel zeroing the page and, on a virtual
// machine, the host backing it (on the 2-core VM this is built on, 400 MB
// touched for the first time takes 0.7-1.4 s, a second process's 400 MB of
// reused huge pages 25 ms). glibc reads tunables once, as a process loads.
//
//   - hugetlb=1: malloc asks for transparent huge pages (madvise) for what
//     it takes from the kernel: a 1080p frame is 3 faults, not 1,500
//     (a 1080p annotate 9% faster, 4.64 s against 5.08 s).
//   - arena_max=1: one heap for every thread. By default each thread that
//     mallocs gets an arena of its own, an mmap that hugetlb does not
//     cover and that glibc shrinks back as blocks are freed, so the next
//     block there is fresh 4 KiB pages again (a 1080p annotate makes 73,000
//     page faults with them, 49,000 without, 8,500 with the thresholds
//     below as well).
//   - mmap_threshold (32 MiB) and trim_threshold (1 GiB): blocks up to 32
//     MiB (a 4K frame is 25) come from that heap, not from an mmap of their
//     own that free gives back to the kernel; and the heap keeps freed memory
//     for the next block instead of returning it. The process's size
//     stays at its peak until it exits, which is what the frame pool
//     does anyway.
//
// Measured side by side against hugetlb=1 alone (5 runs each, round-robin,
// medians, 2026-12-07): annotate on the Hamilton clip 2.00 -> 1.71 s,
// 720p 5.01 -> 4.23 s, 1080p 3.21 -> 2.93 s (3.03 with arena_max=1
// alone); the 720p index 2.56 -> 2.43 s; the same outputs byte for byte.
// With tcache (glibc's per-thread cache of small blocks) one heap costs no
// measurable lock contention on 2 cores; on many cores, GLIBC_TUNABLES=
// glibc.malloc.arena_max=N set by the user wins.
var mallocTunables = []tunable{
	{"glibc.malloc.hugetlb", "1"},
	{"glibc.malloc.arena_max", "1"},
	{"glibc.malloc.mmap_threshold", "33554432"},
	{"glibc.malloc.trim_threshold", "1073741824"},
}

// blasThreads keeps OpenBLAS from starting its thread server. package
// recog sets OpenBLAS to one thread per engine as the core starts (the
// detector pool already uses the cores), but by then OpenBLAS has started a
// worker per further core as it loaded, and that worker wakes and spins on
// sched_yield through the run with nothing to do: 17,000 calls in a 720p
// index run, 153 with the variable set before loading. Side by side, 5
// runs: the 720p index 4.40 -> 4.14 CPU-seconds, Hamilton annotate 3.37 ->
// 3.30.
const blasThreads = "OPENBLAS_NUM_THREADS=1"

// Core is env with mallocTunables added to GLIBC_TUNABLES, each unless the
// user chose that tunable there already, and with blasThreads unless the
// user set OPENBLAS_NUM_THREADS.
func Core(env []string) []string {
	out := make([]string, 0, len(env)+2)
	tunables, blas := false, false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GLIBC_TUNABLES="); ok {
			tunables = true
			kv = "GLIBC_TUNABLES=" + withTunables(v)
		}
		blas = blas || strings.HasPrefix(kv, "OPENBLAS_NUM_THREADS=")
		out = append(out, kv)
	}
	if !tunables {
		out = append(out, "GLIBC_TUNABLES="+withTunables(""))
	}
	if !blas {
		out = append(out, blasThreads)
	}
	return out
}

// withTunables is the GLIBC_TUNABLES value v with each of mallocTunables
// that v does not set appended.
func withTunables(v string) string {
	set := map[string]bool{}
	for _, kv := range strings.Split(v, ":") {
		name, _, _ := strings.Cut(kv, "=")
		set[name] = true
	}
	parts := []string{}
	if v != "" {
		parts = append(parts, v)
	}
	for _, t := range mallocTunables {
		if !set[t.name] {
			parts = append(parts, t.name+"="+t.value)
		}
	}
	return strings.Join(parts, ":")
}
