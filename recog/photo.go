package recog

import (
	"errors"
	"fmt"
	"math"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/internal/cvlibs"
)

// ErrUnreadable means a photo could not be decoded.
var ErrUnreadable = errors.New("unreadable image")

// FacesInPhoto finds every face in an image file of any format OpenCV reads
// (go-face itself only decodes JPEG). Very large photos are shrunk to about
// maxPixels first; a photo with no face at full size is tried once more at
// twice the size, as face_recognition does by default, if that stays within
// maxPixels.
func (e *HOG) FacesInPhoto(path string, maxPixels int) ([]Detection, error) {
	return facesInPhoto(path, maxPixels, e.detect)
}

// facesInPhoto reads the photo and finds its faces with detect, at the
// scale that fits maxPixels (and, failing that, at twice the size).
func facesInPhoto(path string, maxPixels int, detect func(img gocv.Mat, scale float64, scratch *gocv.Mat) ([]Detection, error)) ([]Detection, error) {
	img, err := readPhoto(path)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	scratch := gocv.NewMat()
	defer scratch.Close()
	pixels := float64(img.Cols() * img.Rows())
	scale := math.Min(1, math.Sqrt(float64(maxPixels)/pixels))
	faces, err := detect(img, scale, &scratch)
	if err == nil && len(faces) == 0 && 4*pixels <= float64(maxPixels) {
		faces, err = detect(img, 2, &scratch)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return faces, nil
}

func (e *HOG) detect(img gocv.Mat, scale float64, scratch *gocv.Mat) ([]Detection, error) {
	buf, err := EncodeJPEG(img, scale, 95, scratch)
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	return e.Recognize(buf.GetBytes(), scale)
}

func readPhoto(path string) (gocv.Mat, error) {
	if err := cvlibs.Need(cvlibs.Imgcodecs); err != nil {
		return gocv.Mat{}, fmt.Errorf("%s: %w", path, err)
	}
	img := gocv.IMRead(path, gocv.IMReadColor)
	if img.Empty() {
		img.Close()
		return img, fmt.Errorf("%s: %w", path, ErrUnreadable)
	}
	return img, nil
}
