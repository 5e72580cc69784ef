//! The AWS SDK's configuration for the server half, loaded once per container. When the
//! environment gives a region and credentials — as Lambda's does — it is built from them
//! alone: no profile file read, no instance metadata probed. Otherwise the SDK's default
//! chain (profiles, SSO-less, IMDS) runs, as on a developer's machine.

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::SharedCredentialsProvider;

use crate::store::timeouts;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether the environment alone configures the SDK: `AWS_REGION` (or
/// `AWS_DEFAULT_REGION`), `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
pub fn environment_suffices() -> bool {
    (var("AWS_REGION").is_some() || var("AWS_DEFAULT_REGION").is_some())
        && var("AWS_ACCESS_KEY_ID").is_some()
        && var("AWS_SECRET_ACCESS_KEY").is_some()
}

/// The SDK configuration: from the environment alone when it suffices
/// ([`environment_suffices`]), else the SDK's default chain; the store's timeouts either way.
///
/// ```no_run
/// # async fn demo() {
/// let config = apigateway::sdk_config().await;
/// # let _ = config; }
/// ```
pub async fn sdk_config() -> SdkConfig {
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
    match region {
        Some(region) if environment_suffices() => SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(
                EnvironmentVariableCredentialsProvider::new(),
            ))
            .timeout_config(timeouts())
            .build(),
        _ => {
            aws_config::defaults(BehaviorVersion::latest())
                .timeout_config(timeouts())
                .load()
                .await
        }
    }
}

/// The endpoint a service is sent to when the environment names one:
/// `AWS_ENDPOINT_URL_<SERVICE>` first, then `AWS_ENDPOINT_URL` (the SDK's own rule, read
/// here because a configuration built from the environment alone does not read it).
///
/// ```
/// assert_eq!(apigateway::endpoint_from_env("SOME_SERVICE_NOBODY_SETS").is_some(),
///            std::env::var("AWS_ENDPOINT_URL").is_ok());
/// ```
pub fn endpoint_from_env(service: &str) -> Option<String> {
    var(&format!("AWS_ENDPOINT_URL_{service}")).or_else(|| var("AWS_ENDPOINT_URL"))
}

/// The HTTP client for an endpoint that is plain `http://` (a local DynamoDB or Management
/// API): no TLS, so no trust roots are loaded; `None` for anything else (the SDK's HTTPS
/// client, which loads them when first used).
///
/// ```
/// assert!(apigateway::plain_http_client("http://127.0.0.1:8000").is_some());
/// assert!(apigateway::plain_http_client("https://dynamodb.eu-west-1.amazonaws.com").is_none());
/// ```
pub fn plain_http_client(endpoint: &str) -> Option<aws_sdk_dynamodb::config::SharedHttpClient> {
    endpoint
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
        .then(|| aws_smithy_http_client::Builder::new().build_http())
}
