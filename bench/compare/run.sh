#!/usr/bin/env bash
# bench/compare/run.sh: FastChat side by side with NATS, Redis pub/sub, an ASP.NET Core SignalR hub and a bare C#
# forwarder (raw), all on loopback, under the same load generator (bench/compare/FastChat.Compare).
#
# Starts every target once, then for each workload runs the rounds interleaved (fastchat nats redis signalr raw,
# fastchat nats ...), so that the machine's drift hits every target alike; reports medians and spreads of the rounds
# and FastChat's ratio to each target. fastchat speaks the protocol directly; fastchat-sdk (only when asked for) is the
# same server through the client SDK. Stops every server it started, however it exits. See bench/compare/README.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/bench/compare"

usage() {
  cat <<'EOF'
usage: bench/compare/run.sh [options]
  --quick             a smoke test: 1 round, 1 s measured after 0.5 s warm-up, small sizes for the big workloads
  --targets LIST      comma-separated, from fastchat,fastchat-sdk,nats,redis,signalr,raw
                      (default: fastchat,nats,redis,signalr,raw; fastchat-sdk is FastChat through its client SDK)
  --workloads LIST    comma-separated, from dm-p1-64,dm-p16-64,dm-p256-64,dm-p1-1k,dm-p16-1k,dm-p256-1k,
                      group-g10,group-g100,group-g1000,pingpong (default: all)
  --rounds N          rounds per workload and target, interleaved (default 3; medians need at least 3)
  --seconds T         measured seconds per run (default 3)
  --warmup T          unmeasured seconds before each run's window (default 1)
  --no-install        never apt-get install nats-server / redis-server (targets whose server is missing are skipped)
  --update-docs       also replace the comparison section of docs/benchmarks.md with this run's report
  -h, --help          this text
EOF
}

