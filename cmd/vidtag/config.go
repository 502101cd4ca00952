package main

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
	"gopkg.in/yaml.v3"

	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/internal/tidy"
	"github.com/vidtag/vidtag/settings"
)

// defaults are the built-in settings (package settings); the flags start
// from them.
var defaults = settings.Defaults()

func envVars(name string) []string {
	return []string{"VIDTAG_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

// tagFlags are the settings every command shares.
func tagFlags() []cli.Flag {
	d := defaults
	return []cli.Flag{
		altsrc.NewPathFlag(&cli.PathFlag{Name: "known", Usage: "folder of known faces: one photo per person (file name = label) or one sub-folder of photos per person", EnvVars: envVars("known")}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "detector", Value: d.Detector, Usage: "face detector: ultraface (a CNN: profiles and 3/4 views too) or hog (dlib's frontal-face HOG, through go-face)", EnvVars: envVars("detector")}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "tolerance", Value: "auto", Usage: "largest Euclidean descriptor distance from a face to a known person that still names it (face_recognition's units; lower is stricter), or auto: calibrated from the known faces", EnvVars: envVars("tolerance")}),
		altsrc.NewPathFlag(&cli.PathFlag{Name: "models", Usage: "folder holding the dlib models (default: ./models, or models/ beside the executable)", EnvVars: envVars("models")}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "workers", Value: d.Workers, Usage: "detector workers, each with its own dlib models (~100 MB each); 0: one per CPU core", EnvVars: envVars("workers")}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "detect-every", Value: d.DetectEvery, Usage: fmt.Sprintf("run the detector on every Nth frame (and at every shot cut); motion tracking fills the frames between (%d with --detector hog)", settings.HOGDetectEvery), EnvVars: envVars("detect-every")}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "describe-every", Value: d.DescribeEvery, Usage: "with ultraface: describe the faces found (dlib's descriptor, the costly part) on a keyframe at least every N frames, and at every shot cut; hog describes every face it finds", EnvVars: envVars("describe-every")}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "min-face", Value: d.MinFace, Usage: "smallest face to find, in pixels of the source frame; below 58 the detector upsamples the frame (up to 2x), which costs time", EnvVars: envVars("min-face")}),
		altsrc.NewFloat64Flag(&cli.Float64Flag{Name: "detect-megapixels", Value: d.DetectMP, Usage: "cap on the megapixels the detector scans per keyframe (its cost); on large frames this limits upsampling and raises the smallest face found", EnvVars: envVars("detect-megapixels")}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "lookahead", Value: d.Lookahead, Usage: "how far ahead a face's name may use evidence (annotate and batch: live names faces as they come)", EnvVars: envVars("lookahead")}),
		altsrc.NewFloat64Flag(&cli.Float64Flag{Name: "cut-threshold", Value: d.CutThreshold, Usage: "mean thumbnail change (0-255) that marks a shot cut; 0 disables cut detection", EnvVars: envVars("cut-threshold")}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "max-misses", Value: d.MaxMisses, Usage: "keyframes in a row a tracked face may go undetected (turned away, say) before its track ends", EnvVars: envVars("max-misses")}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "jpeg-quality", Value: d.JPEGQuality, Usage: "with --detector hog: quality of the frames' JPEG handed to go-face (it reads only JPEG)", EnvVars: envVars("jpeg-quality")}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "blur", Value: d.Blur, Usage: "blur faces in the video: none, unknown (every face not named as a known person), all, or except=NAME[,NAME...] (everyone but these known people); a face is blurred from its first frame to its last, over its box grown 1.5x and 8 px a side", EnvVars: envVars("blur")}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "blur-style", Value: d.BlurStyle, Usage: "how a blurred face looks: " + strings.Join(blur.Styles, ", "), EnvVars: envVars("blur-style")}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "blur-labels", Usage: "draw box and name on blurred faces too (a name on a blurred face gives away what the blur hides)", EnvVars: envVars("blur-labels")}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "log-format", Value: d.LogFormat, Usage: "console (human) or json", EnvVars: envVars("log-format")}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "log-level", Value: d.LogLevel, Usage: "debug, info, warn or error", EnvVars: envVars("log-level")}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "stats", Usage: "print per-stage timing (busy, waiting, queue depth) at the end", EnvVars: envVars("stats")}),
		// Not itself a config key. Made afresh each time, like every flag
		// here: urfave/cli writes what it read from the environment into
		// the flag value, so a shared flag would carry it into later runs.
		&cli.PathFlag{Name: "config", Usage: "YAML file of settings (keys are flag names; see configs/default.yaml)", EnvVars: envVars("config")},
	}
}

