//! Staff accounts: navigators and administrators, their sign-in sessions, one-time set-up links
//! and the API's bearer tokens. Passwords are argon2id hashes; tokens (sessions, links, API) are
//! random and stored only as SHA-256 hashes, so a copy of the database signs nobody in.

use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: every client, staff, tokens, the audit log, erasure.
    Admin,
    /// Their assigned clients and the shared inbox.
    Navigator,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, StaffError> {
        match s.trim() {
            "admin" => Ok(Role::Admin),
            "navigator" => Ok(Role::Navigator),
            other => Err(StaffError::Invalid(format!(
                "role {other:?} is not admin or navigator"
            ))),
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Navigator => "navigator",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is already a staff member called {0}")]
    Taken(String),
    #[error("this set-up link is unknown, used or expired; ask an administrator for a new one")]
    BadLink,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A staff member, as the web knows them.
#[derive(Debug, Clone, Serialize)]
pub struct Staff {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub language: String,
    pub active: bool,
    /// Where alerts reach them.
    pub email: Option<String>,
    pub phone: Option<String>,
    /// When they work (`Mon-Fri 09:00-17:00`); none: the centre's `[alerts] working_hours`.
    pub working_hours: Option<String>,
    /// May see clients' sociodemographic answers (an administrator's setting, off by default).
    pub sees_sociodemographics: bool,
    /// The centre they work for: they see its clients, programs and staff, and no other's.
    pub centre: String,
    /// An administrator of the whole deployment: every centre, and adds centres.
    pub all_centres: bool,
}

impl Staff {
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// How the audit log names them.
    #[must_use]
    pub fn actor(&self) -> String {
        format!("staff:{}", self.username)
    }

    /// Whether they may see what belongs to `centre`.
    #[must_use]
    pub fn sees_centre(&self, centre: &str) -> bool {
        self.all_centres || self.centre == centre
    }

    /// The centre their lists are limited to: none for an administrator of the whole deployment.
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        (!self.all_centres).then_some(self.centre.as_str())
    }
}

/// Where a new staff member belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub centre: String,
    /// An administrator of the whole deployment (only an administrator can be).
    pub all_centres: bool,
}

impl Membership {
    /// Of one centre only.
    #[must_use]
    pub fn of(centre: &str) -> Self {
        Self {
            centre: centre.to_owned(),
            all_centres: false,
        }
    }
}

/// A fresh random secret, URL-safe.
#[must_use]
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What is stored of a token.
#[must_use]
pub fn token_hash(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hash_password(password: &str) -> Result<String, StaffError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(StaffError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD} characters"
        )));
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| StaffError::Invalid(format!("cannot make a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StaffError::Invalid(format!("cannot hash the password: {e}")))
}

#[must_use]
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn check_username(u: &str) -> Result<String, StaffError> {
    let u = u.trim().to_lowercase();
    if u.is_empty()
        || u.len() > 40
        || !u
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(StaffError::Invalid(format!(
            "user name {u:?} must be 1 to 40 letters, digits, dots, dashes or underscores"
        )));
    }
    Ok(u)
}

fn staff_from(r: &sqlx::any::AnyRow) -> Result<Staff, StoreError> {
    let role: String = r.try_get("role").doing("reading staff")?;
    Ok(Staff {
        id: r.try_get("id").doing("reading staff")?,
        username: r.try_get("username").doing("reading staff")?,
        name: r.try_get("display_name").doing("reading staff")?,
        role: if role == "admin" {
            Role::Admin
        } else {
            Role::Navigator
        },
        language: r.try_get("language").doing("reading staff")?,
        active: r.try_get::<i64, _>("active").doing("reading staff")? != 0,
        email: r.try_get("email").doing("reading staff")?,
        phone: r.try_get("phone").doing("reading staff")?,
        working_hours: r.try_get("working_hours").doing("reading staff")?,
        sees_sociodemographics: r
            .try_get::<i64, _>("sees_sociodemographics")
            .doing("reading staff")?
            != 0,
        centre: r.try_get("centre_id").doing("reading staff")?,
        all_centres: r.try_get::<i64, _>("all_centres").doing("reading staff")? != 0,
    })
}

