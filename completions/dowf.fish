# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dowf_global_optspecs
    string join \n json socket= data-dir= h/help V/version
end

function __fish_dowf_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dowf_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dowf_using_subcommand
    set -l cmd (__fish_dowf_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dowf -n "__fish_dowf_needs_command" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_needs_command" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_needs_command" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dowf -n "__fish_dowf_needs_command" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_needs_command" -f -a "workflow" -d 'Create, inspect and execute workflows, and follow their executions'
complete -c dowf -n "__fish_dowf_needs_command" -f -a "agent" -d 'Register the programs that run steps'
complete -c dowf -n "__fish_dowf_needs_command" -f -a "team" -d 'Group agents into teams that `team` steps run on'
complete -c dowf -n "__fish_dowf_needs_command" -f -a "daemon" -d 'Start, stop and inspect the background daemon'
complete -c dowf -n "__fish_dowf_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c dowf -n "__fish_dowf_needs_command" -f -a "man" -d 'Print the man page (`dowf man | man -l -`)'
complete -c dowf -n "__fish_dowf_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "create" -d 'Store a workflow document (JSON or YAML) and print its id'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "validate" -d 'Check a workflow document and report every problem, without storing it'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "list" -d 'List stored workflows, newest first'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "show" -d 'Show a workflow and its steps'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "execute" -d 'Start an execution of a workflow'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "execution" -d 'Show the status of one execution: every step with its status, agent, duration, output'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "executions" -d 'List executions, newest first'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "cancel" -d 'Cancel an execution: its running steps are ended (their whole process groups)'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "pause" -d 'Pause an execution: no new step starts; running steps finish'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "resume" -d 'Resume a paused execution'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "retry" -d 'Run a failed step of a failed or escalated execution again, and continue from there'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "logs" -d 'Print what steps wrote on stderr (their logs), every attempt, oldest first'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and not __fish_seen_subcommand_from create validate list show execute execution executions cancel pause resume retry logs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from create" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from create" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from create" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from list" -l status -d 'Only workflows with this status' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from list" -l category -d 'Only workflows of this category' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from list" -l limit -d 'At most this many' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from list" -l offset -d 'Skip this many (for paging)' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from list" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from list" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from show" -l graph -d 'Draw the step tree instead: an indented tree, a Mermaid flowchart or a Graphviz digraph (`| dot -Tsvg > workflow.svg`)' -r -f -a "tree\t''
mermaid\t''
dot\t''"
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from show" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from show" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from show" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l input -d 'The execution input, a JSON object; steps read it as `input.KEY`' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l input-file -d 'Read the execution input from a JSON file (`-` for standard input)' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l priority -d 'Ready steps of higher-priority executions start first' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l notify-webhook -d 'POST each notification (the event JSON) to this URL' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l notify-command -d 'Run this shell command for each notification, with the event JSON on stdin' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l notify-slack -d 'Post notifications to Slack: an incoming-webhook URL, or a #channel mapped in config' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l notify-email -d 'Mail notifications to this address (through the configured sendmail command)' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l wait -d 'Wait for the execution to end; exit 0 when it completed, 1 otherwise'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l dry-run -d 'Print the plan (what runs in which order, what runs in parallel, which inputs each step gets) and run nothing'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execute" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execution" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execution" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execution" -l wait -d 'Wait for the execution to end; exit 0 when it completed, 1 otherwise'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execution" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execution" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from execution" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from executions" -l workflow -d 'Only executions of this workflow' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from executions" -l status -d 'Only executions with this status' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from executions" -l limit -d 'At most this many' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from executions" -l offset -d 'Skip this many (for paging)' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from executions" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from executions" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from executions" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from executions" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from executions" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -l reason -d 'Why; kept in the execution\'s status document' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from pause" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from pause" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from pause" -l wait -d 'Wait for the execution to end; exit 0 when it completed, 1 otherwise'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from pause" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from pause" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from resume" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from resume" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from resume" -l wait -d 'Wait for the execution to end; exit 0 when it completed, 1 otherwise'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from resume" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from retry" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from retry" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from retry" -l wait -d 'Wait for the execution to end; exit 0 when it completed, 1 otherwise'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from retry" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from retry" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from retry" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from logs" -l attempt -d 'Only this attempt of the step(s)' -r
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from logs" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from logs" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from logs" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from logs" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "create" -d 'Store a workflow document (JSON or YAML) and print its id'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check a workflow document and report every problem, without storing it'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "list" -d 'List stored workflows, newest first'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a workflow and its steps'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "execute" -d 'Start an execution of a workflow'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "execution" -d 'Show the status of one execution: every step with its status, agent, duration, output'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "executions" -d 'List executions, newest first'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Cancel an execution: its running steps are ended (their whole process groups)'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Pause an execution: no new step starts; running steps finish'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Resume a paused execution'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "retry" -d 'Run a failed step of a failed or escalated execution again, and continue from there'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "logs" -d 'Print what steps wrote on stderr (their logs), every attempt, oldest first'
complete -c dowf -n "__fish_dowf_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -f -a "add" -d 'Register an agent: a program run with fixed arguments, or a shell script'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -f -a "list" -d 'List registered agents'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -f -a "show" -d 'Show one agent'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -f -a "remove" -d 'Remove an agent'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and not __fish_seen_subcommand_from add list show remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l shell -d 'A script run by `sh -c`; it reads the task from stdin or $DO_TASK' -r
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l env -d 'Environment variables for the agent, `KEY=VALUE` (repeatable)' -r
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l secret-env -d 'A secret variable for the agent (repeatable): KEY takes the value of the daemon\'s own KEY when a step starts, KEY=@FILE the content of FILE. Only the name and the file\'s path are stored, never the value' -r
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l cwd -d 'Working directory [default: the execution\'s workspace]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l description -d 'What the agent is for' -r
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l concurrency -d 'Most steps this agent runs at once, across all executions' -r
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l replace -d 'Replace an existing agent of the same name'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from list" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from list" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from show" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from show" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from show" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from remove" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from remove" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from remove" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from help" -f -a "add" -d 'Register an agent: a program run with fixed arguments, or a shell script'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from help" -f -a "list" -d 'List registered agents'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one agent'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove an agent'
complete -c dowf -n "__fish_dowf_using_subcommand agent; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -f -a "create" -d 'Define a team: a `team` step with this `teamId` runs on one of its members'
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -f -a "list" -d 'List teams'
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -f -a "show" -d 'Show one team'
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -f -a "remove" -d 'Remove a team'
complete -c dowf -n "__fish_dowf_using_subcommand team; and not __fish_seen_subcommand_from create list show remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from create" -l members -d 'Registered agents, comma-separated' -r
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from create" -l strategy -d 'How a step picks its member: in turn, the one with fewest running steps, or at random' -r
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from create" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from create" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from create" -l replace -d 'Replace an existing team of the same id'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from create" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from list" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from list" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from show" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from show" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from show" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from remove" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from remove" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from remove" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from help" -f -a "create" -d 'Define a team: a `team` step with this `teamId` runs on one of its members'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from help" -f -a "list" -d 'List teams'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one team'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a team'
complete -c dowf -n "__fish_dowf_using_subcommand team; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -f -a "run" -d 'Run the daemon in the foreground (logs on stderr; DO_LOG sets the level)'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -f -a "start" -d 'Start the daemon in the background (its log goes to DATA_DIR/daemon.log)'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -f -a "stop" -d 'Stop the daemon: no new step starts, running steps finish, then it exits'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -f -a "status" -d 'Tell whether the daemon runs, and what it is doing'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -f -a "api-key" -d 'Print the HTTP API\'s key (DATA_DIR/api-key), creating it if there is none'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status api-key help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from run" -l max-parallel -d 'Steps running at once across all executions [default: number of CPUs]' -r
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from run" -l http -d 'Also serve the HTTP API on ADDR [default ADDR: 127.0.0.1:7878; config: daemon.http]' -r
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from run" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from run" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from run" -l notify-ready -d 'Print `ready` on stdout once the socket listens (used by `daemon start`)'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from run" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from start" -l http -d 'Also serve the HTTP API on ADDR [default ADDR: 127.0.0.1:7878; config: daemon.http]' -r
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from start" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from start" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from start" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l now -d 'Don\'t wait: end running steps now (each runs again when the daemon next starts)'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from status" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from status" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from status" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from api-key" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from api-key" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from api-key" -l rotate -d 'Replace the key with a new random one; the old one stops working at once'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from api-key" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from api-key" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from api-key" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the daemon in the foreground (logs on stderr; DO_LOG sets the level)'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "start" -d 'Start the daemon in the background (its log goes to DATA_DIR/daemon.log)'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the daemon: no new step starts, running steps finish, then it exits'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "status" -d 'Tell whether the daemon runs, and what it is doing'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "api-key" -d 'Print the HTTP API\'s key (DATA_DIR/api-key), creating it if there is none'
complete -c dowf -n "__fish_dowf_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand completions" -l name -d 'The program name to complete (`do` or `dowf`)' -r
complete -c dowf -n "__fish_dowf_using_subcommand completions" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand completions" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand completions" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand completions" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand completions" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand man" -l socket -d 'The daemon\'s socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when `--data-dir` is given]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand man" -l data-dir -d 'Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`]' -r -F
complete -c dowf -n "__fish_dowf_using_subcommand man" -l json -d 'Print machine-readable JSON (the API\'s `data`) instead of tables'
complete -c dowf -n "__fish_dowf_using_subcommand man" -s h -l help -d 'Print help'
complete -c dowf -n "__fish_dowf_using_subcommand man" -s V -l version -d 'Print version'
complete -c dowf -n "__fish_dowf_using_subcommand help; and not __fish_seen_subcommand_from workflow agent team daemon completions man help" -f -a "workflow" -d 'Create, inspect and execute workflows, and follow their executions'
complete -c dowf -n "__fish_dowf_using_subcommand help; and not __fish_seen_subcommand_from workflow agent team daemon completions man help" -f -a "agent" -d 'Register the programs that run steps'
complete -c dowf -n "__fish_dowf_using_subcommand help; and not __fish_seen_subcommand_from workflow agent team daemon completions man help" -f -a "team" -d 'Group agents into teams that `team` steps run on'
complete -c dowf -n "__fish_dowf_using_subcommand help; and not __fish_seen_subcommand_from workflow agent team daemon completions man help" -f -a "daemon" -d 'Start, stop and inspect the background daemon'
complete -c dowf -n "__fish_dowf_using_subcommand help; and not __fish_seen_subcommand_from workflow agent team daemon completions man help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c dowf -n "__fish_dowf_using_subcommand help; and not __fish_seen_subcommand_from workflow agent team daemon completions man help" -f -a "man" -d 'Print the man page (`dowf man | man -l -`)'
complete -c dowf -n "__fish_dowf_using_subcommand help; and not __fish_seen_subcommand_from workflow agent team daemon completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "create" -d 'Store a workflow document (JSON or YAML) and print its id'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "validate" -d 'Check a workflow document and report every problem, without storing it'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "list" -d 'List stored workflows, newest first'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "show" -d 'Show a workflow and its steps'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "execute" -d 'Start an execution of a workflow'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "execution" -d 'Show the status of one execution: every step with its status, agent, duration, output'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "executions" -d 'List executions, newest first'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "cancel" -d 'Cancel an execution: its running steps are ended (their whole process groups)'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "pause" -d 'Pause an execution: no new step starts; running steps finish'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "resume" -d 'Resume a paused execution'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "retry" -d 'Run a failed step of a failed or escalated execution again, and continue from there'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "logs" -d 'Print what steps wrote on stderr (their logs), every attempt, oldest first'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from agent" -f -a "add" -d 'Register an agent: a program run with fixed arguments, or a shell script'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from agent" -f -a "list" -d 'List registered agents'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from agent" -f -a "show" -d 'Show one agent'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from agent" -f -a "remove" -d 'Remove an agent'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from team" -f -a "create" -d 'Define a team: a `team` step with this `teamId` runs on one of its members'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from team" -f -a "list" -d 'List teams'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from team" -f -a "show" -d 'Show one team'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from team" -f -a "remove" -d 'Remove a team'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "run" -d 'Run the daemon in the foreground (logs on stderr; DO_LOG sets the level)'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "start" -d 'Start the daemon in the background (its log goes to DATA_DIR/daemon.log)'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "stop" -d 'Stop the daemon: no new step starts, running steps finish, then it exits'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "status" -d 'Tell whether the daemon runs, and what it is doing'
complete -c dowf -n "__fish_dowf_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "api-key" -d 'Print the HTTP API\'s key (DATA_DIR/api-key), creating it if there is none'
