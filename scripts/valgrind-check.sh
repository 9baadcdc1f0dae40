#!/bin/sh
# valgrind-check.sh DIR - after make valgrind: reads every memcheck log in DIR (one per thamdo
# process, named by its pid) and fails when any reports an error or a leak. A log without an
# ERROR SUMMARY is of a process killed by SIGKILL (a test's choice, or the harness's last resort):
# counted and named, it cannot be checked.
set -eu
dir=${1:?usage: valgrind-check.sh DIR}
total=0; bad=0; unchecked=0
for f in "$dir"/*.log; do
    [ -e "$f" ] || continue
    total=$((total + 1))
    if ! grep -q 'ERROR SUMMARY:' "$f"; then
        unchecked=$((unchecked + 1))
        echo "valgrind: $f: no summary (the process was killed)"
    elif ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
        bad=$((bad + 1))
        echo "== valgrind: $f"
        cat "$f"
    fi
done
echo "valgrind: $total logs, $bad with errors or leaks, $unchecked without a summary"
[ "$bad" = 0 ]