const STAFF_COLS: &str = "s.id, s.username, s.display_name, s.role, s.language, s.active, s.email, s.phone, s.working_hours, s.sees_sociodemographics, s.centre_id, s.all_centres";

/// How many staff accounts exist.
pub async fn count(db: &Db) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff")
        .fetch_one(db.pool())
        .await
        .doing("counting staff")
}

/// Every staff member of a centre (none: of every centre), by name.
pub async fn list(db: &Db, centre: Option<&str>) -> Result<Vec<Staff>, StoreError> {
    sqlx::query(&format!(
        "SELECT {STAFF_COLS} FROM staff s WHERE ($1 IS NULL OR s.centre_id = $1) ORDER BY s.display_name, s.id"
    ))
    .bind(centre)
    .fetch_all(db.pool())
    .await
    .doing("listing staff")?
    .iter()
    .map(staff_from)
    .collect()
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<Staff>, StoreError> {
    sqlx::query(&format!("SELECT {STAFF_COLS} FROM staff s WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await
        .doing("reading staff")?
        .as_ref()
        .map(staff_from)
        .transpose()
}

/// Adds a staff member to the default centre; an administrator added so (on the command line,
/// or the first, through the set-up link) administers the whole deployment. Without a password
/// they get none until they use a set-up link.
pub async fn add(
    db: &Db,
    username: &str,
    name: &str,
    role: Role,
    password: Option<&str>,
    now: i64,
    actor: &str,
) -> Result<Staff, StaffError> {
    let home = Membership {
        centre: crate::centres::DEFAULT.into(),
        all_centres: role == Role::Admin,
    };
    add_in(db, &home, username, name, role, password, now, actor).await
}

/// Adds a staff member to a centre.
#[allow(clippy::too_many_arguments)]
pub async fn add_in(
    db: &Db,
    home: &Membership,
    username: &str,
    name: &str,
    role: Role,
    password: Option<&str>,
    now: i64,
    actor: &str,
) -> Result<Staff, StaffError> {
    let all_centres = home.all_centres && role == Role::Admin;
    let username = check_username(username)?;
    let name = if name.trim().is_empty() {
        username.clone()
    } else {
        name.trim().to_owned()
    };
    let hash = password.map(hash_password).transpose()?;
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO staff (username, display_name, role, password_hash, created_at, centre_id, all_centres) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
    )
    .bind(&username)
    .bind(&name)
    .bind(role.as_str())
    .bind(hash)
    .bind(now)
    .bind(&home.centre)
    .bind(i64::from(all_centres))
    .fetch_optional(&mut *tx)
    .await
    .doing("adding staff")?;
    let Some(id) = id else {
        return Err(StaffError::Taken(username));
    };
    audit(
        &mut tx,
        now,
        actor,
        "staff-add",
        None,
        &format!(
            "{username} ({}, {})",
            role.as_str(),
            if all_centres {
                "all-centres"
            } else {
                home.centre.as_str()
            }
        ),
    )
    .await?;
    tx.commit().await.doing("committing staff")?;
    Ok(Staff {
        id,
        username,
        name,
        role,
        language: "en".into(),
        active: true,
        email: None,
        phone: None,
        working_hours: None,
        sees_sociodemographics: false,
        centre: home.centre.clone(),
        all_centres,
    })
}

/// A one-time set-up link's token, valid for `hours`: for the first admin (`staff` None) or for
/// a staff member to choose their password.
pub async fn setup_link(
    db: &Db,
    staff: Option<i64>,
    now: i64,
    hours: i64,
) -> Result<String, StoreError> {
    let token = new_token();
    sqlx::query(
        "INSERT INTO setup_links (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash(&token))
    .bind(staff)
    .bind(now)
    .bind(now + hours * 3_600_000)
    .execute(db.pool())
    .await
    .doing("making a set-up link")?;
    Ok(token)
}

/// Who a set-up link is for: `Some(None)` the first admin, `Some(Some(staff))` a staff member.
pub async fn setup_target(
    db: &Db,
    token: &str,
    now: i64,
) -> Result<Option<Option<Staff>>, StoreError> {
    let row = sqlx::query(
        "SELECT staff_id FROM setup_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash(token))
    .bind(now)
    .fetch_optional(db.pool())
    .await
    .doing("reading a set-up link")?;
    let Some(row) = row else { return Ok(None) };
    let staff: Option<i64> = row.try_get(0).doing("reading a set-up link")?;
    match staff {
        None => {
            // The first admin's link is dead once anyone exists.
            if count(db).await? > 0 {
                return Ok(None);
            }
            Ok(Some(None))
        }
        Some(id) => Ok(by_id(db, id).await?.map(Some)),
    }
}

/// Uses a set-up link: creates the first admin, or sets a staff member's password.
pub async fn use_setup_link(
    db: &Db,
    token: &str,
    username: &str,
    name: &str,
    password: &str,
    now: i64,
) -> Result<Staff, StaffError> {
    let target = setup_target(db, token, now)
        .await?
        .ok_or(StaffError::BadLink)?;
    let staff = match target {
        None => {
            add(
                db,
                username,
                name,
                Role::Admin,
                Some(password),
                now,
                "setup-link",
            )
            .await?
        }
        Some(s) => {
            let hash = hash_password(password)?;
            let mut tx = db.begin().await?;
            sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(s.id)
                .execute(&mut *tx)
                .await
                .doing("setting a password")?;
            audit(&mut tx, now, &s.actor(), "password-set", None, "").await?;
            tx.commit().await.doing("committing a password")?;
            s
        }
    };
    sqlx::query("UPDATE setup_links SET used_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(token_hash(token))
        .execute(db.pool())
        .await
        .doing("using a set-up link")?;
    Ok(staff)
}

/// The active account of a user name, with its password hash (none until set), for
/// [`check_password`].
pub async fn login_candidate(
    db: &Db,
    username: &str,
) -> Result<Option<(Staff, Option<String>)>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {STAFF_COLS}, s.password_hash FROM staff s WHERE s.username = $1 AND s.active = 1"
    ))
    .bind(username.trim().to_lowercase())
    .fetch_optional(db.pool())
    .await
    .doing("signing in")?;
    row.map(|r| {
        Ok((
            staff_from(&r)?,
            r.try_get("password_hash").doing("signing in")?,
        ))
    })
    .transpose()
}

/// The staff member when the password matches their account. An unknown user name costs the
/// same time as a real check, so timing does not tell who exists. CPU-bound: call it off the
/// async workers.
#[must_use]
pub fn check_password(candidate: Option<(Staff, Option<String>)>, password: &str) -> Option<Staff> {
    match candidate {
        Some((s, Some(h))) if verify_password(&h, password) => Some(s),
        Some(_) => None,
        None => {
            let _ = verify_password(DUMMY_HASH, password);
            None
        }
    }
}

/// An argon2id hash of a random password, checked against when the user name is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2ZHBFQjY8W0vBdDvcHsdLKCYTs2C5vTB6qXmdMZ2QQk";

/// A signed-in session: the staff member and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub staff: Staff,
    pub csrf: String,
}

/// Starts a session; returns its cookie token. Sessions idle for longer than `idle_ms` are
/// cleared out on the way.
pub async fn start_session(
    db: &Db,
    staff: &Staff,
    now: i64,
    idle_ms: i64,
) -> Result<String, StoreError> {
    let token = new_token();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM staff_sessions WHERE last_seen < $1")
        .bind(now - idle_ms)
        .execute(&mut *tx)
        .await
        .doing("clearing idle sessions")?;
    sqlx::query(
        "INSERT INTO staff_sessions (token_hash, staff_id, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(token_hash(&token))
    .bind(staff.id)
    .bind(new_token())
    .bind(now)
    .execute(&mut *tx)
    .await
    .doing("starting a session")?;
    audit(&mut tx, now, &staff.actor(), "sign-in", None, "").await?;
    tx.commit().await.doing("committing a session")?;
    Ok(token)
}

/// The session of a cookie token, if it is live: idle for less than `idle_ms`. A live session's
/// idle clock starts again.
pub async fn session(
    db: &Db,
    token: &str,
    now: i64,
    idle_ms: i64,
) -> Result<Option<Session>, StoreError> {
    let hash = token_hash(token);
    let row = sqlx::query(&format!(
        "SELECT {STAFF_COLS}, x.csrf, x.last_seen FROM staff_sessions x JOIN staff s ON s.id = x.staff_id \
         WHERE x.token_hash = $1 AND s.active = 1"
    ))
    .bind(&hash)
    .fetch_optional(db.pool())
    .await
    .doing("reading a session")?;
    let Some(row) = row else { return Ok(None) };
    let last: i64 = row.try_get("last_seen").doing("reading a session")?;
    if now - last > idle_ms {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(&hash)
            .execute(db.pool())
            .await
            .doing("ending an idle session")?;
        return Ok(None);
    }
    // One write a minute at most.
    if now - last > 60_000 {
        sqlx::query("UPDATE staff_sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(&hash)
            .execute(db.pool())
            .await
            .doing("touching a session")?;
    }
    Ok(Some(Session {
        staff: staff_from(&row)?,
        csrf: row.try_get("csrf").doing("reading a session")?,
    }))
}

pub async fn end_session(db: &Db, token: &str, actor: &str, now: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(&mut *tx)
        .await
        .doing("ending a session")?;
    audit(&mut tx, now, actor, "sign-out", None, "").await?;
    tx.commit().await.doing("committing")?;
    Ok(())
}

/// Turns a staff member's account off (they leave the centre) or back on. Turning it off ends
/// their sessions at once.
/// Lets a staff member see clients' sociodemographic answers, or stops it. Audited.
pub async fn set_sees_sociodemographics(
    db: &Db,
    id: i64,
    on: bool,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("UPDATE staff SET sees_sociodemographics = $1 WHERE id = $2")
        .bind(i64::from(on))
        .bind(id)
        .execute(&mut *tx)
        .await
        .doing("changing an account")?
        .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    audit(
        &mut tx,
        now,
        actor,
        "staff-sociodemographics",
        None,
        &format!("staff {id}: {}", if on { "on" } else { "off" }),
    )
    .await?;
    tx.commit().await.doing("changing an account")?;
    Ok(true)
}

pub async fn set_active(
    db: &Db,
    username: &str,
    active: bool,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let id: Option<i64> =
        sqlx::query_scalar("UPDATE staff SET active = $1 WHERE username = $2 RETURNING id")
            .bind(i64::from(active))
            .bind(username.trim().to_lowercase())
            .fetch_optional(&mut *tx)
            .await
            .doing("changing an account")?;
    let Some(id) = id else { return Ok(false) };
    if !active {
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .doing("ending sessions")?;
    }
    audit(
        &mut tx,
        now,
        actor,
        if active {
            "staff-enable"
        } else {
            "staff-disable"
        },
        None,
        username,
    )
    .await?;
    tx.commit().await.doing("committing")?;
    Ok(true)
}

/// Sets where alerts reach a staff member, and their working hours; each checked, and audited.
/// Empty values clear. A number that is a client's, or another staff member's, is refused:
/// a staff member's texts are never a client's.
pub async fn set_contact(
    db: &Db,
    staff: i64,
    email: &str,
    phone: &str,
    hours: &str,
    now: i64,
    actor: &str,
) -> Result<(), StaffError> {
    let blank = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let email = blank(email);
    if let Some(e) = &email
        && e.parse::<lettre::message::Mailbox>().is_err()
    {
        return Err(StaffError::Invalid(format!(
            "{e:?} is not an email address like name@example.org"
        )));
    }
    let phone = match blank(phone) {
        Some(p) => Some(
            crate::domain::PhoneNumber::parse(&p)
                .map_err(|e| StaffError::Invalid(e.to_string()))?
                .to_string(),
        ),
        None => None,
    };
    let hours = blank(hours);
    if let Some(h) = &hours {
        crate::alerts::Hours::parse(h).map_err(StaffError::Invalid)?;
    }
    let mut tx = db.begin().await?;
    if let Some(p) = &phone {
        let client: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM channel_addresses WHERE channel = 'sms' AND address = $1",
        )
        .bind(p)
        .fetch_one(&mut *tx)
        .await
        .doing("checking a phone number")?;
        if client > 0 {
            return Err(StaffError::Invalid(
                "this number is a client's: a staff member's number must be their own".into(),
            ));
        }
        let other: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE phone = $1 AND id <> $2")
                .bind(p)
                .bind(staff)
                .fetch_one(&mut *tx)
                .await
                .doing("checking a phone number")?;
        if other > 0 {
            return Err(StaffError::Invalid(
                "another staff member has this number".into(),
            ));
        }
    }
    let username: Option<String> = sqlx::query_scalar(
        "UPDATE staff SET email = $1, phone = $2, working_hours = $3 WHERE id = $4 RETURNING username",
    )
    .bind(&email)
    .bind(&phone)
    .bind(&hours)
    .bind(staff)
    .fetch_optional(&mut *tx)
    .await
    .doing("setting a staff member's contact")?;
    let Some(username) = username else {
        return Err(StaffError::Invalid("no such staff member".into()));
    };
    crate::store::record::audit(
        &mut tx,
        now,
        actor,
        "staff-contact",
        None,
        &format!(
            "{username}: email {}, phone {}, hours {}",
            if email.is_some() { "set" } else { "none" },
            if phone.is_some() { "set" } else { "none" },
            hours.as_deref().unwrap_or("the centre's")
        ),
    )
    .await?;
    tx.commit().await.doing("committing")?;
    Ok(())
}

pub async fn set_language(db: &Db, staff: i64, language: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE staff SET language = $1 WHERE id = $2")
        .bind(language)
        .bind(staff)
        .execute(db.pool())
        .await
        .doing("setting a language")
        .map(|_| ())
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    /// The FHIR routes only (`/fhir/…`): an EMR that sends referrals and reads their Tasks.
    Fhir,
}

impl Scope {
    pub fn parse(s: &str) -> Result<Self, StaffError> {
        match s.trim() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "fhir" => Ok(Scope::Fhir),
            other => Err(StaffError::Invalid(format!(
                "scope {other:?} is not read, write or fhir"
            ))),
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Fhir => "fhir",
        }
    }
}

/// An API token, as listed (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The one centre whose clients it reaches.
    pub centre: String,
}

