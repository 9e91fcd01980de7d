//! `do team …`: groups of agents that `team` steps run on.

use crate::context::Context;
use crate::exit::SUCCESS;
use crate::render::{print_json, print_list, short_time};
use clap::{Args, Subcommand};
use do_core::model::{TeamSpec, TeamStrategy};
use do_proto::{ById, CreateTeam, Empty, Request, TeamData};
use serde_json::Value;
use std::io::Write;

#[derive(Debug, Subcommand)]
pub(crate) enum TeamCommand {
    /// Define a team: a `team` step with this `teamId` runs on one of its members.
    #[command(
        after_help = "Example:\n  dowf team create engineering --members tom,rae,quinn --strategy round-robin"
    )]
    Create(CreateArgs),
    /// List teams.
    List,
    /// Show one team.
    Show(IdArgs),
    /// Remove a team.
    Remove(IdArgs),
}

pub(crate) fn run(ctx: &Context, command: TeamCommand) -> anyhow::Result<u8> {
    match command {
        TeamCommand::Create(args) => cmd_create(ctx, args),
        TeamCommand::List => cmd_list(ctx),
        TeamCommand::Show(args) => cmd_show(ctx, &args),
        TeamCommand::Remove(args) => cmd_remove(ctx, &args),
    }
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The team's id, as `team` steps name it in `teamId`.
    id: String,
    /// Registered agents, comma-separated.
    #[arg(long, value_delimiter = ',', required = true, add = crate::complete::agent_names())]
    members: Vec<String>,
    /// How a step picks its member: in turn, the one with fewest running steps, or at random.
    #[arg(
        long,
        default_value = "round-robin",
        value_parser = crate::cli::one_of::<TeamStrategy>(
            TeamStrategy::ALL.iter().map(|s| s.as_str())
        )
    )]
    strategy: TeamStrategy,
    /// Replace an existing team of the same id.
    #[arg(long)]
    replace: bool,
}

fn cmd_create(ctx: &Context, args: CreateArgs) -> anyhow::Result<u8> {
    let team = TeamSpec {
        id: args.id,
        members: args.members,
        strategy: args.strategy,
    };
    let created: TeamData = ctx.client()?.call(Request::CreateTeam(CreateTeam {
        team,
        replace: args.replace,
    }))?;
    if ctx.json {
        print_json(&created)?;
    } else if !ctx.quiet {
        writeln!(
            std::io::stdout(),
            "Created team {} ({}, {}).",
            created.spec.id,
            created.spec.members.join(", "),
            created.spec.strategy
        )?;
    }
    Ok(SUCCESS)
}

fn cmd_list(ctx: &Context) -> anyhow::Result<u8> {
    let teams: Vec<TeamData> = ctx.client()?.call(Request::ListTeams(Empty {}))?;
    print_list(
        ctx,
        &teams,
        &format!(
            "No teams. Define one with `{}`.",
            crate::program::command("team create ID --members a,b")
        ),
        &["ID", "STRATEGY", "MEMBERS", "CREATED"],
        |team| {
            vec![
                team.spec.id.clone(),
                team.spec.strategy.to_string(),
                team.spec.members.join(", "),
                short_time(&team.created_at),
            ]
        },
    )
}

#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// The team's id.
    #[arg(add = crate::complete::team_ids())]
    id: String,
}

fn cmd_show(ctx: &Context, args: &IdArgs) -> anyhow::Result<u8> {
    let team: TeamData = ctx.client()?.call(Request::GetTeam(ById {
        id: args.id.clone(),
    }))?;
    if ctx.json {
        print_json(&team)?;
    } else if ctx.quiet {
        writeln!(std::io::stdout(), "{}", team.spec.id)?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}  ({})", team.spec.id, team.spec.strategy)?;
        writeln!(out, "members: {}", team.spec.members.join(", "))?;
        writeln!(out, "created: {}", short_time(&team.created_at))?;
    }
    Ok(SUCCESS)
}

fn cmd_remove(ctx: &Context, args: &IdArgs) -> anyhow::Result<u8> {
    let answer: Value = ctx.client()?.call(Request::RemoveTeam(ById {
        id: args.id.clone(),
    }))?;
    if ctx.json {
        print_json(&answer)?;
    } else if !ctx.quiet {
        writeln!(std::io::stdout(), "Removed team {}.", args.id)?;
    }
    Ok(SUCCESS)
}
