//! FHIR R4 for the EMR: `POST /fhir/ServiceRequest` makes (or finds) the client and makes the
//! referral; `GET /fhir/Task/{id}` and `GET /fhir/Task?based-on=ServiceRequest/{id}` say how
//! it is going; `GET /fhir/metadata` says what is supported. Bearer tokens scoped `fhir`; a bad
//! resource gets an OperationOutcome with the reason, and nothing is stored. Every read and
//! write is audited.

use crate::clock::{from_ms, to_ms};
use crate::fhir::{self, FHIR_JSON, Intake};
use crate::staff::Scope;
use crate::store::{Doing, StoreError};
use crate::web::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sqlx::Row;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/fhir/metadata", get(metadata))
        .route("/fhir/ServiceRequest", post(create_service_request))
        .route("/fhir/ServiceRequest/{id}", get(read_service_request))
        .route("/fhir/Task", get(search_tasks))
        .route("/fhir/Task/{id}", get(read_task))
        .route("/fhir/Communication", get(search_communications))
        .route("/fhir/Communication/{id}", get(read_communication))
}

fn reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, format!("{FHIR_JSON}; charset=utf-8"))],
        body.to_string(),
    )
        .into_response()
}

fn refused(status: StatusCode, code: &str, why: &str) -> Response {
    reply(status, &fhir::outcome(code, why))
}

fn unavailable(e: &StoreError) -> Response {
    tracing::error!(error = %e, "a FHIR request failed");
    refused(
        StatusCode::SERVICE_UNAVAILABLE,
        "transient",
        "temporarily unavailable; try again",
    )
}

/// An EMR with a token scoped `fhir`.
pub struct FhirCaller(crate::staff::ApiToken);

impl FromRequestParts<AppState> for FhirCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let Some(secret) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Err(refused(
                StatusCode::UNAUTHORIZED,
                "login",
                "send a token scoped fhir: Authorization: Bearer <token>",
            ));
        };
        let now = to_ms(st.runner.clock.now());
        match crate::staff::token(&st.runner.db, secret, now).await {
            Ok(Some(t)) if t.scope == Scope::Fhir => Ok(FhirCaller(t)),
            Ok(Some(_)) => Err(refused(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this token is not scoped fhir; ask an administrator for one",
            )),
            Ok(None) => Err(refused(
                StatusCode::UNAUTHORIZED,
                "login",
                "this token is unknown or revoked",
            )),
            Err(e) => Err(unavailable(&e)),
        }
    }
}

impl FhirCaller {
    async fn audit(&self, st: &AppState, action: &str, client: Option<&str>, detail: &str) {
        let _ = crate::store::record::audit_one(
            &st.runner.db,
            to_ms(st.runner.clock.now()),
            &self.0.actor(),
            action,
            client,
            detail,
        )
        .await;
    }

    /// Whether this token reaches `client` (a client of its centre). Another centre's is
    /// refused 403, the attempt audited.
    async fn reaches(&self, st: &AppState, client: &str) -> Result<(), Response> {
        match crate::centres::of_client(&st.runner.db, client).await {
            Ok(Some(c)) if c != self.0.centre => {
                self.audit(st, "access-denied", Some(client), "another centre's client")
                    .await;
                Err(refused(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "this resource is not of this token's centre",
                ))
            }
            Ok(_) => Ok(()),
            Err(e) => Err(unavailable(&e)),
        }
    }
}

