#!/usr/bin/env bash
# test_cli.sh: the command line every program shares (protocol/cp_cli),
# driven through the real binaries.
#
#   - --help and -h on every program, every command and every subcommand
#     print on stdout, nothing on stderr, and exit 0; a command's help
#     lists each flag its usage line names;
#   - the commands the help lists are exactly the headings of
#     docs/commands.md for that program (the list comes from the binary,
#     so the documentation cannot drift from the table);
#   - a flag that does not belong to the command is refused by name,
#     exit 2, nothing on stdout, nothing created;
#   - integers are strict: 2x, -1, an empty value and a number past 64
#     bits are refused naming the flag and the value, exit 2;
#   - an unknown command, a missing subcommand and a missing required
#     option say what is wrong and where the help is, exit 2;
#   - --name=value works as --name value, and a real command runs.
#
# Usage: test_cli.sh BIN_DIR SOURCE_DIR WORK_DIR
source "$(dirname "$0")/harness.sh" cli "$@"

programs="cpsync-node cpsync-central cpsync-admin cpsync-fleet"
nowhere=$work/nowhere

#  commands_of PROGRAM: the commands its --help lists, one a line.
commands_of () {
    "$bin/$1" --help | awk '/^commands:$/ {on = 1; next} on && /^$/ {exit}
        on && /^  [^ ]/ {sub (/^  /, ""); sub (/  .*/, ""); print}'
}

#  documented PROGRAM: the command words of docs/commands.md's headings
#  under "## PROGRAM" ("### backup and restore" is two, "### directive
#  done" the word directive), sorted.
documented () {
    awk -v program="## $1" '/^## / {on = ($0 == program); next}
        on && /^### / {sub (/^### /, ""); n = split ($0, parts, / and /);
                       for (i = 1; i <= n; i++) {split (parts [i], words, " "); print words [1]}}' \
        "$source/docs/commands.md" | sort -u
}

#  helps WHAT ARGS...: ARGS print a help on stdout, nothing on stderr,
#  exit 0.  The help is left in $work/help.
helps () {
    local what=$1; shift
    "$@" > "$work/help" 2> "$work/help.err"
    local rc=$?
    if [ $rc = 0 ] && [ -s "$work/help" ] && [ ! -s "$work/help.err" ]; then
        return 0
    fi
    echo "    $what: exit $rc, stdout $(wc -c < "$work/help") bytes, stderr: $(head -c 200 "$work/help.err")"
    return 1
}

#  flags_listed: every --flag of the usage lines of $work/help is described
#  under "options:".
flags_listed () {
    local usage options flag
    usage=$(awk '/^$/ {exit} {print}' "$work/help" | grep -o -- '--[a-z][a-z-]*' | sort -u)
    options=$(awk '/^options:$/ {on = 1; next} on && /^  --/ {print $1}' "$work/help" | sort -u)
    [ -n "$options" ] || { echo "    no options listed"; return 1; }
    for flag in $usage; do
        grep -qx -- "$flag" <<< "$options" || { echo "    $flag not described"; return 1; }
    done
}

# ---------------------------------------------------------------------------
#  Help everywhere, and the documentation against the table.
for program in $programs; do
    check "$program --help: stdout, exit 0" helps "$program --help" "$bin/$program" --help
    check "$program -h: the same" helps "$program -h" "$bin/$program" -h
done
check "cpsync-fleet --help lists its flags" flags_listed

for program in cpsync-node cpsync-central cpsync-admin; do
    commands_of "$program" > "$work/commands"
    check "$program --help lists commands" [ -s "$work/commands" ]
    #  each command and subcommand
    bad=0
    while read -r command; do
        # shellcheck disable=SC2086  # the words of "staff set" are two arguments
        if ! helps "$program $command --help" "$bin/$program" $command --help \
           || ! grep -q "^usage: $program $command " "$work/help" || ! flags_listed; then
            bad=1; echo "    $program $command --help"
        fi
        # shellcheck disable=SC2086
        if ! helps "$program $command -h" "$bin/$program" $command -h; then bad=1; fi
    done < "$work/commands"
    check "$program: every command's --help and -h print its usage and flags" [ $bad = 0 ]
    #  each command that has subcommands, alone
    bad=0
    for parent in $(awk 'NF == 2 {print $1}' "$work/commands" | sort -u); do
        if ! helps "$program $parent --help" "$bin/$program" "$parent" --help; then
            bad=1; continue
        fi
        for sub in $(awk -v p="$parent" '$1 == p {print $2}' "$work/commands"); do
            grep -q "^  $parent $sub " "$work/help" || { bad=1; echo "    $parent --help: no $sub"; }
        done
    done
    check "$program: a command with subcommands lists them on --help" [ $bad = 0 ]
    awk '{print $1}' "$work/commands" | sort -u > "$work/listed"
    documented "$program" > "$work/documented"
    if diff "$work/listed" "$work/documented" > "$work/diff"; then
        ok "$program: the commands of --help are the headings of docs/commands.md"
    else
        fail "$program: --help and docs/commands.md differ (< help, > docs): $(tr '\n' ' ' < "$work/diff")"
    fi
done

check "the central's --help warns that a directive must not hold case data" \
    grep -q "must not contain case data" <("$bin/cpsync-central" --help)
check "--help wins over an error in the same line" \
    helps "import --bogus --help" "$bin/cpsync-node" import --bogus --help

