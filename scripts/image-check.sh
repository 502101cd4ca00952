#!/usr/bin/env bash
# Proves configs/k8s/Dockerfile builds, without a Docker daemon: runs the
# recipe's own steps (FROM, RUN, ENV, WORKDIR, COPY, COPY --from, ENTRYPOINT)
# in clean Debian 12 roots made with debootstrap, then runs the image's
# entrypoint on a test clip (annotate, and batch as configs/k8s/batch-job.yaml
# does) and checks the outputs with ffprobe inside the image.
#
#   scripts/image-check.sh [IMGROOT]      (make image-check IMGROOT=...)
#
# IMGROOT (default /var/tmp/vidtag-image-check) holds base/, the debootstrapped
# debian:bookworm (made once, then copied afresh for every stage), stages/,
# one root per stage, and apt-archives/, a download cache shared by the
# stages' apt-get runs (the roots never see it afterwards). Needs root
# (chroot, mount), debootstrap and Debian's archive; it is slow the first
# time (debootstrap, ~1 GB of build packages, a gocv build).
# Local CA certificates of this machine (LOCAL_CA, default
# /usr/local/share/ca-certificates) are added to each root, as a build
# behind a TLS-inspecting proxy is given them; the recipe is unchanged.
# The build context is what git sees: tracked and untracked-but-not-ignored
# files, the same set .dockerignore leaves.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
root_dir=$(realpath -m "${1:-${IMGROOT:-/var/tmp/vidtag-image-check}}")
dockerfile=${DOCKERFILE:-configs/k8s/Dockerfile}
mirror=${MIRROR:-http://deb.debian.org/debian}
data=$(realpath "${DATA:-../shared/testdata}")
clip=${CLIP:-$data/clips/short_hamilton_clip.mp4}
local_ca=${LOCAL_CA:-/usr/local/share/ca-certificates}

say() { echo "image-check: $*" >&2; }
die() { say "$*"; exit 1; }

if [[ $(id -u) -ne 0 ]]; then
  exec sudo --preserve-env=IMGROOT,DOCKERFILE,MIRROR,DATA,CLIP,LOCAL_CA "$0" "$@"
fi
case "$root_dir/" in "$repo"/*) die "IMGROOT $root_dir is inside the repository; put it elsewhere" ;; esac
command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
[[ -f $clip ]] || die "$clip: no test clip (set DATA or CLIP)"
mkdir -p "$root_dir"
# Never delete a root that still has /dev or /sys mounted inside it.
if grep -q " $root_dir/" /proc/mounts; then
  die "something is still mounted under $root_dir (see /proc/mounts); unmount it first"
fi

# The base image: what debian:bookworm is (minbase, its apt sources).
base=$root_dir/base
if [[ ! -f $base/etc/debian_version || -d $base/debootstrap ]]; then
  say "debootstrap bookworm into $base (once)"
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" "$mirror" >"$root_dir/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $root_dir/debootstrap.log"
fi
rm -f "$base/etc/apt/sources.list"
cat >"$base/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
mkdir -p "$root_dir/apt-archives/partial"

# Mounts a RUN step needs, undone after each step (and on any exit).
mounted=()
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  mounted=()
}
trap unmount_all EXIT
mount_into() { # root
  local r=$1
  mkdir -p "$r/proc" "$r/dev" "$r/sys" "$r/var/cache/apt/archives"
  mount -t proc proc "$r/proc" && mounted+=("$r/proc")
  mount --rbind /dev "$r/dev" && mount --make-rslave "$r/dev" && mounted+=("$r/dev")
  mount --rbind /sys "$r/sys" && mount --make-rslave "$r/sys" && mounted+=("$r/sys")
  mount --bind "$root_dir/apt-archives" "$r/var/cache/apt/archives" && mounted+=("$r/var/cache/apt/archives")
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"
}

# Stage state.
declare -A stage_root=()
root="" workdir="/" entrypoint=() stage_n=0
declare -a env_list=()
declare -A env_map=()
set_env() { env_map[$1]=$2; }
env_args() {
  local k
  for k in "${!env_map[@]}"; do printf '%s\0' "$k=${env_map[$k]}"; done
}
expand() { # $VAR and ${VAR} from the stage's ENV, as Docker does in ENV/WORKDIR/COPY
  local s=$1 k
  for k in "${!env_map[@]}"; do s=${s//\$\{$k\}/${env_map[$k]}}; s=${s//\$$k/${env_map[$k]}}; done
  printf '%s' "$s"
}
in_root() { # command...: runs in the stage root with the stage's ENV
  local -a envs
  mapfile -d '' envs < <(env_args)
  chroot "$root" /usr/bin/env -i HOME=/root "${envs[@]}" "$@"
}

start_stage() { # image [name]
  local image=$1 name=${2:-$stage_n}
  [[ $image == debian:bookworm ]] || die "FROM $image: only debian:bookworm is emulated"
  root=$root_dir/stages/$name
  say "stage $name: fresh copy of $base"
  rm -rf "$root"
  mkdir -p "$root_dir/stages"
  cp -a "$base" "$root"
  # This machine's own CAs (a TLS-inspecting proxy's, say), as a build on
  # such a network is given them; the ca-certificates package picks them up.
  if compgen -G "$local_ca/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp "$local_ca"/*.crt "$root/usr/local/share/ca-certificates/"
  fi
  stage_root[$name]=$root
  stage_n=$((stage_n + 1))
  workdir=/ entrypoint=()
  env_map=([PATH]=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
}

copy_in() { # src dst: Docker's COPY from the context
  local src=$1 dst=$2
  [[ $dst == /* ]] || dst=$workdir/$dst
  [[ $src == . ]] || die "COPY $src: only COPY . DEST is emulated"
  mkdir -p "$root$dst"
  git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$root$dst"
}

copy_from() { # stage src dst
  local from=${stage_root[$1]:-} src=$2 dst=$3
  [[ -n $from ]] || die "COPY --from=$1: no such stage"
  [[ $dst == /* ]] || dst=$workdir/$dst
  if [[ -d $from$src ]]; then
    mkdir -p "$root$dst"
    cp -a "$from$src/." "$root$dst/"
  else
    mkdir -p "$(dirname "$root$dst")"
    cp -a "$from$src" "$root$dst"
  fi
}

run_step() { # shell command
  local started=$SECONDS rc=0
  mount_into "$root"
  in_root /bin/sh -c "cd '$workdir' && $1" || rc=$?
  unmount_all
  ((rc == 0)) || die "RUN failed (exit $rc): $1"
  say "  ok in $((SECONDS - started)) s"
}

# Reads the Dockerfile: comments dropped, continuation lines joined.
instructions=()
line=""
while IFS= read -r l || [[ -n $l ]]; do
  [[ $l =~ ^[[:space:]]*# ]] && continue
  if [[ $l =~ \\[[:space:]]*$ ]]; then
    line+="${l%\\*} "
    continue
  fi
  line+=$l
  [[ -n ${line//[[:space:]]/} ]] && instructions+=("$line")
  line=""
done <"$dockerfile"

for ins in "${instructions[@]}"; do
  read -r op rest <<<"$ins"
  say "$(printf '%.160s' "$op $rest")"
  case ${op^^} in
  FROM)
    read -r image as name <<<"$rest"
    [[ -z ${as:-} || ${as^^} == AS ]] || die "FROM $rest: not understood"
    start_stage "$image" "${name:-}"
    ;;
  RUN) run_step "$rest" ;;
  ENV)
    [[ $rest == *=* && $rest != *\"* && $rest != *\'* ]] || die "ENV $rest: only unquoted KEY=VALUE pairs are emulated"
    declare -a pairs
    read -r -a pairs <<<"$rest"
    for p in "${pairs[@]}"; do set_env "${p%%=*}" "$(expand "${p#*=}")"; done
    ;;
  WORKDIR)
    workdir=$(expand "$rest")
    mkdir -p "$root$workdir"
    ;;
  COPY)
    declare -a args
    read -r -a args <<<"$rest"
    if [[ ${args[0]} == --from=* ]]; then
      copy_from "${args[0]#--from=}" "$(expand "${args[1]}")" "$(expand "${args[2]}")"
    else
      ((${#args[@]} == 2)) || die "COPY $rest: only one source is emulated"
      copy_in "${args[0]}" "$(expand "${args[1]}")"
    fi
    ;;
  ENTRYPOINT)
    [[ $rest == \[*\] ]] || die "ENTRYPOINT $rest: only the JSON form is emulated"
    mapfile -t entrypoint < <(sed -e 's/^\[ *//; s/ *\]$//; s/", *"/\n/g; s/"//g' <<<"$rest")
    ;;
  *) die "$op: instruction not emulated" ;;
  esac
