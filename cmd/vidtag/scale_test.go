package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vidtag/vidtag/batch"
	"github.com/vidtag/vidtag/internal/testenv"
)

// mixedFolder is an archive of clips of different lengths (15 to 90
// frames, two sources, a clip with no face) and one broken file.
func mixedFolder(t *testing.T) string {
	t.Helper()
	in := t.TempDir()
	os.MkdirAll(filepath.Join(in, "stage"), 0o755)
	os.MkdirAll(filepath.Join(in, "office"), 0o755)
	ham := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	for i, cut := range [][2]int{{0, 15}, {40, 30}, {82, 60}, {120, 90}, {200, 45}} {
		ffmpeg(t, "-i", ham, "-vf", fmt.Sprintf("select=between(n\\,%d\\,%d),setpts=N/FRAME_RATE/TB", cut[0], cut[0]+cut[1]-1), "-an",
			"-c:v", "libx264", "-preset", "ultrafast", filepath.Join(in, "stage", fmt.Sprintf("part%d.mp4", i)))
	}
	obama := testenv.Data(t, "clips", "obama_1080p.mp4")
	for i, n := range []int{20, 50} {
		ffmpeg(t, "-i", obama, "-frames:v", fmt.Sprint(n), "-vf", "scale=480:-2", "-an", "-c:v", "libx264", "-preset", "ultrafast",
			filepath.Join(in, "office", fmt.Sprintf("obama%d.mkv", i)))
	}
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", "25", "-c:v", "libx264", "-preset", "ultrafast",
		filepath.Join(in, "office", "noface.mp4"))
	os.WriteFile(filepath.Join(in, "office", "notes.mp4"), []byte("not a video\n"), 0o644)
	return in
}

