//! The server half's Lambda function. Laid out now so the workspace's build shows what it
//! links (never the client's I/O stack); its routes come with the API Gateway issues. Until
//! then it says so and exits with status 2.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "lambda-apigw: the API Gateway side ({} scope) is not built yet; see docs/api-gateway.md",
        server_gateway::SCOPE.name()
    );
    ExitCode::from(2)
}
