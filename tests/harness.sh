# The shell tests' harness (sourced, not run): a scratch directory and the
# processes started in it, both gone at exit; counted verdicts; a port
# below the ephemeral range (a node reconnecting to a stopped central's
# ephemeral-range port can be given that port as its own and connect to
# itself, and the central could not listen again).
#
#   source harness.sh NAME BIN_DIR SOURCE_DIR WORK_DIR
#
# sets bin, source, work (a new directory under WORK_DIR), port, endpoint
# and started; pids+=(PID) for every process to kill at exit.
# CPSYNC_TEST_KEEP=1 keeps the work directory.
bin=$2 source=$3 work=$(mktemp -d "$4/$1.XXXXXX")
port=$(( 20000 + RANDOM % 12000 ))
endpoint=tcp://127.0.0.1:$port
started=$SECONDS
pids=()
harness_cleanup () {
    { for pid in "${pids[@]}"; do kill -9 "$pid"; done; wait; } 2>/dev/null
    [ -n "${CPSYNC_TEST_KEEP:-}" ] || rm -rf "$work"
}
trap harness_cleanup EXIT
passed=0 failed=0
ok ()   { passed=$((passed + 1)); echo "ok   $*"; }
fail () { failed=$((failed + 1)); echo "FAIL $*"; }
check () { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
finish () {
    echo "$passed passed, $failed failed ($(( SECONDS - started )) s)"
    [ $failed = 0 ] && exit 0
    exit 1
}
