#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on loopback (Debian's munge and
# slurm-wlm): a private munged, slurmctld and slurmd, with every config, key,
# socket, spool, state, log and pid file inside one folder and free TCP ports
# picked at start-up, so it clashes neither with a system Slurm nor with
# another run. Needs root (SlurmUser=root); no cgroups, no systemd.
#
#   tests/slurm/local_cluster.sh up DIR     start it; exits 0 once the node is idle
#   tests/slurm/local_cluster.sh down DIR   cancel its jobs, stop its daemons, wait for them
#
# or source this file and call slurm_cluster_up DIR / slurm_cluster_down DIR
# (and slurm_cluster_watch DIR $$ to have it stopped even if the caller is
# killed with SIGKILL).
# DIR must be empty or absent for up; down leaves DIR (logs) for the caller to
# remove. With SLURM_CONF=DIR/slurm.conf exported, sbatch, squeue, sinfo and
# scontrol talk to this cluster.

SLURM_CLUSTER_NODE=movlnode
SLURM_CLUSTER_TEMPLATE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/slurm.conf.in"

# The local TCP ports in use (any state), one per line, from /proc/net.
slurm_cluster_used_ports() {
  local f local_address
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] || continue
    while read -r _ local_address _; do
      [ "$local_address" = local_address ] || echo $((16#${local_address##*:}))
    done <"$f"
  done
}

# slurm_cluster_free_port [PORT...]: a random port in 20000..59999 that is
# neither in use nor one of PORT.
slurm_cluster_free_port() {
  local used port _
  used=" $(slurm_cluster_used_ports | tr '\n' ' ') $* "
  for _ in $(seq 200); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    [[ $used == *" $port "* ]] || {
      echo "$port"
      return 0
    }
  done
  return 1
}

# slurm_cluster_logs DIR: the last lines of each daemon's log, for failures.
slurm_cluster_logs() {
  local log
  for log in "$1"/munge/munged.log "$1"/slurmctld.log "$1"/slurmd.log; do
    [ -f "$log" ] || continue
    echo "---- last lines of $log"
    tail -n 15 "$log"
  done
}

# slurm_cluster_pid DIR NAME: the pid in DIR's pid file of daemon NAME, when
# that process is still NAME (a stale file's pid may belong to anything now).
slurm_cluster_pid() {
  local file pid
  case $2 in
    munged) file=$1/munge/munged.pid ;;
    *) file=$1/$2.pid ;;
  esac
  pid=$(cat "$file" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && echo "$pid"
}

# slurm_cluster_wait SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
slurm_cluster_wait() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
}

slurm_cluster_node_idle() {
  [ "$(SLURM_CONF="$1/slurm.conf" sinfo -h -N -n "$SLURM_CLUSTER_NODE" -o %T 2>/dev/null)" = idle ]
}

slurm_cluster_munge_ok() {
  munge -n -S "$1/munge/munge.socket" 2>/dev/null | unmunge -S "$1/munge/munge.socket" >/dev/null 2>&1
}

slurm_cluster_fail() {
  echo "local Slurm cluster in $1: $2" >&2
  slurm_cluster_logs "$1" >&2
  slurm_cluster_down "$1"
  return 1
}

