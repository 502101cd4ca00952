package testenv

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// FFmpeg runs ffmpeg (errors only, overwriting) with args, failing the
// test with ffmpeg's output when it fails.
func FFmpeg(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ShortClip writes the first frames of the shared Hamilton clip to dst as
// H.264 (ultrafast), with its audio as AAC when audio is set: a real clip
// that runs in a second.
func ShortClip(t testing.TB, dst string, frames int, audio bool) {
	t.Helper()
	args := []string{"-i", Data(t, "clips", "short_hamilton_clip.mp4"), "-frames:v", strconv.Itoa(frames),
		"-c:v", "libx264", "-preset", "ultrafast"}
	if audio {
		args = append(args, "-c:a", "aac")
	} else {
		args = append(args, "-an")
	}
	FFmpeg(t, append(args, dst)...)
}
