// Package outfile is how vidtag writes a file it must not get wrong:
//
//   - Create writes under a short hidden temporary name beside the final
//     one (.vt-HASH-RANDOM.tmp: its length does not depend on the final
//     name's, so a 250-character name works) and Commit renames it into
//     place after an fsync; nothing appears under the final name before.
//   - Lock takes an advisory lock (flock) beside an output, so a second run
//     writing the same output refuses; the kernel drops it when the process
//     ends, so a lock left by a killed run is stale and simply taken over.
//   - RemoveStale deletes the temporary files a killed run left for an
//     output (call it holding the output's lock).
//   - WriteJSON writes a report (JSON: indented, a final newline) that way.
//   - CheckInputs refuses outputs that are an input (by path or by device
//     and inode: hard links and symlinks too) or that share a path.
package outfile

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// tag is the hidden name stem of an output's temporary and lock files:
// ".vt-" and 12 hex digits of a hash of the final name.
func tag(final string) string {
	sum := sha256.Sum256([]byte(filepath.Base(final)))
	return ".vt-" + hex.EncodeToString(sum[:6])
}

// TempPattern is the glob of final's temporary files.
func TempPattern(final string) string {
	return filepath.Join(filepath.Dir(final), tag(final)+"-*.tmp")
}

// live holds the temporary files this process is writing, for Abandon.
var live sync.Map // name -> struct{}

// Pending is a file being written under a temporary name.
type Pending struct {
	*os.File
	final string
	done  bool
}

// Create opens a temporary file beside final, with permissions perm less
// the process umask (so never more than perm: umask 000 does not make an
// 0666 file out of 0644).
func Create(final string, perm fs.FileMode) (*Pending, error) {
	f, err := os.CreateTemp(filepath.Dir(final), tag(final)+"-*.tmp")
	if err != nil {
		return nil, err
	}
	live.Store(f.Name(), struct{}{})
	if err := f.Chmod(perm &^ Umask()); err != nil {
		f.Close()
		os.Remove(f.Name())
		live.Delete(f.Name())
		return nil, err
	}
	return &Pending{File: f, final: final}, nil
}

// Final is the name the file gets on Commit.
func (p *Pending) Final() string { return p.final }

// Commit flushes the file to disk and renames it into place. On error the
// temporary file is removed.
func (p *Pending) Commit() error {
	if p.done {
		return errors.New("outfile: already finished")
	}
	p.done = true
	defer live.Delete(p.Name())
	err := p.File.Sync()
	if cerr := p.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p.Name(), p.final)
	}
	if err != nil {
		os.Remove(p.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(p.final)); err == nil {
		d.Sync() // the rename itself survives a crash
		d.Close()
	}
	return nil
}

// Cleanup removes the temporary file; it does nothing after Commit.
func (p *Pending) Cleanup() {
	if p.done {
		return
	}
	p.done = true
	p.File.Close()
	os.Remove(p.Name())
	live.Delete(p.Name())
}

// WriteFile writes b to path atomically: all of it or nothing.
func WriteFile(path string, b []byte, perm fs.FileMode) error {
	p, err := Create(path, perm)
	if err != nil {
		return err
	}
	if _, err := p.Write(b); err != nil {
		p.Cleanup()
		return err
	}
	return p.Commit()
}

// Abandon removes every temporary file this process is writing, and the
// lock files it holds: for an exit that cannot wait for the writers (a
// second Ctrl-C).
func Abandon() {
	for _, m := range []*sync.Map{&live, &held} {
		m.Range(func(k, _ any) bool {
			os.Remove(k.(string))
			return true
		})
	}
}

// held holds the lock files this process holds, for Abandon.
var held sync.Map // path -> struct{}

// RemoveStale deletes temporary files that earlier runs left for final:
// this package's and the ".NAME1234" ones of renameio, used before. The
// caller holds final's lock, so no live run is writing them.
func RemoveStale(final string) {
	matches, _ := filepath.Glob(TempPattern(final))
	base := filepath.Base(final)
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(final), "."+escapeGlob(base)+"[0-9]*"))
	for _, m := range old {
		if strings.Trim(strings.TrimPrefix(filepath.Base(m), "."+base), "0123456789") == "" {
			matches = append(matches, m)
		}
	}
	for _, m := range matches {
		if _, mine := live.Load(m); !mine {
			os.Remove(m)
		}
	}
}

func escapeGlob(s string) string {
	return strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`).Replace(s)
}

var (
	umaskOnce sync.Once
	umask     fs.FileMode
)

// Umask is the process's umask, read from /proc (setting it to read it
// would race with other goroutines creating files); 022 if unknown.
func Umask() fs.FileMode {
	umaskOnce.Do(func() {
		umask = 0o022
		f, err := os.Open("/proc/self/status")
		if err != nil {
			return
		}
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if v, ok := strings.CutPrefix(s.Text(), "Umask:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					umask = fs.FileMode(n)
				}
			}
		}
	})
	return umask
}

// ErrBusy means another live run is writing the output.
var ErrBusy = errors.New("another vidtag run is writing it")

// Lock is an advisory lock on an output.
type Lock struct {
	f    *os.File
	path string
}

// Acquire locks final (through a hidden file beside it) or fails at once
// with ErrBusy. Locks are per open file: a second Acquire of the same
// output in one process fails too.
func Acquire(final string) (*Lock, error) {
	path := filepath.Join(filepath.Dir(final), tag(final)+".lock")
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644&^Umask())
		if err != nil {
			return nil, fmt.Errorf("%s: cannot write here: %w", final, UnwrapPathError(err))
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, fmt.Errorf("%s: %w", final, ErrBusy)
			}
			return nil, fmt.Errorf("%s: lock: %w", final, err)
		}
		// The holder before us may have removed the file between our
		// open and our lock: then we hold a lock on a name no one sees.
		st1, err1 := f.Stat()
		st2, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(st1, st2) {
			f.Truncate(0)
			fmt.Fprintf(f, "%d\n", os.Getpid())
			held.Store(path, struct{}{})
			return &Lock{f: f, path: path}, nil
		}
		f.Close()
	}
}

// Release unlocks and removes the lock file. It is safe on nil and twice.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.path) // while still holding it: see Acquire
	held.Delete(l.path)
	l.f.Close()
	l.f = nil
}

// Locks is a set of locks released together.
type Locks []*Lock

// AcquireAll locks every path, or none.
func AcquireAll(paths ...string) (Locks, error) {
	var ls Locks
	for _, p := range paths {
		if p == "" {
			continue
		}
		l, err := Acquire(p)
		if err != nil {
			ls.Release()
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// Release releases every lock.
func (ls Locks) Release() {
	for _, l := range ls {
		l.Release()
	}
}

// UnwrapPathError drops the op and path from an *fs.PathError, for
// callers that name the file themselves ("x.mp4: permission denied"
// rather than "x.mp4: open x.mp4: permission denied").
func UnwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// JSON is how vidtag writes its reports: indented two spaces, with a final
// newline.
func JSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteJSON writes v to path as JSON does, atomically (WriteFile); an
// error names path.
func WriteJSON(path string, v any, perm fs.FileMode) error {
	b, err := JSON(v)
	if err != nil {
		return err
	}
	if err := WriteFile(path, b, perm); err != nil {
		return fmt.Errorf("%s: %w", path, UnwrapPathError(err))
	}
	return nil
}
