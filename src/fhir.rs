//! Referrals from the EMR as FHIR R4: a `ServiceRequest` read into a client and a referral, the
//! `Task` that tells the referrer's system how the referral is going, the `OperationOutcome`
//! that says why a resource was refused, and the `CapabilityStatement` of what is supported.

use serde_json::{Value, json};

/// Media type of FHIR's JSON.
pub const FHIR_JSON: &str = "application/fhir+json";

/// What a `ServiceRequest` asks for, read and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intake {
    /// The sender's own identifier of the request (`system|value`), to take a retry once.
    pub identifier: Option<String>,
    /// The patient's identifier (a chart number), contained or referenced.
    pub chart_number: Option<String>,
    /// Present when the patient is contained (a new client can be made).
    pub patient: Option<Patient>,
    /// Our referral reasons found among the codes; other reasons' words are kept in `other`.
    pub reasons: Vec<String>,
    pub other_reasons: Vec<String>,
    /// Who referred: name, role and organisation, as one line.
    pub requester: Option<String>,
    pub note: Option<String>,
    /// `authoredOn`, as ms.
    pub authored_at: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patient {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
}

/// Why a resource is refused: an OperationOutcome's issue code and the words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub diagnostics: String,
}

fn refuse(code: &'static str, d: impl Into<String>) -> Refusal {
    Refusal {
        code,
        diagnostics: d.into(),
    }
}

fn text_of(concept: &Value) -> Option<String> {
    concept["text"]
        .as_str()
        .or_else(|| concept["coding"][0]["display"].as_str())
        .or_else(|| concept["coding"][0]["code"].as_str())
        .map(str::to_owned)
}

fn human_name(n: &Value) -> Option<String> {
    if let Some(t) = n["text"].as_str() {
        return Some(t.to_owned());
    }
    let given: Vec<&str> = n["given"]
        .as_array()
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let family = n["family"].as_str();
    let all: Vec<&str> = given.into_iter().chain(family).collect();
    (!all.is_empty()).then(|| all.join(" "))
}

fn identifier(i: &Value) -> Option<String> {
    i["value"].as_str().map(str::to_owned)
}

