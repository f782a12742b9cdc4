#!/bin/sh
# Sluice runs this with the event as its last argument (and on stdin); what it prints is kept
# with the run: see `./sluice handlers runs --handler alert`.
for event; do :; done
echo "ALERT (event $SLUICE_EVENT_ID at offset $SLUICE_OFFSET): $event"
