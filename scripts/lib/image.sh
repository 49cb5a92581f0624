# Shared by the image scripts (scripts/build-image.sh, baseline/build-image.sh): FROM-scratch root
# filesystems assembled from this build's binaries. Source it; every function exits with the scripts' codes
# (2 bad setup, 3 no container engine) and a message prefixed with $LB_SCRIPT.

# Prints the engine to use: $1 when given, else the first of podman, docker that answers.
lb_image_engine() {
  if [ -n "${1:-}" ]; then echo "$1"; return; fi
  local e
  for e in podman docker; do
    if command -v "$e" >/dev/null 2>&1 && "$e" info >/dev/null 2>&1; then echo "$e"; return; fi
  done
  echo "$LB_SCRIPT: neither podman nor docker works on this machine" >&2
  exit 3
}

# Prints the path of a statically linked busybox (the image's only shell and tools).
lb_image_busybox() {
  local busybox
  busybox=$(command -v busybox || echo /bin/busybox)
  if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
    echo "$LB_SCRIPT: a static busybox is needed (apt-get install busybox-static)" >&2
    exit 2
  fi
  echo "$busybox"
}

# lb_image_libraries ROOTFS BINARY...: every library the loader will look for, at the path it will look
# for it (symlinks resolved).
lb_image_libraries() {
  local rootfs=$1 lib
  shift
  for bin in "$@"; do ldd "$bin"; done | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
    sort -u | while read -r lib; do
      mkdir -p "$rootfs$(dirname "$lib")"
      cp -L "$lib" "$rootfs$lib"
    done
}

# lb_image_shell ROOTFS BUSYBOX APPLET...: busybox at /bin with the named applets linked to it.
lb_image_shell() {
  local rootfs=$1 busybox=$2 applet
  shift 2
  cp "$busybox" "$rootfs/bin/busybox"
  for applet in "$@"; do ln -s busybox "$rootfs/bin/$applet"; done
}

# lb_image_save ENGINE TAG FILE: the image as a docker-archive tar (what `docker save` gives organisers).
lb_image_save() {
  rm -f "$3"
  "$1" save --format docker-archive -o "$3" "$2" 2>/dev/null || "$1" save -o "$3" "$2"
  echo "saved $2 to $3"
}
