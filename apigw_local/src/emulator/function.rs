//! The function behind the API: anything that answers an event, in this process or over
//! the Lambda Invoke API (`cargo lambda watch`, or any server that speaks it).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// The largest answer a Lambda function may give (its 6 MB response limit).
pub const ANSWER_LIMIT: usize = 6 * 1024 * 1024;

/// One invocation in flight.
pub type Invocation = Pin<Box<dyn Future<Output = Result<Value, FunctionError>> + Send>>;

/// Why an invocation gave no usable answer: API Gateway answers the client
/// `Internal server error` for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionError {
    /// The function ran and failed (an unhandled error, `X-Amz-Function-Error`).
    Failed(String),
    /// Its answer is not JSON, or too large.
    Unparseable(String),
    /// It could not be reached.
    Unreachable(String),
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FunctionError::Failed(why) => write!(f, "the function failed: {why}"),
            FunctionError::Unparseable(why) => {
                write!(f, "the function's answer is unusable: {why}")
            }
            FunctionError::Unreachable(why) => write!(f, "the function cannot be reached: {why}"),
        }
    }
}

impl std::error::Error for FunctionError {}

impl FunctionError {
    /// Its text for the emulator's own log lines: a failure's text is the function's (it
    /// may reflect a token it was sent), so only Lambda's own kinds are shown.
    ///
    /// ```
    /// use apigw_local::FunctionError;
    /// assert_eq!(FunctionError::Failed("Unhandled".into()).log_text(), "the function failed: Unhandled");
    /// assert_eq!(FunctionError::Failed("eyJhbGciOi.x.y".into()).log_text(), "the function failed");
    /// ```
    pub fn log_text(&self) -> String {
        match self {
            FunctionError::Failed(kind) if kind == "Unhandled" || kind == "Handled" => {
                format!("the function failed: {kind}")
            }
            FunctionError::Failed(_) => "the function failed".to_owned(),
            other => other.to_string(),
        }
    }
}

/// A function the emulator invokes with an event, to answer before `deadline` (the
/// integration timeout; the emulator stops waiting there whatever the function does).
///
/// Any `Fn(Value, Instant) -> impl Future<Output = Result<Value, FunctionError>>` is one:
///
/// ```
/// use apigw_local::{Function, FunctionError};
/// let echo = |event: serde_json::Value, _deadline: std::time::Instant| async move {
///     Ok::<_, FunctionError>(serde_json::json!({"statusCode": 200, "body": event["body"]}))
/// };
/// let _: &dyn Function = &echo;
/// ```
pub trait Function: Send + Sync + 'static {
    /// Starts one invocation.
    fn invoke(&self, event: Value, deadline: Instant) -> Invocation;
}

impl<F, Fut> Function for F
where
    F: Fn(Value, Instant) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    fn invoke(&self, event: Value, deadline: Instant) -> Invocation {
        Box::pin(self(event, deadline))
    }
}

/// A function behind the Lambda Invoke API:
/// `POST {base}/2015-03-31/functions/{name}/invocations` with the event as the body, as
/// `cargo lambda watch` serves it. An answer with `X-Amz-Function-Error` or a non-2xx
/// status is the function's failure.
///
/// ```
/// let f = apigw_local::InvokeApi::new("http://127.0.0.1:9000", "my-function").unwrap();
/// assert_eq!(f.url(), "http://127.0.0.1:9000/2015-03-31/functions/my-function/invocations");
/// ```
#[derive(Debug, Clone)]
pub struct InvokeApi {
    url: hyper::Uri,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl InvokeApi {
    /// The function `name` at `base` (`http://host:port`; plain HTTP, as the local
    /// emulators serve it).
    pub fn new(base: &str, name: &str) -> Result<InvokeApi, String> {
        let parsed = url::Url::parse(base).map_err(|e| format!("invoke URL {base:?}: {e}"))?;
        if parsed.scheme() != "http" || parsed.host().is_none() {
            return Err(format!(
                "invoke URL {base:?} must be http://host:port (a local Invoke API)"
            ));
        }
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(format!(
                "function name {name:?} must be letters, digits, - and _"
            ));
        }
        let url = format!(
            "{}/2015-03-31/functions/{name}/invocations",
            base.trim_end_matches('/')
        )
        .parse()
        .map_err(|e| format!("invoke URL {base:?}: {e}"))?;
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(3)));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(InvokeApi { url, client })
    }

    /// The invocation URL.
    pub fn url(&self) -> String {
        self.url.to_string()
    }

    async fn call(
        url: hyper::Uri,
        client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
        event: Value,
    ) -> Result<Value, FunctionError> {
        let request = hyper::Request::post(url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(event.to_string())))
            .map_err(|e| FunctionError::Unreachable(e.to_string()))?;
        let response = client
            .request(request)
            .await
            .map_err(|e| FunctionError::Unreachable(e.to_string()))?;
        let status = response.status();
        let function_error = response
            .headers()
            .get("x-amz-function-error")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(response.into_body(), ANSWER_LIMIT)
            .collect()
            .await
            .map_err(|e| FunctionError::Unparseable(format!("its answer could not be read: {e}")))?
            .to_bytes();
        if let Some(kind) = function_error {
            return Err(FunctionError::Failed(kind));
        }
        if !status.is_success() {
            return Err(FunctionError::Unreachable(format!(
                "the Invoke API answered {status}"
            )));
        }
        serde_json::from_slice(&body)
            .map_err(|e| FunctionError::Unparseable(format!("not JSON: {e}")))
    }
}

impl Function for InvokeApi {
    fn invoke(&self, event: Value, _deadline: Instant) -> Invocation {
        Box::pin(InvokeApi::call(
            self.url.clone(),
            self.client.clone(),
            event,
        ))
    }
}
