#!/bin/sh
# Starts a child that sleeps, writes its pid to the file named by the first argument, and
# sleeps itself: only killing the whole tree stops both.
sleep 300 &
echo $! > "$1"
sleep 300
