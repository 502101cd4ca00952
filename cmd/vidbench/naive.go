package main

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"os"
	"time"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/recog"
	"github.com/vidtag/vidtag/stages"
)

// naive is the reference everyone writes first, kept here on purpose: one
// goroutine, every frame decoded, optionally upscaled, encoded as JPEG and
// passed to go-face, each face named by the nearest known face within 0.6
// (Euclidean), no tracking. Scale 1 is the fast reference, scale 2 (what
// face_recognition does by default) the accurate one.
func naive(ctx context.Context, input, known, modelDir, sidecar string, scale float64) error {
	rec, err := recog.NewHOG(modelDir)
	if err != nil {
		return err
	}
	defer rec.Close()
	g, err := enrollHOG(rec, known)
	if err != nil {
		return err
	}
	vc, err := gocv.VideoCaptureFile(input)
	if err != nil {
		return err
	}
	defer vc.Close()
	out, err := os.Create(sidecar)
	if err != nil {
		return err
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	frame, scaled := gocv.NewMat(), gocv.NewMat()
	defer frame.Close()
	defer scaled.Close()
	var line []byte
	for seq := 0; vc.Read(&frame) && !frame.Empty(); seq++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		src := frame
		if scale != 1 {
			gocv.Resize(frame, &scaled, image.Point{}, scale, scale, gocv.InterpolationLinear)
			src = scaled
		}
		buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, src, []int{gocv.IMWriteJpegQuality, 92})
		if err != nil {
			return err
		}
		faces, err := rec.Recognize(buf.GetBytes(), scale)
		buf.Close()
		if err != nil {
			return fmt.Errorf("frame %d: %w", seq, err)
		}
		f := &stages.Frame{Seq: seq, PTS: time.Duration(vc.Get(gocv.VideoCapturePosMsec) * float64(time.Millisecond))}
		for i, face := range faces {
			m := g.Match(gallery.Descriptor(face.Descriptor), 0.6)
			f.Faces = append(f.Faces, stages.Face{Box: face.Box, Track: i, Label: m.Label, Known: m.Known, Distance: m.Distance})
		}
		line = append(stages.AppendFrameJSON(line[:0], f), '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return w.Flush()
}

// enrollHOG loads the known faces as the naive loop's users would: go-face
// on each photo, no cache.
func enrollHOG(rec *recog.HOG, known string) (*gallery.Gallery, error) {
	g, _, err := gallery.Load(known, func(path string) ([]gallery.Descriptor, error) {
		faces, err := rec.FacesInPhoto(path, 4_000_000)
		out := make([]gallery.Descriptor, len(faces))
		for i, f := range faces {
			out[i] = gallery.Descriptor(f.Descriptor)
		}
		return out, err
	})
	return g, err
}
