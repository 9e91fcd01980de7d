#!/bin/sh
# Stands in for a research agent: reads the task on stdin, answers with a line of text.
task=$(cat)
echo "Research notes for: $task (market: $(printf '%s' "$DO_EXECUTION_INPUT" | sed -n 's/.*"targetMarket":"\([^"]*\)".*/\1/p'))"
