//! The name this program was started as (`do` or `dowf`), so that every command it suggests can
//! be pasted back into the same shell: in bash and zsh `do …` is a syntax error.

use std::sync::OnceLock;

/// `dowf` when started as `dowf` (or a path ending in it), else `do`.
pub(crate) fn name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        std::env::args_os()
            .next()
            .as_deref()
            .map(std::path::Path::new)
            .and_then(|p| p.file_name())
            .map_or_else(|| "do".to_owned(), |n| n.to_string_lossy().into_owned())
    })
}

/// A command line to suggest: `command("workflow list")` is `dowf workflow list` when started
/// as `dowf`.
pub(crate) fn command(rest: &str) -> String {
    format!("{} {rest}", name())
}

/// A message from the daemon with its suggested commands (written `` `do …` ``, as the daemon
/// cannot know how its client was started) renamed to this program's name.
pub(crate) fn localize(message: &str) -> String {
    if name() == "do" {
        return message.to_owned();
    }
    message.replace("`do ", &format!("`{} ", name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_commands_take_this_programs_name() {
        // The test binary's own name is neither `do` nor `dowf`: whatever it is, it is used.
        let name = name();
        assert_eq!(
            localize("add it with `do agent add priya -- COMMAND…`"),
            format!("add it with `{name} agent add priya -- COMMAND…`")
        );
        assert_eq!(command("workflow list"), format!("{name} workflow list"));
        assert_eq!(localize("agent `dot` is unknown"), "agent `dot` is unknown");
    }
}