# ---------------------------------------------------------------------------
#  refused WHAT MESSAGE PROGRAM ARGS...: exit 2, MESSAGE (fixed text) on
#  stderr, nothing on stdout, and $nowhere not created.
refused () {
    local what=$1 message=$2; shift 2
    "$bin/$@" > "$work/out" 2> "$work/err"
    local rc=$?
    if [ $rc = 2 ] && grep -qF -- "$message" "$work/err" && [ ! -s "$work/out" ] \
       && [ ! -e "$nowhere" ]; then
        ok "$what: $(head -1 "$work/err")"
    else
        fail "$what: exit $rc, stderr: $(head -c 300 "$work/err")"
    fi
}

#  A flag of another command, refused by name and with the way to help.
refused "node import --period" \
    "cpsync-node import: --period is not an option of import; see 'cpsync-node import --help'" \
    cpsync-node import --data "$nowhere" --period 2022 events.jsonl
refused "node run --workers" "--workers is not an option of run" \
    cpsync-node run --data "$nowhere" --workers 3
refused "node staff list --date" "--date is not an option of staff list" \
    cpsync-node staff list --data "$nowhere" --date 2022-01-01
refused "central query --out" "--out is not an option of query" \
    cpsync-central query --data "$nowhere" --period 2022 --out x
refused "central directive send --period" "--period is not an option of directive send" \
    cpsync-central directive send --data "$nowhere" --to all --kind notice --text t --period 2022
refused "central user list --role" "--role is not an option of user list" \
    cpsync-central user list --data "$nowhere" --role operator
refused "admin keys --municipality" "--municipality is not an option of keys" \
    cpsync-admin keys --central "$nowhere" --municipality kucove
refused "fleet --scope" "--scope is not an option of cpsync-fleet" \
    cpsync-fleet --events "$nowhere" --data "$nowhere" --scope national
refused "an option never heard of" "--frobnicate is not an option of view" \
    cpsync-node view --data "$nowhere" --period 2022 --frobnicate
refused "a single-dash option" "-x is not an option of status" \
    cpsync-node status --data "$nowhere" -x

#  Strict integers, named with their value.
for value in 2x -1 99999999999999999999 "" 0x10 " 5" +5; do
    refused "node view --catalogue '$value'" "--catalogue must be a whole number from 1 to 1000000, not '$value'" \
        cpsync-node view --data "$nowhere" --period 2022 --catalogue "$value"
done
refused "central query --threshold 2x" "--threshold must be a whole number from 1 to 1000000, not '2x'" \
    cpsync-central query --data "$nowhere" --period 2022 --public --threshold 2x
refused "node recover --timeout -1" "--timeout must be a whole number from 1 to 86400, not '-1'" \
    cpsync-node recover --data "$nowhere" --timeout -1
refused "central serve --token-ttl 99999999999999999999" \
    "--token-ttl must be a whole number from 1 to 2592000, not '99999999999999999999'" \
    cpsync-central serve --data "$nowhere" --token-ttl 99999999999999999999
refused "admin init-central --catalogue 2x" "--catalogue must be a whole number from 1 to 1000000, not '2x'" \
    cpsync-admin init-central --central "$nowhere" --catalogue 2x
refused "fleet --port 65536" "--port must be a whole number from 1 to 65535, not '65536'" \
    cpsync-fleet --events "$nowhere" --data "$nowhere" --port 65536
refused "fleet --timeout 2x" "--timeout must be a whole number from 1 to 604800, not '2x'" \
    cpsync-fleet --events "$nowhere" --data "$nowhere" --timeout 2x

#  The rest of the line's mistakes.
refused "an unknown command" "'frobnicate' is not a command; see 'cpsync-node --help'" \
    cpsync-node frobnicate --data "$nowhere"
refused "a command with no subcommand" "user takes add, remove or list" \
    cpsync-central user --data "$nowhere"
refused "an unknown subcommand" "'grant' is not a subcommand: user takes add, remove or list" \
    cpsync-central user grant --data "$nowhere"
refused "no --data" "import needs --data DIR" cpsync-node import events.jsonl
refused "a value missing at the end" "--data needs a value (DIR)" cpsync-node status --data
refused "a value given to a flag" "--verbose takes no value" \
    cpsync-node run --data "$nowhere" --verbose=yes
refused "an operand too many" "is one operand too many: import takes FILE.jsonl" \
    cpsync-node import --data "$nowhere" a.jsonl b.jsonl
refused "an operand where none is taken" "'extra' is not an option; status takes no operand" \
    cpsync-node status --data "$nowhere" extra
"$bin/cpsync-node" > "$work/out" 2> "$work/err"
check "no command at all: exit 2, the commands on stderr" \
    bash -c "[ $? = 2 ] && [ ! -s '$work/out' ] && grep -q '^commands:' '$work/err'"

# ---------------------------------------------------------------------------
#  A real command through the same parser: --name=value, operands after
#  the options, -- before an operand.
step "node init --data=DIR --municipality=kucove" \
    "$bin/cpsync-node" init --data="$work/node" --municipality=kucove
check "... set the node up" grep -q "node for kucove set up" "$work/step.out"
printf '' > "$work/-empty.jsonl"
step "node import --data DIR -- -empty.jsonl (an operand after --)" \
    bash -c "cd '$work' && '$bin/cpsync-node' import --data node -- -empty.jsonl"
check "... read the file named after --" grep -q "^-empty.jsonl: 0 imported" "$work/step.out"
"$bin/cpsync-node" status --data "$work/node" --format json > "$work/status.json"
check "status --format json answers" grep -q '"municipality": "kucove"' "$work/status.json"
"$bin/cpsync-node" import "$work/-empty.jsonl" --data "$work/node" 2> "$work/err" > /dev/null
check "operands before the options: read, and nothing on stderr when not a terminal" \
    bash -c "[ $? = 0 ] && [ ! -s '$work/err' ]"
finish