/// Reads a `ServiceRequest`. Refuses what is not one, or lacks what FHIR requires (status,
/// intent, subject) or what a referral needs (a patient we can find or make).
pub fn read_service_request(v: &Value) -> Result<Intake, Refusal> {
    if v["resourceType"].as_str() != Some("ServiceRequest") {
        return Err(refuse(
            "invalid",
            format!(
                "expected a ServiceRequest, got {}",
                v["resourceType"].as_str().unwrap_or("no resourceType")
            ),
        ));
    }
    for (field, allowed) in [
        (
            "status",
            &[
                "draft",
                "active",
                "on-hold",
                "revoked",
                "completed",
                "entered-in-error",
                "unknown",
            ][..],
        ),
        (
            "intent",
            &[
                "proposal",
                "plan",
                "directive",
                "order",
                "original-order",
                "reflex-order",
                "filler-order",
                "instance-order",
                "option",
            ][..],
        ),
    ] {
        match v[field].as_str() {
            None => {
                return Err(refuse(
                    "required",
                    format!("ServiceRequest.{field} is required"),
                ));
            }
            Some(s) if !allowed.contains(&s) => {
                return Err(refuse(
                    "value",
                    format!(
                        "ServiceRequest.{field} {s:?} is not one of {}",
                        allowed.join(", ")
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if !matches!(v["status"].as_str(), Some("active" | "draft")) {
        return Err(refuse(
            "business-rule",
            "only an active (or draft) ServiceRequest makes a referral",
        ));
    }
    let subject = &v["subject"];
    if subject.is_null() {
        return Err(refuse(
            "required",
            "ServiceRequest.subject is required: the patient",
        ));
    }
    let mut intake = Intake::default();
    // The patient: contained (`#id`), or named by an identifier.
    if let Some(r) = subject["reference"].as_str()
        && let Some(local) = r.strip_prefix('#')
    {
        let p = v["contained"]
            .as_array()
            .and_then(|c| {
                c.iter()
                    .find(|x| x["resourceType"] == "Patient" && x["id"].as_str() == Some(local))
            })
            .ok_or_else(|| {
                refuse(
                    "invalid",
                    format!("subject refers to #{local}, but no contained Patient has that id"),
                )
            })?;
        intake.chart_number = p["identifier"]
            .as_array()
            .and_then(|ids| ids.iter().find_map(identifier));
        let phone = p["telecom"].as_array().and_then(|t| {
            let phones: Vec<&Value> = t
                .iter()
                .filter(|x| matches!(x["system"].as_str(), Some("phone" | "sms")))
                .collect();
            phones
                .iter()
                .find(|x| x["use"] == "mobile" || x["system"] == "sms")
                .or_else(|| phones.first())
                .and_then(|x| x["value"].as_str())
                .map(str::to_owned)
        });
        let language = p["communication"].as_array().and_then(|c| {
            let preferred = c
                .iter()
                .find(|x| x["preferred"] == true)
                .or_else(|| c.first())?;
            preferred["language"]["coding"][0]["code"]
                .as_str()
                .or_else(|| preferred["language"]["text"].as_str())
                .map(str::to_owned)
        });
        let name = p["name"]
            .as_array()
            .and_then(|n| n.first())
            .and_then(human_name);
        intake.patient = Some(Patient {
            name,
            phone,
            language,
        });
    } else if let Some(i) = subject["identifier"].as_object() {
        intake.chart_number = i.get("value").and_then(Value::as_str).map(str::to_owned);
    } else if let Some(r) = subject["reference"].as_str()
        && let Some(q) = r.strip_prefix("Patient?identifier=")
    {
        let value = q.rsplit('|').next().unwrap_or(q);
        intake.chart_number = Some(value.to_owned()).filter(|s| !s.is_empty());
    } else {
        return Err(refuse(
            "not-supported",
            "subject must be a contained Patient (#id) or name the patient by identifier",
        ));
    }
    if intake.patient.is_none() && intake.chart_number.is_none() {
        return Err(refuse(
            "required",
            "the patient has no identifier to find them by",
        ));
    }
    intake.identifier = v["identifier"].as_array().and_then(|ids| {
        ids.iter().find_map(|i| {
            let value = i["value"].as_str()?;
            Some(match i["system"].as_str() {
                Some(s) => format!("{s}|{value}"),
                None => value.to_owned(),
            })
        })
    });
    for r in v["reasonCode"].as_array().into_iter().flatten() {
        let ours = r["coding"].as_array().and_then(|c| {
            c.iter().find_map(|x| {
                x["code"]
                    .as_str()
                    .filter(|code| crate::domain::REASONS.contains(code))
                    .map(str::to_owned)
            })
        });
        match ours {
            Some(code) => {
                if !intake.reasons.contains(&code) {
                    intake.reasons.push(code);
                }
            }
            None => {
                if let Some(t) = text_of(r) {
                    intake.other_reasons.push(t);
                }
            }
        }
    }
    if !intake.other_reasons.is_empty() && !intake.reasons.iter().any(|r| r == "other") {
        intake.reasons.push("other".into());
    }
    // The requester: a display, or a contained Practitioner / PractitionerRole.
    let req = &v["requester"];
    intake.requester = req["display"].as_str().map(str::to_owned).or_else(|| {
        let local = req["reference"].as_str()?.strip_prefix('#')?;
        let r = v["contained"]
            .as_array()?
            .iter()
            .find(|x| x["id"].as_str() == Some(local))?;
        let name = r["name"]
            .as_array()
            .and_then(|n| n.first())
            .and_then(human_name);
        let role = r["code"]
            .as_array()
            .and_then(|c| c.first())
            .and_then(text_of);
        let org = r["organization"]["display"].as_str().map(str::to_owned);
        let parts: Vec<String> = [
            name.or_else(|| r["practitioner"]["display"].as_str().map(str::to_owned)),
            role,
            org,
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    });
    intake.note = v["note"].as_array().map(|n| {
        n.iter()
            .filter_map(|x| x["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    });
    intake.authored_at = v["authoredOn"]
        .as_str()
        .and_then(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|d| d.to_utc())
                .ok()
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(12, 0, 0))
                        .map(|d| d.and_utc())
                })
        })
        .map(crate::clock::to_ms);
    Ok(intake)
}

/// An OperationOutcome for a refusal.
#[must_use]
pub fn outcome(code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": "error", "code": code, "diagnostics": diagnostics }]
    })
}

/// Where a referral stands, as a Task's status says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    pub status: &'static str,
    /// Why it was rejected or cancelled.
    pub reason: Option<String>,
    /// The uptake, in words.
    pub business: String,
}

/// The referral's state → the Task's: requested until the client agrees to be contacted,
/// accepted when they do, in progress once they go, then completed (attended, goal met) or
/// rejected (declined) or cancelled (moved, no contact, referred elsewhere…).
#[must_use]
pub fn task_state(consent: &str, uptake: &str, closing: Option<&str>) -> TaskState {
    let business = match (closing, uptake) {
        (Some("goal-met"), _) => "Closed: the client's goal is met",
        (Some(_), "attended") => "Closed: the client went to the program",
        (Some(_), "dropped-out") => "Closed: the client went, then stopped going",
        (Some(_), "declined") => "Closed: the client decided not to go",
        (Some(_), _) => "Closed before the client went",
        (None, "attended") => "The client is going to the program",
        (None, "declined") => "The client decided not to go",
        (None, "dropped-out") => "The client stopped going",
        (None, _) => "The client has not gone yet",
    }
    .to_owned();
    let (status, reason) = match closing {
        Some("goal-met" | "attended") => ("completed", None),
        Some("declined") => ("rejected", Some("The client declined the referral")),
        Some("no-contact") => ("cancelled", Some("The client could not be reached")),
        Some("moved") => ("cancelled", Some("The client moved away")),
        Some("referred-elsewhere") => ("cancelled", Some("The client was referred elsewhere")),
        Some(_) => ("cancelled", Some("The referral was closed")),
        None if uptake == "declined" => ("rejected", Some("The client declined the referral")),
        None if consent == "revoked" => ("rejected", Some("The client asked not to be contacted")),
        None if uptake == "attended" || uptake == "dropped-out" => ("in-progress", None),
        None if consent == "granted" => ("accepted", None),
        None => ("requested", None),
    };
    TaskState {
        status,
        reason: reason.map(str::to_owned),
        business,
    }
}

/// The Task that tracks a referral from a ServiceRequest.
#[must_use]
pub fn task(
    id: i64,
    state: &TaskState,
    chart: Option<&str>,
    authored: &str,
    modified: &str,
) -> Value {
    let mut t = json!({
        "resourceType": "Task",
        "id": id.to_string(),
        "basedOn": [{ "reference": format!("ServiceRequest/{id}") }],
        "status": state.status,
        "intent": "order",
        "businessStatus": { "text": state.business },
        "authoredOn": authored,
        "lastModified": modified,
    });
    if let Some(c) = chart {
        t["for"] = json!({ "identifier": { "value": c } });
    }
    if let Some(r) = &state.reason {
        t["statusReason"] = json!({ "text": r });
    }
    t
}

/// The word back to the referrer as a FHIR `Communication` from the centre to the requester,
/// based on the ServiceRequest: the summary in English, then in French.
#[derive(Debug, Clone)]
pub struct Feedback<'a> {
    /// The summary's id.
    pub id: i64,
    pub service_request: i64,
    pub chart: Option<&'a str>,
    pub requester: Option<&'a str>,
    pub centre: &'a str,
    pub sent: &'a str,
    pub text_en: &'a str,
    pub text_fr: &'a str,
    /// Where the referrer tells us how the referral went for them.
    pub feedback: Option<&'a str>,
}

/// The Communication of one summary sent.
#[must_use]
pub fn communication(f: &Feedback<'_>) -> Value {
    let Feedback {
        id,
        service_request,
        chart,
        requester,
        centre,
        sent,
        text_en,
        text_fr,
        feedback,
    } = *f;
    let mut c = json!({
        "resourceType": "Communication",
        "id": id.to_string(),
        "basedOn": [{ "reference": format!("ServiceRequest/{service_request}") }],
        "status": "completed",
        "category": [{ "text": "Word back to the referrer" }],
        "sent": sent,
        "recipient": [{ "display": requester.unwrap_or("The referring provider") }],
        "sender": { "display": centre },
        "payload": [{ "contentString": text_en }, { "contentString": text_fr }],
    });
    if let Some(chart) = chart {
        c["subject"] = json!({ "identifier": { "value": chart } });
    }
    if let Some(link) = feedback
        && let Some(p) = c["payload"].as_array_mut()
    {
        p.push(json!({ "contentString": format!(
            "Tell us how this referral went for you / Votre avis sur cette orientation : {link}"
        ) }));
    }
    c
}

/// What this server supports.
#[must_use]
pub fn capability_statement(date: &str) -> Value {
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": { "name": "matters", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "matters: social prescribing follow-up" },
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON, "json"],
        "rest": [{
            "mode": "server",
            "security": { "description": "Bearer tokens with the fhir scope (matters staff token NAME --scope fhir)" },
            "resource": [
                {
                    "type": "ServiceRequest",
                    "interaction": [{ "code": "create" }, { "code": "read" }],
                    "documentation": "A referral: a contained Patient (identifier, name, telecom, communication) or a patient by identifier; reasonCode; requester; note."
                },
                {
                    "type": "Task",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": [{ "name": "based-on", "type": "reference" }],
                    "documentation": "Tracks a referral: requested, accepted, in-progress, completed, rejected or cancelled."
                },
                {
                    "type": "Communication",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": [{ "name": "based-on", "type": "reference" }],
                    "documentation": "The word back to the referrer: each summary sent (uptake, barriers, whether the client is still going, measures from baseline), in English then French."
                }
            ]
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_follows_the_referral() {
        assert_eq!(task_state("unknown", "not-yet", None).status, "requested");
        assert_eq!(task_state("granted", "not-yet", None).status, "accepted");
        assert_eq!(
            task_state("granted", "attended", None).status,
            "in-progress"
        );
        let done = task_state("granted", "attended", Some("goal-met"));
        assert_eq!(done.status, "completed");
        assert_eq!(done.business, "Closed: the client's goal is met");
        let r = task_state("granted", "declined", None);
        assert_eq!((r.status, r.reason.is_some()), ("rejected", true));
        assert_eq!(
            task_state("granted", "not-yet", Some("moved")).status,
            "cancelled"
        );
    }

    #[test]
    fn what_is_not_a_service_request_is_said() {
        let e = read_service_request(&json!({"resourceType": "Patient"})).unwrap_err();
        assert_eq!(e.code, "invalid");
        let e =
            read_service_request(&json!({"resourceType": "ServiceRequest", "status": "active"}))
                .unwrap_err();
        assert!(e.diagnostics.contains("intent"), "{e:?}");
        let e = read_service_request(
            &json!({"resourceType": "ServiceRequest", "status": "active", "intent": "order"}),
        )
        .unwrap_err();
        assert!(e.diagnostics.contains("subject"), "{e:?}");
    }
}
