complete --keep-order --exclusive --command dowf --arguments "(COMPLETE=fish dowf -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
