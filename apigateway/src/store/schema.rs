//! The table and its indexes, each named by the query it serves.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::{store_error, Store};
use crate::error::{Error, Result};

/// `userId` → `connectedAt`: a user's connections (only connection items carry `userId`).
pub const INDEX_BY_USER: &str = "byUser";
/// `roomId` → `connectionId`: a room's members (only membership items carry `roomId`).
pub const INDEX_BY_ROOM: &str = "byRoom";
/// `activeShard` → `lastActivity`: connections active since T, stale ones, all of them —
/// a range query on each of the shards, never a Scan of the table.
pub const INDEX_BY_ACTIVITY: &str = "byActivity";

/// How the table is made: with TTL on `expiresAt` (as deployed) or without (a test of the
/// read filters: no sweeper may hide a missing one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// Turn TTL on.
    pub ttl: bool,
}

/// A schema part the SDK's builder refused (a required field missing: not reachable with
/// the constants below, but answered rather than panicked on).
fn unbuilt(_: aws_sdk_dynamodb::error::BuildError) -> Error {
    Error::Store {
        operation: "CreateTable",
        reason: "request not built".into(),
    }
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(unbuilt)
}

fn attribute(name: &str, kind: ScalarAttributeType) -> Result<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .map_err(unbuilt)
}

fn index(name: &str, hash: &str, range: &str) -> Result<GlobalSecondaryIndex> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash)?)
        .key_schema(key(range, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(unbuilt)
}

impl Store {
    /// Creates the table with its indexes when it does not exist (on-demand billing), and
    /// turns TTL on when `spec.ttl`. A table that exists is left as it is.
    pub async fn ensure_table(&self, spec: TableSpec) -> Result<()> {
        use ScalarAttributeType::{N, S};
        let created = self
            .client
            .create_table()
            .table_name(self.table())
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .attribute_definitions(attribute("pk", S)?)
            .attribute_definitions(attribute("sk", S)?)
            .attribute_definitions(attribute("userId", S)?)
            .attribute_definitions(attribute("connectedAt", N)?)
            .attribute_definitions(attribute("roomId", S)?)
            .attribute_definitions(attribute("connectionId", S)?)
            .attribute_definitions(attribute("activeShard", S)?)
            .attribute_definitions(attribute("lastActivity", N)?)
            .global_secondary_indexes(index(INDEX_BY_USER, "userId", "connectedAt")?)
            .global_secondary_indexes(index(INDEX_BY_ROOM, "roomId", "connectionId")?)
            .global_secondary_indexes(index(INDEX_BY_ACTIVITY, "activeShard", "lastActivity")?)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                return Ok(())
            }
            Err(e) => return Err(store_error("CreateTable", &e)),
        }
        if spec.ttl {
            self.client
                .update_time_to_live()
                .table_name(self.table())
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name("expiresAt")
                        .enabled(true)
                        .build()
                        .map_err(unbuilt)?,
                )
                .send()
                .await
                .map_err(|e| store_error("UpdateTimeToLive", &e))?;
        }
        Ok(())
    }
}
