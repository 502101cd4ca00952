//go:build matprofile

package stages

import "gocv.io/x/gocv"

// liveMats is the number of Mats made and not yet closed (go test -tags
// matprofile); counted reports whether the build counts them at all.
func liveMats() (n int, counted bool) { return gocv.MatProfile.Count(), true }