// videoFlags are the encoder settings of commands that write MP4.
func videoFlags() []cli.Flag {
	return []cli.Flag{
		altsrc.NewStringFlag(&cli.StringFlag{Name: "preset", Value: defaults.Preset, Usage: "x264 preset of the output video (ultrafast ... veryslow), or auto: veryfast up to 720p, superfast from 1.5 MP per frame; faster presets make bigger files", EnvVars: envVars("preset")}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "crf", Value: defaults.CRF, Usage: "x264 quality of the output video (0-51, lower is better)", EnvVars: envVars("crf")}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "subtitles", Value: defaults.Subtitles, Usage: "annotate and batch: write OUTPUT.vtt (who is on screen) and mux it into the MP4 as a soft subtitle stream; --subtitles=false turns both off", EnvVars: envVars("subtitles")}),
	}
}

// readSettings collects the settings after flags, environment and file
// have been merged, and checks them all at once (settings.Validate).
func readSettings(c *cli.Context) (settings.Settings, error) {
	s := settings.Settings{
		Known: c.Path("known"), Models: c.Path("models"), Workers: c.Int("workers"), Detector: c.String("detector"),
		DetectEvery: c.Int("detect-every"), DescribeEvery: c.Int("describe-every"), MinFace: c.Int("min-face"), DetectMP: c.Float64("detect-megapixels"),
		Lookahead: c.Duration("lookahead"), CutThreshold: c.Float64("cut-threshold"), MaxMisses: c.Int("max-misses"),
		JPEGQuality: c.Int("jpeg-quality"), LogFormat: c.String("log-format"), LogLevel: c.String("log-level"), Stats: c.Bool("stats"),
		Preset: defaults.Preset, CRF: defaults.CRF,
		Blur: c.String("blur"), BlurStyle: c.String("blur-style"), BlurLabels: c.Bool("blur-labels"),
		Subtitles: defaults.Subtitles,
	}
	s.Resolve(c.IsSet("detect-every"))
	tol, tolErr := settings.ParseTolerance(c.String("tolerance"))
	s.Tolerance = tol
	if hasFlag(c, "subtitles") {
		s.Subtitles = c.Bool("subtitles")
	}
	if hasFlag(c, "preset") {
		s.Preset, s.CRF = c.String("preset"), c.Int("crf")
	}
	if err := s.Validate(); err != nil || tolErr != nil {
		return s, joinUsage(tolErr, err)
	}
	return s, nil
}

// joinUsage joins usage errors into one, in order, skipping nils.
func joinUsage(errs ...error) error {
	var msgs []string
	for _, e := range errs {
		if e != nil {
			msgs = append(msgs, e.Error())
		}
	}
	return &usageError{strings.Join(msgs, "; ")}
}

func hasFlag(c *cli.Context, name string) bool {
	for _, f := range c.Command.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}

