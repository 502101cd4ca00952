package stages

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math"
	"strconv"
	"sync"
	"time"
)

// Sidecar writes one JSON object per frame, in frame order, also for frames
// without faces, and tallies the run:
//
//	{"frame": 0, "time": 0.000, "faces": [{"box": [l, t, r, b], "label": "X", "known": true, "cluster": null, "distance": 0.412, "margin": 0.52, "crowd": null, "track": 3, "score": 0.998}]}
//
// When the blur step ran (--blur), each face also has "blurred": true or
// false, and the regions blurred for faces the list leaves out (tracks not
// confirmed as faces, and a face followed back before the detector found
// it; see Frame.Unlisted) follow as "also_blurred": [{"box": [...],
// "track": 7}], so that the sidecar says where the video is blurred.
//
// The encoding is fixed by hand (times to the millisecond, distances to
// three decimals) so the same input and settings give byte-identical files.
type Sidecar struct {
	w     *bufio.Writer // nil: tally only
	buf   []byte
	Tally Tally
}

// Tally sums up a run.
type Tally struct {
	Frames       int
	Faces        int
	UnknownFaces int
	Tracks       map[int]bool
	// People maps a known label to the frames it appears in.
	People map[string]int
	// LastPTS is the time of the last frame.
	LastPTS time.Duration
}

// NewSidecar writes to w; with w nil it only tallies.
func NewSidecar(w io.Writer) *Sidecar {
	s := &Sidecar{Tally: Tally{Tracks: map[int]bool{}, People: map[string]int{}}}
	if w != nil {
		s.w = bufio.NewWriterSize(w, 64<<10)
	}
	return s
}

// Process records f.
func (s *Sidecar) Process(_ context.Context, f *Frame) error {
	s.count(f)
	if s.w == nil {
		return nil
	}
	s.buf = AppendFrameJSON(s.buf[:0], f)
	s.buf = append(s.buf, '\n')
	_, err := s.w.Write(s.buf)
	return err
}

func (s *Sidecar) count(f *Frame) {
	t := &s.Tally
	t.Frames++
	t.LastPTS = f.PTS
	seen := map[string]bool{}
	for _, face := range f.Faces {
		t.Faces++
		t.Tracks[face.Track] = true
		if !face.Known {
			t.UnknownFaces++
			continue
		}
		if !seen[face.Label] {
			seen[face.Label] = true
			t.People[face.Label]++
		}
	}
}

// Flush writes out what is buffered.
func (s *Sidecar) Flush() error {
	if s.w == nil {
		return nil
	}
	return s.w.Flush()
}

