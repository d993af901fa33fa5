#!/usr/bin/env bash
# Stop what up.sh started: only the PIDs in the daemons' own pid files, then wipe the state.
set -u
ids=$(squeue -h -o %i 2>/dev/null || true)
if [ -n "$ids" ]; then
  scancel $ids
  timeout 30 bash -c 'while squeue -h 2>/dev/null | grep -q .; do sleep 0.5; done'
fi
pids=""
for f in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
  [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && pids="$pids $(cat "$f")"
done
[ -n "$pids" ] && kill $pids
alive=""
for _ in $(seq 100); do
  alive=""; for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
  [ -z "$alive" ] && break; sleep 0.1
done
[ -n "$alive" ] && kill -9 $alive
rm -rf /var/spool/slurmctld /var/spool/slurmd
exit 0
