# Sourced (from the repository root) by the scripts that read the shared data: DATA as given, or the data folder
# beside the checkout (../shared/data; a git worktree under /work/wt keeps it one level further up), as an absolute
# path. Stops the script with a message when there is none.
if [ -z "${DATA:-}" ]; then
  for d in ../shared/data ../../shared/data; do [ -d "$d" ] && DATA=$d && break; done
fi
: "${DATA:?no data folder: set DATA (tried ../shared/data and ../../shared/data from the repository root)}"
[ -d "$DATA" ] || { echo "DATA=$DATA is not a folder" >&2; exit 1; }
DATA=$(cd "$DATA" && pwd)
