//! Components: upload a version, list and show them, delete versions no job
//! needs.

use serde::{Deserialize, Serialize};
use wasmtasks_sandbox::{OriginPattern, TaskDefinition};

use super::grants::GrantChange;
use super::{ServiceError, Services};
use crate::registry::RegistryError;
use crate::store::{ComponentDelete, ComponentDeleted, ComponentVersion};
use crate::tenant::{Principal, Role};

/// A component to upload.
#[derive(Debug, Clone, Default)]
pub struct UploadRequest {
    /// The component's bytes (a `.wasm` component).
    pub bytes: Vec<u8>,
    /// The name to store it under; by default the name it gives itself.
    pub name: Option<String>,
    /// HTTP origins to grant it (as `wasmtasks grant` would).
    pub allow_http: Vec<OriginPattern>,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadReport {
    /// The name it is stored under.
    pub name: String,
    /// The name the component gives itself, if any.
    pub declared_name: Option<String>,
    /// Its version number.
    pub version: u32,
    /// sha256 of its bytes.
    pub digest: String,
    /// False when these bytes already were the newest version: nothing changed.
    pub created: bool,
    /// Its tasks, with their defaults and signatures.
    pub tasks: Vec<TaskDefinition>,
    /// What happened to each origin asked for.
    pub granted: Vec<GrantChange>,
    /// Things the uploader should know (a task's queue that is not configured).
    pub warnings: Vec<String>,
}

/// A component name with its versions and grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentDetails {
    /// The name.
    pub name: String,
    /// Every version, newest first.
    pub versions: Vec<ComponentVersion>,
    /// The HTTP origins it is granted in the store.
    pub grants: Vec<OriginPattern>,
}

/// One deleted version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeletedVersion {
    /// Its number.
    pub version: u32,
    /// Its digest.
    pub digest: String,
}

/// The components operations.
#[derive(Debug, Clone, Copy)]
pub struct Components<'a>(pub(super) &'a Services);

impl Components<'_> {
    /// Validates a component, reads its name, tasks and signatures, and stores it
    /// as the newest version of its name; grants it the origins asked for.
    pub async fn upload(
        &self,
        principal: &Principal,
        request: UploadRequest,
    ) -> Result<UploadReport, ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        let settings = self.0.settings();
        let size = request.bytes.len() as u64;
        if size > settings.max_component_bytes {
            return Err(ServiceError::TooLarge(format!(
                "the component is {size} bytes; the largest that may be uploaded is {} bytes (limits.max_component_size)",
                settings.max_component_bytes
            )));
        }
        let digest = wasmtasks_sandbox::digest(&request.bytes);
        let stored = self.0.store().component_list(principal.tenant()).await?;
        let new_version = !stored.iter().any(|version| version.digest == digest);
        self.0
            .admit_upload(principal.tenant(), size, stored.len(), new_version)
            .await?;
        // Grants are checked before anything is stored.
        self.0
            .grants()
            .check_ceiling(principal, &request.allow_http)
            .await?;
        let upload = self
            .0
            .registry()
            .upload(principal.tenant(), request.name.as_deref(), request.bytes)
            .await
            .map_err(|error| match error {
                RegistryError::Store(error) => ServiceError::Store(error),
                other => ServiceError::Invalid(other.to_string()),
            })?;
        let granted = self
            .0
            .grants()
            .change(principal, &upload.name, &request.allow_http, true)
            .await?;
        let warnings = upload
            .tasks
            .iter()
            .filter(|task| settings.queue(&task.queue_name).is_none())
            .map(|task| {
                format!(
                    "task {}.{} declares queue `{}`, which is not configured (configured queues: {}); enqueue it with --queue or add [queues.{}] to the configuration",
                    upload.name,
                    task.name,
                    task.queue_name,
                    settings.queues.keys().cloned().collect::<Vec<_>>().join(", "),
                    task.queue_name
                )
            })
            .collect();
        Ok(UploadReport {
            name: upload.name,
            declared_name: upload.declared_name,
            version: upload.version,
            digest: upload.digest,
            created: upload.created,
            tasks: upload.tasks,
            granted,
            warnings,
        })
    }

    /// Every version of every component of the tenant, newest first within a name.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<ComponentVersion>, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        Ok(self.0.store().component_list(principal.tenant()).await?)
    }

    /// One component: its versions and grants.
    pub async fn show(
        &self,
        principal: &Principal,
        name: &str,
    ) -> Result<ComponentDetails, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        let versions: Vec<ComponentVersion> = self
            .0
            .store()
            .component_list(principal.tenant())
            .await?
            .into_iter()
            .filter(|version| version.name == name)
            .collect();
        if versions.is_empty() {
            return Err(no_component(name));
        }
        let grants = self
            .0
            .store()
            .component_grant_list(principal.tenant(), name)
            .await?;
        Ok(ComponentDetails {
            name: name.to_owned(),
            versions,
            grants,
        })
    }

    /// Deletes every version of `name`, or the one whose digest starts with
    /// `digest_prefix`, unless READY or RUNNING jobs pin it.
    pub async fn delete(
        &self,
        principal: &Principal,
        name: &str,
        digest_prefix: Option<&str>,
    ) -> Result<Vec<DeletedVersion>, ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        let deleted = self
            .0
            .store()
            .component_delete(ComponentDelete {
                tenant: principal.tenant().to_owned(),
                name: name.to_owned(),
                digest_prefix: digest_prefix.map(str::to_ascii_lowercase),
            })
            .await?;
        self.0.registry().forget_component(principal.tenant(), name);
        match deleted {
            ComponentDeleted::Deleted(versions) => Ok(versions
                .into_iter()
                .map(|(version, digest)| DeletedVersion { version, digest })
                .collect()),
            ComponentDeleted::NotFound => Err(match digest_prefix {
                None => no_component(name),
                Some(prefix) => ServiceError::NotFound(format!(
                    "component `{name}` has no version with a digest starting `{prefix}`"
                )),
            }),
            ComponentDeleted::Ambiguous(digests) => Err(ServiceError::Invalid(format!(
                "digest prefix `{}` of `{name}` is ambiguous: it matches {}",
                digest_prefix.unwrap_or_default(),
                digests.join(", ")
            ))),
            ComponentDeleted::Pinned { jobs } => Err(ServiceError::Conflict(format!(
                "cannot delete {name}{}: {jobs} READY or RUNNING {} it; cancel {} or let {} finish first",
                digest_prefix.map(|p| format!("@{p}")).unwrap_or_default(),
                if jobs == 1 { "job pins" } else { "jobs pin" },
                if jobs == 1 { "it" } else { "them" },
                if jobs == 1 { "it" } else { "them" },
            ))),
        }
    }
}

fn no_component(name: &str) -> ServiceError {
    ServiceError::NotFound(format!("no component `{name}` has been uploaded"))
}
