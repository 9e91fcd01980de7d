//! The HTTP API's lists (`GET /agents/workflows`, `GET /agents/workflows/executions`): their
//! filters, their paging bounds, and `metadata.nextOffset`.

use crate::http::{bad_field, error_with, metadata, status_of};
use crate::{Shared, handlers};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use do_core::model::{ExecutionStatus, WorkflowStatus};
use do_proto::{
    ApiError, Envelope, ErrorCode, ListExecutions, ListWorkflows, MAX_LIMIT, MAX_OFFSET, Request,
    default_limit,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) type QueryResult =
    Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

/// A page of a list: `limit` (at most [`MAX_LIMIT`]) and `offset` (at most [`MAX_OFFSET`]).
#[allow(clippy::result_large_err)]
fn page(query: &HashMap<String, String>) -> Result<(u32, u32), Response> {
    let mut numbers = [default_limit(), 0];
    for ((slot, name), max) in numbers
        .iter_mut()
        .zip(["limit", "offset"])
        .zip([MAX_LIMIT, MAX_OFFSET])
    {
        let Some(text) = query.get(name) else {
            continue;
        };
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_field(
                name,
                format!("`{text}` is not a whole number from 0 to {max}"),
            ));
        }
        match text.parse::<u32>() {
            Ok(n) if n <= max => *slot = n,
            _ => {
                return Err(bad_field(
                    name,
                    format!("`{text}` is over the maximum of {max}"),
                ));
            }
        }
    }
    Ok((numbers[0], numbers[1]))
}

/// A query parameter that names a value of a wire enum.
#[allow(clippy::result_large_err)]
fn enum_param<T: serde::de::DeserializeOwned>(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, Response> {
    match query.get(name) {
        None => Ok(None),
        Some(s) => serde_json::from_value::<T>(Value::String(s.clone()))
            .map(Some)
            .map_err(|e| bad_field(name, e.to_string())),
    }
}

/// What both lists' queries say: their `status` filter (a value of `S`) and their page.
struct ListQuery<S> {
    /// Every parameter, for the list's other filters.
    params: HashMap<String, String>,
    status: Option<S>,
    limit: u32,
    offset: u32,
}

impl<S: serde::de::DeserializeOwned> ListQuery<S> {
    /// The query, or the 400 that refuses it.
    #[allow(clippy::result_large_err)]
    fn read(query: QueryResult) -> Result<ListQuery<S>, Response> {
        let Ok(Query(params)) = query else {
            return Err(bad_field(
                "query",
                "cannot parse the query string".to_owned(),
            ));
        };
        let status = enum_param::<S>(&params, "status")?;
        let (limit, offset) = page(&params)?;
        Ok(ListQuery {
            params,
            status,
            limit,
            offset,
        })
    }
}

/// Answers a page of a list: asks the handler for one more item than the page holds, and
/// says in `metadata.nextOffset` where the next page starts when there is one.
async fn list_page(
    shared: &Arc<Shared>,
    limit: u32,
    offset: u32,
    request: impl FnOnce(u32) -> Request,
) -> Response {
    let answer = handlers::dispatch(shared, request(limit + 1)).await;
    let items = match answer.and_then(|data| {
        serde_json::from_str::<Vec<Box<serde_json::value::RawValue>>>(data.get())
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
    }) {
        Ok(items) => items,
        Err(error) => return error_with(status_of(error.code), error),
    };
    let mut items = items;
    let mut metadata = metadata();
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        metadata.next_offset = offset.checked_add(limit);
    }
    (StatusCode::OK, axum::Json(Envelope::ok(items, metadata))).into_response()
}

pub(crate) async fn list(State(shared): State<Arc<Shared>>, query: QueryResult) -> Response {
    let ListQuery {
        params,
        status,
        limit,
        offset,
    } = match ListQuery::<WorkflowStatus>::read(query) {
        Ok(query) => query,
        Err(response) => return response,
    };
    list_page(&shared, limit, offset, |limit| {
        Request::ListWorkflows(ListWorkflows {
            status,
            category: params.get("category").cloned(),
            all: false,
            limit,
            offset,
        })
    })
    .await
}

/// `GET /agents/workflows/executions`: newest first, by workflow and status.
pub(crate) async fn list_executions(
    State(shared): State<Arc<Shared>>,
    query: QueryResult,
) -> Response {
    let ListQuery {
        params,
        status,
        limit,
        offset,
    } = match ListQuery::<ExecutionStatus>::read(query) {
        Ok(query) => query,
        Err(response) => return response,
    };
    list_page(&shared, limit, offset, |limit| {
        Request::ListExecutions(ListExecutions {
            workflow_id: params.get("workflowId").cloned(),
            status,
            limit,
            offset,
        })
    })
    .await
}