// loadConfig is a command's Before: it reads the --config file and merges
// its values under the flags and environment (altsrc implements that
// precedence). Every key is applied or rejected, never ignored:
//   - a setting (a flag that is also a VIDTAG_* variable) shared by the
//     commands is a top-level key; one only some commands have (batch's
//     jobs) goes in a section named after the command ("batch:"), which
//     the other commands leave alone;
//   - a per-run flag (output, force, input...) is an error: it belongs on
//     the command line, where it is seen;
//   - an unknown key, in any section, is an error (a misspelt key must not
//     be silently ignored).
//
// A float setting accepts 30 for 30.0.
func loadConfig(flags []cli.Flag) cli.BeforeFunc {
	return func(c *cli.Context) error {
		path := c.Path("config")
		if path == "" {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return usageErrorf("config %s: %v", path, outfile.UnwrapPathError(err))
		}
		var m map[string]any
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return usageErrorf("config %s: not valid YAML: %v", path, err)
		}
		this := c.Command.Name
		values, errs := configValues(m, this, flags)
		if len(errs) > 0 {
			sort.Strings(errs)
			return usageErrorf("config %s: %s", path, strings.Join(errs, "; "))
		}
		if err := altsrc.ApplyInputSourceValues(c, altsrc.NewMapInputSource(path, values), flags); err != nil {
			return usageErrorf("config %s: %v", path, tidy.ErrorLine(err))
		}
		return nil
	}
}

// configCommands are the commands that may have a section in a config file.
func configCommands() map[string][]cli.Flag {
	return map[string][]cli.Flag{"annotate": annotateCommand().Flags, "batch": batchCommand().Flags, "live": liveCommand().Flags}
}

// isSetting reports whether f may be set from a config file.
func isSetting(f cli.Flag) bool {
	_, ok := f.(altsrc.FlagInputSourceExtension)
	return ok && !slices.Contains(f.Names(), "config")
}

// configValues checks a parsed config file for command this (whose flags
// are given) and returns the values to apply, or every problem found.
func configValues(m map[string]any, this string, flags []cli.Flag) (map[any]any, []string) {
	commands := configCommands()
	values := map[any]any{}
	var errs []string
	// check returns the value to apply for key k of the section for cmd
	// ("" for the top level), or records why not.
	check := func(cmd string, k string, v any) (any, bool) {
		where := k
		if cmd != "" {
			where = cmd + "." + k
		}
		fl := flags
		if cmd != "" {
			fl = commands[cmd]
		}
		var f cli.Flag
		for _, x := range fl {
			if slices.Contains(x.Names(), k) {
				f = x
			}
		}
		switch {
		case f == nil && cmd == "":
			var in []string
			for name, cf := range commands {
				for _, x := range cf {
					if slices.Contains(x.Names(), k) && isSetting(x) {
						in = append(in, name)
					}
				}
			}
			if len(in) > 0 {
				sort.Strings(in)
				errs = append(errs, fmt.Sprintf("%s is not a setting of 'vidtag %s' (only of %s): put it in a section, e.g. \"%s:\" then \"  %s: ...\"", k, this, strings.Join(in, ", "), in[0], k))
			} else {
				errs = append(errs, fmt.Sprintf("unknown setting %s", where))
			}
			return nil, false
		case f == nil:
			errs = append(errs, fmt.Sprintf("unknown setting %s ('vidtag %s' has no --%s)", where, cmd, k))
			return nil, false
		case !isSetting(f):
			errs = append(errs, fmt.Sprintf("%s: --%s is given per run, on the command line, not in a config file", where, k))
			return nil, false
		}
		if _, isFloat := f.(*altsrc.Float64Flag); isFloat {
			if i, isInt := v.(int); isInt {
				v = float64(i)
			}
		}
		if _, isString := f.(*altsrc.StringFlag); isString {
			switch n := v.(type) { // tolerance: 0.5 is a string setting's number
			case int, float64:
				v = fmt.Sprint(n)
			}
		}
		return v, v != nil // "key:" with no value keeps the default
	}
	for k, v := range m {
		if _, isSection := commands[k]; isSection {
			section, ok := v.(map[string]any)
			if !ok && v != nil {
				errs = append(errs, fmt.Sprintf("%s: want a section of 'vidtag %s' settings", k, k))
				continue
			}
			for sk, sv := range section {
				if sv, ok := check(k, sk, sv); ok && k == this {
					values[sk] = sv // a command's own section beats the top level
				}
			}
			continue
		}
		if v, ok := check("", k, v); ok {
			if _, set := values[k]; !set {
				values[k] = v
			}
		}
	}
	return values, errs
}
