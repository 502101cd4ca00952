package live

import (
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/recog"
)

// cnnLoader loads the default detector's engines from the test models.
func cnnLoader(t testing.TB) func() (recog.Engine, error) {
	load, err := recog.Loader(testenv.Models(t), recog.UltraFace, 29)
	if err != nil {
		t.Fatal(err)
	}
	return load
}
