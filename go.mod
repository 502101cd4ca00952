module github.com/vidtag/vidtag

go 1.26.8

require golang.org/x/sync v0.24.0

require (
	github.com/Kagami/go-face v0.0.0-20210630145111-0c14797b4d0e
	github.com/google/renameio/v2 v2.0.2
	gocv.io/x/gocv v0.31.0
)

require golang.org/x/text v0.43.0 // indirect
