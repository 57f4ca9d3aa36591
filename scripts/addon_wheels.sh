# Proves that every runtime package of the add-on comes as a binary wheel for both of its
# architectures, for the Python of its Debian base (trixie: CPython 3.13), so the image is
# built without a compiler. Sourced by scripts/test after _env.sh.
#
# pip download --only-binary=:all: --platform ... fetches exactly what addon/install.sh would
# install on that architecture (the project's dependencies under addon/constraints.txt); a
# package without such a wheel fails the run. The wheels are cached per constraints file.
# The summed aarch64 wheel size is the nearest figure of that image's Python part that can be
# measured here (no aarch64 machine): it is printed and quoted in README.md.

ADDON_PYTHON_VERSION=3.13
ADDON_ARCHES="x86_64 aarch64"

addon_wheels_check() {
  local key dir arch kb
  key=$( { cat "$REPO/addon/constraints.txt"; sed -n '/^dependencies = \[/,/^\]/p' "$REPO/pyproject.toml"; echo "$ADDON_PYTHON_VERSION"; } | sha)
  for arch in $ADDON_ARCHES; do
    dir="$REPO/build/addon-wheels-$key/$arch"
    if [ ! -f "$dir/.complete" ]; then
      log "pip download: the add-on's runtime wheels for $arch, CPython $ADDON_PYTHON_VERSION"
      rm -rf "$dir" && mkdir -p "$dir"
      # The requirements are pyproject's runtime dependencies, read by the env's Python.
      run_in_env python -c '
import sys, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
open(sys.argv[1], "w").write("\n".join(deps) + "\n")' "$dir/requirements.txt"
      run_in_env python -m pip download --quiet --dest "$dir" --only-binary=:all: \
        --platform "manylinux_2_28_$arch" --platform "manylinux_2_17_$arch" \
        --platform "manylinux2014_$arch" --python-version "$ADDON_PYTHON_VERSION" \
        --implementation cp --abi "cp${ADDON_PYTHON_VERSION/./}" \
        --constraint addon/constraints.txt -r "$dir/requirements.txt" \
        || { log "a runtime dependency has no binary wheel for $arch"; return 1; }
      touch "$dir/.complete"
    fi
    kb=$(du -ck "$dir"/*.whl | tail -1 | cut -f1)
    log "add-on wheels for $arch: $(ls "$dir"/*.whl | wc -l) binary wheels, $((kb / 1024)) MiB"
  done
}
