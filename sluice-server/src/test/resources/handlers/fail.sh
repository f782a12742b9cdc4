#!/bin/sh
# Fails with exit code 3 until the file named by the first argument exists.
if [ -f "$1" ]; then
  echo "fixed"
  exit 0
fi
echo "disk on fire" >&2
exit 3
