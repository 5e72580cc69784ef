//! The deployment template (`deploy/template.json`) against the code it deploys: every
//! route the router serves is declared, each two-way route with its route response, the
//! route selection expression the app reads, the table's indexes and TTL as the store
//! makes them, the schedule and the management routes — and no IAM statement on `*`.

use std::collections::BTreeSet;

use serde_json::Value;
use server_gateway::{app, BROADCAST_PATH, STATS_PATH};

fn template() -> Value {
    let path = format!("{}/../../deploy/template.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn of_type<'t>(t: &'t Value, kind: &str) -> Vec<(&'t String, &'t Value)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

fn router() -> server_gateway::Router {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .build();
    app::router(apigateway::Store::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        apigateway::StoreSettings::default(),
    ))
}

/// Every `Resource` value in `v`, recursively.
fn resources<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "Resource" {
                    out.push(child);
                }
                resources(child, out);
            }
        }
        Value::Array(list) => list.iter().for_each(|c| resources(c, out)),
        _ => {}
    }
}

#[test]
fn every_router_route_is_declared_with_its_route_response() {
    let t = template();
    let apis = of_type(&t, "AWS::ApiGatewayV2::Api");
    assert_eq!(apis.len(), 1);
    assert_eq!(apis[0].1["Properties"]["ProtocolType"], "WEBSOCKET");
    assert_eq!(
        apis[0].1["Properties"]["RouteSelectionExpression"], "$request.body.type",
        "the built-in app routes by the body's type"
    );
    let routes = of_type(&t, "AWS::ApiGatewayV2::Route");
    let declared: BTreeSet<String> = routes
        .iter()
        .map(|(_, r)| r["Properties"]["RouteKey"].as_str().unwrap().to_owned())
        .collect();
    let served: BTreeSet<String> = router().route_keys().into_iter().collect();
    assert_eq!(declared, served, "the template's routes are the router's");
    let responses = of_type(&t, "AWS::ApiGatewayV2::RouteResponse");
    for (name, route) in &routes {
        let key = route["Properties"]["RouteKey"].as_str().unwrap();
        assert_eq!(
            route["Properties"]["Target"]["Fn::Sub"], "integrations/${ServerIntegration}",
            "{key}"
        );
        let two_way = key != "$connect" && key != "$disconnect";
        let answered = responses.iter().any(|(_, r)| {
            r["Properties"]["RouteId"]["Ref"] == name.as_str()
                && r["Properties"]["RouteResponseKey"] == "$default"
        });
        assert_eq!(
            answered, two_way,
            "{key}: a route response exactly on the two-way routes"
        );
        if two_way {
            assert_eq!(
                route["Properties"]["RouteResponseSelectionExpression"], "$default",
                "{key}"
            );
        }
    }
    let integration = &t["Resources"]["ServerIntegration"]["Properties"];
    assert_eq!(integration["IntegrationType"], "AWS_PROXY");
    assert!(integration["IntegrationUri"]["Fn::Sub"]
        .as_str()
        .unwrap()
        .contains("${ServerFunction.Arn}"));
}

#[test]
fn the_table_schedule_routes_and_policy_match_the_code() {
    let t = template();
    let table = &t["Resources"]["ConnectionsTable"]["Properties"];
    let indexes: BTreeSet<&str> = table["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["IndexName"].as_str().unwrap())
        .collect();
    assert_eq!(
        indexes,
        BTreeSet::from([
            apigateway::INDEX_BY_USER,
            apigateway::INDEX_BY_ROOM,
            apigateway::INDEX_BY_ACTIVITY
        ])
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        "expiresAt"
    );
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");

    let function = &t["Resources"]["ServerFunction"]["Properties"];
    assert_eq!(function["Runtime"], "provided.al2023");
    let events = function["Events"].as_object().unwrap();
    assert!(
        events.values().any(|e| e["Type"] == "Schedule"),
        "the heartbeat's schedule"
    );
    let paths: BTreeSet<(&str, &str)> = events
        .values()
        .filter(|e| e["Type"] == "HttpApi")
        .map(|e| {
            (
                e["Properties"]["Method"].as_str().unwrap(),
                e["Properties"]["Path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from([("GET", STATS_PATH), ("POST", BROADCAST_PATH)])
    );
    let variables = function["Environment"]["Variables"].as_object().unwrap();
    for name in [
        "APIGW_TABLE",
        apigateway::ENDPOINT_VARIABLE,
        "APIGW_JWT_SECRET",
        "APIGW_JWT_JWKS_URL",
    ] {
        assert!(variables.contains_key(name), "{name}");
    }

    // Least privilege: the store's actions on the table and its indexes, ManageConnections
    // on this API's @connections, nothing on "*".
    let mut found = Vec::new();
    resources(&t, &mut found);
    assert!(!found.is_empty());
    for resource in &found {
        let text = resource.to_string();
        assert!(
            !matches!(resource, Value::String(s) if s == "*"),
            "a statement on *"
        );
        assert!(!text.contains("\"*\""), "a statement on *: {text}");
    }
    let statements = function["Policies"][0]["Statement"].as_array().unwrap();
    let actions: BTreeSet<&str> = statements
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    for wanted in [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
    ] {
        assert!(actions.contains(wanted), "{wanted}");
    }
    assert!(
        !actions
            .iter()
            .any(|a| a.ends_with('*') || *a == "dynamodb:Scan"),
        "{actions:?}"
    );
    let manage = statements
        .iter()
        .find(|s| s["Action"][0] == "execute-api:ManageConnections")
        .unwrap();
    for arn in manage["Resource"].as_array().unwrap() {
        assert!(
            arn["Fn::Sub"]
                .as_str()
                .unwrap()
                .contains("${WebSocketApi}/${StageName}/"),
            "{arn}"
        );
        assert!(
            arn["Fn::Sub"]
                .as_str()
                .unwrap()
                .ends_with("/@connections/*"),
            "{arn}"
        );
    }
}
