//! A stand-in for the AWS Parameters and Secrets Lambda Extension's local HTTP endpoint:
//! `GET /systemsmanager/parameters/get?name=…&withDecryption=true` and
//! `GET /secretsmanager/get?secretId=…`, answering in AWS's JSON shapes, refusing requests
//! without the `X-Aws-Parameters-Secrets-Token` header it expects (401), names it does not
//! hold (400, as the extension relays AWS's `ResourceNotFoundException` /
//! `ParameterNotFound`) and names it was told to deny (403, `AccessDeniedException`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;
use serde_json::json;

#[derive(Debug, Default)]
struct Store {
    parameters: HashMap<String, String>,
    secrets: HashMap<String, String>,
    denied: HashSet<String>,
    requests: Vec<String>,
}

/// The running stand-in, on 127.0.0.1 and an ephemeral port; stops when dropped.
pub struct SecretsExtension {
    server: Arc<tiny_http::Server>,
    port: u16,
    store: Arc<Mutex<Store>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SecretsExtension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsExtension")
            .field("port", &self.port)
            .finish()
    }
}

impl SecretsExtension {
    /// Starts the stand-in; requests must carry `session_token` in
    /// `X-Aws-Parameters-Secrets-Token` (as the extension checks `AWS_SESSION_TOKEN`).
    pub fn start(session_token: &str) -> std::io::Result<SecretsExtension> {
        let server =
            Arc::new(tiny_http::Server::http("127.0.0.1:0").map_err(std::io::Error::other)?);
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| std::io::Error::other("no port"))?;
        let store = Arc::new(Mutex::new(Store::default()));
        let (srv, st, expected) = (
            Arc::clone(&server),
            Arc::clone(&store),
            session_token.to_owned(),
        );
        let json = tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
            .map_err(|()| std::io::Error::other("content type header"))?;
        let thread = std::thread::spawn(move || {
            for request in srv.incoming_requests() {
                let (status, body) = answer(&request, &st, &expected);
                let response = tiny_http::Response::from_string(body)
                    .with_status_code(status)
                    .with_header(json.clone());
                let _ = request.respond(response);
            }
        });
        Ok(SecretsExtension {
            server,
            port,
            store,
            thread: Some(thread),
        })
    }

    /// Its port (for `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Holds (or replaces: a rotation) a SecureString parameter.
    pub fn set_parameter(&self, name: &str, value: &str) {
        self.store
            .lock()
            .parameters
            .insert(name.into(), value.into());
    }

    /// Holds (or replaces) a secret's `SecretString`.
    pub fn set_secret(&self, id: &str, value: &str) {
        self.store.lock().secrets.insert(id.into(), value.into());
    }

    /// Answers 403 for `name` (a role without `ssm:GetParameter` / `secretsmanager:GetSecretValue`).
    pub fn deny(&self, name: &str) {
        self.store.lock().denied.insert(name.into());
    }

    /// The paths and queries asked so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.store.lock().requests.clone()
    }
}

impl Drop for SecretsExtension {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(request: &tiny_http::Request, store: &Mutex<Store>, expected: &str) -> (u16, String) {
    let url = request.url().to_owned();
    let mut store = store.lock();
    store.requests.push(url.clone());
    let token_ok = request
        .headers()
        .iter()
        .any(|h| h.field.equiv("X-Aws-Parameters-Secrets-Token") && h.value.as_str() == expected);
    if !token_ok {
        return (
            401,
            json!({"message": "missing or invalid X-Aws-Parameters-Secrets-Token"}).to_string(),
        );
    }
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    match path {
        "/systemsmanager/parameters/get" => {
            let Some(name) = params.get("name") else {
                return (400, json!({"message": "name is required"}).to_string());
            };
            if params.get("withDecryption").map(String::as_str) != Some("true") {
                // A SecureString read without decryption is ciphertext: refuse it loudly.
                return (
                    400,
                    json!({"message": "withDecryption=true is required for SecureString"})
                        .to_string(),
                );
            }
            if store.denied.contains(name) {
                return (403, json!({"__type": "AccessDeniedException"}).to_string());
            }
            match store.parameters.get(name) {
                Some(value) => (
                    200,
                    json!({"Parameter": {"Name": name, "Type": "SecureString", "Value": value, "Version": 1},
                           "ResultMetadata": {}})
                    .to_string(),
                ),
                None => (400, json!({"__type": "ParameterNotFound"}).to_string()),
            }
        }
        "/secretsmanager/get" => {
            let Some(id) = params.get("secretId") else {
                return (400, json!({"message": "secretId is required"}).to_string());
            };
            if store.denied.contains(id) {
                return (403, json!({"__type": "AccessDeniedException"}).to_string());
            }
            match store.secrets.get(id) {
                Some(value) => (
                    200,
                    json!({"ARN": format!("arn:aws:secretsmanager:us-east-1:000000000000:secret:{id}"),
                           "Name": id, "SecretString": value, "VersionStages": ["AWSCURRENT"]})
                    .to_string(),
                ),
                None => (400, json!({"__type": "ResourceNotFoundException"}).to_string()),
            }
        }
        _ => (404, json!({"message": "not found"}).to_string()),
    }
}
