//! Agents and teams: reads, registration, removal, and a team's round-robin cursor.

use super::columns::{Columns, to_json};
use super::{SqliteStore, SqliteTx};
use crate::seam::{AgentReads, AgentWrites};
use crate::{AgentRecord, StoreError, TeamRecord};
use rusqlite::{Row, params};

impl AgentReads for SqliteStore {
    fn agent(&self, name: &str) -> Result<Option<AgentRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT spec, created_at FROM agents WHERE name = ?1")?;
        let mut rows = stmt.query([name])?;
        rows.next()?.map(agent_from_row).transpose()
    }

    fn team(&self, id: &str) -> Result<Option<TeamRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT spec, next, created_at FROM teams WHERE id = ?1")?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(team_from_row).transpose()
    }

    /// All teams, by id.
    fn list_teams(&self) -> Result<Vec<TeamRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT spec, next, created_at FROM teams ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(team_from_row(row)?);
        }
        Ok(out)
    }

    /// All agents, by name.
    fn list_agents(&self) -> Result<Vec<AgentRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT spec, created_at FROM agents ORDER BY name")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(agent_from_row(row)?);
        }
        Ok(out)
    }
}

impl AgentWrites for SqliteTx<'_> {
    /// Inserts or replaces the agent with this name.
    fn put_agent(&mut self, record: &AgentRecord) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO agents (name, spec, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, created_at = excluded.created_at",
            )?
            .execute(params![
                record.spec.name,
                to_json(&record.spec)?,
                record.created_at
            ])?;
        Ok(())
    }

    /// Inserts or replaces a team (keeping the round-robin cursor of a replaced one).
    fn put_team(&mut self, record: &TeamRecord) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO teams (id, spec, next, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (id) DO UPDATE SET spec = excluded.spec",
            )?
            .execute(params![
                record.spec.id,
                to_json(&record.spec)?,
                record.next,
                record.created_at
            ])?;
        Ok(())
    }

    /// Returns whether a team of this id exists.
    fn team_exists(&mut self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM teams WHERE id = ?1")?
            .exists([id])?)
    }

    fn set_team_cursor(&mut self, id: &str, next: u32) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE teams SET next = ?2 WHERE id = ?1")?
            .execute(params![id, next])?;
        Ok(())
    }

    /// Returns whether a team was removed.
    fn remove_team(&mut self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM teams WHERE id = ?1")?
            .execute([id])?
            > 0)
    }

    /// Returns whether an agent of this name exists.
    fn agent_exists(&mut self, name: &str) -> Result<bool, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT 1 FROM agents WHERE name = ?1")?;
        Ok(stmt.exists([name])?)
    }

    /// Returns whether an agent was removed.
    fn remove_agent(&mut self, name: &str) -> Result<bool, StoreError> {
        let removed = self
            .tx
            .prepare_cached("DELETE FROM agents WHERE name = ?1")?
            .execute([name])?;
        Ok(removed > 0)
    }
}

fn team_from_row(row: &Row<'_>) -> Result<TeamRecord, StoreError> {
    let mut c = Columns::new(row, "team");
    Ok(TeamRecord {
        spec: c.json("spec")?,
        next: c.int("next")?,
        created_at: c.get("created_at")?,
    })
}

fn agent_from_row(row: &Row<'_>) -> Result<AgentRecord, StoreError> {
    let mut c = Columns::new(row, "agent");
    Ok(AgentRecord {
        spec: c.json("spec")?,
        created_at: c.get("created_at")?,
    })
}
