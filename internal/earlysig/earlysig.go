// Package earlysig catches SIGINT and SIGTERM from the moment the Go
// runtime starts the program's packages, so a signal in the first
// fraction of a second (while cgo libraries and models load) is not
// fatal: the command sees it as soon as it asks, and exits its own way.
//
// Import it first in package main (blank import). It has no dependencies
// beyond the standard library, so it is initialised before the packages
// that need time (Go initialises packages in import-path order once their
// dependencies are done).
package earlysig

import (
	"os"
	"os/signal"
	"syscall"
)

var ch = make(chan os.Signal, 4)

func init() {
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
}

// Signals delivers SIGINT and SIGTERM received since the program started.
func Signals() <-chan os.Signal { return ch }
