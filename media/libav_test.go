package media

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
)

// ffprobeSays is what ffprobe, the real tool, prints for path, in
// probeFile's terms: the reference the in-process probe must equal.
func ffprobeSays(t *testing.T, path string) (*Streams, bool) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json",
		"-show_entries", "format=format_name,duration:format_tags=comment:stream=codec_type,codec_name,pix_fmt,width,height,avg_frame_rate,r_frame_rate,nb_frames,start_time,duration,time_base:stream_tags=rotate:stream_side_data=rotation",
		"--", path).Output()
	if err != nil {
		return nil, false
	}
	var j struct {
		Format struct {
			FormatName string            `json:"format_name"`
			Duration   string            `json:"duration"`
			Tags       map[string]string `json:"tags"`
		} `json:"format"`
		Streams []struct {
			CodecType, CodecName, PixFmt                    string `json:"-"`
			Type                                            string `json:"codec_type"`
			Name                                            string `json:"codec_name"`
			Pix                                             string `json:"pix_fmt"`
			Width, Height                                   int
			Avg, R, NbFrames, StartTime, Duration, TimeBase string                        `json:"-"`
			AvgFrameRate                                    string                        `json:"avg_frame_rate"`
			RFrameRate                                      string                        `json:"r_frame_rate"`
			Frames                                          string                        `json:"nb_frames"`
			Start                                           string                        `json:"start_time"`
			Dur                                             string                        `json:"duration"`
			Base                                            string                        `json:"time_base"`
			Tags                                            struct{ Rotate string }       `json:"tags"`
			SideData                                        []struct{ Rotation *float64 } `json:"side_data_list"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &j); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	p := &Streams{Format: j.Format.FormatName, Duration: parseFloat(j.Format.Duration)}
	for k, v := range j.Format.Tags {
		if strings.EqualFold(k, "comment") { // libav's tags are case-blind; Matroska's are upper case
			p.Comment = v
		}
	}
	for _, s := range j.Streams {
		n, _ := strconv.Atoi(s.Frames)
		ps := Stream{CodecType: s.Type, CodecName: s.Name, PixFmt: s.Pix, Width: s.Width, Height: s.Height,
			AvgFrameRate: parseRational(s.AvgFrameRate), RFrameRate: parseRational(s.RFrameRate), TimeBase: parseRational(s.Base),
			NbFrames: n, StartTime: parseFloat(s.Start), Duration: parseFloat(s.Dur), RotateTag: s.Tags.Rotate}
		for _, sd := range s.SideData {
			if sd.Rotation != nil {
				ps.Rotation = sd.Rotation
			}
		}
		p.Streams = append(p.Streams, ps)
	}
	return p, true
}

// TestProbeAgreesWithFFprobe: the in-process probe says what ffprobe says,
// field for field, on the shared clips and bad inputs and on what phones,
// screen recorders and the web make (rotation, variable rate, odd sizes,
// Matroska, WebM, AVI), and fails where ffprobe fails.
func TestProbeAgreesWithFFprobe(t *testing.T) {
	dir := t.TempDir()
	src := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	made := map[string][]string{
		"rot90.mp4":  {"-i", src, "-t", "1", "-c", "copy", "-metadata:s:v:0", "rotate=90"},
		"rot270.mov": {"-i", src, "-t", "1", "-c", "copy", "-metadata:s:v:0", "rotate=270"},
		"vfr.mp4": {"-i", src, "-t", "2", "-vf", "setpts='if(lt(N,20),N,N*2)/(30*TB)'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast",
			"-an"},
		"odd.mp4":   {"-i", src, "-t", "1", "-vf", "scale=641:361", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"},
		"clip.mkv":  {"-i", src, "-t", "1", "-c", "copy", "-metadata", "comment=from a test"},
		"clip.webm": {"-i", src, "-t", "1", "-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"},
		"clip.avi":  {"-i", src, "-t", "1", "-c:v", "mpeg4", "-c:a", "libmp3lame"},
	}
	var files []string
	for name, args := range made {
		path := filepath.Join(dir, name)
		ffmpeg(t, append(args, path)...)
		files = append(files, path)
	}
	for _, f := range []string{"clips/short_hamilton_clip.mp4", "clips/obama_biden_720p.mp4", "clips/obama_1080p.mp4",
		"bad/truncated_40pct.mp4", "bad/png_renamed.mp4", "bad/not_a_video.mp4", "images/obama-720p.jpg"} {
		files = append(files, testenv.Data(t, f))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, ok := ffprobeSays(t, path)
			got, err := probeFile(path)
			if !ok {
				if err == nil {
					t.Fatalf("ffprobe fails, the in-process probe says %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ffprobe reads it, the in-process probe says %v", err)
			}
			got.Log = ""
			// ffprobe prints times with 6 decimals.
			round := func(p *Streams) {
				p.Duration = math.Round(p.Duration*1e6) / 1e6
				for i := range p.Streams {
					s := &p.Streams[i]
					s.StartTime, s.Duration = math.Round(s.StartTime*1e6)/1e6, math.Round(s.Duration*1e6)/1e6
					if s.Rotation != nil {
						r := math.Trunc(*s.Rotation) // ffprobe prints it as an integer
						s.Rotation = &r
					}
				}
			}
			round(got)
			round(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("in process:\n%s\nffprobe:\n%s", dump(got), dump(want))
			}
		})
	}
	// Packets, and their times, as ffprobe counts and lists them.
	for _, path := range files[:len(made)] {
		out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
			"-show_entries", "stream=nb_read_packets", "-of", "default=nw=1:nk=1", "--", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		n, _, err := readPackets(path)
		if first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); err != nil || strconv.Itoa(n) != first {
			t.Errorf("%s: %d packets (%v), ffprobe counts %s", filepath.Base(path), n, err, first)
		}
		out, err = exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", "--", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		times, err := packetTimes(path)
		var got []string
		for _, v := range times {
			got = append(got, strconv.FormatFloat(v, 'f', 6, 64))
		}
		if want := strings.Fields(strings.ReplaceAll(string(out), ",", "")); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: packet times %v (%v), ffprobe lists %v", filepath.Base(path), got, err, want)
		}
	}
}

func dump(p *Streams) string {
	b, _ := json.MarshalIndent(p, "", " ")
	return string(b)
}

// TestRemuxMP4AgreesWithFFmpeg: RemuxMP4 writes what ffmpeg -c copy -c:s
// mov_text -movflags +faststart writes: the same packets (times, lengths,
// sizes, key flags) in every stream, the same stream tags and the index in
// front, with and without subtitles.
func TestRemuxMP4AgreesWithFFmpeg(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mp4")
	// B-frames and audio that starts before the video, as annotate writes
	// them for a clip whose video starts late.
	clip := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	ffmpeg(t, "-itsoffset", "0.1", "-i", clip, "-i", clip, "-map", "0:v", "-map", "1:a", "-t", "3", "-c:v", "libx264", "-preset", "veryfast",
		"-c:a", "aac", in)
	vtt := filepath.Join(dir, "subs.vtt")
	if err := os.WriteFile(vtt, []byte("WEBVTT\n\n1\n00:00:00.500 --> 00:00:01.200\nBarack Obama, Joe Biden\n\n"+
		"2\n00:00:01.900 --> 00:00:02.400\nUnknown #1\nLin-Manuel Miranda\n\n3\n00:00:02.400 --> 00:00:02.900\nÉlodie Łukasz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, subs := range []string{vtt, ""} {
		ours, theirs := filepath.Join(dir, "ours.mp4"), filepath.Join(dir, "theirs.mp4")
		if err := RemuxMP4(in, subs, ours, "vidtag-subtitles 0123", "vidtag people"); err != nil {
			t.Fatal(err)
		}
		args := []string{"-i", in}
		if subs != "" {
			args = append(args, "-i", subs)
		}
		args = append(args, "-map", "0:v", "-map", "0:a?")
		if subs != "" {
			args = append(args, "-map", "1:0", "-c:s", "mov_text", "-metadata:s:s:0", "language=und", "-metadata:s:s:0", "handler_name=vidtag people")
		}
		ffmpeg(t, append(args, "-c:v", "copy", "-c:a", "copy", "-metadata", "comment=vidtag-subtitles 0123", "-movflags", "+faststart", "-f", "mp4", theirs)...)
		describe := func(path string) string {
			out, err := exec.Command("ffprobe", "-v", "error", "-show_entries",
				"packet=stream_index,pts,dts,duration,size,flags:stream=index,codec_name,codec_tag_string,time_base,nb_frames,start_time,duration:stream_tags=language,handler_name:format_tags=comment",
				"-of", "compact", "--", path).Output()
			if err != nil {
				t.Fatalf("ffprobe %s: %v", path, err)
			}
			return string(out)
		}
		if a, b := describe(ours), describe(theirs); a != b {
			t.Errorf("subtitles %q: RemuxMP4 and ffmpeg differ:\n%s", subs, firstDifference(a, b))
		}
		if !moovFirst(t, ours) {
			t.Error("the index is not in front of the media data (+faststart)")
		}
	}
	// A file that is not an MP4 is an error, and nothing is left under out.
	bad := filepath.Join(dir, "bad.mp4")
	if err := RemuxMP4(testenv.Data(t, "bad", "not_a_video.mp4"), "", bad, "", ""); err == nil {
		t.Error("no error remuxing a file that is not a video")
	}
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i+1) + ":\n  ours:   " + al[i] + "\n  ffmpeg: " + bl[i]
		}
	}
	return "lengths " + strconv.Itoa(len(al)) + " and " + strconv.Itoa(len(bl))
}

// moovFirst reports whether the MP4's moov box comes before its mdat.
func moovFirst(t *testing.T, path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off+8 <= len(b); {
		size := int(b[off])<<24 | int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
		switch string(b[off+4 : off+8]) {
		case "moov":
			return true
		case "mdat":
			return false
		}
		if size < 8 {
			return false
		}
		off += size
	}
	return false
}

// parseRational reads ffprobe's "30000/1001" ("0/0": the zero Rational).
func parseRational(s string) Rational {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		den = "1"
	}
	n, err1 := strconv.Atoi(num)
	d, err2 := strconv.Atoi(den)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return Rational{}
	}
	return Rational{n, d}
}

// parseFloat reads one of ffprobe's numbers ("N/A": 0).
func parseFloat(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
