//! The partnership pages: a trust group (dashboard, contributions, the
//! posting form with the PII review, rules and reporting for owners), a
//! contribution (history, attachments, discussion, sharing), the sharing
//! approvals, and the dashboard over every group. Everything goes through
//! `isx_app::partnership`, the same operations as the REST API.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use isx_domain::{GroupId, MemberId, Timestamp, Tlp, TrustGroup};
use isx_partnership::{
    ContributionId, ContributionKind, Dashboard, Details, Finding, IncidentStatus, NewComment,
    NewContribution, PiiChoices, ShareStatus, ShareTarget,
};

use super::charts;
use super::pages::{apply, layout, with_note, Flash, Layout};
use super::{check_csrf, render};
use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::extract::WebForm;
use crate::problem::ApiError;
use crate::AppState;
use isx_app::partnership::{self as ops, CommentDraft, Draft};

type Form = HashMap<String, String>;

fn field<'a>(f: &'a Form, name: &str) -> &'a str {
    f.get(name).map(|s| s.trim()).unwrap_or("")
}

/// The PII answers of a reviewed form: `finding_N` (the text) with
/// `choice_N` (`redact` or `keep`).
fn pii_choices(f: &Form) -> PiiChoices {
    let mut c = PiiChoices::default();
    for (k, text) in f {
        if let Some(n) = k.strip_prefix("finding_") {
            match f.get(&format!("choice_{n}")).map(String::as_str) {
                Some("keep") => c.keep.push(text.clone()),
                Some("redact") => c.redact.push(text.clone()),
                _ => {}
            }
        }
    }
    c
}

