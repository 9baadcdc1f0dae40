#!/bin/sh
# run.sh - what "make run" starts: the service on the embedded default (a
# private redis-server in ./var), the seed polls, and an admin token kept in
# var/admin-token so that the dashboard can be tried at once.
set -eu
cd "$(dirname "$0")/.."
data=${THAMDO_DATA_DIR:-./var}
mkdir -p "$data"
chmod 700 "$data"
if [ -z "${THAMDO_ADMIN_TOKENS:-}${THAMDO_ADMIN_TOKENS_FILE:-}" ]; then
    if [ ! -s "$data/admin-token" ]; then
        (umask 077 && openssl rand -hex 24 >"$data/admin-token")
    fi
    THAMDO_ADMIN_TOKENS_FILE="$data/admin-token"
    export THAMDO_ADMIN_TOKENS_FILE
fi
listen=${THAMDO_LISTEN:-127.0.0.1:8080}
url="http://$listen"
cat <<EOF

  thamdo is starting with a private Redis in $data

  Demo portal page:  $url/
  Editors' dashboard: $url/admin/   (token: the contents of $THAMDO_ADMIN_TOKENS_FILE)
  The poll (JSON):   $url/api/v1/polls/chuyen-muc
  Vote with curl:    curl -c jar -b jar -H 'Content-Type: application/json' \\
                       -d '{"options":["tin-tuc"]}' $url/api/v1/polls/chuyen-muc/votes
  Stop with Ctrl-C.

EOF
THAMDO_POLLS_FILE=${THAMDO_POLLS_FILE:-deploy/polls.json}
export THAMDO_POLLS_FILE
exec ./build/thamdo
