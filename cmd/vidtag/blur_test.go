package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidtag/vidtag/batch"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/settings"
)

func TestBlurUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown mode", []string{"--blur", "strangers"}, `--blur "strangers": want none, unknown, all or except=NAME[,NAME...]`},
		{"except nobody", []string{"--blur", "except="}, "--blur except=: except= needs at least one name"},
		{"unknown style", []string{"--blur", "all", "--blur-style", "mosaic"}, `--blur-style "mosaic": want gaussian, pixelate, solid`},
	}
	for _, tt := range tests {
		for _, cmd := range [][]string{{"annotate", "x.mp4", "-o", "y.mp4"}, {"batch", "in", "-o", "out"}, {"live", "--headless"}} {
			t.Run(cmd[0]+"/"+tt.name, func(t *testing.T) {
				code, _, stderr := runCLI(t, append(cmd, tt.args...)...)
				if code != exitUsage || !strings.Contains(lastLine(stderr), tt.want) {
					t.Errorf("exit %d, last line %q; want %d and %q", code, lastLine(stderr), exitUsage, tt.want)
				}
			})
		}
	}
}

// TestBatchBlur: a blurred run is another output, so batch redoes videos
// done without the blur (and skips them once blurred); the sidecar says
// which faces were blurred. With --sidecar-only the blur does nothing,
// says so once, and leaves the settings as they were.
func TestBatchBlur(t *testing.T) {
	in := t.TempDir()
	ffmpeg(t, "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-vf", "select=between(n\\,82\\,111),setpts=N/FRAME_RATE/TB", "-an",
		"-c:v", "libx264", "-preset", "ultrafast", filepath.Join(in, "lin.mp4"))
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"batch", in, "-o", out, "--known", testenv.Data(t, "known")}, modelArgs(t)...)
	status := func(extra ...string) (string, string) {
		t.Helper()
		code, _, stderr := runCLI(t, append(args, extra...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", extra, code, stderr)
		}
		return statuses(readJSON[batch.Report](t, filepath.Join(out, "batch-report.json")))["lin.mp4"], stderr
	}
	sidecar := func() string {
		b, err := os.ReadFile(filepath.Join(out, "lin.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if s, _ := status(); s != "ok" || strings.Contains(sidecar(), `"blurred"`) {
		t.Fatalf("plain run: %s; the sidecar must not say \"blurred\"", s)
	}
	if s, _ := status("--blur", "all"); s != "ok" {
		t.Errorf("--blur all after a plain run: %s, want redone (ok)", s)
	}
	if sc := sidecar(); !strings.Contains(sc, `"blurred": true`) || strings.Contains(sc, `"blurred": false`) {
		t.Errorf("--blur all: the sidecar does not say every face was blurred:\n%.400s", sc)
	}
	if s, _ := status("--blur", "all"); s != "skipped" {
		t.Errorf("--blur all again: %s, want skipped", s)
	}
	if s, _ := status("--blur", "all", "--blur-style", "pixelate"); s != "ok" {
		t.Errorf("another style: %s, want redone", s)
	}
	if s, _ := status("--blur", "except=Lin-Manuel Miranda", "--blur-style", "pixelate"); s != "ok" {
		t.Errorf("--blur except=Lin-Manuel Miranda: %s, want redone", s)
	}
	miranda := 0
	for i, line := range strings.Split(strings.TrimSpace(sidecar()), "\n") {
		var v struct {
			Faces []struct {
				Label   string `json:"label"`
				Known   bool   `json:"known"`
				Blurred bool   `json:"blurred"`
			} `json:"faces"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		for _, f := range v.Faces {
			spared := f.Known && f.Label == "Lin-Manuel Miranda"
			if spared {
				miranda++
			}
			if f.Blurred == spared {
				t.Errorf("--blur except=Lin-Manuel Miranda, frame %d: %s (known %v) blurred %v", i, f.Label, f.Known, f.Blurred)
			}
		}
	}
	if miranda < 20 {
		t.Errorf("--blur except=Lin-Manuel Miranda: Miranda named in %d of 30 frames", miranda)
	}

	idx := filepath.Join(t.TempDir(), "index")
	args = append([]string{"batch", in, "-o", idx, "--known", testenv.Data(t, "known"), "--sidecar-only"}, modelArgs(t)...)
	out = idx
	s, stderr := status("--blur", "all")
	if s != "ok" || !strings.Contains(stderr, "--blur does nothing with --sidecar-only") || strings.Count(stderr, "--blur does nothing") != 1 {
		t.Errorf("--sidecar-only --blur all: %s; stderr %q, want one warning", s, stderr)
	}
	if strings.Contains(sidecar(), `"blurred"`) {
		t.Error("--sidecar-only --blur all: the sidecar says \"blurred\"")
	}
	if s, _ := status(); s != "skipped" {
		t.Errorf("--sidecar-only without --blur after it: %s, want skipped (the same outputs)", s)
	}
}

// TestBlurExceptWarnsUnknownNames: a name --blur except= spares that no
// known person has is warned about, by name (a typo would blur the person
// meant to stay sharp).
func TestBlurExceptWarnsUnknownNames(t *testing.T) {
	g := gallery.New([]string{"Ann Lee", "Bob"}, make([]gallery.Descriptor, 2))
	for _, tt := range []struct {
		blur string
		want []string
	}{
		{"except=Ann Lee,Bob", nil},
		{"except=Ann Lee,Bobb,ann lee", []string{"Bobb", "ann lee"}},
		{"all", nil},
	} {
		core, logs := observer.New(zap.WarnLevel)
		engine.WarnSpared(settings.Settings{Blur: tt.blur}.Engine().Spared, g, zap.New(core))
		var got []string
		for _, e := range logs.All() {
			got = append(got, e.ContextMap()["name"].(string))
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("--blur %s: warned about %v, want %v", tt.blur, got, tt.want)
		}
	}
}
