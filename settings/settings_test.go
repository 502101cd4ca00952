package settings

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/models"
	"github.com/vidtag/vidtag/recog"
)

// resolved is Defaults after Resolve, as the CLI hands them on.
func resolved() Settings {
	s := Defaults()
	s.Resolve(false)
	return s
}

func TestDefaults(t *testing.T) {
	d := Defaults()
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "--workers 0") {
		t.Errorf("unresolved defaults: %v, want the one problem of workers 0 (Resolve fills it)", err)
	}
	s := resolved()
	if err := s.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	want := annotate.Options{Detector: recog.UltraFace, DetectEvery: 5, DescribeEvery: 30, MinFace: 29, DetectPixels: 2.1e6,
		Lookahead: time.Second, CutThreshold: 20, MaxMisses: 2, JPEGQuality: 92, Preset: "auto", CRF: 20,
		Blur: blur.Policy{Mode: blur.None}, BlurStyle: blur.Gaussian, Subtitles: true}
	if got := s.Annotate(); !reflect.DeepEqual(got, want) {
		t.Errorf("defaults as annotate options:\n got %+v\nwant %+v", got, want)
	}
	if s.Workers != runtime.NumCPU() || s.LogFormat != "console" || s.LogLevel != "info" || s.Tolerance != 0 {
		t.Errorf("defaults: %+v", s)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name      string
		detector  string
		every     int
		set       bool
		workers   int
		wantEvery int
		wantWork  int
	}{
		{"ultraface keeps its default", recog.UltraFace, 5, false, 0, 5, runtime.NumCPU()},
		{"hog's own default", recog.HOGName, 5, false, 3, HOGDetectEvery, 3},
		{"hog with detect-every set", recog.HOGName, 7, true, 1, 7, 1},
		{"ultraface with detect-every set", recog.UltraFace, 9, true, 2, 9, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Defaults()
			s.Detector, s.DetectEvery, s.Workers = tt.detector, tt.every, tt.workers
			s.Resolve(tt.set)
			if s.DetectEvery != tt.wantEvery || s.Workers != tt.wantWork {
				t.Errorf("detect-every %d, workers %d; want %d, %d", s.DetectEvery, s.Workers, tt.wantEvery, tt.wantWork)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mut  func(*Settings)
		want []string // every message, in order; nil: valid
	}{
		{"defaults", func(*Settings) {}, nil},
		{"hog", func(s *Settings) { s.Detector = "hog" }, nil},
		{"detector", func(s *Settings) { s.Detector = "mtcnn" }, []string{`--detector "mtcnn": want ultraface or hog`}},
		{"workers 0", func(s *Settings) { s.Workers = 0 }, []string{"--workers 0: want 1 to 256"}},
		{"workers 257", func(s *Settings) { s.Workers = 257 }, []string{"--workers 257: want 1 to 256"}},
		{"detect-every", func(s *Settings) { s.DetectEvery = 0 }, []string{"--detect-every 0: want 1 or more"}},
		{"describe-every", func(s *Settings) { s.DescribeEvery = -1 }, []string{"--describe-every -1: want 1 or more"}},
		{"min-face", func(s *Settings) { s.MinFace = 9 }, []string{"--min-face 9: want 10 px or more"}},
		{"detect-megapixels", func(s *Settings) { s.DetectMP = 0.01 }, []string{"--detect-megapixels 0.01: want 0.05 or more"}},
		{"lookahead negative", func(s *Settings) { s.Lookahead = -time.Second }, []string{"--lookahead -1s: want 0 to 1m"}},
		{"lookahead long", func(s *Settings) { s.Lookahead = 2 * time.Minute }, []string{"--lookahead 2m0s: want 0 to 1m"}},
		{"lookahead 0", func(s *Settings) { s.Lookahead = 0 }, nil},
		{"cut-threshold", func(s *Settings) { s.CutThreshold = 256 }, []string{"--cut-threshold 256: want 0 to 255"}},
		{"max-misses", func(s *Settings) { s.MaxMisses = -1 }, []string{"--max-misses -1: want 0 or more"}},
		{"jpeg-quality", func(s *Settings) { s.JPEGQuality = 49 }, []string{"--jpeg-quality 49: want 50 to 100"}},
		{"preset", func(s *Settings) { s.Preset = "quick" }, []string{`--preset "quick": want one of auto, ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo`}},
		{"crf", func(s *Settings) { s.CRF = 52 }, []string{"--crf 52: want 0 to 51"}},
		{"log-format", func(s *Settings) { s.LogFormat = "xml" }, []string{`--log-format "xml": want console or json`}},
		{"log-level", func(s *Settings) { s.LogLevel = "trace" }, []string{`--log-level "trace": want debug, info, warn or error`}},
		{"blur", func(s *Settings) { s.Blur = "some" }, []string{"--blur"}},
		{"blur-style", func(s *Settings) { s.BlurStyle = "swirl" }, []string{`--blur-style "swirl": want gaussian, pixelate, solid`}},
		{"every problem at once", func(s *Settings) { s.Workers, s.CRF, s.LogLevel = 0, -1, "loud" },
			[]string{"--workers 0: want 1 to 256", "--crf -1: want 0 to 51", `--log-level "loud"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := resolved()
			tt.mut(&s)
			err := s.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tt.want)
			}
			got := strings.Split(err.Error(), "; ")
			if len(got) != len(tt.want) {
				t.Fatalf("Validate: %q, want %d problems %q", err, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("problem %d: %q, want it to start %q", i, got[i], w)
				}
			}
		})
	}
}

func TestParseTolerance(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"auto", 0, false}, {" auto ", 0, false}, {"0.6", 0.6, false}, {"2", 2, false}, {" 0.45", 0.45, false},
		{"0", 0, true}, {"-0.5", 0, true}, {"2.01", 0, true}, {"loose", 0, true}, {"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseTolerance(tt.in)
		switch {
		case tt.wantErr && (err == nil || err.Error() != "--tolerance "+tt.in+": want auto or a distance in (0, 2]"):
			t.Errorf("ParseTolerance(%q): %v, %v; want the usage error", tt.in, got, err)
		case !tt.wantErr && (err != nil || got != tt.want):
			t.Errorf("ParseTolerance(%q): %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestDigestPinned: batch compares the digest with the reports of earlier
// runs, so a new value for the same settings would redo every video. These
// values were computed by annotate.Options.Digest before it moved here
// (commit 665035e), with "known" and "models" for the fingerprint and the
// models' digest.
func TestDigestPinned(t *testing.T) {
	tests := []struct {
		name        string
		mut         func(*Settings)
		sidecarOnly bool
		want        string
	}{
		{"defaults", func(*Settings) {}, false, "6e5bc1c616cb0427"},
		{"hog", func(s *Settings) { s.Detector, s.DetectEvery = recog.HOGName, HOGDetectEvery }, false, "d4570904f49b00e9"},
		{"sidecar only", func(*Settings) {}, true, "6f7ddb32972d16b1"},
		{"tolerance 0.5", func(s *Settings) { s.Tolerance = 0.5 }, false, "8e3f5db820e1a600"},
		{"lookahead 2s", func(s *Settings) { s.Lookahead = 2 * time.Second }, false, "9aa442b93509118a"},
		{"detect-megapixels 1.5", func(s *Settings) { s.DetectMP = 1.5 }, false, "03e06ea2c1bc09fa"},
		{"blur all", func(s *Settings) { s.Blur = "all" }, false, "9f20a645aef1427b"},
		{"blur except, pixelate, labels", func(s *Settings) { s.Blur, s.BlurStyle, s.BlurLabels = "except=B,A", "pixelate", true }, false, "da8278aef2831ec9"},
		{"no subtitles", func(s *Settings) { s.Subtitles = false }, false, "3e3a0a4bc51ecd5e"},
		{"preset and crf", func(s *Settings) { s.Preset, s.CRF = "slow", 23 }, false, "2d4eaa50a1e98dcb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := resolved()
			tt.mut(&s)
			if got := s.Digest(tt.sidecarOnly, "known", "models"); got != tt.want {
				t.Errorf("digest %s, want %s", got, tt.want)
			}
		})
	}
}

// TestDigest: every setting that changes the outputs changes the digest,
// each to a value of its own; those that change only speed or diagnostics,
// and blur settings with no video to blur, leave it alone.
func TestDigest(t *testing.T) {
	base := resolved()
	plain := base.Digest(false, "known", "models")
	if again := resolved().Digest(false, "known", "models"); again != plain {
		t.Fatalf("the same settings give %s and %s", plain, again)
	}
	changes := map[string]func(*Settings){
		"detector":          func(s *Settings) { s.Detector = recog.HOGName },
		"tolerance":         func(s *Settings) { s.Tolerance = 0.55 },
		"detect-every":      func(s *Settings) { s.DetectEvery = 6 },
		"describe-every":    func(s *Settings) { s.DescribeEvery = 10 },
		"min-face":          func(s *Settings) { s.MinFace = 40 },
		"detect-megapixels": func(s *Settings) { s.DetectMP = 3 },
		"lookahead":         func(s *Settings) { s.Lookahead = 500 * time.Millisecond },
		"cut-threshold":     func(s *Settings) { s.CutThreshold = 25 },
		"max-misses":        func(s *Settings) { s.MaxMisses = 3 },
		"jpeg-quality":      func(s *Settings) { s.JPEGQuality = 90 },
		"preset":            func(s *Settings) { s.Preset = "medium" },
		"crf":               func(s *Settings) { s.CRF = 22 },
		"subtitles":         func(s *Settings) { s.Subtitles = false },
		"blur all":          func(s *Settings) { s.Blur = "all" },
		"blur unknown":      func(s *Settings) { s.Blur = "unknown" },
		"blur except=A":     func(s *Settings) { s.Blur = "except=A" },
		"blur except=A,B":   func(s *Settings) { s.Blur = "except=A,B" },
		"blur all pixelate": func(s *Settings) { s.Blur, s.BlurStyle = "all", "pixelate" },
		"blur all labels":   func(s *Settings) { s.Blur, s.BlurLabels = "all", true },
	}
	seen := map[string]string{plain: "defaults"}
	check := func(name, got string) {
		if other, dup := seen[got]; dup {
			t.Errorf("%s: digest %s, the same as %s's", name, got, other)
		}
		seen[got] = name
	}
	for name, mut := range changes {
		s := resolved()
		mut(&s)
		check(name, s.Digest(false, "known", "models"))
	}
	check("sidecar only", base.Digest(true, "known", "models"))
	check("known faces", base.Digest(false, "known2", "models"))
	check("models", base.Digest(false, "known", "models2"))

	same := map[string]func(*Settings){
		"workers":             func(s *Settings) { s.Workers = 7 },
		"log-format":          func(s *Settings) { s.LogFormat = "json" },
		"log-level":           func(s *Settings) { s.LogLevel = "debug" },
		"stats":               func(s *Settings) { s.Stats = true },
		"models folder":       func(s *Settings) { s.Models = "/elsewhere" },
		"known folder":        func(s *Settings) { s.Known = "/elsewhere" }, // its fingerprint is what counts
		"blur style, no blur": func(s *Settings) { s.BlurStyle = "solid" },
		"labels, no blur":     func(s *Settings) { s.BlurLabels = true },
	}
	for name, mut := range same {
		s := resolved()
		mut(&s)
		if got := s.Digest(false, "known", "models"); got != plain {
			t.Errorf("%s changed the digest: %s, want %s", name, got, plain)
		}
	}
	ab, ba := resolved(), resolved()
	ab.Blur, ba.Blur = "except=A,B", "except=B,A"
	if ab.Digest(false, "known", "models") != ba.Digest(false, "known", "models") {
		t.Error("except=A,B and except=B,A differ")
	}
	// No video, nothing blurred: sidecar-only with a blur is sidecar-only.
	s := resolved()
	s.Blur, s.BlurStyle = "all", "pixelate"
	if got, want := s.Digest(true, "known", "models"), base.Digest(true, "known", "models"); got != want {
		t.Errorf("sidecar only with blur: %s, want %s (as without)", got, want)
	}
}

// TestConversions: each command's options carry every setting it takes.
func TestConversions(t *testing.T) {
	s := Settings{Known: "k", Models: "m", Workers: 3, Detector: recog.HOGName, Tolerance: 0.5, DetectEvery: 7, DescribeEvery: 11,
		MinFace: 40, DetectMP: 1.5, Lookahead: 2 * time.Second, CutThreshold: 30, MaxMisses: 4, JPEGQuality: 80, Preset: "fast", CRF: 25,
		LogFormat: "json", LogLevel: "warn", Stats: true, Blur: "except=Ann,Bob", BlurStyle: "solid", BlurLabels: true, Subtitles: false}
	want := annotate.Options{Detector: recog.HOGName, Tolerance: 0.5, DetectEvery: 7, DescribeEvery: 11, MinFace: 40, DetectPixels: 1.5e6,
		Lookahead: 2 * time.Second, CutThreshold: 30, MaxMisses: 4, JPEGQuality: 80, Preset: "fast", CRF: 25,
		Blur: blur.Policy{Mode: blur.Except, Except: []string{"Ann", "Bob"}}, BlurStyle: blur.Solid, BlurLabels: true}
	if got := s.Annotate(); !reflect.DeepEqual(got, want) {
		t.Errorf("Annotate:\n got %+v\nwant %+v", got, want)
	}
	// live names causally and writes no subtitles.
	s.Subtitles = true
	lv := s.Live()
	want.Lookahead, want.Subtitles = 0, false
	if !reflect.DeepEqual(lv.Tag, want) {
		t.Errorf("Live:\n got %+v\nwant %+v", lv.Tag, want)
	}
	e := s.Engine()
	if e.Known != "k" || e.Models != "m" || e.Workers != 3 || e.Detector != recog.HOGName || e.MinFace != 40 ||
		strings.Join(e.Spared, ",") != "Ann,Bob" {
		t.Errorf("Engine: %+v", e)
	}
	s.Blur = "unknown"
	if e := s.Engine(); e.Spared != nil {
		t.Errorf("Engine with --blur unknown spares %v", e.Spared)
	}
}

// TestBatchTag: batch's options carry the digest of their settings; with
// --sidecar-only the settings that only shape the video are warned about
// once, and a blur is dropped (the outputs, and the digest, are those of
// --sidecar-only alone).
func TestBatchTag(t *testing.T) {
	tests := []struct {
		name        string
		mut         func(*Settings)
		sidecarOnly bool
		warnings    []string
	}{
		{"defaults", func(*Settings) {}, false, nil},
		{"blur", func(s *Settings) { s.Blur = "all" }, false, nil},
		{"sidecar only", func(*Settings) {}, true, nil},
		{"sidecar only, blur", func(s *Settings) { s.Blur = "unknown" }, true, []string{"--blur does nothing with --sidecar-only"}},
		{"sidecar only, crf", func(s *Settings) { s.CRF = 30 }, true, []string{"--preset and --crf do nothing with --sidecar-only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := resolved()
			tt.mut(&s)
			core, logs := observer.New(zap.WarnLevel)
			tag, err := s.BatchTag(tt.sidecarOnly, zap.New(core))
			if err != nil {
				t.Fatal(err)
			}
			want := s
			if tt.sidecarOnly {
				want.Blur = "none"
			}
			if tag.Settings != want.Digest(tt.sidecarOnly, "none", models.Digest()) || tag.SidecarOnly != tt.sidecarOnly {
				t.Errorf("settings %s, sidecar-only %v", tag.Settings, tag.SidecarOnly)
			}
			if tt.sidecarOnly && tag.Blur.On() {
				t.Errorf("sidecar only, blur %v", tag.Blur)
			}
			var got []string
			for _, e := range logs.All() {
				got = append(got, e.Message)
			}
			if len(got) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %q", got, tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("warning %q, want %q", got[i], w)
				}
			}
		})
	}
	s := resolved()
	s.Known = t.TempDir() + "/missing"
	if _, err := s.BatchTag(false, zap.NewNop()); err == nil {
		t.Error("a known folder that is not there: no error")
	}
}