targets="fastchat,nats,redis,signalr,raw"
workloads="dm-p1-64,dm-p16-64,dm-p256-64,dm-p1-1k,dm-p16-1k,dm-p256-1k,group-g10,group-g100,group-g1000,pingpong"
rounds=3
seconds=3
warmup=1
quick=0
install=1
update_docs=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; rounds=1; seconds=1; warmup=0.5 ;;
    --targets) targets="$2"; shift ;;
    --workloads) workloads="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --no-install) install=0 ;;
    --update-docs) update_docs=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case "$rounds" in ''|*[!0-9]*|0) echo "run.sh: --rounds must be a positive whole number" >&2; exit 2 ;; esac

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log() { printf '== %s\n' "$*" >&2; }
has_target() { case ",$targets," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
drop_target() { targets="$(printf '%s' ",$targets," | sed "s/,$1,/,/; s/^,//; s/,\$//")"; }

# --- Servers from Debian ----------------------------------------------------------------------------------------
need_packages=()
if has_target nats && ! command -v nats-server >/dev/null 2>&1; then need_packages+=(nats-server); fi
if has_target redis && ! command -v redis-server >/dev/null 2>&1; then need_packages+=(redis-server); fi
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$install" -eq 1 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${need_packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
  fi
  # Debian puts nats-server in /usr/sbin, which a non-root PATH may lack.
  export PATH="$PATH:/usr/sbin:/sbin"
  for package in "${need_packages[@]}"; do
    if ! command -v "$package" >/dev/null 2>&1; then
      log "skipping ${package%-server}: $package is not installed (run as root, or apt-get install $package)"
      drop_target "${package%-server}"
    fi
  done
fi
[ -n "$targets" ] || { echo "run.sh: no target left to run" >&2; exit 1; }

# --- Build ------------------------------------------------------------------------------------------------------
log "building (Release)"
for project in src/FastChat.Cli bench/compare/FastChat.Compare bench/compare/FastChat.Compare.Raw bench/compare/FastChat.Compare.SignalR; do
  dotnet build "$root/$project" -c Release -v quiet -nologo >/dev/null || { echo "run.sh: building $project failed" >&2; exit 1; }
done
generator="$here/FastChat.Compare/bin/Release/net10.0/fastchat-compare.dll"

# --- Start every target -----------------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/fastchat-compare.XXXXXX")"
declare -A pid endpoint
stop_all() {
  for name in "${!pid[@]}"; do
    kill "${pid[$name]}" 2>/dev/null || true
  done
  for name in "${!pid[@]}"; do
    # Give each a moment to stop cleanly, then make sure.
    for _ in $(seq 50); do kill -0 "${pid[$name]}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pid[$name]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port
  for _ in $(seq 100); do
    port=$(( 20000 + RANDOM % 40000 ))
    if port_free "$port"; then echo "$port"; return 0; fi
  done
  echo "run.sh: no free port found" >&2; return 1
}
# wait_for NAME FILE PATTERN: until FILE has a line matching PATTERN (the server's "listening" line), or 60 s.
wait_for() {
  for _ in $(seq 600); do
    if grep -qE "$3" "$2" 2>/dev/null; then return 0; fi
    kill -0 "${pid[$1]}" 2>/dev/null || { echo "run.sh: $1 exited while starting:" >&2; tail -20 "$2" >&2; return 1; }
    sleep 0.1
  done
  echo "run.sh: $1 did not start within 60 s:" >&2; tail -20 "$2" >&2; return 1
}
wait_port() {
  for _ in $(seq 600); do
    if ! port_free "$2"; then return 0; fi
    kill -0 "${pid[$1]}" 2>/dev/null || { echo "run.sh: $1 exited while starting" >&2; return 1; }
    sleep 0.1
  done
  echo "run.sh: $1 did not listen on $2 within 60 s" >&2; return 1
}

if has_target fastchat || has_target fastchat-sdk; then
  # One chat server in one process, so the CPU time is one pid's; large groups allowed for G=1000 (plus senders).
  # fastchat and fastchat-sdk are two clients of the same server.
  FastChat__Server__GroupMemberLimit=2000 dotnet "$root/src/FastChat.Cli/bin/Release/net10.0/fastchat.dll" serve \
    --data "$work/fastchat" --port 0 --servers 1 >"$work/fastchat.log" 2>&1 &
  pid[fastchat]=$!
  wait_for fastchat "$work/fastchat.log" '^fastchat: ready'
  endpoint[fastchat]="$(grep -oE 'balancer listening on [0-9.]+:[0-9]+' "$work/fastchat.log" | head -1 | awk '{print $4}')"
  pid[fastchat-sdk]="${pid[fastchat]}"
  endpoint[fastchat-sdk]="${endpoint[fastchat]}"
fi
if has_target nats; then
  port="$(free_port)"
  nats-server -a 127.0.0.1 -p "$port" >"$work/nats.log" 2>&1 &
  pid[nats]=$!
  wait_port nats "$port"
  endpoint[nats]="127.0.0.1:$port"
fi
if has_target redis; then
  port="$(free_port)"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
  pid[redis]=$!
  wait_port redis "$port"
  endpoint[redis]="127.0.0.1:$port"
fi
if has_target signalr; then
  dotnet "$here/FastChat.Compare.SignalR/bin/Release/net10.0/fastchat-compare-signalr.dll" --port 0 >"$work/signalr.log" 2>&1 &
  pid[signalr]=$!
  wait_for signalr "$work/signalr.log" 'listening on'
  endpoint[signalr]="$(grep -oE 'listening on [0-9.]+:[0-9]+' "$work/signalr.log" | head -1 | awk '{print $3}')"
fi
if has_target raw; then
  dotnet "$here/FastChat.Compare.Raw/bin/Release/net10.0/fastchat-compare-raw.dll" --port 0 >"$work/raw.log" 2>&1 &
  pid[raw]=$!
  wait_for raw "$work/raw.log" 'listening on'
  endpoint[raw]="$(grep -oE 'listening on [0-9.]+:[0-9]+' "$work/raw.log" | head -1 | awk '{print $3}')"
fi
for name in "${!endpoint[@]}"; do log "$name on ${endpoint[$name]} (pid ${pid[$name]})"; done

# --- Workloads --------------------------------------------------------------------------------------------------
# The issue's set: dm P=1/16/256 at 64 B and 1 KiB (window 64 per pair), group G=10/100/1000 at 256 B (4 senders,
# window 16 each), pingpong 64 B. --quick shrinks only the two largest so a smoke test stays short.
workload_args() {
  case "$1" in
    dm-p1-64) echo "--workload dm --pairs 1 --size 64 --window 64" ;;
    dm-p16-64) echo "--workload dm --pairs 16 --size 64 --window 64" ;;
    dm-p256-64) echo "--workload dm --pairs $([ "$quick" -eq 1 ] && echo 64 || echo 256) --size 64 --window 64" ;;
    dm-p1-1k) echo "--workload dm --pairs 1 --size 1024 --window 64" ;;
    dm-p16-1k) echo "--workload dm --pairs 16 --size 1024 --window 64" ;;
    dm-p256-1k) echo "--workload dm --pairs $([ "$quick" -eq 1 ] && echo 64 || echo 256) --size 1024 --window 64" ;;
    group-g10) echo "--workload group --group-size 10 --senders 4 --size 256 --window 16" ;;
    group-g100) echo "--workload group --group-size 100 --senders 4 --size 256 --window 16" ;;
    group-g1000) echo "--workload group --group-size $([ "$quick" -eq 1 ] && echo 200 || echo 1000) --senders 4 --size 256 --window 16" ;;
    pingpong) echo "--workload pingpong --pairs 1 --size 64" ;;
    *) echo "run.sh: unknown workload '$1'" >&2; return 1 ;;
  esac
}