// AppendFrameJSON appends f's sidecar line, without the newline.
func AppendFrameJSON(b []byte, f *Frame) []byte {
	b = append(b, `{"frame": `...)
	b = strconv.AppendInt(b, int64(f.Seq), 10)
	b = append(b, `, "time": `...)
	b = strconv.AppendFloat(b, f.PTS.Seconds(), 'f', 3, 64)
	b = append(b, `, "faces": [`...)
	for i, face := range f.Faces {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendBox(append(b, `{"box": `...), face)
		b = append(b, `, "label": `...)
		b = appendJSONString(b, face.Label)
		b = append(b, `, "known": `...)
		b = strconv.AppendBool(b, face.Known)
		b = append(b, `, "cluster": `...)
		if face.Cluster > 0 {
			b = strconv.AppendInt(b, int64(face.Cluster), 10)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, `, "distance": `...)
		b = appendNumber(b, face.Distance)
		b = append(b, `, "margin": `...)
		b = appendNumber(b, face.Margin)
		b = append(b, `, "crowd": `...)
		b = appendNumber(b, face.Crowd)
		b = append(b, `, "track": `...)
		b = strconv.AppendInt(b, int64(face.Track), 10)
		b = append(b, `, "score": `...)
		if s := float64(face.Score); math.IsNaN(s) {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendFloat(b, s, 'f', 3, 64)
		}
		if f.Blur {
			b = append(b, `, "blurred": `...)
			b = strconv.AppendBool(b, face.Blurred)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if f.Blur {
		n := 0
		for _, face := range f.Unlisted {
			if !face.Blurred {
				continue
			}
			if n == 0 {
				b = append(b, `, "also_blurred": [`...)
			} else {
				b = append(b, ", "...)
			}
			n++
			b = appendBox(append(b, `{"box": `...), face)
			b = append(b, `, "track": `...)
			b = strconv.AppendInt(b, int64(face.Track), 10)
			b = append(b, '}')
		}
		if n > 0 {
			b = append(b, ']')
		}
	}
	return append(b, '}')
}

func appendBox(b []byte, face Face) []byte {
	b = append(b, '[')
	for j, v := range [4]int{face.Box.Min.X, face.Box.Min.Y, face.Box.Max.X, face.Box.Max.Y} {
		if j > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return append(b, ']')
}

// appendNumber writes v to three decimals, or null for NaN and infinities.
func appendNumber(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'f', 3, 64)
}

// quoted caches each label as a JSON string; encoding/json does the escaping.
var quoted sync.Map

func appendJSONString(b []byte, s string) []byte {
	if q, ok := quoted.Load(s); ok {
		return append(b, q.([]byte)...)
	}
	q, _ := json.Marshal(s)
	quoted.Store(s, q)
	return append(b, q...)
}

// FrameLine is a sidecar line as read back (see ParseFrameJSON).
type frameLine struct {
	Frame int     `json:"frame"`
	Time  float64 `json:"time"`
	Faces []struct {
		Box      [4]int   `json:"box"`
		Label    string   `json:"label"`
		Known    bool     `json:"known"`
		Cluster  *int     `json:"cluster"`
		Distance *float64 `json:"distance"`
		Margin   *float64 `json:"margin"`
		Crowd    *float64 `json:"crowd"`
		Track    int      `json:"track"`
		Score    *float64 `json:"score"`
		Blurred  *bool    `json:"blurred"`
	} `json:"faces"`
	AlsoBlurred []struct {
		Box   [4]int `json:"box"`
		Track int    `json:"track"`
	} `json:"also_blurred"`
}

// ParseFrameJSON reads a sidecar line back into a Frame (no pixels): the
// inverse of AppendFrameJSON, so that AppendFrameJSON(ParseFrameJSON(l))
// gives l again. A line without "cluster" (an older sidecar) reads as no
// cluster.
func ParseFrameJSON(line []byte) (*Frame, error) {
	var l frameLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, err
	}
	num := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	f := &Frame{Seq: l.Frame, PTS: time.Duration(math.Round(l.Time*1e3)) * time.Millisecond}
	for _, x := range l.Faces {
		face := Face{Box: image.Rect(x.Box[0], x.Box[1], x.Box[2], x.Box[3]), Label: x.Label, Known: x.Known,
			Distance: num(x.Distance), Margin: num(x.Margin), Crowd: num(x.Crowd), Track: x.Track, Score: float32(num(x.Score))}
		if x.Cluster != nil {
			face.Cluster = *x.Cluster
		}
		if x.Blurred != nil { // a run with a blur says it of every face
			f.Blur, face.Blurred = true, *x.Blurred
		}
		f.Faces = append(f.Faces, face)
	}
	for _, x := range l.AlsoBlurred {
		f.Blur = true
		f.Unlisted = append(f.Unlisted, Face{Box: image.Rect(x.Box[0], x.Box[1], x.Box[2], x.Box[3]), Track: x.Track, Blurred: true})
	}
	return f, nil
}

// SetClusters rewrites the "cluster" of every face of a sidecar line to
// cluster(track, known), leaving every other byte as it was (fields this
// version does not know included). It relies on the order the encoder
// writes: "known", then "cluster", then, later in the same face, "track".
func SetClusters(line []byte, cluster func(track int, known bool) int) ([]byte, error) {
	const keyKnown, keyCluster, keyTrack = `"known": `, `, "cluster": `, `, "track": `
	out := make([]byte, 0, len(line)+16)
	rest := line
	for {
		i := bytes.Index(rest, []byte(keyCluster))
		if i < 0 {
			return append(out, rest...), nil
		}
		head := rest[:i]
		k := bytes.LastIndex(head, []byte(keyKnown))
		if k < 0 {
			return nil, fmt.Errorf("sidecar line: a cluster without known")
		}
		known := bytes.HasPrefix(head[k+len(keyKnown):], []byte("true"))
		val := rest[i+len(keyCluster):]
		end := bytes.IndexAny(val, ",}")
		if end < 0 {
			return nil, fmt.Errorf("sidecar line: cut short")
		}
		t := bytes.Index(val, []byte(keyTrack))
		if t < 0 {
			return nil, fmt.Errorf("sidecar line: a face without track")
		}
		digits := val[t+len(keyTrack):]
		n := 0
		for n < len(digits) && digits[n] >= '0' && digits[n] <= '9' {
			n++
		}
		id, err := strconv.Atoi(string(digits[:n]))
		if err != nil {
			return nil, fmt.Errorf("sidecar line: track %q", digits[:n])
		}
		out = append(out, rest[:i+len(keyCluster)]...)
		if c := cluster(id, known); c > 0 {
			out = strconv.AppendInt(out, int64(c), 10)
		} else {
			out = append(out, "null"...)
		}
		rest = val[end:]
	}
}
