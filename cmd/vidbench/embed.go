package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/embed"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/recog"
	"github.com/vidtag/vidtag/track"
	"github.com/vidtag/vidtag/ultraface"
)

// embedMain compares two ways to name the faces the CNN finds (issue 13):
//
//   - box:  dlib's shape predictor and ResNet on the CNN's box (package embed);
//   - box+gate: the same, using only faces that the 5 landmarks say are
//     frontal enough (yaw) and that are large enough;
//   - crop: a crop around the box, scaled so the face is about 120 px,
//     through go-face, whose HOG must find the face again to describe it.
//
// On every 5th frame of each clip, each CNN face that matches a ground-truth
// face (IoU >= 0.4) is named by the nearest known face within 0.6, frame by
// frame (no tracking), and both ways are scored against the ground truth
// and timed.
//
//	go run ./cmd/vidbench embed    (make bench-embed)
func embedMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	def := os.Getenv("VIDTAG_TESTDATA")
	if def == "" {
		def = "../shared/testdata"
	}
	data := fs.String("data", def, "shared test data folder")
	models := fs.String("models", "models", "model folder")
	clips := fs.String("clips", "short_hamilton_clip,obama_biden_720p,obama_1080p", "clips")
	every := fs.Int("every", 5, "frames between the frames measured")
	verbose := fs.Bool("v", false, "list every face: ground truth, size, yaw, gate, nearest known face")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hog, err := recog.NewHOG(*models)
	if err != nil {
		return err
	}
	defer hog.Close()
	emb, err := embed.New(*models)
	if err != nil {
		return err
	}
	defer emb.Close()
	det, err := ultraface.New(filepath.Join(*models, "fr_detect.onnx"))
	if err != nil {
		return err
	}
	defer det.Close()
	g, err := enrollHOG(hog, filepath.Join(*data, "known"))
	if err != nil {
		return err
	}

	type tally struct {
		faces, known, named, correct, wrong, described int
		took                                           time.Duration
	}
	results := map[string]map[string]*tally{}
	for _, clip := range strings.Split(*clips, ",") {
		results[clip] = map[string]*tally{"box": {}, "box+gate": {}, "crop": {}}
		gt, err := readGT(filepath.Join(*data, "groundtruth", clip+".gt.jsonl"))
		if err != nil {
			return err
		}
		vc, err := gocv.VideoCaptureFile(filepath.Join(*data, "clips", clip+".mp4"))
		if err != nil {
			return err
		}
		frame, crop := gocv.NewMat(), gocv.NewMat()
		var plan ultraface.Plan
		for seq := 0; vc.Read(&frame) && !frame.Empty() && seq < len(gt); seq++ {
			if seq%*every != 0 {
				continue
			}
			if seq == 0 {
				plan = ultraface.NewPlan(frame.Cols(), frame.Rows(), 29)
			}
			found, err := det.Detect(frame, plan)
			if err != nil {
				return err
			}
			for _, b := range found {
				box := recog.DlibBox(b.Rect, frame.Cols(), frame.Rows())
				label, ok := matchGT(gt[seq], box)
				if !ok {
					continue
				}
				name := func(t *tally, d *recog.Descriptor, took time.Duration) {
					t.faces++
					t.took += took
					if label != gallery.Unknown {
						t.known++
					}
					if d == nil {
						return
					}
					t.described++
					m := g.Match(gallery.Descriptor(*d), 0.6)
					if !m.Known {
						return
					}
					t.named++
					if m.Label == label {
						t.correct++
					} else {
						t.wrong++
					}
				}
				t0 := time.Now()
				faces, err := emb.Embed(frame, []image.Rectangle{box})
				if err != nil {
					return err
				}
				took := time.Since(t0)
				d := recog.Descriptor(faces[0].Descriptor)
				if *verbose {
					m := g.Match(gallery.Descriptor(d), 2)
					fmt.Fprintf(os.Stderr, "%s %d gt=%q w=%d yaw=%.2f gate=%v nearest=%q %.3f\n", clip, seq, label, box.Dx()+1,
						yaw(faces[0].Landmarks), gate(box, faces[0].Landmarks), m.Label, m.Distance)
				}
				name(results[clip]["box"], &d, took)
				if gate(box, faces[0].Landmarks) {
					name(results[clip]["box+gate"], &d, took)
				} else {
					name(results[clip]["box+gate"], nil, took)
				}

				t0 = time.Now()
				dc, err := cropDescribe(hog, frame, box, &crop)
				if err != nil {
					return err
				}
				name(results[clip]["crop"], dc, time.Since(t0))
			}
		}
		frame.Close()
		crop.Close()
		vc.Close()
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clip\tway\tfaces\tdescribed\tnamed-face recall\tfalse-name rate\tms per face\t")
	for _, clip := range strings.Split(*clips, ",") {
		for _, way := range []string{"box", "box+gate", "crop"} {
			t := results[clip][way]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.4f\t%.4f\t%.1f\t\n", clip, way, t.faces, t.described,
				float64(t.correct)/max(1, float64(t.known)), float64(t.wrong)/max(1, float64(t.named)),
				t.took.Seconds()*1000/max(1, float64(t.faces)))
		}
	}
	return tw.Flush()
}