slurm_cluster_up() {
  local dir=$1 tool node_line ctld_port slurmd_port
  for tool in munged munge unmunge slurmctld slurmd sinfo squeue scancel; do
    command -v "$tool" >/dev/null || {
      echo "local Slurm cluster: $tool is not installed (apt-get install munge slurmctld slurmd slurm-client)" >&2
      return 1
    }
  done
  [ -f "$SLURM_CLUSTER_TEMPLATE" ] || {
    echo "local Slurm cluster: $SLURM_CLUSTER_TEMPLATE is missing" >&2
    return 1
  }
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    echo "local Slurm cluster: $dir is not empty (expected a fresh folder)" >&2
    return 1
  fi
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" || return 1
  dir=$(cd "$dir" && pwd) # the daemons chdir; every path in slurm.conf must be absolute
  [ ${#dir} -le 80 ] || { # a unix socket path holds at most 107 bytes
    echo "local Slurm cluster: $dir is too long for munge's socket path (at most 80 characters)" >&2
    return 1
  }
  # munged refuses keys and sockets that others could read or replace
  chmod 700 "$dir" "$dir/munge"
  (umask 077 && head -c 1024 /dev/urandom >"$dir/munge/munge.key") || return 1
  chmod 400 "$dir/munge/munge.key"
  # --force: tolerate a socket under a world-writable /tmp and running as root
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" 2>>"$dir/munge/munged.log" ||
    { slurm_cluster_fail "$dir" "munged did not start"; return 1; }
  slurm_cluster_wait 10 slurm_cluster_munge_ok "$dir" ||
    { slurm_cluster_fail "$dir" "munged does not answer on $dir/munge/munge.socket"; return 1; }

  # the node exactly as slurmd sees this machine, so it registers as valid
  node_line=$(slurmd -C 2>/dev/null | head -n 1)
  [[ $node_line == NodeName=* ]] ||
    { slurm_cluster_fail "$dir" "'slurmd -C' printed '$node_line' (expected NodeName=...)"; return 1; }
  node_line=$(sed -E "s/^NodeName=[^ ]+/NodeName=$SLURM_CLUSTER_NODE/" <<<"$node_line")
  if ! ctld_port=$(slurm_cluster_free_port) || ! slurmd_port=$(slurm_cluster_free_port "$ctld_port"); then
    slurm_cluster_fail "$dir" "no free TCP port found"
    return 1
  fi
  sed -e "s|@DIR@|$dir|g" -e "s|@CTLD_PORT@|$ctld_port|" -e "s|@SLURMD_PORT@|$slurmd_port|" \
    -e "s|@NODE_LINE@|$node_line|" -e "s|@NODE@|$SLURM_CLUSTER_NODE|" \
    "$SLURM_CLUSTER_TEMPLATE" >"$dir/slurm.conf" || return 1
  : >"$dir/plugstack.conf" # no SPANK plugins, whatever /etc/slurm holds

  slurmctld -f "$dir/slurm.conf" 2>>"$dir/slurmctld.log" ||
    { slurm_cluster_fail "$dir" "slurmctld did not start"; return 1; }
  slurmd -f "$dir/slurm.conf" -N "$SLURM_CLUSTER_NODE" 2>>"$dir/slurmd.log" ||
    { slurm_cluster_fail "$dir" "slurmd did not start"; return 1; }
  slurm_cluster_wait 30 slurm_cluster_node_idle "$dir" || {
    slurm_cluster_fail "$dir" "node $SLURM_CLUSTER_NODE not idle after 30 s (sinfo: $(SLURM_CONF="$dir/slurm.conf" sinfo -h -N -o '%N %T %E' 2>&1 | head -n 3))"
    return 1
  }
}

slurm_cluster_gone() {
  local pid
  for pid in "$@"; do
    [ -d "/proc/$pid" ] && return 1
  done
  return 0
}

slurm_cluster_no_jobs() {
  [ -z "$(SLURM_CONF="$1/slurm.conf" squeue -h -o %i 2>/dev/null)" ]
}

slurm_cluster_down() {
  local dir=$1 jobs pids=() pid name
  [ -d "$dir" ] || return 0
  if [ -f "$dir/slurm.conf" ] && slurm_cluster_pid "$dir" slurmctld >/dev/null; then
    # jobs first, so that no slurmstepd outlives the cluster
    jobs=$(SLURM_CONF="$dir/slurm.conf" squeue -h -o %i 2>/dev/null)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086 # one job id per word
      SLURM_CONF="$dir/slurm.conf" scancel $jobs 2>/dev/null
      slurm_cluster_wait 20 slurm_cluster_no_jobs "$dir" ||
        echo "local Slurm cluster in $dir: jobs still listed 20 s after scancel: $jobs" >&2
    fi
  fi
  for name in slurmd slurmctld munged; do
    pid=$(slurm_cluster_pid "$dir" "$name") || continue
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  [ ${#pids[@]} = 0 ] && return 0
  slurm_cluster_wait 15 slurm_cluster_gone "${pids[@]}" && return 0
  echo "local Slurm cluster in $dir: daemons ${pids[*]} still running 15 s after SIGTERM; sending SIGKILL" >&2
  kill -KILL "${pids[@]}" 2>/dev/null
  slurm_cluster_wait 5 slurm_cluster_gone "${pids[@]}"
}

# slurm_cluster_watch DIR PID: once process PID has ended, stop the cluster
# in DIR and remove DIR, from a process of its own. For callers that can be
# killed too hard to run their own clean-up (ctest's timeout sends SIGKILL to
# the test and its descendants: the double fork puts the watcher outside
# them). A caller that stops the cluster itself first leaves it nothing to do.
slurm_cluster_watch() {
  local dir=$1 owner=$2
  (
    (
      trap '' INT HUP # Ctrl-C and hang-ups are the owner's to handle
      while kill -0 "$owner" 2>/dev/null; do sleep 1; done
      slurm_cluster_down "$dir"
      rm -rf "$dir"
    ) </dev/null >/dev/null 2>&1 &
  )
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case ${1:-}:${2:-} in
    up:?*) slurm_cluster_up "$2" ;;
    down:?*) slurm_cluster_down "$2" ;;
    *)
      echo "usage: $0 up|down DIR" >&2
      exit 2
      ;;
  esac
fi
