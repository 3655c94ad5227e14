#!/usr/bin/env bash
# HTTP load test: the hyper "Hello, World!" server on flywheel (examples/http_hello.rs) against
# the identical server on tokio (examples/http_hello_tokio.rs), under wrk on loopback.
#
# Each round starts one server, warms it up, measures it with `wrk -t2 -c100 -d10s`, stops it,
# then does the same for the other; the order alternates between rounds so neither always
# runs first. Only one server runs at a time. The table shows every round and the median.
#
#   benches/http_load.sh              # 3 rounds of 10 s per server
#   ROUNDS=5 DURATION=20s benches/http_load.sh
#
# Installs wrk (Debian package) when it is missing. Servers are stopped on exit, even on
# Ctrl-C or an error.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-100}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
FLYWHEEL_PORT=${FLYWHEEL_PORT:-8080}
TOKIO_PORT=${TOKIO_PORT:-8081}

server_pid=""
out_dir=$(mktemp -d)

cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$out_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null 2>&1; then
  echo "==> installing wrk"
  if [[ $(id -u) -eq 0 ]]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq wrk
fi

echo "==> building the servers (release)"
cargo build --release --quiet --features hyper --example http_hello --example http_hello_tokio

# Waits until something accepts connections on port $1 (at most 10 s).
wait_for_port() {
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  echo "nothing listens on port $1 after 10 s" >&2
  return 1
}

# Runs one measurement: $1 = name (flywheel|tokio), $2 = round number.
measure() {
  local name=$1 round=$2 port binary
  if [[ $name == flywheel ]]; then
    port=$FLYWHEEL_PORT binary=target/release/examples/http_hello
  else
    port=$TOKIO_PORT binary=target/release/examples/http_hello_tokio
  fi
  "$binary" "$port" >"$out_dir/$name-$round.server" 2>&1 &
  server_pid=$!
  wait_for_port "$port"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "http://127.0.0.1:$port/" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$port/" \
    >"$out_dir/$name-$round.wrk"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# Prints "req/s p50 p90 p99 errors" from a wrk report, latencies in microseconds.
summarise() {
  awk '
    function us(v) {
      if (v ~ /us$/) return v + 0
      if (v ~ /ms$/) return (v + 0) * 1000
      if (v ~ /s$/) return (v + 0) * 1000000
      return v + 0
    }
    $1 == "50%" { p50 = us($2) }
    $1 == "90%" { p90 = us($2) }
    $1 == "99%" { p99 = us($2) }
    $1 == "Requests/sec:" { rps = $2 }
    /Socket errors/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx/ { errors += $NF }
    END { printf "%.0f %.0f %.0f %.0f %d\n", rps, p50, p90, p99, errors }
  ' "$1"
}

echo "==> $ROUNDS rounds: wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up)"
for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 )); then order="flywheel tokio"; else order="tokio flywheel"; fi
  for name in $order; do
    printf '    round %d: %-8s ... ' "$round" "$name"
    measure "$name" "$round"
    read -r rps p50 p90 p99 errors < <(summarise "$out_dir/$name-$round.wrk")
    printf '%8s req/s  p99 %6s us\n' "$rps" "$p99"
    echo "$rps $p50 $p90 $p99 $errors" >"$out_dir/$name-$round.sum"
  done
done

# Median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Column $2 (1 = req/s, 2 = p50, 3 = p90, 4 = p99, 5 = errors) of server $1, over the rounds.
column() { for r in $(seq 1 "$ROUNDS"); do awk -v c="$2" '{ print $c }' "$out_dir/$1-$r.sum"; done; }

echo
echo "hyper 'Hello, World!' over HTTP/1.1 keep-alive, loopback, $(nproc) cores"
printf '%-13s %10s %10s %10s %10s %7s\n' "server" "req/s" "p50 (us)" "p90 (us)" "p99 (us)" "errors"
for name in flywheel tokio; do
  for r in $(seq 1 "$ROUNDS"); do
    read -r rps p50 p90 p99 errors <"$out_dir/$name-$r.sum"
    printf '%-13s %10s %10s %10s %10s %7s\n' "$name #$r" "$rps" "$p50" "$p90" "$p99" "$errors"
  done
done
for name in flywheel tokio; do
  printf '%-13s %10s %10s %10s %10s %7s\n' "$name med" \
    "$(column "$name" 1 | median)" "$(column "$name" 2 | median)" \
    "$(column "$name" 3 | median)" "$(column "$name" 4 | median)" \
    "$(column "$name" 5 | awk '{ s += $1 } END { print s + 0 }')"
done
fly=$(column flywheel 1 | median)
tok=$(column tokio 1 | median)
echo
awk -v f="$fly" -v t="$tok" 'BEGIN { printf "flywheel/tokio throughput: %.2f\n", f / t }'
