complete --keep-order --exclusive --command do --arguments "(COMPLETE=fish do -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
