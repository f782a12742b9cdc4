#!/bin/sh
# Appends the start and end time (nanoseconds) of this run, with the event's offset, to the
# file named by the first argument.
echo "start $(date +%s%N) $SLUICE_OFFSET" >> "$1"
sleep 0.05
echo "end $(date +%s%N) $SLUICE_OFFSET" >> "$1"
