#!/bin/sh
# Regenerates the demo prompts (8 kHz mono 16-bit PCM WAV, what rtpengine plays without
# transcoding to G.711) with espeak-ng and sox. Usage: make-prompts.sh [name.wav ...] (default: all).
# Keep each file under 50 KB: fast speech, silence trimmed at both ends.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

speak() { # file text
  espeak-ng -v en-us -s 190 -g 0 -w "$tmp/raw.wav" "$2"
  sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 "$1" silence 1 0.05 0.5% reverse silence 1 0.05 0.5% reverse norm -3
}

make() {
  case "$1" in
    recording-notice.wav) speak "$1" "This call may be recorded for quality purposes." ;;
    ivr-menu.wav) speak "$1" "For sales, press 1. For support, press 2." ;;
    closed.wav) speak "$1" "We are closed now. Please leave a message after the tone." ;;
    press-one.wav) speak "$1" "To be connected, please press 1." ;;
    goodbye.wav) speak "$1" "Thank you for calling. Goodbye." ;;
    beep.wav) sox -n -r 8000 -c 1 -b 16 "$1" synth 0.4 sine 1000 vol 0.5 ;;
    music.wav) # what queued callers hear between announcements: a soft, looping four-note phrase
      for n in 523.25 659.25 783.99 659.25; do sox -n -r 8000 -c 1 -b 16 "$tmp/$n.wav" synth 0.6 sine "$n" fade q 0.05 0.6 0.2 vol 0.3; done
      sox "$tmp/523.25.wav" "$tmp/659.25.wav" "$tmp/783.99.wav" "$tmp/659.25.wav" "$1" ;;
    *) echo "unknown prompt $1" >&2; exit 2 ;;
  esac
  echo "$1: $(wc -c < "$1") bytes"
}

if [ $# -eq 0 ]; then set -- recording-notice.wav ivr-menu.wav closed.wav press-one.wav goodbye.wav beep.wav music.wav; fi
for f in "$@"; do make "$f"; done
# The name API.md's example dialplan uses, for the same notice.
ln -sf recording-notice.wav recordings-notice.wav
