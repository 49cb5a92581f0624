# Sourced by scripts that read real data (benchmarks, the baseline's training): defines lb_data_dir, which
# prints the real-data folder and says on stderr which one it used and why:
#   1. the environment variable LESIONBENCH_DATA, when set;
#   2. else the CMake cache variable LESIONBENCH_DATA of the build folder ($LESIONBENCH_BUILD or build/);
#   3. else ../shared/data next to the source folder (the cache variable's default).
# scripts/get-data.sh DEST fetches the public part of it into DEST.
lb_data_dir() {
  local root dir from cache
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  cache=${LESIONBENCH_BUILD:-$root/build}/CMakeCache.txt
  if [ -n "${LESIONBENCH_DATA:-}" ]; then
    dir=$LESIONBENCH_DATA from="environment variable LESIONBENCH_DATA"
  elif [ -f "$cache" ] && grep -q '^LESIONBENCH_DATA:' "$cache"; then
    dir=$(sed -n 's/^LESIONBENCH_DATA:[A-Z]*=//p' "$cache") from="CMake cache variable LESIONBENCH_DATA ($cache)"
  else
    dir=$root/../shared/data from="default"
  fi
  echo "data: $dir (from the $from)" >&2
  printf '%s\n' "$dir"
}