impl ApiToken {
    /// How the audit log names it.
    #[must_use]
    pub fn actor(&self) -> String {
        format!("api:{}", self.name)
    }
}

fn token_from(r: &sqlx::any::AnyRow) -> Result<ApiToken, StoreError> {
    let scope: String = r.try_get("scope").doing("reading a token")?;
    Ok(ApiToken {
        id: r.try_get("id").doing("reading a token")?,
        name: r.try_get("name").doing("reading a token")?,
        scope: match scope.as_str() {
            "write" => Scope::Write,
            "fhir" => Scope::Fhir,
            _ => Scope::Read,
        },
        created_by: r.try_get("created_by").doing("reading a token")?,
        created_at: r.try_get("created_at").doing("reading a token")?,
        last_used_at: r.try_get("last_used_at").doing("reading a token")?,
        revoked_at: r.try_get("revoked_at").doing("reading a token")?,
        centre: r.try_get("centre_id").doing("reading a token")?,
    })
}

const TOKEN_COLS: &str =
    "id, name, scope, created_by, created_at, last_used_at, revoked_at, centre_id";

/// Issues a bearer token of the default centre; the secret is returned once and never stored.
pub async fn issue_token(
    db: &Db,
    name: &str,
    scope: Scope,
    actor: &str,
    now: i64,
) -> Result<(ApiToken, String), StaffError> {
    issue_token_in(db, crate::centres::DEFAULT, name, scope, actor, now).await
}

