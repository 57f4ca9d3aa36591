# Runs inside the test environment (see scripts/test). Fails on the first failing check.
set -uo pipefail
step() { printf '\n=== %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

step "ruff check"
ruff check . || fail "ruff check"
step "ruff format --check"
ruff format --check . || fail "ruff format (run: scripts/env ruff format .)"

step "mypy --strict: pure packages (bess_dispatch_core, optimizer)"
mypy -p bess_dispatch_core -p optimizer || fail "mypy (pure packages)"
step "mypy --strict: the optimizer's test references (tests/optimizer/reference)"
mypy tests/optimizer/reference || fail "mypy (optimizer test references)"
step "mypy --strict: Home Assistant integration"
mypy -p custom_components.bess_dispatch || fail "mypy (integration)"
step "mypy --strict: the Home Assistant demo (ha_demo)"
mypy -p ha_demo || fail "mypy (ha_demo)"

step "pytest with coverage"
rm -f .coverage .coverage.*
# Two workers: CI has two cores, and most tests wait on brokers, not on the CPU.
python -m pytest -p no:cacheprovider -n 2 --cov --cov-report=term -q "$@"
rc=$?
# pytest's 5 means nothing was collected: a suite that tests nothing must not pass.
[ $rc -eq 5 ] && fail "pytest collected no tests"
[ $rc -eq 0 ] || fail "pytest (exit $rc)"

if [ $# -eq 0 ]; then
  step "coverage gate: protocol package >= 95 %"
  python -m coverage report --include='custom_components/bess_dispatch/bess_dispatch_core/protocol/*' \
    --fail-under=95 --skip-covered | tail -n 3 || fail "protocol coverage below 95 %"
fi
printf '\nAll checks passed.\n'
