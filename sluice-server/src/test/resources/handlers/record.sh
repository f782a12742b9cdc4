#!/bin/sh
# Writes the event (the last argument) to the file named by the first argument, and what
# came on stdin beside it; prints a line on stdout for the run's record.
out="$1"
for last in "$@"; do :; done
printf '%s' "$last" > "$out.tmp" && mv "$out.tmp" "$out"
cat > "$out.stdin"
printf '%s %s %s %s\n' "$SLUICE_EVENT_ID" "$SLUICE_EVENT_TYPE" "$SLUICE_OFFSET" "$SLUICE_HANDLER" > "$out.env"
echo "recorded $SLUICE_EVENT_ID"