/// Issues a bearer token that reaches one centre's clients only.
pub async fn issue_token_in(
    db: &Db,
    centre: &str,
    name: &str,
    scope: Scope,
    actor: &str,
    now: i64,
) -> Result<(ApiToken, String), StaffError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 60 {
        return Err(StaffError::Invalid(
            "a token needs a name of 1 to 60 characters (who or what uses it)".into(),
        ));
    }
    let secret = format!("mt_{}", new_token());
    let mut tx = db.begin().await?;
    let row = sqlx::query(&format!(
        "INSERT INTO api_tokens (name, token_hash, scope, created_by, created_at, centre_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLS}"
    ))
    .bind(name)
    .bind(token_hash(&secret))
    .bind(scope.as_str())
    .bind(actor)
    .bind(now)
    .bind(centre)
    .fetch_one(&mut *tx)
    .await
    .doing("issuing a token")?;
    let t = token_from(&row)?;
    audit(
        &mut tx,
        now,
        actor,
        "api-token-issue",
        None,
        &format!("{} ({}, {centre})", t.name, scope.as_str()),
    )
    .await?;
    tx.commit().await.doing("committing a token")?;
    Ok((t, secret))
}

/// Revokes a token of `centre` (none: of any centre).
pub async fn revoke_token(
    db: &Db,
    id: i64,
    centre: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let n =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR centre_id = $3)")
            .bind(now)
            .bind(id)
            .bind(centre)
            .execute(&mut *tx)
            .await
            .doing("revoking a token")?
            .rows_affected();
    if n > 0 {
        audit(
            &mut tx,
            now,
            actor,
            "api-token-revoke",
            None,
            &format!("token {id}"),
        )
        .await?;
    }
    tx.commit().await.doing("committing")?;
    Ok(n > 0)
}

