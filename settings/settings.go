// Package settings owns the tagging settings that annotate, live and batch
// share: the struct, the built-in defaults, their validation and the
// settings digest that tells batch a complete output from a stale one. It
// also turns them into each command's options (annotate.Options,
// live.Options), so that no command copies fields by hand.
//
// Where the values come from (flags, VIDTAG_* variables, the --config
// file) is the CLI's business (cmd/vidtag): it reads them into a Settings,
// calls Resolve and Validate, and hands the result on.
package settings

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/live"
	"github.com/vidtag/vidtag/recog"
)

// Settings are the knobs shared by annotate, batch and live. The CLI makes
// each one a flag, a VIDTAG_* environment variable and a key of the
// --config YAML file (configs/default.yaml documents them all).
type Settings struct {
	Known         string // folder of known faces; "" for none
	Models        string // folder of the models; "" to look in the usual places
	Workers       int    // most detector engines; 0 before Resolve: one per CPU core
	Detector      string // recog.UltraFace or recog.HOGName
	Tolerance     float64
	DetectEvery   int
	DescribeEvery int
	MinFace       int
	DetectMP      float64 // megapixels
	Lookahead     time.Duration
	CutThreshold  float64
	MaxMisses     int
	JPEGQuality   int
	Preset        string
	CRF           int
	LogFormat     string
	LogLevel      string
	Stats         bool
	Blur          string // blur.Parse
	BlurStyle     string // blur.ParseStyle
	BlurLabels    bool
	Subtitles     bool
}

// HOGDetectEvery is detect-every's default with the hog detector: HOG on an
// upsampled frame costs many times the CNN (README, "Performance").
const HOGDetectEvery = 30

// Defaults are the built-in settings, chosen from measurements (README,
// "Performance"); the CLI's flags start from them.
func Defaults() Settings {
	return Settings{
		Workers:       0, // one per core
		Detector:      recog.UltraFace,
		Tolerance:     0, // auto
		DetectEvery:   5,
		DescribeEvery: 30,
		MinFace:       29,
		DetectMP:      2.1,
		Lookahead:     time.Second,
		CutThreshold:  20,
		MaxMisses:     2,
		JPEGQuality:   92,
		Preset:        "auto",
		CRF:           20,
		LogFormat:     "console",
		LogLevel:      "info",
		Blur:          blur.Policy{Mode: blur.None}.String(),
		BlurStyle:     blur.Gaussian.String(),
		Subtitles:     true,
	}
}

// Resolve fills in the defaults that depend on the machine or on another
// setting: Workers 0 becomes one per CPU core, and a detect-every the user
// did not set (detectEverySet false) follows the detector (HOGDetectEvery
// for hog).
func (s *Settings) Resolve(detectEverySet bool) {
	if s.Workers == 0 {
		s.Workers = runtime.NumCPU()
	}
	if s.Detector == recog.HOGName && !detectEverySet {
		s.DetectEvery = HOGDetectEvery
	}
}

// ParseTolerance reads a tolerance setting: auto (0) or a distance in (0, 2].
func ParseTolerance(v string) (float64, error) {
	if strings.TrimSpace(v) == "auto" {
		return 0, nil
	}
	t, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(t > 0 && t <= 2) {
		return 0, fmt.Errorf("--tolerance %s: want auto or a distance in (0, 2]", v)
	}
	return t, nil
}

// Presets are the x264 presets a setting may name, auto first (see
// annotate.EncoderPreset).
var Presets = []string{"auto", "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}

// Validate returns every problem at once, in one error whose message
// joins them with "; " (each names its flag); nil when all is well. Call
// it after Resolve.
func (s Settings) Validate() error {
	var errs []string
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Sprintf(format, a...))
		}
	}
	check(slices.Contains(recog.Detectors, s.Detector), "--detector %q: want %s", s.Detector, strings.Join(recog.Detectors, " or "))
	check(s.Workers >= 1 && s.Workers <= 256, "--workers %d: want 1 to 256", s.Workers)
	check(s.DetectEvery >= 1, "--detect-every %d: want 1 or more", s.DetectEvery)
	check(s.DescribeEvery >= 1, "--describe-every %d: want 1 or more", s.DescribeEvery)
	check(s.MinFace >= 10, "--min-face %d: want 10 px or more", s.MinFace)
	check(s.DetectMP >= 0.05, "--detect-megapixels %g: want 0.05 or more", s.DetectMP)
	check(s.Lookahead >= 0 && s.Lookahead <= time.Minute, "--lookahead %v: want 0 to 1m", s.Lookahead)
	check(s.CutThreshold >= 0 && s.CutThreshold <= 255, "--cut-threshold %g: want 0 to 255", s.CutThreshold)
	check(s.MaxMisses >= 0, "--max-misses %d: want 0 or more", s.MaxMisses)
	check(s.JPEGQuality >= 50 && s.JPEGQuality <= 100, "--jpeg-quality %d: want 50 to 100", s.JPEGQuality)
	check(slices.Contains(Presets, s.Preset), "--preset %q: want one of %s", s.Preset, strings.Join(Presets, ", "))
	check(s.CRF >= 0 && s.CRF <= 51, "--crf %d: want 0 to 51", s.CRF)
	check(s.LogFormat == "console" || s.LogFormat == "json", "--log-format %q: want console or json", s.LogFormat)
	check(slices.Contains([]string{"debug", "info", "warn", "error"}, s.LogLevel), "--log-level %q: want debug, info, warn or error", s.LogLevel)
	if _, err := blur.Parse(s.Blur); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := blur.ParseStyle(s.BlurStyle); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// BlurPolicy is the Blur setting parsed (none if it does not parse:
// Validate reports that).
func (s Settings) BlurPolicy() blur.Policy {
	p, _ := blur.Parse(s.Blur)
	return p
}

// Annotate is the settings as annotate's options. The run's own fields
// (input, outputs, force, people file...) are the caller's to fill.
func (s Settings) Annotate() annotate.Options {
	opt := annotate.Options{
		Detector: s.Detector, Tolerance: s.Tolerance, DetectEvery: s.DetectEvery, DescribeEvery: s.DescribeEvery, MinFace: s.MinFace,
		DetectPixels: s.DetectMP * 1e6, Lookahead: s.Lookahead, CutThreshold: s.CutThreshold, MaxMisses: s.MaxMisses,
		JPEGQuality: s.JPEGQuality, Preset: s.Preset, CRF: s.CRF, BlurLabels: s.BlurLabels, Subtitles: s.Subtitles,
	}
	// Validate has checked both.
	opt.Blur = s.BlurPolicy()
	opt.BlurStyle, _ = blur.ParseStyle(s.BlurStyle)
	return opt
}

// Live is the settings as a live session's options; the source, outputs
// and logger are the caller's to fill. live names faces as they come and
// writes no subtitles, so the CLI does not offer it lookahead or
// subtitles: they are off here whatever s says.
func (s Settings) Live() live.Options {
	tag := s.Annotate()
	tag.Lookahead, tag.Subtitles = 0, false
	return live.Options{Tag: tag}
}

// Engine is what engine.Load needs of the settings: the models, the
// detector and its engines, the known faces, and the names --blur
// except= spares (warned about when no known person has them).
func (s Settings) Engine() engine.Config {
	cfg := engine.Config{Models: s.Models, Detector: s.Detector, MinFace: s.MinFace, Workers: s.Workers, Known: s.Known}
	if p := s.BlurPolicy(); p.Mode == blur.Except {
		cfg.Spared = p.Except
	}
	return cfg
}