fn instant(ms: i64) -> String {
    from_ms(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn metadata(State(st): State<AppState>) -> Response {
    reply(
        StatusCode::OK,
        &fhir::capability_statement(&instant(to_ms(st.runner.clock.now()))),
    )
}

/// A stored request: its resource (with our id) and its Task.
async fn stored(st: &AppState, id: i64) -> Result<Option<(Value, Value, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT s.resource, s.client_id, c.consent, r.uptake, r.closing_reason, r.referred_at, r.closed_at, s.created_at, s.updated_at, c.chart_number, s.referral_id \
         FROM service_requests s JOIN referrals r ON r.id = s.referral_id JOIN clients c ON c.id = s.client_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(st.runner.db.pool())
    .await
    .doing("reading a ServiceRequest")?;
    let Some(r) = row else { return Ok(None) };
    let get = |e: sqlx::Error| StoreError::Query {
        doing: "reading a ServiceRequest",
        source: e,
    };
    let resource: String = r.try_get(0).map_err(get)?;
    let client: String = r.try_get(1).map_err(get)?;
    let consent: String = r.try_get(2).map_err(get)?;
    let uptake: String = r.try_get(3).map_err(get)?;
    let closing: Option<String> = r.try_get(4).map_err(get)?;
    let closed_at: Option<i64> = r.try_get(6).map_err(get)?;
    let created: i64 = r.try_get(7).map_err(get)?;
    let updated: i64 = r.try_get(8).map_err(get)?;
    let chart: Option<String> = r.try_get(9).map_err(get)?;
    let referral: i64 = r.try_get(10).map_err(get)?;
    let sr: Value = serde_json::from_str(&resource).unwrap_or(Value::Null);
    let state = fhir::task_state(&consent, &uptake, closing.as_deref());
    let modified = closed_at.unwrap_or(updated).max(updated);
    let mut task = fhir::task(
        id,
        &state,
        chart.as_deref(),
        &instant(created),
        &instant(modified),
    );
    // Word back: the latest summary sent, in English and French.
    if let Some(s) = crate::summaries::latest_sent(&st.runner.db, referral).await? {
        task["output"] = json!([{
            "type": { "text": "Summary for the referrer" },
            "valueString": format!("{}\n\n{}", s.text_en, s.text_fr),
        }]);
        if let Some(at) = s.sent_at {
            task["lastModified"] = json!(instant(at.max(modified)));
        }
    }
    Ok(Some((sr, task, client)))
}

fn bundle(kind: &str, resources: &[Value]) -> Value {
    let mut b = json!({
        "resourceType": "Bundle",
        "type": kind,
        "entry": resources.iter().map(|r| json!({
            "fullUrl": format!("urn:matters:{}/{}", r["resourceType"].as_str().unwrap_or(""), r["id"].as_str().unwrap_or("")),
            "resource": r,
        })).collect::<Vec<_>>(),
    });
    if kind == "searchset" {
        b["total"] = json!(resources.len());
    }
    b
}

#[allow(clippy::too_many_lines)] // read, check, find or make the client, the referral, the record
async fn create_service_request(
    State(st): State<AppState>,
    caller: FhirCaller,
    body: Bytes,
) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "structure",
                &format!("the body is not JSON: {e}"),
            );
        }
    };
    let intake: Intake = match fhir::read_service_request(&v) {
        Ok(i) => i,
        Err(r) => {
            let status = if r.code == "business-rule" {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_REQUEST
            };
            return refused(status, r.code, &r.diagnostics);
        }
    };
    let db = &st.runner.db;
    // A retry of a request already taken: the same answer, nothing new.
    if let Some(ident) = &intake.identifier {
        match sqlx::query_scalar::<_, i64>("SELECT id FROM service_requests WHERE identifier = $1")
            .bind(ident)
            .fetch_optional(db.pool())
            .await
        {
            Ok(Some(id)) => {
                return match stored(&st, id).await {
                    Ok(Some((sr, task, client))) => {
                        if let Err(r) = caller.reaches(&st, &client).await {
                            return r;
                        }
                        caller
                            .audit(
                                &st,
                                "fhir-service-request-again",
                                Some(&client),
                                &format!("ServiceRequest/{id} sent again"),
                            )
                            .await;
                        reply(StatusCode::OK, &bundle("collection", &[sr, task]))
                    }
                    Ok(None) => refused(StatusCode::NOT_FOUND, "not-found", "gone"),
                    Err(e) => unavailable(&e),
                };
            }
            Ok(None) => {}
            Err(e) => {
                return unavailable(&StoreError::Query {
                    doing: "finding a ServiceRequest",
                    source: e,
                });
            }
        }
    }
    // The client: found by chart number, or made from the contained Patient.
    let existing: Option<String> = match &intake.chart_number {
        Some(chart) => match sqlx::query_scalar(
            "SELECT id FROM clients WHERE chart_number = $1 AND kind = 'real' AND centre_id = $2 ORDER BY created_at LIMIT 1",
        )
        .bind(chart)
        .bind(&caller.0.centre)
        .fetch_optional(db.pool())
        .await
        {
            Ok(c) => c,
            Err(e) => return unavailable(&StoreError::Query { doing: "finding a client", source: e }),
        },
        None => None,
    };
    let actor = caller.0.actor();
    let now = to_ms(st.runner.clock.now());
    let client = match (existing, &intake.patient) {
        (Some(c), _) => c,
        (None, None) => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not-found",
                &format!(
                    "no client has the identifier {}; send the Patient contained in the ServiceRequest",
                    intake.chart_number.as_deref().unwrap_or_default()
                ),
            );
        }
        (None, Some(p)) => {
            let id = match new_client_id(&st, intake.chart_number.as_deref()).await {
                Ok(id) => id,
                Err(e) => return unavailable(&e),
            };
            let language = p
                .language
                .as_deref()
                .and_then(|l| {
                    let base = l.split(['-', '_']).next().unwrap_or(l);
                    [l, base].into_iter().find_map(|x| {
                        crate::domain::Locale::parse(x)
                            .ok()
                            .filter(|loc| st.runner.catalog.is_enabled(loc))
                    })
                })
                .unwrap_or_else(|| st.runner.catalog.default_locale().clone());
            let mut spec = crate::enrolment::actions::ClientSpec {
                id: id.clone(),
                phone: p.phone.clone(),
                language: language.to_string(),
                chart_number: intake.chart_number.clone(),
                ..Default::default()
            };
            match crate::centres::new_client_defaults(db, &caller.0.centre, &mut spec).await {
                Ok(Ok(())) => {}
                // The Patient's language is not offered here: the centre's default is used.
                Ok(Err(_)) => {
                    spec.language.clear();
                    if let Err(e) =
                        crate::centres::new_client_defaults(db, &caller.0.centre, &mut spec).await
                    {
                        return unavailable(&e);
                    }
                }
                Err(e) => return unavailable(&e),
            }
            let mut checked = match crate::enrolment::actions::check(&st.runner, &spec) {
                Ok(c) => c,
                Err(e) => {
                    return refused(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid",
                        &format!("the Patient cannot be a client: {e}"),
                    );
                }
            };
            // The new client is the centre's whose token sent the referral.
            checked.client.centre.clone_from(&caller.0.centre);
            if let Err(e) = crate::enrolment::actions::add(&st.runner, &checked, &actor).await {
                return refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    &format!("the Patient cannot be a client: {e}"),
                );
            }
            if let (Some(name), Ok(cid)) = (&p.name, crate::domain::ClientId::parse(&id)) {
                let _ = crate::web::set_profile(db, &cid, Some(name), None, &actor, now).await;
            }
            id
        }
    };
    let Ok(cid) = crate::domain::ClientId::parse(&client) else {
        return refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "a client id is not valid",
        );
    };
    let referral = crate::store::record::NewReferral {
        referred_by: intake.requester.clone(),
        reasons: intake.reasons.clone(),
        rx_type: Some("ServiceRequest (FHIR)".into()),
        referred_at: intake.authored_at,
        ..Default::default()
    };
    let written = async {
        let referral_id = crate::store::record::add_referral(db, &cid, &referral, now, &actor).await?;
        let mut tx = db.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO service_requests (referral_id, client_id, identifier, requester, resource, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, '{}', $5, $5) RETURNING id",
        )
        .bind(referral_id)
        .bind(&client)
        .bind(&intake.identifier)
        .bind(&intake.requester)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .doing("storing a ServiceRequest")?;
        let mut sr = v.clone();
        sr["id"] = json!(id.to_string());
        sr["meta"] = json!({ "lastUpdated": instant(now) });
        sqlx::query("UPDATE service_requests SET resource = $1 WHERE id = $2")
            .bind(sr.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await
            .doing("storing a ServiceRequest")?;
        // The referrer's note and their own words for the reasons, for the navigator.
        let words: Vec<String> = intake
            .other_reasons
            .iter()
            .cloned()
            .chain(intake.note.clone().filter(|n| !n.trim().is_empty()))
            .collect();
        if !words.is_empty() {
            crate::store::record::add_note(
                &mut tx,
                &crate::store::record::NewNote {
                    client: &cid,
                    staff: None,
                    kind: "note",
                    body: &format!(
                        "{}: {}",
                        intake.requester.as_deref().unwrap_or("Referral"),
                        words.join(" — ")
                    ),
                    flag: None,
                    happened_at: now,
                },
                now,
                &actor,
            )
            .await?;
        }
        crate::store::record::audit(
            &mut tx,
            now,
            &actor,
            "fhir-service-request",
            Some(&cid),
            &format!("ServiceRequest/{id} made referral {referral_id}"),
        )
        .await?;
        tx.commit().await.doing("storing a ServiceRequest")?;
        Ok::<i64, StoreError>(id)
    }
    .await;
    let id = match written {
        Ok(id) => id,
        Err(e) => return unavailable(&e),
    };
    match stored(&st, id).await {
        Ok(Some((sr, task, _))) => {
            let mut r = reply(StatusCode::CREATED, &bundle("collection", &[sr, task]));
            if let Ok(loc) = format!("/fhir/ServiceRequest/{id}").parse() {
                r.headers_mut().insert(header::LOCATION, loc);
            }
            r
        }
        Ok(None) => refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "stored but not found",
        ),
        Err(e) => unavailable(&e),
    }
}

