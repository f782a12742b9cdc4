#!/bin/sh
# Appends the event's id to the file named by the first argument.
echo "$SLUICE_EVENT_ID" >> "$1"