// TestThreeProcessesRun48Shards: three local processes share 48 shards, each
// taking the next free index when it finishes one, as the pods of an Indexed
// Job with completions 48 and parallelism 3 would. Every video is done
// exactly once, the long ones in the first 3 shards, vidtag status follows
// the run from the output folder, and vidtag merge gives one report whose
// totals equal a single process's over the same folder.
func TestThreeProcessesRun48Shards(t *testing.T) {
	const n, procs = 48, 3
	bin := buildVidtag(t)
	in := mixedFolder(t)
	out := filepath.Join(t.TempDir(), "out")
	vids, err := batch.Discover(in, out)
	if err != nil || len(vids) != 9 {
		t.Fatalf("discover: %d videos, %v", len(vids), err)
	}
	// The two biggest files are "long": they must go to shards 0-2.
	sort.Slice(vids, func(a, b int) bool { return vids[a].Size > vids[b].Size })
	longSize := vids[1].Size
	long := map[string]bool{vids[0].Rel: true, vids[1].Rel: true}

	common := []string{"--known", testenv.Data(t, "known"), "--models", testenv.Models(t), "--sidecar-only", "--jobs", "1", "--workers", "1", "--log-level", "warn"}
	var (
		mu       sync.Mutex
		next     int
		codes    = map[int]int{}
		midState *batch.Status
		midErr   error
	)
	take := func() (int, bool) { // the Job controller: the next free index
		mu.Lock()
		defer mu.Unlock()
		if next == n/2 && midState == nil {
			// Half the indices handed out: status reads the folder mid-run.
			// (A shard has finished by now, so there are plans to read.)
			midState, midErr = batch.ReadStatus(out)
		}
		if next >= n {
			return 0, false
		}
		next++
		return next - 1, true
	}
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				args := append([]string{"batch", in, "-o", out, "--shard", fmt.Sprintf("%d/%d", i, n),
					"--long-shards", fmt.Sprint(procs), "--long-size", fmt.Sprint(longSize)}, common...)
				cmd := exec.Command(bin, args...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				cmd.Run()
				mu.Lock()
				codes[i] = cmd.ProcessState.ExitCode()
				mu.Unlock()
				if c := cmd.ProcessState.ExitCode(); c != exitOK && c != exitFailure {
					t.Errorf("shard %d/%d: exit %d: %s", i, n, c, stderr.String())
				}
			}
		}()
	}
	wg.Wait()

	if midErr != nil || midState == nil || midState.Videos != 9 || midState.Done+midState.Failed+midState.Left != 9 {
		t.Errorf("status half-way: %+v, %v; want 9 videos, done + failed + left = 9", midState, midErr)
	}

	// Every video in exactly one shard report, tagged (not skipped) once.
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		r := readJSON[batch.Report](t, batch.ReportPath(out, batch.Shard{Index: i, Count: n}))
		failed := false
		for _, v := range r.Videos {
			if prev, dup := seen[v.Input]; dup {
				t.Errorf("%s in the reports of shards %d and %d", v.Input, prev, i)
			}
			seen[v.Input] = i
			if v.Status == batch.StatusSkipped {
				t.Errorf("%s skipped in a fresh folder", v.Input)
			}
			if long[v.Input] && i >= procs {
				t.Errorf("long video %s went to shard %d, not one of the first %d", v.Input, i, procs)
			}
			failed = failed || v.Status == batch.StatusFailed
		}
		if want := map[bool]int{true: exitFailure, false: exitOK}[failed]; codes[i] != want {
			t.Errorf("shard %d exited %d, want %d", i, codes[i], want)
		}
	}
	if len(seen) != 9 {
		t.Errorf("the shards covered %d of 9 videos: %v", len(seen), seen)
	}
	for _, v := range vids {
		if v.Rel == "office/notes.mp4" {
			continue
		}
		for _, f := range []string{v.Sidecar(), v.Report()} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("%s: missing %s", v.Rel, f)
			}
		}
	}

	// Status at the end, as a person and as JSON.
	code, stdout, stderr := runCLI(t, "status", out)
	if code != exitOK || !strings.Contains(stdout, "48 shards: 48 finished, 0 running, 0 not started") || !strings.Contains(stdout, "9 videos: 8 done, 1 failed, 0 left") {
		t.Errorf("status: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "status", out, "--json")
	var st batch.Status
	if err := json.Unmarshal([]byte(stdout), &st); code != exitOK || err != nil || st.Done != 8 || st.Failed != 1 || st.Left != 0 {
		t.Errorf("status --json: exit %d, %v: %s", code, err, stdout)
	}

	// One report from 48, equal to a single process's.
	code, stdout, stderr = runCLI(t, "merge", out)
	if code != exitFailure || !strings.Contains(stdout, "48 of 48 shard reports merged") || !strings.Contains(lastLine(stderr), "1 of 9 videos failed") {
		t.Errorf("merge: exit %d\n%s%s", code, stdout, stderr)
	}
	merged := readJSON[batch.Report](t, filepath.Join(out, "batch-report.json"))
	first, _ := os.ReadFile(filepath.Join(out, "batch-report.json"))
	if code, stdout, _ = runCLI(t, "merge", out); code != exitFailure || !strings.Contains(stdout, "(unchanged)") {
		t.Errorf("merge again: exit %d\n%s", code, stdout)
	}
	if again, _ := os.ReadFile(filepath.Join(out, "batch-report.json")); !bytes.Equal(first, again) {
		t.Error("merging again changed batch-report.json")
	}

	single := filepath.Join(t.TempDir(), "single")
	runCLI(t, append([]string{"batch", in, "-o", single}, common...)...)
	one := readJSON[batch.Report](t, filepath.Join(single, "batch-report.json"))
	// Counts and frames must match; wall_seconds and fps are timings of two
	// different runs (48 processes over 3 slots against one), not results.
	m, s := merged.Totals, one.Totals
	if m.Videos != s.Videos || m.OK != s.OK || m.Failed != s.Failed || m.Skipped != s.Skipped || m.Frames != s.Frames {
		t.Errorf("merged totals %+v, single process %+v", m, s)
	}
	if len(merged.Videos) != len(one.Videos) {
		t.Fatalf("merged %d videos, single %d", len(merged.Videos), len(one.Videos))
	}
	people := func(r *batch.Report) map[string]float64 {
		sum := map[string]float64{}
		for _, v := range r.Videos {
			for l, sec := range v.People {
				sum[l] += sec
			}
		}
		return sum
	}
	mp, sp := people(merged), people(one)
	if len(mp) != len(sp) {
		t.Errorf("people seconds: merged %v, single %v", mp, sp)
	}
	for l := range sp {
		if math.Abs(mp[l]-sp[l]) > 0.01 {
			t.Errorf("%s: %.2f s on screen merged, %.2f s in one process", l, mp[l], sp[l])
		}
	}
	for i := range one.Videos {
		a, b := merged.Videos[i], one.Videos[i]
		if a.Input != b.Input || a.Status != b.Status || a.Frames != b.Frames {
			t.Errorf("video %d: merged %s %s %d frames, single %s %s %d", i, a.Input, a.Status, a.Frames, b.Input, b.Status, b.Frames)
		}
	}
	if mp["Barack Obama"] == 0 {
		t.Errorf("no Obama on screen in %v: the clips were not tagged", mp)
	}
}

// TestShardRetryResumes: a shard's pod killed mid-way and retried (the same
// --shard I/N again) skips what it finished, does the rest, and touches no
// other shard's videos: every video of the shard is done once.
func TestShardRetryResumes(t *testing.T) {
	bin := buildVidtag(t)
	in := batchFolder(t)
	os.RemoveAll(filepath.Join(in, "broken"))
	out := filepath.Join(t.TempDir(), "out")
	vids, _ := batch.Discover(in, out)
	// A shard with at least two of the three videos, one other outside it.
	var shard batch.Shard
	var mine []batch.Video
	for n := 2; n <= 16 && mine == nil; n++ {
		for i := 0; i < n; i++ {
			var own []batch.Video
			for _, v := range vids {
				if (batch.Shard{Index: i, Count: n}).Owns(v) {
					own = append(own, v)
				}
			}
			if len(own) == 2 {
				shard, mine = batch.Shard{Index: i, Count: n}, own
				break
			}
		}
	}
	if mine == nil {
		t.Fatal("no shard holds two of the three videos")
	}
	args := []string{"batch", in, "-o", out, "--known", testenv.Data(t, "known"), "--models", testenv.Models(t), "--jobs", "1",
		"--log-level", "warn", "--shard", shard.String()}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The pod dies once its first video (in path order) is done: its MP4,
	// put in place last, is there.
	first := mine[0].MP4()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(first); err == nil {
			break
		}
	}
	killHard(t, cmd)
	done := mtime(t, first)
	if _, err := os.Stat(batch.ReportPath(out, shard)); err == nil {
		t.Fatal("the killed shard finished before the kill: the test proves nothing")
	}
	st, err := batch.ReadStatus(out)
	if err != nil || st.Done != 1 || st.Left != len(vids)-1 || st.ShardState[batch.ShardRunning] != 1 {
		t.Errorf("status of the stopped shard: %+v, %v; want 1 done, %d left, 1 running (or stopped)", st, err, len(vids)-1)
	}

	// The retry: the same command line, once the killed run's locks are
	// free (a new pod starts after the old one is gone).
	waitUnlocked(t, out)
	code, _, stderr := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("retry: exit %d: %s", code, stderr)
	}
	r := readJSON[batch.Report](t, batch.ReportPath(out, shard))
	s := statuses(r)
	if len(s) != 2 || s[mine[0].Rel] != batch.StatusSkipped || s[mine[1].Rel] != batch.StatusOK {
		t.Errorf("retry statuses %v: want %s skipped (done before the kill) and %s ok", s, mine[0].Rel, mine[1].Rel)
	}
	if !mtime(t, first).Equal(done) {
		t.Error("the retry redid a video finished before the kill")
	}
	for _, v := range vids {
		if v.Rel != mine[0].Rel && v.Rel != mine[1].Rel {
			if _, err := os.Stat(v.Sidecar()); err == nil {
				t.Errorf("shard %s wrote %s, another shard's video", shard, v.Rel)
			}
		}
	}
}

