#!/usr/bin/env bash
# The whole machine through its command line only (a new process for every command):
# 12 facts told in natural sentences, `logos sleep --cycles 3`, then 12 differently worded questions.
#   bash benchmarks/cli_acceptance.sh [STATE_DIR]     (default: a fresh temporary folder)
set -euo pipefail
STATE=${1:-$(mktemp -d)/state}
LOGOS=${LOGOS:-.venv/bin/logos}
# name | sentence | question (worded differently from the sentence and from the bank's templates) | answer
FACTS=(
"My friend Aria Velkari lives in Portland.|Which city is Aria Velkari's home?|Portland"
"My sister Dana Oberlin works as a nurse.|What is Dana Oberlin's job?|nurse"
"Tomas Reyvik plays the cello.|Which instrument is Tomas Reyvik's?|cello"
"Our neighbour Karl Ostrander drives a Volvo.|What car does Karl Ostrander have?|Volvo"
"Leila Marchetti studied marine biology at university.|What subject did Leila Marchetti study?|marine biology"
"Nadia Kovalenko was born in Casablanca.|What is Nadia Kovalenko's birthplace?|Casablanca"
"Jun Takahara's favourite food is ramen.|What food does Jun Takahara love most?|ramen"
"Mira Solvang has a pet iguana.|What animal does Mira Solvang keep as a pet?|iguana"
"Oscar Lindqvist loves playing badminton.|Which sport does Oscar Lindqvist enjoy most?|badminton"
"Ines Valmora speaks Portuguese.|Which language can Ines Valmora speak?|Portuguese"
"Felix Amundsen's favourite colour is orange.|Which colour does Felix Amundsen like best?|orange"
"Priya Raghunathan moved to Toronto.|In which city does Priya Raghunathan live now?|Toronto"
)
t0=$(date +%s)
for row in "${FACTS[@]}"; do
  IFS='|' read -r sentence question answer <<<"$row"
  $LOGOS remember "$sentence" --state "$STATE"
done
t1=$(date +%s)
$LOGOS sleep --cycles 3 --state "$STATE"
t2=$(date +%s)
hits=0
for row in "${FACTS[@]}"; do
  IFS='|' read -r sentence question answer <<<"$row"
  got=$($LOGOS ask "$question" --state "$STATE")
  if echo "$got" | grep -qi -- "$answer"; then hits=$((hits+1)); mark=ok; else mark=MISS; fi
  printf '%-4s %-55s -> %s\n' "$mark" "$question" "$got"
done
$LOGOS status --state "$STATE"
echo "answered $hits of ${#FACTS[@]}; wake $((t1-t0)) s for 12 facts, sleep $((t2-t1)) s for 3 cycles"