/// The findings an `UnconfirmedPii` refusal lists (from its problem body).
fn findings_of(e: &ApiError) -> Option<Vec<(String, String)>> {
    match e {
        ApiError::Invalid { errors, .. }
            if errors.iter().all(|p| p.pointer.starts_with("/pii/")) =>
        {
            Some(
                errors
                    .iter()
                    .map(|p| {
                        (
                            p.pointer.trim_start_matches("/pii/").to_owned(),
                            p.detail.clone(),
                        )
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

fn instant(s: &str, what: &str) -> Result<Timestamp, ApiError> {
    let t = s.trim();
    Timestamp::parse(t)
        .or_else(|_| Timestamp::parse(&format!("{t}:00Z")))
        .or_else(|_| Timestamp::parse(&format!("{t}T00:00:00Z")))
        .map_err(|_| ApiError::Validation {
            detail: format!(
                "{what}: \"{s}\" is not a date and time (2026-11-29T08:00 or RFC 3339)"
            ),
            pointer: Some(format!("/{what}")),
        })
}

fn techniques(s: &str) -> Vec<String> {
    s.split([',', ' ', ';'])
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().to_owned())
        .collect()
}

fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| ApiError::Validation {
        detail: format!("{what}: {e}"),
        pointer: Some(format!("/{what}")),
    })
}

/// The contribution a posting form describes.
fn content_of(f: &Form) -> Result<NewContribution, ApiError> {
    let kind: ContributionKind = parse(field(f, "kind"), "kind")?;
    let details = match kind {
        ContributionKind::Incident => Details::Incident {
            information_lost: field(f, "information_lost").to_owned(),
            techniques: techniques(field(f, "techniques")),
            intent: field(f, "intent").to_owned(),
            impact: parse(field(f, "impact"), "impact")?,
            sector: field(f, "sector").to_owned(),
            status: parse(field(f, "status"), "status")?,
            timeline: Vec::new(),
        },
        ContributionKind::Sighting => Details::Sighting {
            indicator_type: parse(field(f, "indicator_type"), "indicator_type")?,
            value: field(f, "value").to_owned(),
            count: parse(field(f, "count"), "count")?,
            first_seen: instant(field(f, "first_seen"), "first_seen")?,
            last_seen: instant(field(f, "last_seen"), "last_seen")?,
            location: field(f, "location").to_owned(),
        },
        ContributionKind::Indicator => Details::Indicator {
            indicator_type: parse(field(f, "indicator_type"), "indicator_type")?,
            value: field(f, "value").to_owned(),
            valid_until: None,
        },
        ContributionKind::Mitigation => Details::Mitigation {
            techniques: techniques(field(f, "techniques")),
        },
        ContributionKind::Analysis => Details::Analysis {},
    };
    Ok(NewContribution {
        title: field(f, "title").to_owned(),
        description: f.get("description").cloned().unwrap_or_default(),
        marking: parse(field(f, "marking"), "marking")?,
        anonymous: field(f, "anonymous") == "on",
        details,
    })
}

// ---- a group ----

pub(super) struct Row {
    id: i64,
    title: String,
    kind: &'static str,
    marking: &'static str,
    author: String,
    updated: String,
    open: bool,
}

struct ReportRow {
    member: String,
    category: &'static str,
    reported: bool,
    last: String,
}

#[derive(askama::Template)]
#[template(path = "group.html")]
struct GroupPage {
    layout: Layout,
    pager: super::ListPager,
    group: TrustGroup,
    kind: &'static str,
    role: String,
    writer: bool,
    owner: bool,
    closed: bool,
    rows: Vec<Row>,
    dashboard: Dashboard,
    activity_svg: String,
    form: Form,
    findings: Vec<(String, String)>,
    rules_mandatory: Vec<(&'static str, bool)>,
    retention_days: String,
    report_period_days: u32,
    reporting: Vec<ReportRow>,
    kinds: Vec<&'static str>,
    markings: Vec<&'static str>,
}

pub(super) fn author_label(
    names: &HashMap<MemberId, String>,
    author: Option<MemberId>,
    anonymous: bool,
) -> String {
    match author {
        Some(a) => {
            names.get(&a).cloned().unwrap_or_default()
                + if anonymous {
                    " (anonymous to others)"
                } else {
                    ""
                }
        }
        None if anonymous => "anonymous".into(),
        None => "withheld".into(),
    }
}

/// The activity chart: one bar per day of the window (empty days too),
/// stacked by kind, with a legend.
pub(super) fn activity_svg(d: &Dashboard, now: Timestamp) -> String {
    let series: Vec<String> = ContributionKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect();
    let mut per_day: Vec<(String, String, u64)> = Vec::new();
    for back in (0..i64::from(d.days)).rev() {
        let day: String = now
            .add_secs(-back * 86_400)
            .to_rfc3339()
            .chars()
            .take(10)
            .collect();
        let of_day: Vec<_> = d.activity.iter().filter(|a| a.day == day).collect();
        if of_day.is_empty() {
            per_day.push((day.clone(), series.first().cloned().unwrap_or_default(), 0));
        }
        for a in of_day {
            per_day.push((day.clone(), a.kind.as_str().to_owned(), a.count));
        }
    }
    let mut out = charts::stacked_per_day(
        "activity",
        "Contributions per day by kind",
        &series,
        &per_day,
    );
    out.push_str("<p class=\"legend\">");
    for (i, k) in series.iter().enumerate() {
        out.push_str(&format!(
            "<span class=\"tag\"><span style=\"color:{}\">■</span> {k}</span>",
            charts::series_colour(i)
        ));
    }
    out.push_str("</p>");
    out
}

async fn names(state: &AppState) -> Result<HashMap<MemberId, String>, ApiError> {
    crate::api::partnership::names(state).await
}

/// Contributions a page of a group's list shows.
const CONTRIBUTIONS_PAGE: usize = 50;

async fn group_page(
    state: &AppState,
    caller: &Caller,
    id: i64,
    flash: Option<Flash>,
    form: Form,
    findings: Vec<(String, String)>,
    offset: usize,
) -> Result<Response, ApiError> {
    let access = ops::group_for(state, caller, GroupId(id)).await?;
    let now = state.clock.now();
    let names = names(state).await?;
    let (listed, pager) = super::page_of(
        ops::list(state, caller, &access.group).await?,
        offset,
        CONTRIBUTIONS_PAGE,
        |o| format!("/groups/{id}?offset={o}"),
    );
    let rows = listed
        .into_iter()
        .map(|s| Row {
            id: s.c.id.0,
            title: s.c.content.title.clone(),
            kind: s.c.kind().as_str(),
            marking: s.c.content.marking.label(),
            author: author_label(&names, s.author, s.c.content.anonymous),
            updated: s.c.updated_at.to_rfc3339()[..16].replace('T', " "),
            open: s.c.is_open_incident(),
        })
        .collect();
    let dashboard = ops::dashboard(state, caller, Some(access.group.id), 30).await?;
    let rules = state.store.group_rules(access.group.id).await?;
    let reporting = match ops::reporting(state, caller, access.group.id)
        .await
        .map_err(ApiError::from)
    {
        Ok(r) => r
            .into_iter()
            .map(|r| ReportRow {
                member: names.get(&r.member).cloned().unwrap_or_default(),
                category: r.category.as_str(),
                reported: r.reported,
                last: r
                    .last_reported
                    .map(|t| t.to_rfc3339()[..10].to_owned())
                    .unwrap_or_default(),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let (l, status) = apply(layout(caller, "Trust group", "groups"), flash.as_ref());
    let page = GroupPage {
        pager,
        layout: l,
        kind: match access.group.kind {
            isx_domain::TrustGroupKind::Formal { .. } => "formal",
            isx_domain::TrustGroupKind::AdHoc { .. } => "ad hoc",
        },
        // The operator administers every group but is a member of none it
        // has not joined: it is not shown as their "owner".
        role: match ops::membership(state, caller, &access.group).await? {
            Some(r) => r.to_string(),
            None if caller.is_admin() => "operator administrator (not a member)".into(),
            None => "—".into(),
        },
        writer: access.require_writer(now).is_ok(),
        owner: access.is_owner(),
        closed: access.group.is_closed(now),
        rows,
        activity_svg: activity_svg(&dashboard, now),
        dashboard,
        form,
        findings,
        rules_mandatory: ContributionKind::ALL
            .iter()
            .map(|k| (k.as_str(), rules.mandatory.contains(k)))
            .collect(),
        retention_days: rules
            .retention_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
        report_period_days: rules.report_period_days,
        reporting,
        kinds: ContributionKind::ALL.iter().map(|k| k.as_str()).collect(),
        markings: [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict]
            .iter()
            .map(|t| t.as_str())
            .collect(),
        group: access.group,
    };
    Ok((status, render(&page)?).into_response())
}

impl GroupPage {
    /// A value of the posting form being re-shown.
    fn v(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

pub(crate) async fn group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    axum::extract::Query(p): axum::extract::Query<super::PageParams>,
) -> Result<Response, ApiError> {
    group_page(
        &state,
        &caller,
        id,
        None,
        Form::new(),
        Vec::new(),
        p.offset.unwrap_or(0),
    )
    .await
}

/// Posts a contribution from the group page. When the PII detector finds
/// personal data not yet decided, the form comes back filled in with each
/// finding and a redact/keep choice (redact preselected).
pub(crate) async fn post_contribution(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<Form>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, field(&f, "csrf"))?;
    let result = async {
        let draft = Draft {
            content: content_of(&f)?,
            pii: pii_choices(&f),
        };
        ops::create(&state, &caller, GroupId(id), draft)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(c) => Ok(noted(
            AuditNote::new(
                "contribution.create",
                format!("group/{id}/contribution/{}", c.id),
            ),
            Redirect::to(&format!("/contributions/{}", c.id)).into_response(),
        )),
        Err(e) => {
            let findings = findings_of(&e).unwrap_or_default();
            let flash = if findings.is_empty() {
                Err(e)
            } else {
                Err(ApiError::Validation {
                    detail: "Personal data found: choose for each finding whether to redact it or keep it, then confirm.".into(),
                    pointer: None,
                })
            };
            group_page(&state, &caller, id, Some(flash), f, findings, 0).await
        }
    }
}

/// The group's rules from the owners' form.
pub(crate) async fn post_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<Form>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, field(&f, "csrf"))?;
    let result = async {
        let rules = isx_partnership::GroupRules {
            retention_days: match field(&f, "retention_days") {
                "" => None,
                d => Some(parse(d, "retention_days")?),
            },
            mandatory: ContributionKind::ALL
                .iter()
                .copied()
                .filter(|k| field(&f, &format!("mandatory_{}", k.as_str())) == "on")
                .collect(),
            report_period_days: parse(field(&f, "report_period_days"), "report_period_days")?,
        };
        ops::put_rules(&state, &caller, GroupId(id), rules)
            .await
            .map_err(ApiError::from)
    }
    .await;
    let note = result
        .is_ok()
        .then(|| AuditNote::new("group.rules", format!("group/{id}")));
    let page = group_page(
        &state,
        &caller,
        id,
        Some(result.map(|_| "Rules saved.".to_owned())),
        Form::new(),
        Vec::new(),
        0,
    )
    .await?;
    Ok(with_note(note, page))
}

// ---- a contribution ----

struct VersionRow {
    version: u32,
    edited_at: String,
    title: String,
    description: String,
}

struct CommentRow {
    id: i64,
    indent: usize,
    author: String,
    text: String,
    at: String,
}

#[derive(askama::Template)]
#[template(path = "contribution.html")]
struct ContributionPage {
    layout: Layout,
    id: i64,
    group: TrustGroup,
    title: String,
    description: String,
    kind: &'static str,
    marking: &'static str,
    author: String,
    version: u32,
    created: String,
    details: Vec<(&'static str, String)>,
    versions: Vec<VersionRow>,
    attachments: Vec<isx_partnership::Attachment>,
    comments: Vec<CommentRow>,
    writer: bool,
    mine: bool,
    targets: Vec<(i64, String)>,
    url_feed: bool,
    origin: Option<i64>,
    comment_text: String,
    findings: Vec<(String, String)>,
    edit_title: String,
    edit_description: String,
    edit_findings: Vec<(String, String)>,
}

/// ATT&CK ids with their names (`T1486 Data Encrypted for Impact`).
fn labelled(techniques: &[String]) -> String {
    techniques
        .iter()
        .map(|t| isx_partnership::attack::labelled(t))
        .collect::<Vec<_>>()
        .join(", ")
}

fn details_rows(d: &Details) -> Vec<(&'static str, String)> {
    match d {
        Details::Incident {
            information_lost,
            techniques,
            intent,
            impact,
            sector,
            status,
            timeline,
        } => {
            let mut v = vec![
                ("Status", status.as_str().to_owned()),
                ("Impact", impact.as_str().to_owned()),
                ("Sector", sector.clone()),
                ("Techniques (ATT&CK)", labelled(techniques)),
                ("Information lost", information_lost.clone()),
                ("Intent", intent.clone()),
            ];
            for e in timeline {
                v.push(("Timeline", format!("{} — {}", e.at, e.text)));
            }
            v
        }
        Details::Sighting {
            indicator_type,
            value,
            count,
            first_seen,
            last_seen,
            location,
        } => vec![
            ("Sighted", format!("{} {value}", indicator_type.as_str())),
            ("Count", count.to_string()),
            ("First seen", first_seen.to_string()),
            ("Last seen", last_seen.to_string()),
            ("Where", location.clone()),
        ],
        Details::Indicator {
            indicator_type,
            value,
            valid_until,
        } => vec![
            ("Indicator", format!("{} {value}", indicator_type.as_str())),
            (
                "Valid until",
                valid_until.map(|t| t.to_string()).unwrap_or_default(),
            ),
        ],
        Details::Mitigation { techniques } => vec![("Counters (ATT&CK)", labelled(techniques))],
        Details::Analysis {} => vec![],
    }
}

/// A form of the contribution page that comes back filled in, with the
/// PII detector's findings to decide on.
#[derive(Default)]
struct Returned {
    comment_text: String,
    comment_findings: Vec<(String, String)>,
    edit: Option<EditReturned>,
}

/// The edit form as it was sent, with the findings to decide on.
struct EditReturned {
    title: String,
    description: String,
    findings: Vec<(String, String)>,
}

async fn contribution_page(
    state: &AppState,
    caller: &Caller,
    id: i64,
    flash: Option<Flash>,
    returned: Returned,
) -> Result<Response, ApiError> {
    let cid = ContributionId(id);
    let (access, s) = ops::get(state, caller, cid).await?;
    let names = names(state).await?;
    let versions = ops::history(state, caller, cid)
        .await?
        .into_iter()
        .rev()
        .map(|v| VersionRow {
            version: v.version,
            edited_at: v.edited_at.to_rfc3339()[..16].replace('T', " "),
            title: v.content.title,
            description: v.content.description,
        })
        .collect();
    let comments = ops::discussion(state, caller, cid)
        .await?
        .into_iter()
        .map(|(depth, k)| CommentRow {
            id: k.comment.id,
            indent: depth.min(6) * 2,
            author: author_label(&names, k.author, k.comment.anonymous),
            text: k.comment.text,
            at: k.comment.created_at.to_rfc3339()[..16].replace('T', " "),
        })
        .collect();
    let mut targets = Vec::new();
    for g in state.store.memberships_of(caller.member.id).await? {
        if g.group != access.group.id {
            if let Some(t) = state.store.group(g.group).await? {
                targets.push((t.id.0, t.name));
            }
        }
    }
    let url_feed = matches!(
        s.c.content.details,
        Details::Indicator {
            indicator_type: isx_partnership::IndicatorType::Url,
            ..
        }
    );
    let (l, status) = apply(layout(caller, "Contribution", "groups"), flash.as_ref());
    let page = ContributionPage {
        layout: l,
        id,
        title: s.c.content.title.clone(),
        description: s.c.content.description.clone(),
        kind: s.c.kind().as_str(),
        marking: s.c.content.marking.label(),
        author: author_label(&names, s.author, s.c.content.anonymous),
        version: s.c.version,
        created: s.c.created_at.to_rfc3339()[..16].replace('T', " "),
        details: details_rows(&s.c.content.details),
        versions,
        attachments: state.store.attachments(cid).await?,
        comments,
        writer: access.require_writer(state.clock.now()).is_ok(),
        mine: s.c.author == caller.member.id,
        targets,
        url_feed,
        origin: s.c.origin.map(|o| o.0),
        comment_text: returned.comment_text,
        findings: returned.comment_findings,
        edit_title: returned
            .edit
            .as_ref()
            .map_or_else(|| s.c.content.title.clone(), |e| e.title.clone()),
        edit_description: returned.edit.as_ref().map_or_else(
            || s.c.content.description.clone(),
            |e| e.description.clone(),
        ),
        edit_findings: returned.edit.map(|e| e.findings).unwrap_or_default(),
        group: access.group,
    };
    Ok((status, render(&page)?).into_response())
}

/// The contribution page after one of its forms: the outcome as a notice
/// or an error, and the audit note of the change it made.
async fn contribution_after<T>(
    state: &AppState,
    caller: &Caller,
    id: i64,
    result: Result<T, ApiError>,
    note: impl FnOnce(&T) -> AuditNote,
    notice: impl FnOnce(&T) -> String,
) -> Result<Response, ApiError> {
    let (note, flash) = match result {
        Ok(v) => (Some(note(&v)), Ok(notice(&v))),
        Err(e) => (None, Err(e)),
    };
    let page = contribution_page(state, caller, id, Some(flash), Returned::default()).await?;
    Ok(with_note(note, page))
}

pub(crate) async fn contribution(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    contribution_page(&state, &caller, id, None, Returned::default()).await
}

pub(crate) async fn post_comment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<Form>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, field(&f, "csrf"))?;
    let draft = CommentDraft {
        comment: NewComment {
            text: f.get("text").cloned().unwrap_or_default(),
            parent: field(&f, "parent").parse().ok(),
            anonymous: field(&f, "anonymous") == "on",
        },
        pii: pii_choices(&f),
    };
    match ops::comment(&state, &caller, ContributionId(id), draft)
        .await
        .map_err(ApiError::from)
    {
        Ok(k) => Ok(noted(
            AuditNote::new(
                "comment.create",
                format!("contribution/{id}/comment/{}", k.id),
            ),
            Redirect::to(&format!("/contributions/{id}#comment-{}", k.id)).into_response(),
        )),
        Err(e) => {
            let findings = findings_of(&e).unwrap_or_default();
            let text = f.get("text").cloned().unwrap_or_default();
            let returned = Returned {
                comment_text: text,
                comment_findings: findings,
                edit: None,
            };
            contribution_page(&state, &caller, id, Some(Err(e)), returned).await
        }
    }
}

/// Edits title, description and (incidents) status from the contribution page.
pub(crate) async fn post_edit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<Form>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, field(&f, "csrf"))?;
    let result = async {
        let (_, s) = ops::get(&state, &caller, ContributionId(id)).await?;
        let mut content = s.c.content.clone();
        content.title = field(&f, "title").to_owned();
        content.description = f.get("description").cloned().unwrap_or_default();
        if let Details::Incident { status, .. } = &mut content.details {
            *status = parse::<IncidentStatus>(field(&f, "status"), "status")?;
        }
        let draft = Draft {
            content,
            pii: pii_choices(&f),
        };
        ops::edit(
            &state,
            &caller,
            ContributionId(id),
            parse(field(&f, "version"), "version")?,
            draft,
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    if let Err(e) = &result {
        if let Some(findings) = findings_of(e) {
            let returned = Returned {
                edit: Some(EditReturned {
                    title: field(&f, "title").to_owned(),
                    description: f.get("description").cloned().unwrap_or_default(),
                    findings,
                }),
                ..Returned::default()
            };
            let flash = Err(ApiError::Validation {
                detail: "Personal data found: choose for each finding whether to redact it or keep it, then save again.".into(),
                pointer: None,
            });
            return contribution_page(&state, &caller, id, Some(flash), returned).await;
        }
    }
    contribution_after(
        &state,
        &caller,
        id,
        result,
        |c| {
            AuditNote::new(
                "contribution.edit",
                format!("contribution/{id}/version/{}", c.version),
            )
        },
        |c| format!("Saved as version {}.", c.version),
    )
    .await
}

/// Asks to share the contribution with another group or the URL feed.
pub(crate) async fn post_share(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<Form>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, field(&f, "csrf"))?;
    let result = async {
        let target = match field(&f, "target") {
            "url-feed" => ShareTarget::UrlFeed,
            g => ShareTarget::Group {
                group: GroupId(parse(g, "target")?),
            },
        };
        ops::request_share(
            &state,
            &caller,
            ContributionId(id),
            target,
            field(&f, "reason"),
            &pii_choices(&f),
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    contribution_after(
        &state,
        &caller,
        id,
        result,
        |r| AuditNote::new("share.request", format!("contribution/{id}/share/{}", r.id)),
        |_| "Share requested: the member that owns the contribution decides.".to_owned(),
    )
    .await
}

/// Attaches a file (read and base64-encoded by the page's script).
pub(crate) async fn post_attachment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<Form>,
) -> Result<Response, ApiError> {
    use base64::Engine as _;
    check_csrf(&caller, field(&f, "csrf"))?;
    let result = async {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(field(&f, "content"))
            .map_err(|_| ApiError::invalid("the file could not be read"))?;
        let media = match field(&f, "media_type") {
            "" => "application/octet-stream",
            m => m,
        };
        // The page offers one answer for what the detector finds in the
        // file: redact it all (text files) or keep it all knowingly.
        let name = field(&f, "name");
        let found: Vec<String> = {
            let mut texts = isx_partnership::governance::attachment_texts(&bytes);
            texts.push(name.to_owned());
            isx_partnership::findings_in(texts.iter().map(String::as_str))
                .into_iter()
                .map(|x| x.text)
                .collect()
        };
        let pii = match field(&f, "pii") {
            "redact" => isx_partnership::PiiChoices {
                redact: found,
                keep: vec![],
            },
            "keep" => isx_partnership::PiiChoices {
                redact: vec![],
                keep: found,
            },
            _ => isx_partnership::PiiChoices::default(),
        };
        ops::attach(
            &state,
            &caller,
            ContributionId(id),
            name,
            media,
            &bytes,
            &pii,
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    contribution_after(
        &state,
        &caller,
        id,
        result,
        |a| {
            AuditNote::new(
                "attachment.create",
                format!("contribution/{id}/attachment/{}", a.id),
            )
        },
        |a| format!("Attached {}.", a.name),
    )
    .await
}

pub(crate) async fn download_attachment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (a, bytes) = ops::attachment(&state, &caller, id).await?;
    Ok(crate::api::partnership::attachment_response(&a, bytes))
}

// ---- sharing approvals ----

struct ShareRow {
    id: i64,
    contribution: i64,
    title: String,
    target: String,
    reason: String,
    status: &'static str,
    requested: String,
    findings: Vec<Finding>,
}

#[derive(askama::Template)]
#[template(path = "shares.html")]
struct SharesPage {
    layout: Layout,
    to_decide: Vec<ShareRow>,
    others: Vec<ShareRow>,
}

async fn shares_page(
    state: &AppState,
    caller: &Caller,
    flash: Option<Flash>,
) -> Result<Response, ApiError> {
    let groups: HashMap<GroupId, String> = state
        .store
        .groups()
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let mut to_decide = Vec::new();
    let mut others = Vec::new();
    for s in ops::shares(state, caller).await? {
        let row = ShareRow {
            id: s.request.id,
            contribution: s.contribution.id.0,
            title: s.contribution.content.title.clone(),
            target: match s.request.target {
                ShareTarget::Group { group } => groups
                    .get(&group)
                    .cloned()
                    .unwrap_or_else(|| format!("group {group}")),
                ShareTarget::UrlFeed => "the malicious-URL feed".into(),
            },
            reason: s.request.reason.clone(),
            status: s.request.status.as_str(),
            requested: s.request.requested_at.to_rfc3339()[..16].replace('T', " "),
            findings: if s.decides {
                isx_partnership::findings(&s.contribution.content)
            } else {
                Vec::new()
            },
        };
        if s.decides && s.request.status == ShareStatus::Pending {
            to_decide.push(row);
        } else {
            others.push(row);
        }
    }
    let (l, status) = apply(
        layout(caller, "Sharing approvals", "shares"),
        flash.as_ref(),
    );
    Ok((
        status,
        render(&SharesPage {
            layout: l,
            to_decide,
            others,
        })?,
    )
        .into_response())
}

pub(crate) async fn shares(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    shares_page(&state, &caller, None).await
}

/// Approves or rejects a share request (the owning member), with the PII
/// choices for the wider audience.
pub(crate) async fn decide_share(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<Form>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, field(&f, "csrf"))?;
    let approve = field(&f, "decision") == "approve";
    let result = ops::decide_share(&state, &caller, id, approve, &pii_choices(&f)).await;
    let note = result.is_ok().then(|| {
        AuditNote::new(
            if approve {
                "share.approve"
            } else {
                "share.reject"
            },
            format!("share/{id}"),
        )
    });
    let msg = result
        .map(|r| format!("Share request {} {}.", r.id, r.status.as_str()))
        .map_err(ApiError::from);
    let page = shares_page(&state, &caller, Some(msg)).await?;
    Ok(with_note(note, page))
}

// ---- the dashboard over every group ----

struct GroupCount {
    id: i64,
    name: String,
    total: u64,
    open: u64,
}

#[derive(askama::Template)]
#[template(path = "partnership.html")]
struct OverviewPage {
    layout: Layout,
    dashboard: Dashboard,
    activity_svg: String,
    groups: Vec<GroupCount>,
}

pub(crate) async fn overview(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let dashboard = ops::dashboard(&state, &caller, None, 30).await?;
    let mut groups = Vec::new();
    for g in state.store.groups().await? {
        if let Ok(d) = ops::dashboard(&state, &caller, Some(g.id), 30).await {
            groups.push(GroupCount {
                id: g.id.0,
                name: g.name,
                total: d.total,
                open: d.open_incidents,
            });
        }
    }
    let l = layout(&caller, "Partnership", "partnership");
    let page = OverviewPage {
        layout: l,
        activity_svg: activity_svg(&dashboard, state.clock.now()),
        dashboard,
        groups,
    };
    Ok(render(&page)?.into_response())
}
