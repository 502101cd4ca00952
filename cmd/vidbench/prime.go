package main

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// prime runs primeMemory in a child process (vidbench prime MB), before
// every timed run of a vidtag or reference process: in the bench's own
// process the pages would raise its peak RSS, which Linux hands on to
// every child it starts (a child's ru_maxrss counts the parent's peak from
// before exec).
func prime(ctx context.Context, mb int) error {
	if mb <= 0 {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	return exec.CommandContext(ctx, self, "prime", strconv.Itoa(mb)).Run()
}

// primeMemory maps mb MiB, touches every page and unmaps it again, so that
// the next process starts from memory the machine has just handed out and
// taken back.
//
// Why: on the VM this is built on, a page the guest has not used lately
// costs 1-3 ms a megabyte the first time it is touched (the host backs it
// then), while a page another process freed a moment ago costs almost
// nothing (400 MB: 0.7-1.4 s against 25 ms). Without priming, each
// variant's time depends on how much memory the variant before it in the
// round freed: --blur all, which runs right after vidtag and takes the 730
// MB vidtag gave back, measured 0.79-0.87x vidtag's wall time in three runs
// of the bench, though the two cost the same when each follows the same
// thing (1080p: 2.80 against 2.78 s). Priming before every timed run puts
// every variant, the references too, on the same footing. -prime 0 turns
// it off.
func primeMemory(mb int) error {
	if mb <= 0 {
		return nil
	}
	n := mb << 20
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	// Huge pages where the kernel allows them (vidtag's malloc asks for
	// them too); every 4 KiB touched either way.
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	return syscall.Munmap(b)
}
