module github.com/vidtag/vidtag

go 1.26.8

require golang.org/x/sync v0.24.0

require github.com/google/renameio/v2 v2.0.2