/// A client id for a new patient: from their chart number (`hc-0042`), else `referral-N`; never
/// one that is taken.
async fn new_client_id(st: &AppState, chart: Option<&str>) -> Result<String, StoreError> {
    let base = chart
        .map(|c| {
            c.chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() {
                        ch.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect::<String>()
                .trim_matches('-')
                .to_owned()
        })
        .filter(|b| !b.is_empty() && b.len() <= 48)
        .unwrap_or_else(|| "referral".into());
    for n in 1..1000 {
        let id = if n == 1 && chart.is_some() {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE id = $1")
            .bind(&id)
            .fetch_one(st.runner.db.pool())
            .await
            .doing("choosing a client id")?;
        if taken == 0 {
            return Ok(id);
        }
    }
    Ok(format!(
        "referral-{}",
        crate::staff::new_token()
            .get(..12)
            .unwrap_or("x")
            .to_lowercase()
    ))
}

fn id_of(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|i| *i > 0)
}

async fn read_service_request(
    State(st): State<AppState>,
    caller: FhirCaller,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = id_of(&id) else {
        return refused(StatusCode::NOT_FOUND, "not-found", "no such ServiceRequest");
    };
    match stored(&st, id).await {
        Ok(Some((sr, _, client))) => {
            if let Err(r) = caller.reaches(&st, &client).await {
                return r;
            }
            caller
                .audit(
                    &st,
                    "fhir-read",
                    Some(&client),
                    &format!("ServiceRequest/{id}"),
                )
                .await;
            reply(StatusCode::OK, &sr)
        }
        Ok(None) => refused(StatusCode::NOT_FOUND, "not-found", "no such ServiceRequest"),
        Err(e) => unavailable(&e),
    }
}

async fn read_task(
    State(st): State<AppState>,
    caller: FhirCaller,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = id_of(&id) else {
        return refused(StatusCode::NOT_FOUND, "not-found", "no such Task");
    };
    match stored(&st, id).await {
        Ok(Some((_, task, client))) => {
            if let Err(r) = caller.reaches(&st, &client).await {
                return r;
            }
            caller
                .audit(&st, "fhir-read", Some(&client), &format!("Task/{id}"))
                .await;
            reply(StatusCode::OK, &task)
        }
        Ok(None) => refused(StatusCode::NOT_FOUND, "not-found", "no such Task"),
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, serde::Deserialize)]
struct TaskSearch {
    #[serde(rename = "based-on")]
    based_on: Option<String>,
}

/// A search's `based-on=ServiceRequest/{id}`: as given, and the id when it is one; `None` when
/// the search has none (see [`no_based_on`]).
fn based_on(q: TaskSearch) -> Option<(String, Option<i64>)> {
    let based_on = q.based_on?;
    let id = id_of(
        based_on
            .strip_prefix("ServiceRequest/")
            .unwrap_or(&based_on),
    );
    Some((based_on, id))
}

fn no_based_on(what: &str) -> Response {
    refused(
        StatusCode::BAD_REQUEST,
        "not-supported",
        &format!("search {what} by based-on=ServiceRequest/{{id}}"),
    )
}

async fn search_tasks(
    State(st): State<AppState>,
    caller: FhirCaller,
    Query(q): Query<TaskSearch>,
) -> Response {
    let Some((based_on, id)) = based_on(q) else {
        return no_based_on("Tasks");
    };
    let found = match id {
        Some(id) => match stored(&st, id).await {
            Ok(f) => f,
            Err(e) => return unavailable(&e),
        },
        None => None,
    };
    let tasks: Vec<Value> = match found {
        Some((_, task, client)) => {
            if let Err(r) = caller.reaches(&st, &client).await {
                return r;
            }
            caller
                .audit(
                    &st,
                    "fhir-read",
                    Some(&client),
                    &format!("Task?based-on={based_on}"),
                )
                .await;
            vec![task]
        }
        None => Vec::new(),
    };
    reply(StatusCode::OK, &bundle("searchset", &tasks))
}

/// The summaries sent for referrals from ServiceRequests, as Communications: by the summary's id,
/// or every one based on a ServiceRequest. With the client each belongs to.
async fn communications(
    st: &AppState,
    by_summary: Option<i64>,
    by_request: Option<i64>,
) -> Result<Vec<(Value, String)>, StoreError> {
    let (filter, id) = match (by_summary, by_request) {
        (Some(s), _) => ("s.id = $1", s),
        (None, Some(r)) => ("x.id = $1", r),
        (None, None) => return Ok(Vec::new()),
    };
    let sql = format!(
        "SELECT s.id, x.id, x.client_id, c.chart_number, r.referred_by, s.text_en, s.text_fr, s.sent_at, ce.name \
         FROM referrer_summaries s JOIN service_requests x ON x.referral_id = s.referral_id \
         JOIN referrals r ON r.id = s.referral_id JOIN clients c ON c.id = x.client_id \
         JOIN centres ce ON ce.id = c.centre_id \
         WHERE s.status = 'sent' AND {filter} ORDER BY s.id"
    );
    let rows = sqlx::query(&sql)
        .bind(id)
        .fetch_all(st.runner.db.pool())
        .await
        .doing("reading Communications")?;
    let get = |e: sqlx::Error| StoreError::Query {
        doing: "reading Communications",
        source: e,
    };
    let key = crate::feedback::key(&st.runner.db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let sent: Option<i64> = r.try_get(7).map_err(get)?;
        let (chart, requester): (Option<String>, Option<String>) =
            (r.try_get(3).map_err(get)?, r.try_get(4).map_err(get)?);
        let (en, fr): (String, String) = (r.try_get(5).map_err(get)?, r.try_get(6).map_err(get)?);
        let summary: i64 = r.try_get(0).map_err(get)?;
        let link = crate::feedback::link_with(&key, st.public_url.as_deref(), summary);
        // The client's centre speaks (the deployment's name, for a centre without one).
        let centre: String = r.try_get(8).map_err(get)?;
        let centre = if centre.is_empty() {
            st.runner.centre.name.clone()
        } else {
            centre
        };
        let c = fhir::communication(&fhir::Feedback {
            id: summary,
            service_request: r.try_get(1).map_err(get)?,
            chart: chart.as_deref(),
            requester: requester.as_deref(),
            centre: &centre,
            sent: &instant(sent.unwrap_or_default()),
            text_en: &en,
            text_fr: &fr,
            feedback: Some(&link),
        });
        out.push((c, r.try_get(2).map_err(get)?));
    }
    Ok(out)
}

async fn read_communication(
    State(st): State<AppState>,
    caller: FhirCaller,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = id_of(&id) else {
        return refused(StatusCode::NOT_FOUND, "not-found", "no such Communication");
    };
    match communications(&st, Some(id), None).await {
        Ok(mut list) if !list.is_empty() => {
            let (c, client) = list.remove(0);
            if let Err(r) = caller.reaches(&st, &client).await {
                return r;
            }
            caller
                .audit(
                    &st,
                    "fhir-read",
                    Some(&client),
                    &format!("Communication/{id}"),
                )
                .await;
            reply(StatusCode::OK, &c)
        }
        Ok(_) => refused(StatusCode::NOT_FOUND, "not-found", "no such Communication"),
        Err(e) => unavailable(&e),
    }
}

async fn search_communications(
    State(st): State<AppState>,
    caller: FhirCaller,
    Query(q): Query<TaskSearch>,
) -> Response {
    let Some((based_on, id)) = based_on(q) else {
        return no_based_on("Communications");
    };
    let found = match id {
        Some(id) => match communications(&st, None, Some(id)).await {
            Ok(f) => f,
            Err(e) => return unavailable(&e),
        },
        None => Vec::new(),
    };
    if let Some((_, client)) = found.first() {
        if let Err(r) = caller.reaches(&st, client).await {
            return r;
        }
        caller
            .audit(
                &st,
                "fhir-read",
                Some(client),
                &format!("Communication?based-on={based_on}"),
            )
            .await;
    }
    let list: Vec<Value> = found.into_iter().map(|(c, _)| c).collect();
    reply(StatusCode::OK, &bundle("searchset", &list))
}
