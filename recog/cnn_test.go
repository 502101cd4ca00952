package recog

import (
	"context"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/models"
)

func testCNN(t *testing.T) *CNN {
	t.Helper()
	dir := testenv.Models(t)
	c, err := NewCNN(filepath.Join(dir, models.UltraFace), dir, "", 29)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// frameAt decodes frame n of a shared clip.
func frameAt(t *testing.T, clip string, n int) gocv.Mat {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(testenv.Data(t, "clips", clip))
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	for i := 0; i <= n; i++ {
		if !vc.Read(&m) {
			t.Fatalf("%s has no frame %d", clip, n)
		}
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestCNNFindsWhatHOGMisses: in Hamilton's frame 30 Alex Lacamoire is in
// profile. HOG finds nothing; the CNN finds the face (at 0.78 here; the
// same face scores 0.99 in other frames, which confirms its track), and
// does not describe it: its HOG confirmation fails, so the profile cannot
// lend it a name.
func TestCNNFindsWhatHOGMisses(t *testing.T) {
	frame := frameAt(t, "short_hamilton_clip.mp4", 30)
	hog := newEngine(t)
	buf, err := gocv.IMEncode(gocv.JPEGFileExt, frame)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	if faces, err := hog.Detect(Input{JPEG: buf.GetBytes(), JPEGScale: 1}); err != nil || len(faces) != 0 {
		t.Fatalf("HOG found %v (%v); the profile should be beyond it", faces, err)
	}
	faces, err := testCNN(t).Detect(Input{Frame: frame, Describe: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 1 || faces[0].Score < 0.6 || faces[0].Box.Dx() < 150 {
		t.Fatalf("CNN found %+v; want the one 200 px profile", faces)
	}
	if faces[0].Described {
		t.Errorf("the profile was described: its descriptor would name it")
	}
}

// TestCNNDescribesFrontalFaces: on each known photo the CNN finds one sure
// face and describes it with package embed on a crop, and the descriptor
// is the one go-face gives for the whole photo (both are HOG-aligned dlib
// chips; the crop's scale and go-face's JPEG differ). Enrolling the photo
// with the CNN engine finds go-face's box and, on the JPEG go-face reads,
// exactly its descriptor: package embed runs the same dlib steps. On the
// photo's own pixels the JPEG's loss moves it by up to 0.064 (Obama).
func TestCNNDescribesFrontalFaces(t *testing.T) {
	c, hog := testCNN(t), newEngine(t)
	for _, name := range []string{"Barack Obama.jpg", "Joe Biden.jpg", "Lin-Manuel Miranda.png", "Alex Lacamoire.png"} {
		path := testenv.Data(t, "known", name)
		img := gocv.IMRead(path, gocv.IMReadColor)
		faces, err := c.Detect(Input{Frame: img, Describe: true})
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		var sure []Detection
		for _, f := range faces {
			if f.Score >= 0.93 {
				sure = append(sure, f)
			}
		}
		if len(sure) != 1 || !sure[0].Described {
			t.Errorf("%s: sure faces %+v, want one, described", name, sure)
			continue
		}
		ref, err := hog.FacesInPhoto(path, 4_000_000)
		if err != nil || len(ref) != 1 {
			t.Fatalf("%s: go-face on the photo: %v, %v", name, ref, err)
		}
		if d := gallery.Distance(gallery.Descriptor(sure[0].Descriptor), gallery.Descriptor(ref[0].Descriptor)); d > 0.15 {
			t.Errorf("%s: crop descriptor %.3f from go-face's", name, d)
		}
		enrolled, err := c.FacesInPhoto(path, 4_000_000)
		if err != nil || len(enrolled) != 1 {
			t.Fatalf("%s: the CNN engine enrolled %v, %v", name, enrolled, err)
		}
		if enrolled[0].Box != ref[0].Box {
			t.Errorf("%s: enrolled box %v, go-face's %v", name, enrolled[0].Box, ref[0].Box)
		}
		if d := gallery.Distance(gallery.Descriptor(enrolled[0].Descriptor), gallery.Descriptor(ref[0].Descriptor)); d > 0.1 {
			t.Errorf("%s: enrolled descriptor %.3f from go-face's", name, d)
		}
		asRead := jpegRoundTrip(t, path, 95) // what go-face decodes
		emb, err := c.dlib.loaded(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		same, err := emb.Embed(asRead, []image.Rectangle{ref[0].Box})
		if err != nil {
			t.Fatal(err)
		}
		if d := gallery.Distance(gallery.Descriptor(same[0].Descriptor), gallery.Descriptor(ref[0].Descriptor)); d > 1e-3 {
			t.Errorf("%s: embed on go-face's JPEG %.4f from go-face's descriptor", name, d)
		}
	}
}

// jpegRoundTrip is the photo as go-face sees it: encoded as JPEG, decoded.
func jpegRoundTrip(t *testing.T, path string, quality int) gocv.Mat {
	t.Helper()
	img := gocv.IMRead(path, gocv.IMReadColor)
	defer img.Close()
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, img, []int{gocv.IMWriteJpegQuality, quality})
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	out, err := gocv.IMDecode(buf.GetBytes(), gocv.IMReadColor)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	return out
}

// TestCNNSkipsDescriptionWhenNotAsked: between described keyframes the CNN
// returns boxes only.
func TestCNNSkipsDescriptionWhenNotAsked(t *testing.T) {
	frame := frameAt(t, "obama_1080p.mp4", 0)
	faces, err := testCNN(t).Detect(Input{Frame: frame})
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 1 || faces[0].Described {
		t.Fatalf("got %+v, want one undescribed face", faces)
	}
}

func TestDlibBox(t *testing.T) {
	// A 100x140 UltraFace box becomes a 112 px square, centred across,
	// 4% of the height lower, clipped to the frame.
	got := DlibBox(image.Rect(100, 100, 199, 239), 1000, 1000)
	if got.Dx()+1 != 112 || got.Dy()+1 != 112 || (got.Min.X+got.Max.X)/2 != 149 || abs((got.Min.Y+got.Max.Y)/2-175) > 1 {
		t.Errorf("DlibBox = %v", got)
	}
	if got := DlibBox(image.Rect(0, 0, 99, 139), 80, 80); got.Min.X < 0 || got.Max.X > 79 || got.Max.Y > 79 {
		t.Errorf("not clipped: %v", got)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestCNNEnginesShareDlibModels: the engines of one loader share one set of
// dlib models, loaded with the first and freed with the last, and
// each engine still describes faces.
func TestCNNEnginesShareDlibModels(t *testing.T) {
	load, err := Loader(testenv.Models(t), UltraFace, "", 29)
	if err != nil {
		t.Fatal(err)
	}
	a, err := load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := load()
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := a.(*CNN), b.(*CNN)
	if ca.dlib != cb.dlib || ca.dlib.refs != 2 {
		t.Fatalf("engines do not share the dlib models (refs %d)", ca.dlib.refs)
	}
	frame := frameAt(t, "obama_biden_720p.mp4", 0)
	for _, e := range []Engine{a, b} {
		faces, err := e.Detect(Input{Frame: frame, Describe: true})
		if err != nil {
			t.Fatal(err)
		}
		described := 0
		for _, f := range faces {
			if f.Described {
				described++
			}
		}
		if described == 0 {
			t.Errorf("an engine described none of %d faces", len(faces))
		}
	}
	shared := ca.dlib
	a.Close()
	if shared.load == nil || shared.refs != 1 {
		t.Fatal("the models went with the first engine")
	}
	b.Close()
	if shared.load != nil || shared.refs != 0 {
		t.Error("the models outlived the last engine")
	}
}

// TestCNNLoadsDlibInTheBackground: an engine is ready as soon as its
// UltraFace network is, and a failed dlib load surfaces where a description
// needs the models, naming them; boxes alone still come.
func TestCNNLoadsDlibInTheBackground(t *testing.T) {
	dir := testenv.Models(t)
	frame := frameAt(t, "obama_biden_720p.mp4", 0)

	// Closed at once, while dlib still loads: Close waits for the load
	// and frees what it made.
	quick, err := NewCNN(filepath.Join(dir, models.UltraFace), dir, "", 29)
	if err != nil {
		t.Fatal(err)
	}
	quick.Close()

	broken, err := NewCNN(filepath.Join(dir, models.UltraFace), t.TempDir(), "", 29)
	if err != nil {
		t.Fatalf("the engine waited for the dlib models: %v", err)
	}
	defer broken.Close()
	boxes, err := broken.Detect(Input{Frame: frame})
	if err != nil || len(boxes) == 0 {
		t.Fatalf("boxes without descriptions: %d faces, %v", len(boxes), err)
	}
	if _, err := broken.Detect(Input{Frame: frame, Describe: true}); err == nil || !strings.Contains(err.Error(), "load the dlib models") {
		t.Errorf("describing with missing dlib models: %v", err)
	}
}

// A pool of CNN engines is Ready (live starts its clock) only when the
// dlib models are loaded too, not as soon as the first UltraFace net is.
func TestCNNPoolReadyWaitsForDlib(t *testing.T) {
	load, err := Loader(testenv.Models(t), UltraFace, "", 29)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPool(load, 1, Growth{})
	defer p.Close()
	if err := p.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	e, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Put(e)
	select {
	case <-e.(*CNN).dlib.load.done:
	default:
		t.Error("Ready returned while the dlib models were still loading")
	}
}