// cropDescribe is way (a): a crop three boxes wide around the face, scaled
// so the face is about 120 px, through go-face; nil when its HOG does not
// find the face there.
func cropDescribe(hog *recog.HOG, frame gocv.Mat, box image.Rectangle, crop *gocv.Mat) (*recog.Descriptor, error) {
	w := box.Dx() + 1
	region := image.Rect(box.Min.X-w, box.Min.Y-w, box.Max.X+w, box.Max.Y+w).Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	sub := frame.Region(region)
	defer sub.Close()
	scale := 120 / float64(w)
	buf, err := recog.EncodeJPEG(sub, scale, 92, crop)
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	faces, err := hog.Recognize(buf.GetBytes(), scale)
	if err != nil {
		return nil, err
	}
	local := box.Sub(region.Min)
	for _, f := range faces {
		if track.IoU(f.Box, local) >= 0.3 {
			return &f.Descriptor, nil
		}
	}
	return nil, nil
}

type gtFace struct {
	Box   [4]int `json:"box"`
	Label string `json:"label"`
}

func readGT(path string) ([][]gtFace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]gtFace
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line struct {
			Faces []gtFace `json:"faces"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, err
		}
		out = append(out, line.Faces)
	}
	return out, sc.Err()
}

// matchGT is the label of the ground-truth face box overlaps most (IoU >= 0.4).
func matchGT(faces []gtFace, box image.Rectangle) (string, bool) {
	best, label := 0.4, ""
	for _, f := range faces {
		r := image.Rect(f.Box[0], f.Box[1], f.Box[2], f.Box[3])
		if v := track.IoU(r, box); v >= best {
			best, label = v, f.Label
		}
	}
	return label, label != ""
}

// gate is box+gate's test: at least 32 px wide, and the nose within 0.45
// half eye-distances of the middle between the eyes.
func gate(box image.Rectangle, marks [5]image.Point) bool {
	return box.Dx()+1 >= 32 && math.Abs(yaw(marks)) <= 0.45
}

// yaw estimates from dlib's 5 landmarks (two corners of each eye, then the
// bottom of the nose) how far a face is turned: the nose's offset from the
// middle between the eyes, along the line through them, in half
// eye-distances (0 frontal, +-1 the nose level with an eye).
func yaw(m [5]image.Point) float64 {
	e1x, e1y := float64(m[0].X+m[1].X)/2, float64(m[0].Y+m[1].Y)/2
	e2x, e2y := float64(m[2].X+m[3].X)/2, float64(m[2].Y+m[3].Y)/2
	dx, dy := e2x-e1x, e2y-e1y
	d2 := dx*dx + dy*dy
	if d2 < 1 {
		return math.Inf(1)
	}
	t := ((float64(m[4].X)-e1x)*dx + (float64(m[4].Y)-e1y)*dy) / d2
	return 2*t - 1
}