// TestMergeTaggingFlagsNeedInput: merge tags only with --input; a tagging
// flag without it is a usage error, while the same setting in the
// environment (an image sets VIDTAG_MODELS for every command) is not.
func TestMergeTaggingFlagsNeedInput(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := runCLI(t, "merge", out, "--detector", "hog"); code != exitUsage || !strings.Contains(stderr, "--detector goes with --input") {
		t.Errorf("flag without --input: exit %d, %q", code, stderr)
	}
	t.Setenv("VIDTAG_MODELS", testenv.Models(t))
	if code, _, stderr := runCLI(t, "merge", out); code != exitFailure || !strings.Contains(stderr, "no shard reports") {
		t.Errorf("setting in the environment: exit %d, %q; want 1 (nothing to merge), not a usage error", code, stderr)
	}
}

// waitUnlocked waits until no lock file under dir is held: the kernel
// frees a killed process's locks when its last thread has exited, which
// on a loaded machine can come after its parent saw it die. It fails,
// naming the holders (/proc/locks), if a lock outlives that by far.
func waitUnlocked(t *testing.T, dir string) {
	t.Helper()
	var locks []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".lock") {
			locks = append(locks, p)
		}
		return nil
	})
	for _, p := range locks {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			f, err := os.Open(p)
			if err != nil {
				break // gone: released and removed
			}
			err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
			f.Close() // releases the probe's own lock
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				held, _ := os.ReadFile("/proc/locks")
				t.Fatalf("%s is still locked 30 s after the kill; /proc/locks:\n%s", p, held)
			}
		}
	}
}