/// The centre a token belongs to (none: no such token).
pub async fn token_centre(db: &Db, id: i64) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT centre_id FROM api_tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await
        .doing("reading a token's centre")
}

/// The tokens of a centre (none: of every centre).
pub async fn tokens(db: &Db, centre: Option<&str>) -> Result<Vec<ApiToken>, StoreError> {
    sqlx::query(&format!(
        "SELECT {TOKEN_COLS} FROM api_tokens WHERE ($1 IS NULL OR centre_id = $1) ORDER BY id"
    ))
    .bind(centre)
    .fetch_all(db.pool())
    .await
    .doing("listing tokens")?
    .iter()
    .map(token_from)
    .collect()
}

/// The live token of a bearer secret.
pub async fn token(db: &Db, secret: &str, now: i64) -> Result<Option<ApiToken>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
    ))
    .bind(token_hash(secret))
    .fetch_optional(db.pool())
    .await
    .doing("reading a token")?;
    let Some(row) = row else { return Ok(None) };
    let t = token_from(&row)?;
    if t.last_used_at.is_none_or(|l| now - l > 60_000) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(t.id)
            .execute(db.pool())
            .await
            .doing("touching a token")?;
    }
    Ok(Some(t))
}

/// A value made once per deployment and kept (e.g. the pseudonym key).
pub async fn setting_or_init(db: &Db, key: &str) -> Result<String, StoreError> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(new_token())
        .execute(db.pool())
        .await
        .doing("making a setting")?;
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_one(db.pool())
        .await
        .doing("reading a setting")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterY"));
        assert!(hash_password("short").is_err());
        assert!(!verify_password(DUMMY_HASH, "anything"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(check_username("Alice.B").is_ok());
        assert!(check_username("a b").is_err());
        assert!(check_username("").is_err());
    }
}