clock_ticks="$(getconf CLK_TCK 2>/dev/null || echo 100)"
results="$work/results.jsonl"
: >"$results"
IFS=',' read -r -a target_list <<<"$targets"
IFS=',' read -r -a workload_list <<<"$workloads"
for workload in "${workload_list[@]}"; do workload_args "$workload" >/dev/null || exit 2; done
for workload in "${workload_list[@]}"; do
  for round in $(seq "$rounds"); do
    for target in "${target_list[@]}"; do
      log "$workload round $round/$rounds: $target"
      # shellcheck disable=SC2046 # the workload's arguments are meant to split
      if ! timeout 600 dotnet "$generator" --target "$target" --endpoint "${endpoint[$target]}" $(workload_args "$workload") \
          --seconds "$seconds" --warmup "$warmup" --server-pid "${pid[$target]}" --clock-ticks "$clock_ticks" \
          >"$work/run.json" 2>"$work/run.err"; then
        # Exit code 3 still printed a result (an unhealthy one: it is kept and flagged); anything else did not.
        if [ ! -s "$work/run.json" ]; then
          log "$target $workload failed: $(tail -3 "$work/run.err")"
          continue
        fi
        log "$target $workload: unhealthy run (lost, duplicated or refused messages) - kept and flagged"
      fi
      cat "$work/run.json" >>"$results"
    done
  done
done

# --- Report -----------------------------------------------------------------------------------------------------
stamp="$(date -u +%Y-%m-%dT%H-%M-%SZ)"
mkdir -p "$here/results"
report="$here/results/$stamp.md"
cpu_model="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
version_of() { "$@" 2>/dev/null | head -1 || true; }
{
  echo "## FastChat compared with NATS, Redis, SignalR and a raw forwarder ($stamp)"
  echo
  echo "- Machine: ${cpu_model:-unknown CPU}, $(nproc) cores, $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GB RAM"}'), $(uname -sr)"
  echo "- Runtime: .NET SDK $(dotnet --version); commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with local changes)')"
  has_target nats && echo "- nats-server: $(version_of nats-server --version | sed 's/^nats-server: //')"
  has_target redis && echo "- redis-server: $(version_of redis-server --version | sed 's/ sha=.*//')"
  echo "- Run: $rounds round(s) per workload and target, interleaved; ${seconds} s measured after ${warmup} s warm-up; everything on loopback, load generator on the same machine; FastChat is \`fastchat serve --servers 1\` (SQLite) and its numbers include its acknowledgements; fastchat speaks its protocol directly, fastchat-sdk goes through its client SDK"
  echo
  dotnet "$generator" report "$results"
  echo
  echo "Raw results: one JSON line per run, below."
  echo
  echo '```'
  cat "$results"
  echo '```'
} >"$report"
sed '/^Raw results/,$d' "$report"
log "report written to ${report#"$root"/}"

if [ "$update_docs" -eq 1 ]; then
  docs="$root/docs/benchmarks.md"
  begin='<!-- compare:begin -->'
  end='<!-- compare:end -->'
  section="$(printf '%s\n' "$begin"; sed '/^Raw results/,$d' "$report"; printf '%s\n' "$end")"
  if grep -qF "$begin" "$docs"; then
    # Replace what is between the markers (inclusive) with this run's section.
    printf '%s\n' "$section" >"$work/section.md"
    awk -v begin="$begin" -v end="$end" -v file="$work/section.md" '
      $0 == begin { while ((getline line < file) > 0) print line; skip = 1; next }
      $0 == end { skip = 0; next }
      !skip { print }' "$docs" >"$work/docs.md"
    cp "$work/docs.md" "$docs"
  else
    printf '\n%s\n' "$section" >>"$docs"
  fi
  log "docs/benchmarks.md updated"
fi
