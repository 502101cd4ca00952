package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/vidtag/vidtag/batch"
)

// progressEvery is how often a bar redraws at most: a bar drawn on every
// frame writes tens of kilobytes a second to the terminal.
const progressEvery = 150 * time.Millisecond

// newProgress returns a progress callback that draws a bar of frames, frames/s
// and time left on w, or nil when w is not a terminal (logs and pipes stay
// clean).
func newProgress(w io.Writer, what string) (func(done, total int), func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	update := func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(max(total, -1),
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("frames"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(progressEvery),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionFullWidth())
		}
		if total > 0 && done > total { // the header undercounted
			bar.ChangeMax(done)
		}
		bar.Set(done)
	}
	return update, func() {
		if bar != nil {
			bar.Finish()
		}
	}
}

// newBatchProgress returns batch's progress callback: on a terminal it
// draws a bar of videos done, with the frames tagged so far, redrawn at
// most every progressEvery; elsewhere it draws nothing. batch.Run calls it
// from one job at a time.
func newBatchProgress(w io.Writer) (func(batch.Progress), func()) {
	draw := isTerminal(w)
	var bar *progressbar.ProgressBar
	update := func(p batch.Progress) {
		if !draw {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(max(p.Videos, 1),
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(progressEvery),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionFullWidth())
		}
		bar.Describe(fmt.Sprintf("batch: %d/%d videos, %d frames", p.VideosDone, p.Videos, p.Frames))
		bar.Set(p.VideosDone)
	}
	return update, func() {
		if bar != nil {
			bar.Finish()
		}
	}
}
