// Package tidy holds the small formatting helpers vidtag's reports and
// messages share, so that each is written once: numbers rounded to a few
// places, messages kept to one line.
package tidy

import (
	"math"
	"strings"
)

// Round rounds v to places decimal places, halves away from zero (as
// math.Round): the precision vidtag's reports give seconds, rates and
// distances.
func Round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// OneLine folds every run of white space in s, line breaks included, into
// one space, and trims both ends.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// ErrorLine is err's message on one line: its lines joined with "; ", and
// white space folded as OneLine does.
func ErrorLine(err error) string {
	return OneLine(strings.ReplaceAll(err.Error(), "\n", "; "))
}