done
((${#entrypoint[@]})) || die "the last stage has no ENTRYPOINT"

# The image: run it as the batch Job does, on a volume with in/, known/, out/.
say "image built: $root ($(du -sh --exclude=proc --exclude=sys --exclude=dev "$root" | cut -f1))"
rm -rf "$root/data"
mkdir -p "$root/data/in" "$root/data/out/annotate"
cp "$clip" "$root/data/in/"
cp -a "$data/known" "$root/data/known"
name=$(basename "$clip")
mount_into "$root"
in_root "${entrypoint[@]}" --version
in_root "${entrypoint[@]}" annotate "/data/in/$name" -o "/data/out/annotate/${name%.*}.mp4" --known /data/known
# Two shards as two pods would run them, then status and merge (both exit 0
# only when every video is done and none failed).
for i in 0 1; do
  in_root "${entrypoint[@]}" batch /data/in --output=/data/out/batch --known=/data/known --shard "$i/2" \
    --long-shards=1 --long-size=500MB --log-format=json
done
in_root "${entrypoint[@]}" status /data/out/batch
# As the merge Job runs it: the crowd of every shard, then the reports.
in_root "${entrypoint[@]}" merge /data/out/batch --input=/data/in --known=/data/known --log-format=json
in_root ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=codec_name,width,height,nb_read_frames \
  -of compact "/data/out/annotate/${name%.*}.mp4"
frames=$(in_root ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames -of csv=p=0 \
  "/data/out/annotate/${name%.*}.mp4")
lines=$(wc -l <"$root/data/out/annotate/${name%.*}.jsonl")
[[ $frames -gt 0 && $frames -eq $lines ]] || die "annotate: $frames frames in the video, $lines sidecar lines"
[[ -s $root/data/out/batch/${name%.*}.mp4 && -s $root/data/out/batch/${name%.*}.jsonl ]] || die "batch left no outputs"
[[ -s $root/data/out/batch/batch-report.json ]] || die "merge wrote no batch-report.json"
unmount_all
say "ok: the image built and annotated $name ($frames frames, $lines sidecar lines); two batch shards wrote its outputs, merged"
